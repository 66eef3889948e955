// Drives the official `engine.io-client` against an Engine.IO server under test.
//
//   node engineio-client.js <base-url> <scenario> [<scenario> ...]
//
// The server must echo every message back as the same kind (text as text,
// binary as binary), close the session when it receives the text
// "please-close", and use pingInterval 300 ms and maxPayload 1000000 (the
// echo example's pingTimeout is 200 ms; the Rust tests give theirs more, so
// that a loaded machine's late pong is not taken for a dead client). Each scenario prints one line `ok <name> <details>`; the
// first failure prints `FAIL <name>: <why>` and exits 1. Every wait is bounded.

"use strict";

const { Socket } = require("engine.io-client");

const [, , baseUrl, ...scenarios] = process.argv;
const STEP_TIMEOUT_MS = 10000;
const MAX_PAYLOAD = 1000000;

function withTimeout(promise, what, ms = STEP_TIMEOUT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function open(opts) {
  const socket = new Socket(baseUrl, { path: "/engine.io/", ...opts });
  const inbox = [];
  const waiters = [];
  socket.on("message", (data) => {
    inbox.push(data);
    while (waiters.length && waiters[0].count <= inbox.length) {
      const w = waiters.shift();
      w.resolve(inbox.splice(0, w.count));
    }
  });
  socket.closed = new Promise((resolve) => {
    socket.on("close", (reason, description) => resolve({ reason, description }));
  });
  socket.opened = withTimeout(
    new Promise((resolve, reject) => {
      socket.on("open", resolve);
      socket.on("error", reject);
    }),
    "open",
  );
  // Resolves with the next `count` messages.
  socket.nextMessages = (count) =>
    withTimeout(
      new Promise((resolve) => {
        if (inbox.length >= count) {
          resolve(inbox.splice(0, count));
        } else {
          waiters.push({ count, resolve });
        }
      }),
      `${count} message(s)`,
    );
  return socket;
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function sameBytes(a, b) {
  return Buffer.isBuffer(a) && Buffer.compare(a, Buffer.from(b)) === 0;
}

// Text and binary both ways, several messages in order.
async function echoRoundTrips(socket) {
  socket.send("hello");
  const [text] = await socket.nextMessages(1);
  assert(text === "hello", `text echo: ${JSON.stringify(text)}`);

  const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
  socket.send(bytes);
  const [bin] = await socket.nextMessages(1);
  assert(sameBytes(bin, bytes), `binary echo: ${bin && bin.toString("hex")}`);

  const sent = [];
  for (let i = 0; i < 20; i++) {
    const m = i % 3 === 0 ? Buffer.from([i]) : `m${i} é€`;
    sent.push(m);
    socket.send(m);
  }
  const echoes = await socket.nextMessages(sent.length);
  sent.forEach((m, i) => {
    const ok = typeof m === "string" ? echoes[i] === m : sameBytes(echoes[i], m);
    assert(ok, `echo ${i} out of order or wrong: ${echoes[i]}`);
  });
}

async function closeAndWait(socket) {
  socket.close();
  const { reason } = await withTimeout(socket.closed, "close");
  assert(reason === "forced close", `client close reason ${reason}`);
}

const SCENARIOS = {
  async polling() {
    const socket = open({ transports: ["polling"] });
    await socket.opened;
    assert(socket.transport.name === "polling", `transport ${socket.transport.name}`);
    await echoRoundTrips(socket);
    await closeAndWait(socket);
    return "polling echo text+binary";
  },

  async websocket() {
    const socket = open({ transports: ["websocket"] });
    await socket.opened;
    assert(socket.transport.name === "websocket", `transport ${socket.transport.name}`);
    await echoRoundTrips(socket);
    await closeAndWait(socket);
    return "websocket echo text+binary";
  },

  async upgrade() {
    const socket = open({ transports: ["polling", "websocket"] });
    const upgraded = withTimeout(new Promise((resolve) => socket.on("upgrade", resolve)), "upgrade");
    await socket.opened;
    assert(socket.transport.name === "polling", "starts on polling");
    // Messages sent while the upgrade runs must come back once each, in order.
    const early = [];
    for (let i = 0; i < 10; i++) {
      early.push(`early${i}`);
      socket.send(`early${i}`);
    }
    const echoes = await socket.nextMessages(early.length);
    assert(JSON.stringify(echoes) === JSON.stringify(early), `early echoes ${JSON.stringify(echoes)}`);
    await upgraded;
    assert(socket.transport.name === "websocket", `after upgrade: ${socket.transport.name}`);
    await echoRoundTrips(socket);
    await closeAndWait(socket);
    return "upgraded to websocket";
  },

  async heartbeat() {
    for (const transports of [["polling"], ["websocket"]]) {
      const socket = open({ transports });
      await socket.opened;
      let pings = 0;
      await withTimeout(
        new Promise((resolve) =>
          socket.on("ping", () => {
            pings += 1;
            if (pings === 4) resolve();
          }),
        ),
        "four pings",
      );
      assert(socket.readyState === "open", `${transports}: ${socket.readyState} after ${pings} pings`);
      socket.send("still here");
      const [m] = await socket.nextMessages(1);
      assert(m === "still here", "echo after heartbeats");
      await closeAndWait(socket);
    }
    return "4 pings answered on polling and websocket";
  },

  async "client-close"() {
    for (const transports of [["polling"], ["websocket"]]) {
      const socket = open({ transports });
      await socket.opened;
      await closeAndWait(socket);
    }
    return "closed by the client";
  },

  async "server-close"() {
    const seen = [];
    for (const transports of [["polling"], ["websocket"]]) {
      const socket = open({ transports });
      await socket.opened;
      socket.send("please-close");
      const { reason } = await withTimeout(socket.closed, "server close");
      assert(reason === "transport close", `${transports}: close reason ${reason}`);
      seen.push(`${transports}:${reason}`);
    }
    return seen.join(" ");
  },

  async "max-payload"() {
    const seen = [];
    // WebSocket: the server closes with 1009 (message too big).
    {
      const socket = open({ transports: ["websocket"] });
      await socket.opened;
      socket.send("x".repeat(MAX_PAYLOAD + 1));
      const { reason, description } = await withTimeout(socket.closed, "close after oversized message");
      const code = description && description.context && description.context.code;
      assert(reason === "transport close" && code === 1009, `websocket: ${reason} code ${code}`);
      seen.push(`websocket:${code}`);
    }
    // Polling: the POST is answered 413.
    {
      const socket = open({ transports: ["polling"] });
      await socket.opened;
      socket.send("x".repeat(MAX_PAYLOAD + 1));
      const { reason, description } = await withTimeout(socket.closed, "close after oversized POST");
      const status = description && description.description;
      assert(reason === "transport error" && status === 413, `polling: ${reason} status ${status}`);
      seen.push(`polling:${status}`);
    }
    return seen.join(" ");
  },

  async "many-clients"() {
    const N = 100;
    const kinds = [["polling"], ["websocket"], ["polling", "websocket"]];
    const sockets = Array.from({ length: N }, (_, i) => open({ transports: kinds[i % kinds.length] }));
    await Promise.all(sockets.map((s) => s.opened));
    const ids = new Set(sockets.map((s) => s.id));
    assert(ids.size === N, `distinct sids: ${ids.size}`);
    sockets.forEach((s, i) => s.send(`client ${i}`));
    const replies = await Promise.all(sockets.map((s) => s.nextMessages(1)));
    replies.forEach(([m], i) => assert(m === `client ${i}`, `client ${i} got ${m}`));
    await Promise.all(sockets.map(closeAndWait));
    return `${N} clients`;
  },
};

(async () => {
  for (const name of scenarios) {
    const run = SCENARIOS[name];
    if (!run) {
      console.log(`FAIL ${name}: no such scenario`);
      process.exit(1);
    }
    try {
      const details = await run();
      console.log(`ok ${name} ${details}`);
    } catch (e) {
      console.log(`FAIL ${name}: ${e && e.message}`);
      process.exit(1);
    }
  }
  // No explicit exit on success: Node ends once the clients' last requests
  // (e.g. the POST carrying a close packet) have gone out.
})();

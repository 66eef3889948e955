// Drives the official `socket.io-client` against the chat server
// (examples/chat.rs) and checks its protocol.
//
//   node chat-client.js <base-url> <transport> <scenario> [<scenario> ...]
//
// <transport> is `polling`, `websocket` or `upgrade` (polling, then the
// upgrade to WebSocket, as the client does by default). Scenarios:
//   join   `join` (room) answers `joined` with the room's name;
//   rooms  `message` {room, text} reaches everyone in the room, the sender
//          included, as {from: <sender's id>, text}, and no one else;
//   ack    `ping-ack` (msg, ack) is acknowledged with {ok: true, received: msg},
//          msg exactly as sent (key order, binary anywhere inside).
// Each scenario prints `ok <name> <details>`; the first failure prints
// `FAIL <name>: <why>` and exits 1. Every wait is bounded.

"use strict";

const assert = require("assert");
const { io } = require("socket.io-client");

// `--parser=msgpack` first: the clients use the official `socket.io-msgpack-parser`.
const argv = process.argv.slice(2);
const msgpack = argv[0] === "--parser=msgpack" ? (argv.shift(), require("socket.io-msgpack-parser")) : undefined;
const [baseUrl, transport, ...scenarios] = argv;
const STEP_MS = 10000;
const TRANSPORTS = {
  polling: { transports: ["polling"] },
  websocket: { transports: ["websocket"] },
  upgrade: { transports: ["polling", "websocket"] },
};

function within(promise, what, ms = STEP_MS) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// A connected client that keeps every `message` it gets, in order.
async function client(name) {
  const parser = msgpack ? { parser: msgpack } : {};
  const socket = io(baseUrl, { ...TRANSPORTS[transport], ...parser, reconnection: false, forceNew: true });
  socket.inbox = [];
  socket.waiting = [];
  socket.on("message", (m) => {
    socket.inbox.push(m);
    if (socket.waiting.length) socket.waiting.shift()(socket.inbox.shift());
  });
  // The next message, in arrival order.
  socket.next = () =>
    within(
      new Promise((resolve) => {
        if (socket.inbox.length) resolve(socket.inbox.shift());
        else socket.waiting.push(resolve);
      }),
      `a message for ${name}`,
    );
  await within(
    new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    }),
    `${name} to connect`,
  );
  if (transport === "upgrade") {
    await within(
      new Promise((resolve) => {
        if (socket.io.engine.transport.name === "websocket") resolve();
        else socket.io.engine.once("upgrade", resolve);
      }),
      `${name}'s upgrade`,
    );
  }
  return socket;
}

async function join(socket, room) {
  const joined = within(new Promise((resolve) => socket.once("joined", resolve)), `joined ${room}`);
  socket.emit("join", room);
  assert.strictEqual(await joined, room);
}

const SCENARIOS = {
  async join() {
    const a = await client("a");
    try {
      await join(a, "lobby");
      await join(a, "room with spaces ünd ümlauts");
      return "joined answered with the room's name";
    } finally {
      a.close();
    }
  },

  async rooms() {
    const [a, b, c] = [await client("a"), await client("b"), await client("c")];
    try {
      await join(a, "r1");
      await join(b, "r1");
      await join(c, "r2");
      a.emit("message", { room: "r1", text: "hello r1" });
      const expected = { from: a.id, text: "hello r1" };
      assert.deepStrictEqual(await b.next(), expected, "b, in r1");
      assert.deepStrictEqual(await a.next(), expected, "a, the sender, in r1");
      // One sender's events are handled in order, so a message wrongly
      // delivered would come before these markers.
      a.emit("message", { room: "r2", text: "marker r2" });
      a.emit("message", { room: "r1", text: "marker r1" });
      assert.deepStrictEqual(await c.next(), { from: a.id, text: "marker r2" }, "c, in r2 only");
      assert.deepStrictEqual(await b.next(), { from: a.id, text: "marker r1" }, "b, in r1 only");
      assert.deepStrictEqual(await a.next(), { from: a.id, text: "marker r1" }, "a, in r1 only");
      return "delivered to the room's members only, the sender included";
    } finally {
      for (const s of [a, b, c]) s.close();
    }
  },

  async ack() {
    const a = await client("a");
    try {
      const messages = [
        "hello",
        { nested: [1, 2, { x: null }] },
        42,
        // Keys in no sorted order, and binary anywhere: back exactly as sent.
        { n: 1, list: [1, "two", null], b: { z: 0, a: Buffer.from([1, 2]) } },
        [Buffer.from("x"), { deep: [Buffer.alloc(3, 7)] }],
      ];
      for (const msg of messages) {
        const answer = await a.timeout(STEP_MS).emitWithAck("ping-ack", msg);
        assert.deepStrictEqual(answer, { ok: true, received: msg });
        // Deep equality ignores key order; the JSON text does not.
        assert.strictEqual(JSON.stringify(answer), JSON.stringify({ ok: true, received: msg }));
      }
      return "acknowledged with {ok: true, received}, key order and binary kept";
    } finally {
      a.close();
    }
  },
};

(async () => {
  if (!TRANSPORTS[transport]) throw new Error(`unknown transport ${transport}`);
  for (const name of scenarios) {
    const run = SCENARIOS[name];
    if (!run) {
      console.log(`FAIL ${name}: no such scenario`);
      process.exit(1);
    }
    try {
      console.log(`ok ${name} ${transport}: ${await run()}`);
    } catch (e) {
      console.log(`FAIL ${name} ${transport}: ${e.stack || e}`);
      process.exit(1);
    }
  }
  process.exit(0);
})();

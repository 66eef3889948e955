// Connection state recovery with the official `socket.io-client` 4.x against the
// Socket.IO server under test (tests/integration/recovery.rs builds it).
//
//   node recovery-client.js [--parser=msgpack] <direct-url> <proxied-url> <scenario> [...]
//
// The returning client ("away") reaches the server through a loopback proxy the
// test runs (<proxied-url>); the others connect directly. The server's `net`
// event drives the proxy: "cut" severs every proxied connection at once (a
// network drop, seen by the server as an abrupt TCP close) and refuses new ones,
// "refuse" only refuses new ones, "up" lets them through again. So while the
// returning client is away, the others' messages are all acknowledged (the
// server broadcast them) before it can come back: no race, no sleep.
//
// Each scenario prints `ok <scenario> <details>`; the first failure prints
// `FAIL <scenario>: <why>` and exits 1. Every wait is bounded.

"use strict";

const { Manager } = require("socket.io-client");

// `--parser=msgpack` first: every client uses the official `socket.io-msgpack-parser`.
const argv = process.argv.slice(2);
const PARSER = argv[0] && argv[0].startsWith("--parser=") ? argv.shift().slice("--parser=".length) : "default";
const msgpackParser = PARSER === "msgpack" ? require("socket.io-msgpack-parser") : undefined;
const [directUrl, proxiedUrl, ...requested] = argv;
const STEP_MS = 10000;

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function withTimeout(promise, what, ms = STEP_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function once(emitter, event, what) {
  return withTimeout(new Promise((resolve) => emitter.once(event, (...args) => resolve(args))), what);
}

let managers = [];

function manager(url, transports, opts = {}) {
  const m = new Manager(url, {
    transports,
    reconnectionDelay: 50,
    reconnectionDelayMax: 100,
    randomizationFactor: 0,
    ...(msgpackParser ? { parser: msgpackParser } : {}),
    ...opts,
  });
  managers.push(m);
  return m;
}

function closeAll() {
  for (const m of managers) {
    m.reconnection(false);
    for (const s of Object.values(m.nsps)) s.disconnect();
    if (m.engine) m.engine.close();
  }
  managers = [];
}

// A connected socket that logs every `said` it gets, with the offset the server
// appended (the listener's last argument).
async function connect(m, auth = {}) {
  const s = m.socket("/", { auth });
  s.said = [];
  s.on("said", (...args) => s.said.push(args));
  s.connects = 0;
  s.on("connect", () => s.connects++);
  await once(s, "connect", "connect");
  return s;
}

function ask(s, event, ...args) {
  return withTimeout(s.emitWithAck(event, ...args), `the answer to ${event}`);
}

// Resolves once `s` has logged `n` messages.
function saidCount(s, n) {
  return withTimeout(
    new Promise((resolve) => {
      const check = () => {
        if (s.said.length >= n) {
          s.off("said", check);
          resolve();
        }
      };
      s.on("said", check);
      check();
    }),
    `${n} messages`,
  );
}

// What each logged message was: text, or `bin:<bytes>` for a Buffer.
function contents(s) {
  return s.said.map(([payload]) =>
    Buffer.isBuffer(payload) ? `bin:${[...payload].join(",")}` : payload.text,
  );
}

function message(i) {
  // Every third one is binary.
  return i % 3 === 2 ? Buffer.from([i, 0, 255]) : { text: `m${i}` };
}

function expected(i) {
  return i % 3 === 2 ? `bin:${i},0,255` : `m${i}`;
}

const PID = /^[A-Za-z0-9_-]{20}$/;
const OFFSET = /^[0-9]+$/;

// Drops `away`'s connection and keeps it away (new connections refused) until told
// `net up`: `client` closes it from the client (`engine.close()`), `cut` resets it in
// the proxy, as a network failure does. Resolves with the client's disconnect reason.
async function dropConnection(away, other, how, what) {
  const gone = once(away, "disconnect", what);
  if (how === "client") {
    await ask(other, "net", "refuse");
    away.io.engine.close();
  } else {
    await ask(other, "net", "cut");
  }
  const [reason] = await gone;
  return reason;
}

// The returning client joins a room, gets a message, drops (`how`), misses
// messages (text and binary) sent to its room, and comes back: same id, same
// rooms and data, `recovered`, every missed message once, in order, before the
// new ones; each carried an offset.
async function recoverScenario(transports, how) {
  const away = await connect(manager(proxiedUrl, transports));
  assert(away.recovered === false, "a first connection is not recovered");
  assert(PID.test(away._pid || ""), `the CONNECT answer carries a pid: ${away._pid}`);
  if (transports.length > 1) {
    await withTimeout(
      new Promise((resolve) => {
        if (away.io.engine.transport.name === "websocket") return resolve();
        away.io.engine.once("upgrade", resolve);
      }),
      "the upgrade to websocket",
    );
  }
  const other = await connect(manager(directUrl, ["websocket"]));
  await ask(away, "join", "room");
  await ask(away, "set-data", { who: "away" });
  await ask(other, "join", "room");
  const before = await ask(away, "whoami");

  await ask(other, "say", "room", message(0));
  await saidCount(away, 1);
  const [, firstOffset] = away.said[0];
  assert(OFFSET.test(firstOffset), `a broadcast carries its offset last: ${JSON.stringify(away.said[0])}`);
  const ackArgs = await withTimeout(
    new Promise((resolve) => away.emit("whoami", (...args) => resolve(args))),
    "an acknowledgement",
  );
  assert(ackArgs.length === 1, `an acknowledgement carries no offset: ${JSON.stringify(ackArgs)}`);

  const reason = await dropConnection(away, other, how, "the drop");
  const missed = 7;
  for (let i = 1; i <= missed; i++) await ask(other, "say", "room", message(i));
  // Sent to its own id while it is away: a direct message is replayed too.
  await ask(other, "say", before.id, { text: "direct" });
  // A client that comes back before the server noticed it had gone gets a fresh
  // session (as with the reference server): the server notices first here, at once
  // for a closed or reset connection, at the ping timeout for a polling client whose
  // requests could not get through.
  await ask(other, "gone", before.id);

  const back = once(away, "connect", "the return");
  await ask(other, "net", "up");
  await back;
  assert(away.recovered === true, "the socket says it was recovered");
  const after = await ask(away, "whoami");
  assert(after.id === before.id && away.id === before.id, `same id: ${before.id} then ${after.id}`);
  assert(JSON.stringify(after.rooms) === JSON.stringify(before.rooms), `same rooms: ${after.rooms}`);
  assert(after.recovered === true, "the server's socket says it was recovered");
  assert(after.data && after.data.who === "away", `same data: ${JSON.stringify(after.data)}`);

  await ask(other, "say", "room", { text: "new" });
  await saidCount(away, missed + 3);
  const want = [...Array(missed + 1).keys()].map(expected).concat(["direct", "new"]);
  const got = contents(away);
  assert(JSON.stringify(got) === JSON.stringify(want), `missed once and in order, then new: ${got}`);
  const offsets = away.said.map((args) => Number(args[args.length - 1]));
  assert(offsets.every((o, i) => i === 0 || o > offsets[i - 1]), `offsets rise: ${offsets}`);

  // A second drop of the same client: its restored session is kept again, under the
  // pid it kept, and it comes back once more with what it missed.
  assert(PID.test(away._pid || ""), `the recovered socket still has a pid: ${away._pid}`);
  const reasonAgain = await dropConnection(away, other, how, "the second drop");
  await ask(other, "say", "room", { text: "missed again" });
  await ask(other, "gone", before.id);
  const backAgain = once(away, "connect", "the second return");
  await ask(other, "net", "up");
  await backAgain;
  assert(away.recovered === true && away.id === before.id, `recovered again (dropped for ${reasonAgain}): recovered=${away.recovered}, id ${away.id}, was ${before.id}`);
  await saidCount(away, missed + 4);
  const last = contents(away).slice(missed + 3);
  assert(JSON.stringify(last) === JSON.stringify(["missed again"]), `missed once more: ${last}`);
  return `${reason}, back as ${after.id} in ${after.rooms.length} rooms, ${missed + 1} missed replayed in order before the new one; dropped again and recovered again`;
}

// The server shuts its connections down (reason `server shutting down`): the
// client reconnects by itself and is recovered.
async function shutdownScenario() {
  const s = await connect(manager(directUrl, ["websocket"]));
  await ask(s, "join", "room");
  await ask(s, "set-data", { who: "s" });
  const before = await ask(s, "whoami");
  const gone = once(s, "disconnect", "the shutdown");
  const back = new Promise((resolve) => s.io.once("reconnect", resolve));
  await ask(s, "shutdown");
  const [reason] = await gone;
  await withTimeout(back, "the reconnection");
  if (!s.connected) await once(s, "connect", "the return");
  const after = await ask(s, "whoami");
  assert(s.recovered === true && after.recovered === true, "recovered after a shutdown");
  assert(after.id === before.id, "same id");
  assert(JSON.stringify(after.rooms) === JSON.stringify(before.rooms), `same rooms: ${after.rooms}`);
  assert(after.data && after.data.who === "s", "same data");
  return `${reason}, then back as ${after.id}`;
}

// A client that leaves on purpose comes back as a new socket.
async function deliberateScenario() {
  const s = await connect(manager(directUrl, ["websocket"]));
  await ask(s, "join", "room");
  const before = await ask(s, "whoami");
  s.disconnect();
  s.connect();
  await once(s, "connect", "the new connection");
  const after = await ask(s, "whoami");
  assert(s.recovered === false && after.recovered === false, "not recovered");
  assert(after.id !== before.id, "a new id");
  assert(after.rooms.length === 1, `no rooms but its own: ${after.rooms}`);
  return "a deliberate disconnect() gives a new socket";
}

// Past the maximum disconnection duration, the client gets a fresh session.
async function expiredScenario() {
  const away = await connect(manager(proxiedUrl, ["websocket"]));
  const other = await connect(manager(directUrl, ["websocket"]));
  await ask(away, "join", "room");
  const before = await ask(away, "whoami");
  const gone = once(away, "disconnect", "the drop");
  await ask(other, "net", "cut");
  await gone;
  await ask(other, "say", "room", { text: "lost" });
  // Waits (on the server) until the duration has passed since the server kept it.
  await ask(other, "expire", before.id);
  const back = once(away, "connect", "the return");
  await ask(other, "net", "up");
  await back;
  const after = await ask(away, "whoami");
  assert(away.recovered === false && after.recovered === false, "not recovered");
  assert(after.id !== before.id, "a new id");
  assert(after.rooms.length === 1, `no rooms but its own: ${after.rooms}`);
  assert(away.said.length === 0, `nothing replayed: ${JSON.stringify(away.said)}`);
  return "after the duration, a fresh session without a replay";
}

// A forged pid gets a fresh session, and the session it did not name is still
// there for its own client.
async function forgedScenario() {
  const away = await connect(manager(proxiedUrl, ["websocket"]));
  const other = await connect(manager(directUrl, ["websocket"]));
  await ask(away, "join", "room");
  const before = await ask(away, "whoami");
  const gone = once(away, "disconnect", "the drop");
  await ask(other, "net", "cut");
  await gone;
  await ask(other, "say", "room", { text: "while away" });
  await ask(other, "gone", before.id);

  for (const pid of ["AAAAAAAAAAAAAAAAAAAA", away._pid.slice(1) + "x", "short"]) {
    const forger = await connect(manager(directUrl, ["websocket"]), { pid, offset: "0" });
    const seen = await ask(forger, "whoami");
    assert(forger.recovered === false && seen.recovered === false, "a forged pid is not recovered");
    assert(seen.id !== before.id, "a forged pid gets a new id");
    assert(seen.rooms.length === 1, `no rooms but its own: ${seen.rooms}`);
    assert(forger.said.length === 0, "nothing replayed to a forger");
  }

  const back = once(away, "connect", "the return");
  await ask(other, "net", "up");
  await back;
  const after = await ask(away, "whoami");
  assert(away.recovered === true && after.id === before.id, "the real client still recovers");
  await saidCount(away, 1);
  assert(JSON.stringify(contents(away)) === '["while away"]', `its replay: ${contents(away)}`);
  return "forged pids got fresh sessions; the real one still recovered";
}

const SCENARIOS = {
  "recover-websocket": () => recoverScenario(["websocket"], "client"),
  "recover-cut": () => recoverScenario(["websocket"], "cut"),
  "recover-upgrade": () => recoverScenario(["polling", "websocket"], "cut"),
  "recover-polling": () => recoverScenario(["polling"], "client"),
  "recover-shutdown": shutdownScenario,
  deliberate: deliberateScenario,
  expired: expiredScenario,
  forged: forgedScenario,
};

async function main() {
  for (const name of requested) {
    const scenario = SCENARIOS[name];
    if (!scenario) throw new Error(`unknown scenario ${name}`);
    try {
      const details = await scenario();
      console.log(`ok ${name} ${details}`);
    } catch (e) {
      console.log(`FAIL ${name}: ${e.message}`);
      process.exitCode = 1;
      break;
    } finally {
      closeAll();
    }
  }
}

main().then(() => process.exit());

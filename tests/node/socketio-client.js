// Drives the official `socket.io-client` 4.x against the Socket.IO server under test.
//
//   node socketio-client.js [--parser=msgpack] <base-url> <scenario>[@<transport>] [...]
//
// <transport> is `websocket` (the default), `polling`, or `upgrade` (polling
// first, then the upgrade to WebSocket, which must happen). The server is the
// one `tests/integration/socketio_interop/server.rs` builds: its handlers are
// described there. Each scenario prints `ok <scenario>@<transport> <details>`;
// the first failure prints `FAIL <scenario>@<transport>: <why>` and exits 1.
// Every wait is bounded. A client names its scenario with a `tag` in its
// CONNECT auth, so that the Rust side can check what the server recorded.

"use strict";

const crypto = require("node:crypto");
const { isDeepStrictEqual } = require("node:util");
const { Manager } = require("socket.io-client");
const { Socket: EngineSocket } = require("engine.io-client");

// `--parser=msgpack` first: every client uses the official `socket.io-msgpack-parser`.
const argv = process.argv.slice(2);
const PARSER = argv[0] && argv[0].startsWith("--parser=") ? argv.shift().slice("--parser=".length) : "default";
const [baseUrl, ...requested] = argv;
const msgpackParser = PARSER === "msgpack" ? require("socket.io-msgpack-parser") : undefined;

const STEP_MS = 10000;
const TOKEN_KEY = "interop-secret";

const TRANSPORTS = {
  websocket: ["websocket"],
  polling: ["polling"],
  upgrade: ["polling", "websocket"],
};

// ----- helpers ---------------------------------------------------------------------

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// Deep equality; the order of object keys does not matter.
function same(a, b) {
  return isDeepStrictEqual(a, b);
}

function assertSame(actual, expected, what) {
  assert(same(actual, expected), `${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
}

function bytes(buf) {
  assert(Buffer.isBuffer(buf), `expected a Buffer, got ${JSON.stringify(buf)}`);
  return [...buf];
}

function withTimeout(promise, what, ms = STEP_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Resolves once `check()` is true, checking at each of `events` of `emitter`.
function when(emitter, events, check, what) {
  return withTimeout(
    new Promise((resolve) => {
      const test = () => {
        if (check()) {
          events.forEach((e) => emitter.off(e, test));
          resolve();
        }
      };
      events.forEach((e) => emitter.on(e, test));
      test();
    }),
    what,
  );
}

// Every manager a scenario opened, closed when it ends.
let managers = [];

function manager(transport, opts = {}) {
  const m = new Manager(baseUrl, {
    transports: TRANSPORTS[transport],
    reconnectionDelay: 50,
    reconnectionDelayMax: 200,
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

// A socket of manager `m` in `nsp`, recording every event it receives in a
// mailbox per event name (read with `next`).
function open(m, nsp, auth) {
  const s = m.socket(nsp, { auth });
  s.mail = new Map();
  s.waiters = [];
  s.onAny((event, ...args) => {
    if (!s.mail.has(event)) s.mail.set(event, []);
    s.mail.get(event).push(args);
    s.waiters = s.waiters.filter((w) => !w());
  });
  s.reasons = [];
  s.on("disconnect", (reason) => s.reasons.push(reason));
  return s;
}

// The arguments of the next `event` not read yet.
function next(s, event) {
  return withTimeout(
    new Promise((resolve) => {
      const take = () => {
        const box = s.mail.get(event);
        if (box && box.length) {
          resolve(box.shift());
          return true;
        }
        return false;
      };
      if (!take()) s.waiters.push(take);
    }),
    `event ${event} on ${s.nsp}`,
  );
}

function received(s, event) {
  return (s.mail.get(event) || []).length;
}

// Resolves when `s` is connected; rejects on connect_error.
function connected(s) {
  if (s.connected) return Promise.resolve(s);
  return withTimeout(
    new Promise((resolve, reject) => {
      s.once("connect", () => resolve(s));
      s.once("connect_error", (e) => reject(new Error(`${s.nsp}: connect_error ${e.message}`)));
    }),
    `connect to ${s.nsp}`,
  );
}

// Resolves with the error when `s` is refused; rejects if it connects.
function refused(s) {
  return withTimeout(
    new Promise((resolve, reject) => {
      s.once("connect_error", resolve);
      s.once("connect", () => reject(new Error(`${s.nsp}: connected, expected a refusal`)));
    }),
    `refusal of ${s.nsp}`,
  );
}

function disconnected(s) {
  return withTimeout(
    new Promise((resolve) => {
      if (!s.connected && s.reasons.length) resolve(s.reasons[s.reasons.length - 1]);
      else s.once("disconnect", resolve);
    }),
    `disconnect of ${s.nsp} (${s.auth && s.auth.tag})`,
  );
}

// Emits and resolves with the first argument of the acknowledgement.
function call(s, event, ...args) {
  return s.timeout(STEP_MS).emitWithAck(event, ...args);
}

// Emits and resolves with every argument of the acknowledgement.
function callAll(s, event, ...args) {
  return new Promise((resolve, reject) => {
    s.timeout(STEP_MS).emit(event, ...args, (err, ...reply) => (err ? reject(err) : resolve(reply)));
  });
}

// For the `upgrade` transport: the upgrade must have happened.
async function upgraded(m, transport) {
  if (transport !== "upgrade") return;
  await when(m.engine, ["upgrade"], () => m.engine.transport.name === "websocket", "the upgrade");
}

// The Socket.IO packet type of an Engine.IO message, whichever parser is in use
// (NaN for a binary attachment of the default parser).
function packetType(data) {
  if (typeof data === "string") return Number(data[0]);
  if (!msgpackParser) return NaN;
  let type = NaN;
  const decoder = new msgpackParser.Decoder();
  decoder.on("decoded", (packet) => {
    type = packet.type;
  });
  decoder.add(data);
  return type;
}

// A message that no parser in use can decode.
function undecodable() {
  return msgpackParser ? Buffer.from([0x92, 0xc1]) : '2{"not":"an array"}';
}

function transportName(m) {
  return m.engine.transport.name;
}

// A `header.payload.signature` token as the server checks it.
function sign(claims, key = TOKEN_KEY) {
  const b64 = (s) => Buffer.from(s).toString("base64url");
  const header = b64(JSON.stringify({ alg: "SHA1", typ: "JWT" }));
  const payload = b64(JSON.stringify(claims));
  const signature = crypto.createHash("sha1").update(`${key}.${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}

// ----- scenarios on each transport -------------------------------------------------

const SCENARIOS = {};

// The handshake as the server's handlers see it; socket ids; per-socket data.
SCENARIOS.handshake = async (t) => {
  const m = manager(t, { query: { k: "query value é" }, extraHeaders: { "x-interop": "header-value" } });
  const auth = { tag: "handshake", token: "abc", nested: { n: [1, 2] } };
  const main = open(m, "/", auth);
  const admin = open(m, "/admin", { tag: "handshake" });
  await Promise.all([connected(main), connected(admin)]);
  const [hello] = await next(main, "welcome");
  assert(hello.id === main.id, `welcome id ${hello.id} vs socket id ${main.id}`);
  assert(main.id !== m.engine.id && admin.id !== m.engine.id, "a socket id is the Engine.IO sid");
  assert(main.id !== admin.id, "two namespaces gave the same socket id");
  assertSame(hello.auth, auth, "auth");
  assert(hello.namespace === "/", `namespace ${hello.namespace}`);
  assert(hello.query === "query value é", `query ${hello.query}`);
  assert(hello.header === "header-value", `header ${hello.header}`);
  assert(hello.address === "127.0.0.1", `address ${hello.address}`);
  const first = t === "websocket" ? "websocket" : "polling";
  assert(hello.transport === first, `transport ${hello.transport}`);
  const [adminHello] = await next(admin, "welcome");
  assertSame(adminHello.auth, { tag: "handshake" }, "admin auth");
  // Typed data is per socket.
  assert((await call(main, "visit")) === 1, "first visit");
  assert((await call(main, "visit")) === 2, "second visit");
  assert((await call(admin, "visit")) === 1, "another socket's visits");
  await upgraded(m, t);
  return `socket ids ${main.id} ${admin.id} on ${transportName(m)}`;
};

// Several namespaces on one connection, dynamic ones, unknown ones refused.
SCENARIOS.namespaces = async (t) => {
  const m = manager(t);
  const tag = { tag: "namespaces" };
  const sockets = ["/", "/admin", "/dyn-7", "/dyn-8"].map((nsp) => open(m, nsp, tag));
  await Promise.all(sockets.map(connected));
  const [main, admin, dyn7, dyn8] = sockets;
  for (const s of sockets) {
    const [hello] = await next(s, "welcome");
    assert(hello.namespace === s.nsp, `${s.nsp}: welcome from ${hello.namespace}`);
    assert(hello.id === s.id, `${s.nsp}: id`);
  }
  assert(new Set(sockets.map((s) => s.id)).size === 4, "socket ids not distinct");
  const engineId = m.engine.id;
  // One Engine.IO connection carries them all (the server counts one).
  let count;
  for (let i = 0; i < 200; i++) {
    count = await call(main, "count");
    if (count.connections === 1) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert(count.connections === 1, `server connections: ${count.connections}`);

  // Unknown namespaces, and one a dynamic namespace's middleware refuses.
  const refusals = [];
  for (const [nsp, message, data] of [
    ["/nope", "Invalid namespace", undefined],
    ["/dyn-x", "Invalid namespace", undefined],
    ["/dyn-0", "no zero", { namespace: "/dyn-0" }],
  ]) {
    const s = open(m, nsp, tag);
    const err = await refused(s);
    assert(err.message === message, `${nsp}: message ${err.message}`);
    assertSame(err.data, data, `${nsp}: data`);
    refusals.push(nsp);
  }
  assert(m.engine.id === engineId && m.engine.readyState === "open", "the connection did not stay open");
  assertSame(await call(main, "echo", "still here"), "still here", "echo after refusals");

  // A broadcast to every child of the dynamic namespace reaches those two only.
  assert((await call(main, "cast", { from: "dynamic", event: "dyn-hello", data: "hi" })) === true, "cast");
  await next(dyn7, "dyn-hello");
  await next(dyn8, "dyn-hello");
  // One connection delivers in order: anything else would have come before this.
  await call(main, "echo", "flush");
  assert(received(main, "dyn-hello") + received(admin, "dyn-hello") === 0, "dyn-hello reached a static namespace");
  assert(received(dyn7, "dyn-hello") + received(dyn8, "dyn-hello") === 0, "dyn-hello twice");

  // The client leaves one namespace; the others stay.
  admin.disconnect();
  assert(admin.reasons[0] === "io client disconnect", `admin reason ${admin.reasons}`);
  assertSame(await call(dyn7, "echo", 7), 7, "dyn-7 after /admin left");
  assertSame(await call(main, "echo", 1), 1, "main after /admin left");
  assert(m.engine.id === engineId, "the connection changed");
  await upgraded(m, t);
  return `4 namespaces on ${engineId}, refused ${refusals.join(" ")}`;
};

// Connect middleware: auth token, query and headers; refusals with message
// and data; a refused socket retries on the same connection.
SCENARIOS.middleware = async (t) => {
  const m = manager(t);
  const main = open(m, "/", { tag: "middleware" });
  await connected(main);
  const engineId = m.engine.id;

  const secure = open(m, "/secure", { tag: "middleware" });
  let err = await refused(secure);
  assert(err.message === "no token" && err.data === undefined, `no token: ${err.message} ${JSON.stringify(err.data)}`);

  secure.auth = { tag: "middleware", token: sign({ sub: "alice", role: "admin" }, "wrong-key") };
  let refusal = refused(secure);
  secure.connect();
  err = await refusal;
  assert(err.message === "invalid token", `forged token: ${err.message}`);
  assertSame(err.data, { code: 401, why: "signature" }, "forged token data");

  secure.auth = { tag: "middleware", token: "not-a-token" };
  refusal = refused(secure);
  secure.connect();
  err = await refusal;
  assertSame(err.data, { code: 401, why: "malformed" }, "malformed token data");

  secure.auth = { tag: "middleware", token: sign({ sub: "alice", role: "admin" }) };
  secure.connect();
  await connected(secure);
  const [hello] = await next(secure, "welcome");
  assertSame(hello.user, { sub: "alice", role: "admin" }, "user set by the middleware");
  assertSame((await call(secure, "whoami")).user, { sub: "alice", role: "admin" }, "whoami");
  assert(m.engine.id === engineId, "refusals changed the connection");
  assertSame(await call(main, "echo", "ok"), "ok", "main after refusals");

  // The query and the headers of the handshake.
  const token = sign({ sub: "bob", role: "user" });
  const byQuery = open(manager(t, { query: { banned: "1" } }), "/secure", { token });
  err = await refused(byQuery);
  assert(err.message === "banned", `query: ${err.message}`);
  assertSame(err.data, { via: "query" }, "query refusal data");
  const byHeader = open(manager(t, { extraHeaders: { "x-interop-ban": "yes" } }), "/secure", { token });
  err = await refused(byHeader);
  assertSame([err.message, err.data], ["banned", { via: "header" }], "header refusal");
  await upgraded(m, t);
  return "no token, forged, malformed, banned by query and header; then admitted";
};

// Typed arguments, a handler skipped when they do not fit, the catch-all.
SCENARIOS.events = async (t) => {
  const m = manager(t);
  const s = open(m, "/", { tag: "events" });
  await connected(s);
  const order = { item: "apple", qty: 4, tags: ["a", "b"], note: null };
  assertSame(await call(s, "typed", order), { item: "APPLE", total: 12, tags: 2, note: null }, "typed");
  assertSame(await call(s, "typed-args", "x", 7, true), "x:7:true", "typed-args");
  // Arguments that do not fit: the handler is not called (no ack). The socket's
  // events are handled in order, so its ack would have come before the echo's.
  let skippedCalled = false;
  s.emit("typed", "not an order", () => (skippedCalled = true));
  assertSame(await call(s, "echo", "after"), "after", "echo");
  assert(!skippedCalled, "a handler ran with arguments that do not fit");
  const bad = await call(s, "try-typed", { item: 5 });
  assert(bad.ok === false && typeof bad.error === "string", `try-typed: ${JSON.stringify(bad)}`);
  assertSame(await call(s, "try-typed", order), { ok: true, item: "apple" }, "try-typed ok");
  // Events without an ack; several arguments; text beyond ASCII.
  s.emit("echo", 1, "two é€😀", { three: [3] }, null);
  assertSame(await next(s, "echo"), [1, "two é€😀", { three: [3] }, null], "echo event");
  const log = await call(s, "any-log");
  const expected = ["typed", "typed-args", "typed", "echo", "try-typed", "try-typed", "echo", "any-log"];
  assertSame(log, expected, "catch-all log");
  await upgraded(m, t);
  return `catch-all saw ${log.length} events`;
};

// Binary arguments in events and acknowledgements, both ways.
SCENARIOS.binary = async (t) => {
  const m = manager(t);
  const s = open(m, "/", { tag: "binary" });
  await connected(s);
  const upload = { name: "file", data: Buffer.from([1, 2, 3, 4, 5]), parts: [Buffer.from([9]), Buffer.from([8, 7])] };
  const [meta, reversed, joined] = await callAll(s, "upload", upload);
  assertSame(meta, { name: "file", size: 5, parts: 2, attachments: 3 }, "upload meta");
  assertSame(bytes(reversed), [5, 4, 3, 2, 1], "reversed");
  assertSame(bytes(joined), [9, 8, 7], "joined");
  // Echoed as an ack, binary nested in objects and arrays.
  const [a, b] = await callAll(s, "echo", Buffer.from([0, 255]), { nested: [Buffer.from("x"), 1] });
  assertSame(bytes(a), [0, 255], "echoed buffer");
  assertSame(bytes(b.nested[0]), [120], "echoed nested buffer");
  // Echoed as an event.
  s.emit("echo", "label", Buffer.from([7, 7]));
  const [label, seven] = await next(s, "echo");
  assert(label === "label", `label ${label}`);
  assertSame(bytes(seven), [7, 7], "echo event bytes");
  // Large: 256 KiB (base64 on polling).
  const big = crypto.randomBytes(256 * 1024);
  const [bigBack] = await callAll(s, "echo", big);
  assert(Buffer.compare(bigBack, big) === 0, "256 KiB echo differs");
  // The server emits binary with an ack; the client answers with binary.
  s.on("bytes-please", (what, data, ack) => {
    assert(what === "reverse me", `bytes-please ${what}`);
    ack(Buffer.from([...data].reverse()));
  });
  assertSame(await call(s, "ask-binary"), { ok: [250, 3, 2, 1] }, "binary ack to the server");
  await upgraded(m, t);
  return "events and acks with attachments both ways, 256 KiB";
};

// Payloads come back exactly as sent: object keys in their order (JSON text
// compared, not deep equality), and binary anywhere inside a dynamic value, in
// the ack, an event and a broadcast.
SCENARIOS.payloads = async (t) => {
  const m = manager(t);
  const s = open(m, "/", { tag: "payloads" });
  await connected(s);
  const text = (v) => JSON.stringify(v);
  const plain = { z: 1, a: { y: [1, "two", null, { d: 4, c: 3 }], b: true }, "10": "ten", "2": 2, m: -0.5, u: "é\u2028" };
  const bin = {
    z: Buffer.from([0, 1, 2]),
    nested: [Buffer.from("x"), { y: Buffer.alloc(0), k: 1 }],
    after: "kept",
    list: [3, 2, 1],
  };
  const args = [plain, bin, "third", Buffer.from([255])];
  const want = text(args);
  const reply = await callAll(s, "value-echo", ...args);
  assert(text(reply) === want, `ack: got ${text(reply)}, sent ${want}`);
  assert(Buffer.isBuffer(reply[1].nested[1].y), "an empty buffer came back as a buffer");
  const event = await next(s, "value-echo");
  assert(text(event) === want, `event: got ${text(event)}, sent ${want}`);
  const cast = await next(s, "value-cast");
  assert(text(cast) === want, `broadcast: got ${text(cast)}, sent ${want}`);
  // The server asks the client; what the client answers comes back as the server got it.
  s.on("value-question", (data, ack) => ack({ q: data, bytes: Buffer.from([9, 8]), a: 1 }));
  const asked = await call(s, "value-ask", bin);
  const expected = { q: bin, bytes: Buffer.from([9, 8]), a: 1 };
  assert(text(asked) === text(expected), `ack received: got ${text(asked)}, sent ${text(expected)}`);
  // A serde_json::Value keeps the order too.
  const back = await call(s, "json-echo", plain);
  assert(text(back) === text(plain), `json-echo: got ${text(back)}, sent ${text(plain)}`);
  // Binary cannot land in a serde_json::Value: the handler is not called, so no ack.
  let refusedBinary = false;
  try {
    await s.timeout(300).emitWithAck("json-echo", { blob: Buffer.from([1]) });
  } catch (e) {
    refusedBinary = /timed out|timeout/i.test(e.message);
  }
  assert(refusedBinary, "a serde_json::Value handler was called with binary");
  assertSame(await call(s, "echo", "still here"), "still here", "the socket carries on");
  await upgraded(m, t);
  return `key order and nested binary as sent (${want.length} bytes of JSON)`;
};

// Acknowledgements: answered once; the server's emits with ack and timeout;
// broadcasts with ack.
SCENARIOS.acks = async (t) => {
  const m = manager(t);
  const s = open(m, "/", { tag: "acks" });
  await connected(s);
  // The handler answers twice: the client must get exactly one ACK packet.
  let ackPackets = 0;
  m.engine.on("message", (data) => {
    if ([3, 6].includes(packetType(data))) ackPackets += 1;
  });
  assertSame(await call(s, "twice"), "first", "twice");
  assertSame(await call(s, "echo", "after"), "after", "echo after twice");
  assert(ackPackets === 2, `${ackPackets} ACK packets for two acknowledged events`);

  // The server asks with a timeout: answered, not answered, answered late.
  s.on("question", (data, ack) => ack({ answer: data.n * 2 }));
  s.on("silence", () => {});
  s.on("late", (data, ack) => setTimeout(() => ack("too late"), 300));
  assertSame(await call(s, "ask", { event: "question", timeout_ms: 5000, data: { n: 21 } }), { ok: { answer: 42 } }, "answered");
  assertSame(await call(s, "ask", { event: "silence", timeout_ms: 100, data: {} }), { err: "timeout" }, "silent");
  assertSame(await call(s, "ask", { event: "late", timeout_ms: 100, data: {} }), { err: "timeout" }, "late");
  // The late answer arrives now and is ignored; the socket carries on.
  await new Promise((r) => setTimeout(r, 300));
  assertSame(await call(s, "echo", "fine"), "fine", "after a late ack");

  // A broadcast with ack gathers every member's answer, or its timeout.
  const members = [0, 1, 2].map((i) => {
    const member = open(manager(t), "/", { tag: "acks-member" });
    member.on("poll", (what, ack) => {
      if (i < 2) ack(`member ${i}`);
    });
    return member;
  });
  await Promise.all(members.map(connected));
  await Promise.all(members.map((member) => call(member, "join", ["ack-room"])));
  s.on("poll", () => {
    throw new Error("the asker is not in the room");
  });
  const gathered = await call(s, "cast-with-ack", { room: "ack-room", timeout_ms: 300 });
  assertSame(gathered, { answers: ["member 0", "member 1"], timeouts: 1, errors: [] }, "broadcast with ack");
  // Once the silent member left, everyone answers: the result comes as soon
  // as they have, long before the timeout.
  await call(members[2], "leave", "ack-room");
  const started = Date.now();
  const quick = await call(s, "cast-with-ack", { room: "ack-room", timeout_ms: 60000 });
  assertSame(quick, { answers: ["member 0", "member 1"], timeouts: 0, errors: [] }, "everyone answered");
  assert(Date.now() - started < STEP_MS, "waited for the timeout");
  await upgraded(m, t);
  return "answered once, timeouts, broadcast with ack";
};

// Rooms: join, leave, to, except, broadcast from a socket, to one socket, the
// whole namespace; exact deliveries, and leave-all on disconnect.
SCENARIOS.rooms = async (t) => {
  const names = ["A", "B", "C", "D"];
  const clients = names.map(() => open(manager(t), "/", { tag: "rooms" }));
  await Promise.all(clients.map(connected));
  const [A, B, C, D] = clients;
  assertSame(await call(A, "join", ["r1", "r2"]), [A.id, "r1", "r2"], "A's rooms");
  await call(B, "join", ["r1"]);
  await call(C, "join", ["r2"]);
  const casts = [
    [A, { from: "io", to: ["r1"] }, "AB"],
    [A, { from: "io", to: ["r1", "r2"] }, "ABC"],
    [A, { from: "io", except: ["r1"] }, "CD"],
    [A, { from: "io", to: ["r2"], except: ["r1"] }, "C"],
    [A, { from: "socket", to: ["r1"] }, "B"],
    [A, { from: "socket" }, "BCD"],
    [D, { from: "all" }, "ABCD"],
    [D, { from: "io", to: [B.id] }, "B"],
    [D, { from: "io", to: [B.id, "r1"] }, "AB"],
  ];
  const expected = new Map(names.map((n) => [n, []]));
  let label = 0;
  for (const [sender, cast, who] of casts) {
    label += 1;
    assert((await call(sender, "cast", { ...cast, event: "msg", data: label })) === true, `cast ${label}`);
    for (const n of who) expected.get(n).push(label);
  }
  assertSame(await call(B, "leave", "r1"), [B.id], "B's rooms after leaving");
  label += 1;
  await call(D, "cast", { from: "io", to: ["r1"], event: "msg", data: label });
  expected.get("A").push(label);
  // The last cast reaches everyone: whatever was sent before it has arrived.
  await call(D, "cast", { from: "all", event: "end", data: null });
  await Promise.all(clients.map((c) => next(c, "end")));
  clients.forEach((c, i) => {
    const got = (c.mail.get("msg") || []).map(([n]) => n);
    assertSame(got, expected.get(names[i]), `${names[i]} received`);
  });
  // Leaving every room on disconnect.
  assert((await call(D, "room-size", "r2")) === 2, "r2 holds A and C");
  const aId = A.id;
  A.disconnect();
  let size;
  for (let i = 0; i < 200; i++) {
    size = await call(D, "room-size", "r2");
    if (size === 1) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert(size === 1, `r2 after A left: ${size}`);
  assert((await call(D, "room-size", aId)) === 0, "A's own room after it left");
  return `${label} casts, exact deliveries`;
};

// Each socket's events in order; a slow handler stalls no other socket, even
// on the same connection.
SCENARIOS.ordering = async (t) => {
  const m = manager(t);
  const s = open(m, "/", { tag: "ordering" });
  await connected(s);
  const N = 300;
  for (let i = 0; i < N; i++) s.emit("seq", i);
  const handled = await call(s, "seq-done");
  assertSame(handled, [...Array(N).keys()], "handling order");

  const other = open(m, "/admin", { tag: "ordering" });
  const elsewhere = open(manager(t), "/", { tag: "ordering" });
  await Promise.all([connected(other), connected(elsewhere)]);
  const done = [];
  const blocked = call(s, "block").then((released) => done.push(["block", released]));
  const after = call(s, "echo", "after block").then(() => done.push(["after"]));
  assertSame(await call(other, "echo", "same connection"), "same connection", "other namespace");
  assertSame(await call(elsewhere, "echo", "other connection"), "other connection", "other client");
  assert(done.length === 0, `the blocked socket went on: ${JSON.stringify(done)}`);
  assert((await call(elsewhere, "release")) === true, "release");
  await withTimeout(Promise.all([blocked, after]), "the blocked socket");
  assertSame(done, [["block", true], ["after"]], "the blocked socket's order");
  await upgraded(m, t);
  return `${N} events in order; a blocked handler held only its socket`;
};

// Disconnects from either side, per namespace or the whole connection, each
// with its reason (the server records them: see the Rust side).
SCENARIOS.disconnects = async (t) => {
  const seen = [];
  const pair = async (tag) => {
    const m = manager(t, { reconnection: false });
    const main = open(m, "/", { tag });
    const admin = open(m, "/admin", { tag });
    await Promise.all([connected(main), connected(admin)]);
    await upgraded(m, t);
    return [m, main, admin];
  };

  // The server makes one socket leave its namespace; the other stays.
  {
    const [, main, admin] = await pair("kick");
    main.emit("kick");
    await disconnected(main);
    assertSame(main.reasons, ["io server disconnect"], "kick");
    assertSame(await call(admin, "echo", 1), 1, "admin after the kick");
    seen.push("kick");
  }
  // The server closes the whole connection: every socket is told.
  {
    const [, main, admin] = await pair("close-all");
    main.emit("close-all");
    await Promise.all([disconnected(main), disconnected(admin)]);
    // Told first, not cut off: the reason is the server's, not the transport's.
    assertSame([main.reasons, admin.reasons], [["io server disconnect"], ["io server disconnect"]], "close-all");
    seen.push("close-all");
  }
  // The client leaves each namespace.
  {
    const [, main, admin] = await pair("client-leave");
    admin.disconnect();
    assertSame(await call(main, "echo", 2), 2, "main after admin left");
    main.disconnect();
    seen.push("client-leave");
  }
  // The client closes the connection.
  {
    const [m, main] = await pair("client-close");
    m.engine.close();
    await disconnected(main);
    seen.push(`client-close(${main.reasons})`);
  }
  // The client sends a packet that does not decode.
  {
    const [m, main] = await pair("parse-error");
    m.engine.send(undecodable());
    await disconnected(main);
    seen.push(`parse-error(${main.reasons})`);
  }
  // The client stops answering pings.
  {
    const [m, main] = await pair("ping-timeout");
    const engine = m.engine;
    const send = engine._sendPacket.bind(engine);
    engine._sendPacket = (type, ...rest) => (type === "pong" ? undefined : send(type, ...rest));
    await disconnected(main);
    seen.push(`ping-timeout(${main.reasons})`);
  }
  // The transport fails: a broken WebSocket frame, or an overlapping long-poll.
  {
    const [m, main] = await pair("transport-error");
    if (transportName(m) === "websocket") {
      // An unmasked frame from a client is a protocol error.
      m.engine.transport.ws._socket.write(Buffer.from([0x81, 0x01, 0x34]));
    } else {
      // Only an overlap while the client's own GET is parked: a GET that arrives between two
      // of its polls is parked itself and takes the next packet (a ping) instead. So again,
      // until the client is told; each try ends within a ping interval.
      const url = `${baseUrl}/socket.io/?EIO=4&transport=polling&sid=${m.engine.id}`;
      for (let i = 0; i < 20 && main.connected; i++) {
        await fetch(url).then((r) => r.text()).catch(() => {});
      }
    }
    await disconnected(main);
    seen.push(`transport-error(${main.reasons})`);
  }
  return seen.join(" ");
};

// ----- scenarios run once ----------------------------------------------------------

// A volatile emit reaches a socket ready to take it, and is dropped (not
// queued) for one that is not: a raw polling client with no GET waiting.
SCENARIOS.volatile = async () => {
  const w = open(manager("websocket"), "/", { tag: "volatile" });
  await connected(w);
  assert((await call(w, "volatile-self", 20)) === 20, "volatile-self");
  await call(w, "echo", "flush");
  assert(received(w, "volatile") === 20, `websocket got ${received(w, "volatile")} of 20 volatile emits`);

  const base = `${baseUrl}/socket.io/?EIO=4&transport=polling`;
  const get = async (url) => {
    const res = await fetch(url, { signal: AbortSignal.timeout(STEP_MS) });
    assert(res.ok, `GET ${res.status}`);
    return (await res.text()).split("\x1e");
  };
  const [openPacket] = await get(base);
  const sid = JSON.parse(openPacket.slice(1)).sid;
  const url = `${base}&sid=${sid}`;
  const post = await fetch(url, { method: "POST", body: '40{"tag":"volatile-raw"}', signal: AbortSignal.timeout(STEP_MS) });
  assert((await post.text()) === "ok", "POST");
  let socketId;
  let welcomed = false;
  for (let i = 0; i < 10 && !welcomed; i++) {
    for (const p of await get(url)) {
      if (p.startsWith("40")) socketId = JSON.parse(p.slice(2)).sid;
      if (p.startsWith('42["welcome"')) welcomed = true;
    }
  }
  assert(socketId && welcomed, "raw client connected");
  // No GET of the raw client is waiting now.
  assert((await call(w, "volatile-to", socketId)) === true, "volatile-to");
  const packets = (await get(url)).filter((p) => p !== "2");
  assertSame(packets, ['42["kept","queued"]'], "what the raw client got");
  await fetch(url, { method: "POST", body: "1", signal: AbortSignal.timeout(STEP_MS) });
  return "20 of 20 over websocket; dropped for the client not polling";
};

// A connection that joins no namespace within the connect timeout is closed;
// one that joined stays.
SCENARIOS["connect-timeout"] = async () => {
  const raw = (transports) => {
    const e = new EngineSocket(baseUrl, { path: "/socket.io/", transports });
    e.closedWith = withTimeout(new Promise((resolve) => e.on("close", resolve)), "close by the server");
    e.opened = withTimeout(new Promise((resolve) => e.on("open", resolve)), "open");
    return e;
  };
  const idle = [raw(["websocket"]), raw(["polling"])];
  const joined = raw(["websocket"]);
  await Promise.all([...idle, joined].map((e) => e.opened));
  const started = Date.now();
  const gotConnect = withTimeout(new Promise((resolve) => joined.on("message", resolve)), "CONNECT answer");
  joined.send("0");
  assert(String(await gotConnect).startsWith('0{"sid":'), "CONNECT answer");
  const reasons = await Promise.all(idle.map((e) => e.closedWith));
  const elapsed = Date.now() - started;
  assert(joined.readyState === "open", `the joined connection is ${joined.readyState}`);
  joined.close();
  return `idle closed (${reasons.join(", ")}) after ${elapsed} ms; joined stayed open`;
};

// 200 clients in 10 rooms: every broadcast reaches exactly its recipients.
SCENARIOS.crowd = async () => {
  const N = 200;
  const kinds = ["websocket", "polling", "upgrade"];
  const clients = Array.from({ length: N }, (_, i) =>
    open(manager(kinds[i % 3], { reconnection: false }), "/", { tag: "crowd" }),
  );
  await Promise.all(clients.map(connected));
  await Promise.all(clients.map((c, i) => call(c, "join", [`room-${i % 10}`, `parity-${i % 2}`])));
  const expected = clients.map(() => []);
  const cast = async (sender, how, label, recipients) => {
    const ok = await call(clients[sender], "cast", { ...how, event: "crowd", data: label });
    assert(ok === true, `cast ${label}`);
    for (let i = 0; i < N; i++) if (recipients(i)) expected[i].push(label);
  };
  for (let r = 0; r < 10; r++) {
    await cast(r, { from: "io", to: [`room-${r}`] }, `to-room-${r}`, (i) => i % 10 === r);
    await cast(r + 10, { from: "socket", to: [`room-${r}`] }, `socket-to-room-${r}`, (i) => i % 10 === r && i !== r + 10);
  }
  await cast(0, { from: "io", to: ["room-1", "parity-1"] }, "union", (i) => i % 2 === 1);
  await cast(0, { from: "io", except: ["room-0"] }, "except", (i) => i % 10 !== 0);
  await cast(1, { from: "io", to: ["parity-0"], except: ["room-0", "room-2"] }, "even-minus", (i) => i % 2 === 0 && i % 10 !== 0 && i % 10 !== 2);
  await cast(5, { from: "socket" }, "all-but-5", (i) => i !== 5);
  await cast(7, { from: "all" }, "everyone", () => true);
  await cast(9, { from: "io", to: [clients[123].id] }, "direct", (i) => i === 123);
  await call(clients[0], "leave", "room-0");
  await cast(3, { from: "io", to: ["room-0"] }, "after-leave", (i) => i % 10 === 0 && i !== 0);
  await call(clients[0], "cast", { from: "all", event: "end", data: null });
  await Promise.all(clients.map((c) => next(c, "end")));
  let deliveries = 0;
  clients.forEach((c, i) => {
    const got = (c.mail.get("crowd") || []).map(([label]) => label);
    deliveries += got.length;
    assertSame(got, expected[i], `client ${i} received`);
  });
  const upgradedCount = managers.filter((m) => transportName(m) === "websocket").length;
  return `${N} clients, ${deliveries} deliveries exact, ${upgradedCount} on websocket`;
};

// The server restarts (graceful shutdown, a new server on the same port):
// clients on every transport reconnect by themselves. The Rust side restarts
// the server when a client asks.
SCENARIOS.restart = async () => {
  const sockets = Object.keys(TRANSPORTS).map((t) => {
    const m = manager(t, { reconnectionDelay: 100, reconnectionDelayMax: 300 });
    const s = open(m, "/", { tag: `restart-${t}` });
    s.manager = m;
    s.transport = t;
    return s;
  });
  await Promise.all(sockets.map(connected));
  await Promise.all(sockets.map((s) => upgraded(s.manager, s.transport)));
  await Promise.all(sockets.map((s) => next(s, "welcome")));
  const firstIds = sockets.map((s) => s.id);
  const back = sockets.map((s) =>
    withTimeout(
      new Promise((resolve) => s.once("disconnect", (reason) => s.once("connect", () => resolve(reason)))),
      `reconnection over ${s.transport}`,
      3 * STEP_MS,
    ),
  );
  assert((await call(sockets[0], "restart")) === true, "restart asked");
  const reasons = await Promise.all(back);
  for (const [i, s] of sockets.entries()) {
    assert(s.id !== firstIds[i], `${s.transport}: same socket id after a restart`);
    const [hello] = await next(s, "welcome");
    assert(hello.id === s.id, `${s.transport}: welcome from the new server`);
    assertSame(await call(s, "echo", "back"), "back", `${s.transport}: echo after the restart`);
  }
  return `reconnected after ${reasons.join(", ")}`;
};

(async () => {
  for (const item of requested) {
    const [name, transport = "websocket"] = item.split("@");
    const run = SCENARIOS[name];
    const label = `${name}@${transport}`;
    if (!run || !TRANSPORTS[transport]) {
      console.log(`FAIL ${label}: no such scenario or transport`);
      process.exit(1);
    }
    try {
      const details = await run(transport);
      console.log(`ok ${label} ${details}`);
    } catch (e) {
      console.log(`FAIL ${label}: ${e && e.stack}`);
      process.exit(1);
    } finally {
      closeAll();
    }
  }
  // No explicit exit on success: Node ends once the clients' last requests
  // (e.g. the POST carrying a close packet) have gone out.
})();

// Drives a Socket.IO cluster on one Redis for the Rust tests (socketio-redis/tests/redis.rs).
//
//   node redis-cluster.js mixed <redis-url> <rust-server-url>
//     starts the official Node server (socket.io 4.8 + @socket.io/redis-adapter 8.3) next
//     to the Rust server, with clients on both, and checks each feature across the two.
//   node redis-cluster.js cluster <url1,url2,url3> <clients>
//     spreads official clients over the Rust servers (half long-polling) and checks
//     room broadcasts with except, acks, fetchSockets and remote joins across them.
//
// Prints "ok <name>" per check, or "fail <name> <why>"; exits when done (bounded waits).
const { io: connect } = require("socket.io-client");

const LIMIT = 10000;
const [mode, a, b] = process.argv.slice(2);

function withTimeout(promise, what, ms = LIMIT) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timeout: ${what}`)), ms)),
  ]);
}

function client(url, transports, name) {
  const socket = connect(url, { transports, reconnection: false, forceNew: true, auth: { name } });
  return withTimeout(new Promise((resolve, reject) => {
    socket.on("connect", () => resolve(socket));
    socket.on("connect_error", reject);
  }), `connect ${url}`);
}

function next(socket, event) {
  return withTimeout(new Promise((resolve) => socket.once(event, (...args) => resolve(args))), `event ${event}`);
}

async function check(name, fn) {
  try {
    await fn();
    console.log(`ok ${name}`);
  } catch (e) {
    console.log(`fail ${name} ${e && e.stack ? e.stack.split("\n").slice(0, 3).join(" | ") : e}`);
  }
}

function assert(cond, what) {
  if (!cond) throw new Error(what);
}

async function mixed(redisUrl, rustUrl) {
  const { Server } = require("socket.io");
  const { createAdapter } = require("@socket.io/redis-adapter");
  const { Emitter } = require("@socket.io/redis-emitter");
  const { createClient } = require("redis");
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  const emitterClient = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect(), emitterClient.connect()]);
  const nodeIo = new Server({ adapter: createAdapter(pub, sub) });
  nodeIo.on("connection", (socket) => {
    socket.data = { name: socket.handshake.auth.name };
    socket.on("join", (room, cb) => { socket.join(room); cb("joined"); });
    socket.on("poll", (q, cb) => cb && cb(`node:${q}`));
  });
  nodeIo.on("ping", (arg, cb) => cb(`pong-node:${arg}`));
  nodeIo.listen(0);
  const nodePort = nodeIo.httpServer.address().port;
  const nodeUrl = `http://127.0.0.1:${nodePort}`;

  const onNode = await client(nodeUrl, ["websocket"], "ann");
  const onRust = await client(rustUrl, ["polling"], "bob");
  onNode.on("poll", (q, cb) => cb(`ann:${q}`));
  onRust.on("poll", (q, cb) => cb(`bob:${q}`));
  await onNode.emitWithAck("join", "r");
  await onRust.emitWithAck("join", "r");

  await check("node-broadcast-reaches-rust-clients", async () => {
    const got = next(onRust, "hello");
    nodeIo.to("r").emit("hello", "from node", Buffer.from([1, 2, 3]));
    const [text, bin] = await got;
    assert(text === "from node", `text ${text}`);
    assert(Buffer.from(bin).equals(Buffer.from([1, 2, 3])), "binary");
  });
  await check("rust-broadcast-reaches-node-clients", async () => {
    const got = next(onNode, "hello");
    await onRust.emitWithAck("cast", "r", "from rust");
    const [text] = await got;
    assert(text === "from rust", `text ${text}`);
  });
  await check("node-fetchSockets-sees-rust-sockets", async () => {
    const sockets = await nodeIo.in("r").fetchSockets();
    const bob = sockets.find((s) => s.id === onRust.id);
    assert(sockets.length === 2, `count ${sockets.length}`);
    assert(bob, "bob is listed");
    assert(bob.rooms.has("r") && bob.rooms.has(onRust.id), `rooms ${[...bob.rooms]}`);
    assert(bob.data && bob.data.name === "bob", `data ${JSON.stringify(bob.data)}`);
    assert(bob.handshake.auth.name === "bob", `handshake ${JSON.stringify(bob.handshake)}`);
  });
  await check("rust-fetchSockets-sees-node-sockets", async () => {
    const list = await onRust.emitWithAck("rust-fetch", "r");
    const ann = list.find((s) => s.id === onNode.id);
    assert(list.length === 2, `count ${JSON.stringify(list)}`);
    assert(ann && ann.data.name === "ann" && ann.rooms.includes("r"), JSON.stringify(ann));
  });
  await check("node-serverSideEmit-with-ack-reaches-rust", async () => {
    const answers = await nodeIo.serverSideEmitWithAck("ping", "n");
    assert(JSON.stringify(answers) === JSON.stringify(["pong-rust:n"]), JSON.stringify(answers));
  });
  await check("rust-serverSideEmit-with-ack-reaches-node", async () => {
    const answers = await onRust.emitWithAck("rust-sse", "r");
    assert(JSON.stringify(answers) === JSON.stringify(["pong-node:r"]), JSON.stringify(answers));
  });
  await check("node-broadcast-acks-across-both", async () => {
    const answers = await nodeIo.to("r").timeout(3000).emitWithAck("poll", "q");
    answers.sort();
    assert(JSON.stringify(answers) === JSON.stringify(["ann:q", "bob:q"]), JSON.stringify(answers));
  });
  await check("rust-broadcast-acks-across-both", async () => {
    const answers = await onRust.emitWithAck("rust-acks", "r");
    answers.sort();
    assert(JSON.stringify(answers) === JSON.stringify(["ann:q", "bob:q"]), JSON.stringify(answers));
  });
  await check("node-remote-join-and-rooms", async () => {
    nodeIo.in(onRust.id).socketsJoin("joined-by-node");
    await new Promise((r) => setTimeout(r, 200));
    const rooms = await nodeIo.of("/").adapter.allRooms();
    assert(rooms.has("joined-by-node"), `rooms ${[...rooms]}`);
    const list = await onRust.emitWithAck("rust-rooms");
    assert(list.includes("joined-by-node") && list.includes(onNode.id), JSON.stringify(list));
  });
  // Join and leave of a socket on the other kind of server, both ways.
  const nodeRooms = () => nodeIo.of("/").adapter.rooms;
  const until = async (cond) => {
    const deadline = Date.now() + LIMIT;
    while (!(await cond()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return cond();
  };
  await check("rust-remote-join-and-leave-reach-node", async () => {
    await onRust.timeout(LIMIT).emitWithAck("join-other", onNode.id, "joined-by-rust");
    assert(await until(() => (nodeRooms().get("joined-by-rust") || new Set()).has(onNode.id)), "joined");
    await onRust.timeout(LIMIT).emitWithAck("leave-other", onNode.id, "joined-by-rust");
    assert(await until(() => !nodeRooms().has("joined-by-rust")), "left");
  });
  await check("node-remote-leave-reaches-rust", async () => {
    nodeIo.in(onRust.id).socketsLeave("joined-by-node");
    assert(
      await until(async () => !(await onRust.emitWithAck("rust-rooms")).includes("joined-by-node")),
      "joined-by-node is still listed",
    );
  });
  await check("redis-emitter-reaches-rust-clients", async () => {
    const got = next(onRust, "from-emitter");
    new Emitter(emitterClient).to("r").emit("from-emitter", { n: 1 });
    const [data] = await got;
    assert(data.n === 1, JSON.stringify(data));
  });
  await check("rust-emitter-reaches-node-and-rust-clients", async () => {
    const both = Promise.all([next(onNode, "from-rust-emitter"), next(onRust, "from-rust-emitter")]);
    await onRust.emitWithAck("rust-emitter", "r");
    const [[a], [b]] = await both;
    assert(a.n === 2 && b.n === 2, JSON.stringify([a, b]));
  });
  await check("rust-disconnectSockets-reaches-node", async () => {
    const gone = next(onNode, "disconnect");
    await onRust.timeout(LIMIT).emitWithAck("disconnect-other", onNode.id);
    const [reason] = await gone;
    assert(reason === "io server disconnect", reason);
  });
  await check("node-disconnectSockets-reaches-rust", async () => {
    const gone = next(onRust, "disconnect");
    nodeIo.in(onRust.id).disconnectSockets();
    const [reason] = await gone;
    assert(reason === "io server disconnect", reason);
  });
  onNode.close();
  nodeIo.close();
  await Promise.all([pub.quit(), sub.quit(), emitterClient.quit()]).catch(() => {});
}

async function cluster(urls, count) {
  const servers = urls.split(",");
  const clients = [];
  for (let i = 0; i < count; i++) {
    const url = servers[i % servers.length];
    const transports = i % 2 === 0 ? ["websocket"] : ["polling"];
    clients.push(await client(url, transports, `c${i}`));
  }
  const inRoom = clients.filter((_, i) => i % 3 !== 0);
  const muted = inRoom.filter((_, i) => i % 5 === 0);
  await Promise.all(inRoom.map((c) => c.emitWithAck("join", "room")));
  await Promise.all(muted.map((c) => c.emitWithAck("join", "muted")));
  await check("room-broadcast-exact-delivery-with-except", async () => {
    const counts = new Map(clients.map((c) => [c.id, 0]));
    clients.forEach((c) => c.on("hello", () => counts.set(c.id, counts.get(c.id) + 1)));
    const sender = inRoom[1];
    await sender.emitWithAck("cast-except", "room", "muted", "hi");
    const want = new Set(inRoom.filter((c) => !muted.includes(c) && c !== sender).map((c) => c.id));
    const deadline = Date.now() + LIMIT;
    while (Date.now() < deadline && [...want].some((id) => counts.get(id) < 1)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // Anything late or duplicated would arrive now.
    await sender.emitWithAck("cast-except", "nobody", "muted", "sync");
    await new Promise((r) => setTimeout(r, 300));
    for (const [id, n] of counts) {
      const expected = want.has(id) ? 1 : 0;
      assert(n === expected, `${id} got ${n}, expected ${expected}`);
    }
  });
  await check("fetchSockets-across-servers", async () => {
    const list = await clients[0].emitWithAck("rust-fetch", "room");
    assert(list.length === inRoom.length, `${list.length} of ${inRoom.length}`);
    const c5 = list.find((s) => s.id === clients[5].id);
    assert(c5 && c5.data.name === "c5", JSON.stringify(c5));
    // On another server than the one asking: its rooms and handshake came through Redis.
    assert(c5.rooms.includes("room") && c5.rooms.includes(c5.id), JSON.stringify(c5.rooms));
    assert(c5.handshake.auth.name === "c5", JSON.stringify(c5.handshake));
    assert(typeof c5.handshake.headers === "object" && c5.handshake.headers.host, JSON.stringify(c5.handshake));
  });
  await check("broadcast-acks-across-servers-and-timeout", async () => {
    clients.forEach((c, i) => c.on("poll", (q, cb) => { if (i !== 4) cb(`${i}`); }));
    const answers = await clients[0].emitWithAck("rust-acks-all", 1500);
    assert(answers.count === clients.length - 1, JSON.stringify(answers));
    assert(answers.complete === false, "client 4 never answers");
  });
  await check("remote-join-and-all-rooms", async () => {
    await clients[1].emitWithAck("join-other", clients[2].id, "special");
    const deadline = Date.now() + LIMIT;
    let rooms = [];
    while (Date.now() < deadline) {
      rooms = await clients[0].emitWithAck("rust-rooms");
      if (rooms.includes("special")) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert(rooms.includes("special") && rooms.includes("room"), JSON.stringify(rooms.slice(0, 5)));
  });
  await check("server-side-emit-with-ack-across-servers", async () => {
    const answers = await clients[0].emitWithAck("rust-sse", "x");
    assert(answers.length === servers.length - 1, JSON.stringify(answers));
  });
  // Client 2 (on the third server) leaves "special" at the request of client 1 (on the
  // second): the room is gone from every server's list.
  await check("remote-leave", async () => {
    await clients[1].timeout(LIMIT).emitWithAck("leave-other", clients[2].id, "special");
    const deadline = Date.now() + LIMIT;
    let rooms = ["special"];
    while (Date.now() < deadline) {
      rooms = await clients[0].emitWithAck("rust-rooms");
      if (!rooms.includes("special")) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert(!rooms.includes("special"), "special is still listed");
  });
  // Client 1 has client 2, on another server, disconnected.
  await check("remote-disconnect", async () => {
    const gone = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no disconnect")), LIMIT);
      clients[2].once("disconnect", (reason) => {
        clearTimeout(timer);
        resolve(reason);
      });
    });
    await clients[1].timeout(LIMIT).emitWithAck("disconnect-other", clients[2].id);
    const reason = await gone;
    assert(reason === "io server disconnect", reason);
  });
  clients.forEach((c) => c.close());
}

(async () => {
  if (mode === "mixed") await mixed(a, b);
  else if (mode === "cluster") await cluster(a, Number(b));
  else throw new Error(`unknown mode ${mode}`);
  process.exit(0);
})().catch((e) => {
  console.log(`fail script ${e && e.stack}`);
  process.exit(1);
});

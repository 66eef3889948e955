// The official Node.js socket.io server with the benchmark's handlers, the peer of
// examples/bench_server.rs (see its docs for what each event does). Default options, as a
// user would start it; 127.0.0.1, port from PORT (0, the default, picks a free one).
//
//   PORT=3000 node benches/node/bench-server.js
//   REDIS_URL=redis://127.0.0.1:6379 node benches/node/bench-server.js   # with @socket.io/redis-adapter
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

const port = Number(process.env.PORT || 0);
const httpServer = http.createServer();
const io = new Server(httpServer);

io.on("connection", (socket) => {
  socket.on("echo", (...args) => {
    socket.emit("echo", ...args);
  });
  socket.on("echo-ack", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });
  socket.on("join", (room) => {
    socket.join(room);
  });
  socket.on("broadcast", (msg) => {
    io.to(msg.room).emit("broadcast", msg.data);
  });
});

async function main() {
  if (process.env.REDIS_URL) {
    const { createAdapter } = require("@socket.io/redis-adapter");
    const { createClient } = require("redis");
    const pub = createClient({ url: process.env.REDIS_URL });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub));
  }
  httpServer.listen(port, "127.0.0.1", () => {
    const { port: bound } = httpServer.address();
    console.log(`node-socket.io listening on http://127.0.0.1:${bound}/socket.io/`);
  });
}

main();

// The official Node.js socket.io server with the benchmark's handlers, the peer of
// examples/bench_server.rs (see its docs for what each event does). Default options, as a
// user would start it; 127.0.0.1, port from PORT (0, the default, picks a free one).
//
//   PORT=3000 node benches/node/bench-server.js
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

httpServer.listen(port, "127.0.0.1", () => {
  const { port: bound } = httpServer.address();
  console.log(`node-socket.io listening on http://127.0.0.1:${bound}/socket.io/`);
});

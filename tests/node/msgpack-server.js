// Runs the official Node server and client with socket.io-msgpack-parser over loopback and
// prints every packet the server encodes, as the packet object and the frame written, for the
// Rust differential tests (socketio-parser/tests/parser/msgpack_diff.rs): the frames our
// transcoder writes for the same packets must be the same bytes.
//
// Usage: node msgpack-server.js
// Output: [{ "packet": {type, nsp, id?, data?}, "frame": hex }] with binary as {"$bin": hex}.
"use strict";

const http = require("http");
const { Server } = require("socket.io");
const { io: connect } = require("socket.io-client");
const msgpackParser = require("socket.io-msgpack-parser");

const recorded = [];

function fromWire(value) {
  if (Buffer.isBuffer(value)) return { $bin: value.toString("hex") };
  if (Array.isArray(value)) return value.map(fromWire);
  if (value && typeof value === "object") {
    const out = {};
    for (const k of Object.keys(value)) {
      if (value[k] !== undefined) out[k] = fromWire(value[k]);
    }
    return out;
  }
  return value;
}

class RecordingEncoder extends msgpackParser.Encoder {
  encode(packet) {
    const frames = super.encode(packet);
    const desc = { type: packet.type, nsp: packet.nsp };
    if (packet.id !== undefined) desc.id = packet.id;
    if (packet.data !== undefined) desc.data = fromWire(packet.data);
    recorded.push({ packet: desc, frame: Buffer.from(frames[0]).toString("hex") });
    return frames;
  }
}

const parser = { protocol: 5, Encoder: RecordingEncoder, Decoder: msgpackParser.Decoder };

const timer = setTimeout(() => {
  process.stderr.write("timed out\n");
  process.exit(1);
}, 10000);

const httpServer = http.createServer();
const io = new Server(httpServer, { parser });

io.on("connection", (socket) => {
  socket.join("room");
  socket.on("ask", (n, ack) => ack("ok", { n, list: [1, 2.5, -3, null, true] }, Buffer.from([1, 2, 3])));
  socket.on("go", () => {
    socket.emit("hello", 1, "two", { a: [1.5, true, null], big: 4294967296 }, Buffer.from([4, 5]));
    io.to("room").emit("news", "é😀", [Buffer.alloc(300, 7)]);
    socket.emit("question", 42, () => {
      socket.emit("done");
    });
  });
});
io.of("/chat").on("connection", (socket) => socket.disconnect());
io.of("/admin").use((socket, next) => {
  const err = new Error("not allowed");
  err.data = { code: 42 };
  next(err);
});

httpServer.listen(0, "127.0.0.1", () => {
  const url = `http://127.0.0.1:${httpServer.address().port}`;
  const opts = { parser: msgpackParser, transports: ["websocket"], reconnection: false };
  const client = connect(url, opts);
  client.on("question", (n, ack) => ack(n + 1));
  client.on("connect", () => {
    client.emit("ask", 7, () => client.emit("go"));
  });
  client.on("done", () => {
    const refused = connect(`${url}/nope`, opts);
    refused.on("connect_error", () => {
      const admin = connect(`${url}/admin`, opts);
      admin.on("connect_error", () => {
        const chat = connect(`${url}/chat`, opts);
        chat.on("disconnect", () => {
          for (const s of [refused, admin, chat, client]) s.close();
          io.close();
          clearTimeout(timer);
          process.stdout.write(JSON.stringify(recorded));
        });
      });
    });
  });
});

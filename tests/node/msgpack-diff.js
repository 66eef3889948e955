// Runs the official socket.io-msgpack-parser over a shared corpus and prints what it does, as
// JSON, for the Rust differential tests (socketio-parser/tests/parser/msgpack_diff.rs).
//
// Usage: node msgpack-diff.js <corpus.json>
//
// Corpus: { "decode": [{ "frame": hex }],
//           "encode": [{ "packet": {type, nsp, id?, data?}, "ours": hex }] }
// Binary values are written {"$bin": hex} on both sides.
//
// Output: { "decode": [{ "outcome": "ok" | "error", "error"?: message, "packet"?: {...} }],
//           "encode": [{ "frame": hex, "ours": <our frame decoded> | {"error": message} }] }
//
// A decoded packet is written as JSON.stringify would see it (Dates as ISO strings, undefined
// left out of objects and null in arrays, NaN and infinities null), with binary as {"$bin"}.
// An encoded packet is the object the Node server builds for it: {id, type, data, nsp} for
// an ack, {type, nsp, data} for the refusal of an unknown namespace, {type, data, id?, nsp}
// otherwise (socket.io 4.8: socket.ack, client.js, socket.emit and socket.packet).
"use strict";

const fs = require("fs");
const { Encoder, Decoder } = require("socket.io-msgpack-parser");

function toWire(value) {
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$bin") return Buffer.from(value.$bin, "hex");
    const out = {};
    for (const k of keys) out[k] = toWire(value[k]);
    return out;
  }
  return value;
}

function fromWire(value) {
  if (value instanceof ArrayBuffer) return { $bin: Buffer.from(value).toString("hex") };
  if (ArrayBuffer.isView(value)) {
    return { $bin: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex") };
  }
  if (value instanceof Date) return value.toJSON();
  if (typeof value === "number" && !Number.isFinite(value)) return null;
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : fromWire(v)));
  if (value && typeof value === "object") {
    const out = {};
    for (const k of Object.keys(value)) {
      if (value[k] !== undefined) out[k] = fromWire(value[k]);
    }
    return out;
  }
  return value;
}

function packetOut(p) {
  const out = { type: p.type, nsp: p.nsp };
  if (p.id !== undefined) out.id = p.id;
  if (p.data !== undefined) out.data = fromWire(p.data);
  return out;
}

function decode(hex) {
  const decoder = new Decoder();
  let packet = null;
  decoder.on("decoded", (p) => {
    packet = packetOut(p);
  });
  try {
    decoder.add(Buffer.from(hex, "hex"));
  } catch (e) {
    return { outcome: "error", error: String(e && e.message) };
  }
  return { outcome: "ok", packet };
}

function serverObject(desc) {
  const data = desc.data === undefined ? undefined : toWire(desc.data);
  if (desc.type === 3) {
    const p = {};
    if (desc.id !== undefined) p.id = desc.id;
    Object.assign(p, { type: 3, data });
    p.nsp = desc.nsp;
    return p;
  }
  if (desc.type === 4 && JSON.stringify(desc.data) === '{"message":"Invalid namespace"}') {
    return { type: 4, nsp: desc.nsp, data };
  }
  const p = { type: desc.type };
  if (data !== undefined) p.data = data;
  if (desc.id !== undefined) p.id = desc.id;
  p.nsp = desc.nsp;
  return p;
}

function encode(c) {
  const [frame] = new Encoder().encode(serverObject(c.packet));
  const out = { frame: Buffer.from(frame).toString("hex") };
  if (c.ours !== undefined) {
    const theirs = decode(c.ours);
    out.ours = theirs.outcome === "ok" ? theirs.packet : { error: theirs.error };
  }
  return out;
}

const corpus = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const result = {
  decode: corpus.decode.map((c) => decode(c.frame)),
  encode: corpus.encode.map(encode),
};
process.stdout.write(JSON.stringify(result));

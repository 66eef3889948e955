// Runs the official socket.io-parser over a shared corpus and prints what it does, as JSON,
// for the Rust differential tests (socketio-parser/tests/parser/differential.rs).
//
// Usage: node parser-diff.js <corpus.json>
//
// Corpus: { "decode": [{ "frames": [text | {"bin": hex}], ... }],
//           "encode": [{ "packet": {type, nsp, id?, data?} }] }
// Binary values are written {"$bin": hex} on both sides.
//
// Output: { "decode": [{ "outcome": "ok" | "pending" | "error", "error"?: message,
//                        "packets": [...] }],
//           "encode": [{ "text": string, "attachments": [hex] } | { "error": message }] }
"use strict";

const fs = require("fs");
const { Encoder, Decoder } = require("socket.io-parser");

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
  if (Buffer.isBuffer(value) || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    return { $bin: Buffer.from(value).toString("hex") };
  }
  if (Array.isArray(value)) return value.map(fromWire);
  if (value && typeof value === "object") {
    const out = {};
    for (const k of Object.keys(value)) out[k] = fromWire(value[k]);
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

function decodeCase(c) {
  const decoder = new Decoder();
  const packets = [];
  decoder.on("decoded", (p) => packets.push(packetOut(p)));
  let pending = false;
  for (const frame of c.frames) {
    try {
      if (typeof frame === "string") {
        decoder.add(frame);
      } else {
        decoder.add(Buffer.from(frame.bin, "hex"));
      }
    } catch (e) {
      return { outcome: "error", error: String(e && e.message), packets };
    }
    pending = Boolean(decoder.reconstructor);
  }
  return { outcome: pending ? "pending" : "ok", packets };
}

function encodeCase(c) {
  const packet = Object.assign({}, c.packet);
  if (packet.data !== undefined) packet.data = toWire(packet.data);
  try {
    const [text, ...buffers] = new Encoder().encode(packet);
    return { text, attachments: buffers.map((b) => Buffer.from(b).toString("hex")) };
  } catch (e) {
    return { error: String(e && e.message) };
  }
}

const corpus = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const result = {
  decode: corpus.decode.map(decodeCase),
  encode: corpus.encode.map(encodeCase),
};
process.stdout.write(JSON.stringify(result));

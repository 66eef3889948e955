// The Node.js half of scripts/bench-parser.sh: the same cases and operations as
// benches/src/bin/parser_bench.rs, on the official socket.io-parser and
// socket.io-msgpack-parser. Prints JSON:
// { rows: [{case, op, ns}], encoded: {case: text}, msgpack: {case: hex} }. `--quick` shortens
// every run; `--cpu` times by thread CPU time.
"use strict";

const fs = require("fs");
const { Encoder, Decoder, PacketType } = require("socket.io-parser");
const msgpackParser = require("socket.io-msgpack-parser");

const quick = process.argv.includes("--quick");
const plan = quick
  ? { warmupMs: 20, runMs: 10, runs: 3 }
  : { warmupMs: 300, runMs: 100, runs: 9 };

// `--cpu`: runs are timed by this thread's CPU time (Linux), as parser_bench --cpu does.
const cpu = process.argv.includes("--cpu");
function threadCpuNs() {
  return Number(fs.readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]);
}

function now() {
  return Number(process.hrtime.bigint());
}

// Same loop as benches/src/lib.rs `measure`: warm up, size a run, median of several runs.
let sink = 0;
function measure(op) {
  const start = now();
  let calls = 0;
  while (now() - start < plan.warmupMs * 1e6) {
    for (let i = 0; i < 64; i++) sink ^= op() ? 1 : 0;
    calls += 64;
  }
  const perCall = (plan.warmupMs * 1e6) / Math.max(calls, 1);
  const iterations = Math.max(1, Math.floor((plan.runMs * 1e6) / perCall));
  const samples = [];
  for (let r = 0; r < plan.runs; r++) {
    const t0 = cpu ? threadCpuNs() : now();
    for (let i = 0; i < iterations; i++) sink ^= op() ? 1 : 0;
    samples.push(((cpu ? threadCpuNs() : now()) - t0) / iterations);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

// The same items as `items()` in parser_bench.rs.
function items() {
  const out = [];
  for (let i = 0; i < 130; i++) {
    out.push({ id: i, name: `item-${i}`, tags: ["alpha", "beta"], score: i * 1.5, active: i % 2 === 0 });
  }
  return out;
}

const cases = {
  small: ["chat", { room: "r1", text: "hi" }],
  json10k: ["data", items()],
  binary: ["upload", Buffer.alloc(1024, 1), Buffer.alloc(1024, 2)],
};

const encoder = new Encoder();
const decoder = new Decoder();
let last = null;
decoder.on("decoded", (p) => {
  last = p;
});

const rows = [];
const encoded = {};
for (const [name, data] of Object.entries(cases)) {
  const frames = encoder.encode({ type: PacketType.EVENT, nsp: "/", data });
  encoded[name] = frames[0];
  const decodeNs = measure(() => {
    for (const f of frames) decoder.add(f);
    return last;
  });
  rows.push({ case: name, op: "decode", ns: decodeNs });
  // JSON.parse already built the arguments: decode is all a handler needs, dynamic or not.
  rows.push({ case: name, op: "decode+args", ns: decodeNs });
  rows.push({ case: name, op: "decode+typed", ns: decodeNs });
  rows.push({
    case: name,
    op: "encode",
    ns: measure(() => encoder.encode({ type: PacketType.EVENT, nsp: "/", data })),
  });
}

// The same cases through the MessagePack parser: one binary frame per packet.
const mpEncoder = new msgpackParser.Encoder();
const mpDecoder = new msgpackParser.Decoder();
mpDecoder.on("decoded", (p) => {
  last = p;
});
const msgpack = {};
for (const [name, data] of Object.entries(cases)) {
  const [frame] = mpEncoder.encode({ type: PacketType.EVENT, data, nsp: "/" });
  msgpack[name] = Buffer.from(frame).toString("hex");
  const decodeNs = measure(() => {
    mpDecoder.add(frame);
    return last;
  });
  rows.push({ case: name, op: "msgpack decode", ns: decodeNs });
  rows.push({ case: name, op: "msgpack decode+args", ns: decodeNs });
  rows.push({ case: name, op: "msgpack decode+typed", ns: decodeNs });
  rows.push({
    case: name,
    op: "msgpack encode",
    ns: measure(() => mpEncoder.encode({ type: PacketType.EVENT, data, nsp: "/" })),
  });
}

process.stdout.write(JSON.stringify({ rows, encoded, msgpack, sink }));

// Message order with the official `socket.io-client` 4.x against the Socket.IO server
// under test (tests/integration/order.rs builds it). Two clients join one room; the first
// asks the server to emit `count` numbered messages from a task of its own, alternating
// broadcasts to the room, emits to the asking socket alone, and every so often one with a
// binary attachment. Meanwhile each client answers every 25th message with a `tick` that the
// server answers with `tock` from its own handler, so that messages written while the
// connection is idle and messages written by a busy connection mix on the same stream.
//
//   node order-client.js <url> <count> [websocket|polling]
//
// Prints `ok order <details>` once both clients got every message meant for them, each
// exactly once and in the order the server emitted them; otherwise `FAIL order: <why>`
// and exits 1. Every wait is bounded.

"use strict";

const { io } = require("socket.io-client");

const [url, countArg, transport = "websocket"] = process.argv.slice(2);
const COUNT = Number(countArg);
const LIMIT_MS = 60000;

function fail(why) {
  console.log(`FAIL order: ${why}`);
  process.exit(1);
}

function client(name, expected) {
  const socket = io(url, { transports: [transport], reconnection: false, forceNew: true });
  const state = { name, socket, next: 0, got: 0, ticks: 0, tocks: 0, expected };
  const take = (n, attachment) => {
    // Each message carries its number; a client sees the numbers meant for it, in order.
    while (state.next < COUNT && !expected(state.next)) state.next += 1;
    if (n !== state.next) fail(`${name} got ${n} where ${state.next} was next`);
    if (n % 97 === 0) {
      if (!(attachment instanceof ArrayBuffer || ArrayBuffer.isView(attachment))) {
        fail(`${name}: message ${n} came without its attachment`);
      }
      const bytes =
        attachment instanceof ArrayBuffer
          ? new Uint8Array(attachment)
          : new Uint8Array(attachment.buffer, attachment.byteOffset, attachment.byteLength);
      if (bytes.length !== 300 || bytes[0] !== n % 256) fail(`${name}: attachment ${n} is wrong`);
    }
    state.next += 1;
    state.got += 1;
    if (state.got % 25 === 0) {
      state.ticks += 1;
      socket.emit("tick", state.got);
    }
  };
  socket.on("n", take);
  socket.on("tock", () => {
    state.tocks += 1;
  });
  socket.on("connect_error", (e) => fail(`${name} could not connect: ${e.message}`));
  socket.on("disconnect", (reason) => {
    if (!state.done) fail(`${name} disconnected: ${reason}`);
  });
  return state;
}

function joined(state) {
  return new Promise((resolve) => state.socket.emit("join", resolve));
}

async function main() {
  const timer = setTimeout(() => fail("not done in time"), LIMIT_MS);
  // The asker gets everything; the other member only the broadcasts (even numbers).
  const asker = client("asker", () => true);
  const member = client("member", (n) => n % 2 === 0);
  await Promise.all([joined(asker), joined(member)]);
  asker.socket.emit("go", COUNT);
  const last = (state) => {
    let n = COUNT - 1;
    while (!state.expected(n)) n -= 1;
    return n;
  };
  await new Promise((resolve) => {
    const check = setInterval(() => {
      if (asker.next > last(asker) && member.next > last(member)) {
        clearInterval(check);
        resolve();
      }
    }, 5);
  });
  // Every tick is answered by a tock, after everything before it.
  await new Promise((resolve) => {
    const check = setInterval(() => {
      if (asker.tocks === asker.ticks && member.tocks === member.ticks) {
        clearInterval(check);
        resolve();
      }
    }, 5);
  });
  clearTimeout(timer);
  for (const state of [asker, member]) {
    state.done = true;
    state.socket.close();
  }
  console.log(
    `ok order asker got ${asker.got}, member got ${member.got}, ticks ${asker.ticks + member.ticks}`,
  );
}

main().catch((e) => fail(e.stack || String(e)));

// Official `socket.io-client` connections that the metrics test drives one step at a
// time (tests/integration/metrics.rs): a command per line on standard input, and on
// standard output a line when it is done and a line for each thing the server does to
// a client, so that the test checks the server's counts only once they must have moved.
//
//   node metrics-client.js <base-url>
//
// Commands (MANAGER names one Engine.IO connection, SOCKET one namespace on it):
//   manager MANAGER polling|websocket|upgrade
//       -> `ok manager MANAGER` (the connection opens with its first socket)
//   connect SOCKET MANAGER NAMESPACE [TOKEN]
//       -> `ok connect SOCKET <id>`, or `refused connect SOCKET <message>`
//   emit SOCKET EVENT ARG      an emit with an acknowledgement
//       -> `ok emit SOCKET <the acknowledgement's arguments as JSON>`
//   answer SOCKET              answers the server's last held `ask`
//       -> `ok answer SOCKET`
//   upgraded MANAGER           waits for the upgrade to WebSocket, then an emit with an
//                              acknowledgement over it (so the server has taken both)
//       -> `ok upgraded MANAGER`
//   leave SOCKET               the socket leaves its namespace (`socket.disconnect()`)
//       -> `ok leave SOCKET`
//   close MANAGER              closes the Engine.IO connection from the client
//       -> `ok close MANAGER`
// Unasked lines:
//   asked SOCKET <arg>         the server emitted `ask` with an acknowledgement; held
//   disconnect SOCKET <reason> the socket was disconnected
// A command that fails prints `error <command> <name>: <why>`; every wait is bounded.

"use strict";

const readline = require("readline");
const { Manager } = require("socket.io-client");

const baseUrl = process.argv[2];
const STEP_MS = 10000;
const TRANSPORTS = {
  polling: ["polling"],
  websocket: ["websocket"],
  upgrade: ["polling", "websocket"],
};

const managers = new Map();
const sockets = new Map();
const held = new Map();

function say(line) {
  process.stdout.write(`${line}\n`);
}

function within(promise, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), STEP_MS);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function find(map, name, what) {
  const found = map.get(name);
  if (!found) throw new Error(`no ${what} ${name}`);
  return found;
}

const commands = {
  async manager(name, transport) {
    const transports = TRANSPORTS[transport];
    if (!transports) throw new Error(`unknown transport ${transport}`);
    // The server names each socket by this tag and its namespace.
    const query = { tag: name };
    managers.set(name, new Manager(baseUrl, { transports, query, reconnection: false, autoConnect: false }));
    say(`ok manager ${name}`);
  },

  async connect(name, managerName, namespace, token) {
    const manager = find(managers, managerName, "manager");
    const socket = manager.socket(namespace, token ? { auth: { token } } : {});
    socket.on("ask", (arg, ack) => {
      held.set(name, ack);
      say(`asked ${name} ${JSON.stringify(arg)}`);
    });
    socket.on("disconnect", (reason) => say(`disconnect ${name} ${reason}`));
    sockets.set(name, socket);
    const outcome = within(
      new Promise((resolve) => {
        socket.once("connect", () => resolve(`ok connect ${name} ${socket.id}`));
        socket.once("connect_error", (e) => resolve(`refused connect ${name} ${e.message}`));
      }),
      `${name} to connect`,
    );
    socket.connect();
    say(await outcome);
  },

  async emit(name, event, arg) {
    const socket = find(sockets, name, "socket");
    const answer = await within(socket.timeout(STEP_MS).emitWithAck(event, arg), `the ack of ${event}`);
    say(`ok emit ${name} ${JSON.stringify(answer)}`);
  },

  async answer(name) {
    const ack = find(held, name, "held ask");
    held.delete(name);
    ack("answered");
    say(`ok answer ${name}`);
  },

  async upgraded(name) {
    const manager = find(managers, name, "manager");
    const engine = manager.engine;
    if (!engine) throw new Error(`${name} is not connected`);
    if (engine.transport.name !== "websocket") {
      await within(new Promise((resolve) => engine.once("upgrade", resolve)), `${name} to upgrade`);
    }
    const socket = [...sockets.values()].find((s) => s.io === manager && s.connected);
    if (!socket) throw new Error(`no connected socket on ${name}`);
    await within(socket.timeout(STEP_MS).emitWithAck("echo", "upgraded"), "an ack over the WebSocket");
    say(`ok upgraded ${name}`);
  },

  async leave(name) {
    find(sockets, name, "socket").disconnect();
    say(`ok leave ${name}`);
  },

  async close(name) {
    const manager = find(managers, name, "manager");
    manager.engine.close();
    say(`ok close ${name}`);
  },
};

// Commands run one after the other, in the order they came.
let queue = Promise.resolve();
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const [command, name, ...args] = line.trim().split(" ");
  if (!command) return;
  queue = queue.then(async () => {
    try {
      const run = commands[command];
      if (!run) throw new Error("unknown command");
      await run(name, ...args);
    } catch (e) {
      say(`error ${command} ${name}: ${e.message}`);
    }
  });
});

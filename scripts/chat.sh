#!/usr/bin/env bash
# The chat demo in one command: installs the official browser client that the
# page loads (npm, from examples/chat/package-lock.json) when it is missing or
# older than the lockfile, then runs examples/chat.rs on http://127.0.0.1:3000/
# (PORT=8080 ./scripts/chat.sh for another port).
set -euo pipefail
cd "$(dirname "$0")/.."

installed=examples/chat/node_modules/.package-lock.json
if [ ! -f "$installed" ] || [ examples/chat/package-lock.json -nt "$installed" ]; then
  if ! command -v npm >/dev/null; then
    echo "chat: npm (Node.js) is needed once, to install the browser client socket.io-client" >&2
    exit 1
  fi
  echo "chat: installing the browser client (npm ci --prefix examples/chat)"
  npm ci --prefix examples/chat --no-audit --no-fund --loglevel=error
fi
exec cargo run --example chat

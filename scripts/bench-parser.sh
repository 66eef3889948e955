#!/usr/bin/env bash
# Benchmarks socketio-parser beside the official npm socket.io-parser and prints one table:
# case, op, Rust ns/op, Node ns/op, ratio. Builds in release and installs the npm package
# from benches/node/package-lock.json by itself. `--quick` shortens every run (a smoke test).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=()
if [ "${1:-}" = "--quick" ]; then quick=(--quick); fi

cargo build --release --quiet -p benches --bin parser_bench
npm ci --prefix benches/node --no-audit --no-fund --loglevel=error >/dev/null
mkdir -p target
node benches/node/parser-bench.js "${quick[@]}" > target/parser-bench-node.json
./target/release/parser_bench --node target/parser-bench-node.json "${quick[@]}"

#!/usr/bin/env bash
# Benchmarks socketio-parser beside the official npm socket.io-parser (and its MessagePack
# transcoder beside socket.io-msgpack-parser) and prints one table:
# case, op, Rust ns/op, Node ns/op, ratio. Builds in release and installs the npm package
# from benches/node/package-lock.json by itself. `--quick` shortens every run (a smoke test);
# `--cpu` times runs by the measuring thread's CPU time, for a machine busy with other work.
set -euo pipefail
cd "$(dirname "$0")/.."

flags=()
for arg in "$@"; do
  case "$arg" in
    --quick | --cpu) flags+=("$arg") ;;
    *) echo "usage: $0 [--quick] [--cpu]" >&2; exit 2 ;;
  esac
done

cargo build --release --quiet -p benches --bin parser_bench
npm ci --prefix benches/node --no-audit --no-fund --loglevel=error >/dev/null
mkdir -p target
node benches/node/parser-bench.js "${flags[@]}" > target/parser-bench-node.json
./target/release/parser_bench --node target/parser-bench-node.json "${flags[@]}"

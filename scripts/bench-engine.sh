#!/usr/bin/env bash
# Throughput of the Engine.IO state machine alone (no I/O): handshakes per
# second, polling payload decode and encode, WebSocket messages. One core.
# BENCH_MS sets the time spent per case (default 1500).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p benches --bin engine_bench
exec "${CARGO_TARGET_DIR:-target}/release/engine_bench"

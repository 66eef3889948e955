#!/usr/bin/env bash
# Soaks beside the benchmarks (not part of the test command): examples/bench_server.rs under
# hours-of-traffic-in-minutes loads from target/release/sio_bench (see
# benches/src/bin/sio_bench/soak.rs), checking that the server gives back what it took.
#
#   ./scripts/soak.sh                 # both soaks, full size (about 6 minutes)
#   ./scripts/soak.sh churn           # 3 x 100,000 cycles of connect, join, emit, abandon
#   ./scripts/soak.sh slow            # a room at 10,000 broadcasts a second, one member not reading
#   ./scripts/soak.sh churn --cycles 20000 --rate 1000
#
# churn: 2,000 cycles a second; half close TCP without a close packet (WebSocket), half stop
# polling (the server finds out at its ping timeout; the server runs with a 5 s + 5 s
# heartbeat here, so about 10,000 sessions are open at a time). A 50 s warm-up at the same
# rate (100,000 cycles), then three rounds of 100,000 cycles; after each, the session count (the server's
# GET /metrics) must drain to zero, and resident memory must stop growing: the last round
# ends within 5% of the first. slow: the others' p99 latency must stay within 2x of the run without
# the member that does not read, and the server's memory within max_buffered for it.
#
# Each soak runs against a freshly started server, stopped by its process id at the end, also
# when the script fails or is interrupted. Prints one JSON line per soak, also appended to
# target/soak/results-<time>.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."

which="all"
case "${1:-}" in
  churn | slow | all) which="$1"; shift ;;
  "") ;;
  -*) ;;
  *) echo "usage: $0 [churn|slow|all] [sio_bench soak options]" >&2; exit 2 ;;
esac

cargo build --release --quiet -p server-adapter --example bench_server
cargo build --release --quiet -p benches --bin sio_bench
# Thousands of sessions may be open at once (those abandoned over polling live until the
# ping timeout): one descriptor each in the server and in the load generator.
ulimit -n "$(ulimit -Hn)"

out_dir=target/soak
mkdir -p "$out_dir"
stamp="$(date -u +%Y-%m-%dT%H-%M-%SZ)"
results="$out_dir/results-$stamp.jsonl"
log="$out_dir/server-$stamp.log"

# shellcheck source=scripts/processes.sh
. scripts/processes.sh
server_pid=""
stop_server() {
  stop_pid "$server_pid"
  server_pid=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

url=""
# The churn soak shortens the heartbeat to 5 s + 5 s, so that a session abandoned over
# long-polling times out after 10 s instead of 45 s; the code path is the same.
start_server() {
  : >"$log"
  PING_INTERVAL_MS="${ping_ms:-25000}" PING_TIMEOUT_MS="${ping_timeout_ms:-20000}" \
    PORT=0 target/release/examples/bench_server >"$log" 2>&1 &
  server_pid=$!
  url=""
  for _ in $(seq 200); do
    url="$(grep -o -m1 'http://127\.0\.0\.1:[0-9]*' "$log" || true)"
    [ -n "$url" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "bench_server did not start:" >&2
  cat "$log" >&2
  exit 1
}

status=0
for soak in churn slow; do
  [ "$which" = all ] || [ "$which" = "$soak" ] || continue
  printf '\n==> soak %s\n' "$soak" >&2
  if [ "$soak" = churn ]; then ping_ms=5000 ping_timeout_ms=5000; else ping_ms="" ping_timeout_ms=""; fi
  start_server
  if target/release/sio_bench "soak-$soak" --url "$url" --pid "$server_pid" "$@" | tee -a "$results"; then
    :
  else
    status=1
  fi
  stop_server
done
echo "results: $results" >&2
exit "$status"

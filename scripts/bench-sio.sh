#!/usr/bin/env bash
# Side-by-side Socket.IO benchmark: examples/bench_server.rs against the official Node
# socket.io server (benches/node/bench-server.js) and a socketioxide server
# (benches/peers/socketioxide-server/), under the same load from target/release/sio_bench;
# and the same bench_server served by axum (STACK=axum), "ours-axum", against ours; the
# floor server of ../shared/floor-server/ ("floor", WebSocket scenarios only) when it is
# there; and
# with connection state recovery on (RECOVERY=1), "ours-recovery" (not in the default list:
# `--scenario ack,fanout,idle --server ours,ours-recovery` measures what recovery costs).
#
#   ./scripts/bench-sio.sh            # the default scenarios, full length (about 5 minutes)
#   ./scripts/bench-sio.sh --short    # the default scenarios, short runs (under 2 minutes)
#   ./scripts/bench-sio.sh --scenario ack,fanout --server ours,node
#   ./scripts/bench-sio.sh --scenario fanout-redis --server ours,node
#   ./scripts/bench-sio.sh --scenario scaling --server ours,floor
#   ./scripts/bench-sio.sh --rounds 3 --scenario default,scaling   # the README's table
#
# --rounds N runs every scenario N times in turn (each round all servers, one after the
# other, so that a noisy minute of the shared machine touches every server alike); the table
# shows each figure's median over the rounds.
#
# --scenario takes scenario names and two groups: `default` (ack, fanout, binary, polling,
# idle, connect) and `scaling` (ack, ack-1k, ack-10k, fanout, fanout-10k, fanout-rooms,
# connect, connect-20k: the scaling scenarios with the base scenario each is compared with,
# since the table compares a server with itself in the same results). The scaling scenarios
# hold 10,000 to 20,000 connections and are not in the default list: `scaling` takes about
# 8 minutes with the five servers, 3 with --short (which keeps their connection counts and
# shortens only the warm-up and the measured window). `--scenario default,scaling` runs both.
#
# fanout-redis (not in the default list) starts a redis-server of its own on a free loopback
# port (no persistence) and two servers of one cluster on it, ours with the Redis adapter
# (REDIS_URL) or Node's with @socket.io/redis-adapter; the room's 1,000 members are split
# between them and CPU is the two servers' together. socketioxide is not run in it.
#
# Builds everything in release and installs the npm packages from the committed lockfile by
# itself. Each scenario runs against a freshly started server process (so that its peak
# memory is the scenario's own), one server at a time; every server it starts is stopped by
# its process id, also when the script fails or is interrupted. Prints one JSON line per
# run, a table after each scenario, and the whole table at the end (also written next to
# the JSON lines under target/bench-sio/).
set -euo pipefail
cd "$(dirname "$0")/.."

short=()
scenarios="default"
servers=""
threads=1
rounds=1
while [ $# -gt 0 ]; do
  case "$1" in
    --short) short=(--short) ;;
    --scenario) scenarios="$2"; shift ;;
    --server) servers="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    *) echo "usage: $0 [--short] [--scenario a,b|default|scaling] [--server ours,node,socketioxide,ours-axum,ours-recovery,floor] [--threads N] [--rounds N]" >&2; exit 2 ;;
  esac
  shift
done

# The groups, expanded in place; a scenario named twice runs once, where first named.
expanded=""
IFS=, read -r -a requested <<<"$scenarios"
for name in "${requested[@]}"; do
  case "$name" in
    default) name="ack,fanout,binary,polling,idle,connect" ;;
    scaling) name="ack,ack-1k,ack-10k,fanout,fanout-10k,fanout-rooms,connect,connect-20k" ;;
    ack | ack-1k | ack-10k | fanout | fanout-10k | fanout-rooms | binary | polling | idle | \
      connect | connect-20k | fanout-redis) ;;
    *) echo "unknown scenario $name" >&2; exit 2 ;;
  esac
  IFS=, read -r -a names <<<"$name"
  for one in "${names[@]}"; do
    [[ ",$expanded," == *",$one,"* ]] || expanded="${expanded:+$expanded,}$one"
  done
done
scenarios="$expanded"

step() { printf '\n==> %s\n' "$*" >&2; }

step "building the servers and the load generator (release)"
cargo build --release --quiet -p server-adapter --example bench_server
cargo build --release --quiet -p benches --bin sio_bench
# The floor server (the least a tokio Socket.IO server spends on the WebSocket scenarios) is
# measured when its sources sit beside the repository, in ../shared/floor-server/; it serves
# no long-polling session, so it runs in the WebSocket scenarios only.
floor_dir="$(cd .. && pwd)/shared/floor-server"
if [ -z "$servers" ]; then
  servers="ours,node,socketioxide,ours-axum"
  [ -f "$floor_dir/Cargo.toml" ] && servers="$servers,floor"
fi
if [[ ",$servers," == *",floor,"* ]]; then
  [ -f "$floor_dir/Cargo.toml" ] || { echo "no floor server at $floor_dir" >&2; exit 2; }
  cargo build --release --quiet --locked --manifest-path "$floor_dir/Cargo.toml" \
    --target-dir target/floor-server
fi
if [[ ",$servers," == *",socketioxide,"* ]]; then
  cargo build --release --quiet --locked \
    --manifest-path benches/peers/socketioxide-server/Cargo.toml --target-dir target/peers
fi
step "npm packages (from benches/node/package-lock.json)"
npm ci --prefix benches/node --no-audit --no-fund --loglevel=error >&2

# The idle scenario and the scaling ones hold thousands of connections: one descriptor each
# in the server and in the load generator. The soft limit goes up to the hard limit
# (raising the hard limit needs privileges this script does not ask for).
ulimit -n "$(ulimit -Hn)"

bench=target/release/sio_bench
out_dir=target/bench-sio
mkdir -p "$out_dir"
stamp="$(date -u +%Y-%m-%dT%H-%M-%SZ)"
results="$out_dir/results-$stamp.jsonl"
log="$out_dir/server-$stamp.log"

server_pid=""
server2_pid=""
redis_pid=""
# shellcheck source=scripts/processes.sh
. scripts/processes.sh
stop_server() {
  stop_pid "$server_pid"
  stop_pid "$server2_pid"
  stop_pid "$redis_pid"
  server_pid=""
  server2_pid=""
  redis_pid=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

# A free loopback port (bound and released at once).
free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

url=""
# Starts server $1 logging to $2; sets last_pid and last_url.
launch() {
  : >"$2"
  case "$1" in
    ours) PORT=0 target/release/examples/bench_server >"$2" 2>&1 & ;;
    ours-axum) STACK=axum PORT=0 target/release/examples/bench_server >"$2" 2>&1 & ;;
    ours-recovery) RECOVERY=1 PORT=0 target/release/examples/bench_server >"$2" 2>&1 & ;;
    node) PORT=0 node benches/node/bench-server.js >"$2" 2>&1 & ;;
    socketioxide) PORT=0 target/peers/release/socketioxide-bench-server >"$2" 2>&1 & ;;
    # It prints the port it was given, not the one bound: it is given a free one.
    floor) PORT="$(free_port)" target/floor-server/release/sio-bench-floor >"$2" 2>&1 & ;;
    *) echo "unknown server $1" >&2; exit 2 ;;
  esac
  last_pid=$!
  last_url=""
  for _ in $(seq 200); do
    # "http://127.0.0.1:PORT", or the floor server's "listening on 127.0.0.1:PORT".
    last_url="$(grep -o -m1 '127\.0\.0\.1:[0-9]*' "$2" || true)"
    [ -n "$last_url" ] && last_url="http://$last_url" && return 0
    kill -0 "$last_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "server $1 did not start:" >&2
  cat "$2" >&2
  exit 1
}
start_server() {
  launch "$1" "$log"
  server_pid=$last_pid
  url=$last_url
}
# Two servers of one cluster on a redis-server of their own: sets url, url2 and the pids.
start_cluster() {
  command -v redis-server >/dev/null || { echo "fanout-redis needs redis-server" >&2; exit 1; }
  local port
  port="$(free_port)"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >"$log.redis" 2>&1 &
  redis_pid=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
  done
  export REDIS_URL="redis://127.0.0.1:$port"
  launch "$1" "$log"
  server_pid=$last_pid
  url=$last_url
  launch "$1" "$log.2"
  server2_pid=$last_pid
  url2=$last_url
  unset REDIS_URL
}

# User plus system CPU ticks a process has used (fields 14 and 15 of /proc/PID/stat; the
# command name, field 2, may hold spaces, so fields are counted after its closing paren).
cpu_ticks() {
  sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}
# Redis' own CPU per delivery over the run just measured (its deliveries are the last
# result line's), printed beside the servers' figures.
redis_cpu_report() {
  local ticks hz
  ticks=$(( $(cpu_ticks "$redis_pid") - $2 ))
  hz="$(getconf CLK_TCK)"
  tail -n 1 "$results" | node -e '
    const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const [server, ticks, hz] = process.argv.slice(1).map((v, i) => (i ? Number(v) : v));
    const ms = (ticks / hz) * 1000;
    console.log(`redis-server for ${server}: ${ms.toFixed(0)} ms CPU, ` +
      `${(ms / (r.messages / 1000)).toFixed(3)} ms per 1k deliveries`);
  ' "$1" "$ticks" "$hz" | tee -a "$out_dir/redis-cpu-$stamp.txt" >&2
}

IFS=, read -r -a scenario_list <<<"$scenarios"
IFS=, read -r -a server_list <<<"$servers"
for scenario in "${scenario_list[@]}"; do
  for round in $(seq "$rounds"); do
    step "scenario $scenario, round $round of $rounds"
    for server in "${server_list[@]}"; do
      case "$scenario" in
        polling | fanout-redis) [ "$server" = floor ] && continue ;;
      esac
      if [ "$scenario" = fanout-redis ]; then
        [ "$server" = socketioxide ] && continue
        start_cluster "$server"
        redis_before="$(cpu_ticks "$redis_pid")"
        "$bench" run --scenario "$scenario" --server "$server" --url "$url" --pid "$server_pid" \
          --url2 "$url2" --pid2 "$server2_pid" --threads "$threads" --out "$results" "${short[@]}"
        redis_cpu_report "$server" "$redis_before"
      else
        start_server "$server"
        "$bench" run --scenario "$scenario" --server "$server" --url "$url" --pid "$server_pid" \
          --threads "$threads" --out "$results" "${short[@]}"
      fi
      stop_server
    done
  done
  echo
  "$bench" table "$results" --scenario "$scenario"
done

machine="$("$bench" machine)"
mode="full"
[ ${#short[@]} -gt 0 ] && mode="short"
{
  echo
  echo "## Socket.IO benchmark, $(date -u +%Y-%m-%d), $mode runs, median of $rounds round(s)"
  echo
  echo "Machine: $machine; $(uname -sr); node $(node --version)."
  echo
  "$bench" table "$results"
} | tee "$out_dir/table-$stamp.md"
echo >&2
echo "results: $results" >&2

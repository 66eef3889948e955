#!/usr/bin/env bash
# Runs every test of the workspace. This is the README's test command and what CI runs.
# It installs what the tests need (the npm packages from committed lockfiles, the Python
# client from a pinned requirements file into a venv under target/) by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "npm packages for the interop tests (from tests/node/package-lock.json)"
npm ci --prefix tests/node --no-audit --no-fund --loglevel=error
# The chat demo's browser client, as ./scripts/chat.sh installs it.
npm ci --prefix examples/chat --no-audit --no-fund --loglevel=error

step "python-socketio for the Python interop test (tests/python/requirements.txt, into target/pyenv)"
venv="${PYTHON_VENV:-target/pyenv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/python/requirements.txt
export PYTHON_VENV="$(cd "$venv" && pwd)"

step "Chromium for the browser test (Debian's chromium package)"
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
  echo "present: $chromium"
else
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  apt_log="$(mktemp)"
  if ! { $sudo apt-get update -qq &&
         $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$apt_log" 2>&1; then
    cat "$apt_log"
    echo "could not install chromium, which the browser test needs"
    exit 1
  fi
  rm -f "$apt_log"
  echo "installed: $(command -v chromium || echo 'nothing')"
fi

step "redis-server for the Redis adapter's tests (Debian's redis-server package)"
# The tests start their own redis-server on a free loopback port and stop it; the
# package's own service is not used.
if command -v redis-server >/dev/null 2>&1; then
  echo "present: $(command -v redis-server)"
else
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  apt_log="$(mktemp)"
  if ! { $sudo apt-get update -qq &&
         $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; } >"$apt_log" 2>&1; then
    cat "$apt_log"
    echo "could not install redis-server, which the Redis adapter's tests need"
    exit 1
  fi
  rm -f "$apt_log"
  echo "installed: $(command -v redis-server || echo 'nothing')"
fi

step "cargo test: unit, simulation, proptest, integration and interop tests"
# server-adapter's features: `tower` is on by default; the tests and examples also get
# `axum` and `tls` (off by default) through its dev-dependency on itself, so the axum,
# hyper and TLS tests run here without a flag.
# The Redis cluster test runs the cluster_node example as separate processes; cargo test
# builds examples only as test harnesses, so the binary is built here first.
cargo build -p socketio-redis --example cluster_node
cargo test --workspace --all-targets
cargo test --workspace --doc

step "API docs build with no broken or private links"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
# and with every feature of server-adapter (its `tls` module, the `axum` extension lookup)
RUSTDOCFLAGS="-D warnings" cargo doc -p server-adapter --all-features --no-deps --quiet

step "benchmarks build (timings are run by scripts/bench-*.sh, not here)"
cargo build --workspace --bins --examples
node --check benches/node/parser-bench.js
node --check benches/node/bench-server.js
bash -n scripts/bench-sio.sh
bash -n scripts/soak.sh
bash -n scripts/chat.sh
# The socketioxide peer server: its own workspace and lockfile, built where the bench
# script builds it (in debug here: only that it builds is checked).
cargo build --locked --manifest-path benches/peers/socketioxide-server/Cargo.toml \
  --target-dir target/peers

step "fuzz targets build on stable, and replay their committed seed corpora"
cargo build --manifest-path fuzz/Cargo.toml
for target in fuzz/fuzz_targets/*.rs; do
  name=$(basename "$target" .rs)
  if [ -d "fuzz/corpus/$name" ]; then
    "fuzz/target/debug/$name" -runs=0 "fuzz/corpus/$name" 2>&1 | tail -n 1
  fi
done
step "Autobahn|Testsuite cases 1-10 against examples/ws_echo.rs"
# The runner sets up its own Python 2.7 virtualenv on first use (about 30 s), then the cases
# take about 15 s. Set SKIP_AUTOBAHN=1 to leave it out of a quick local run.
autobahn="${AUTOBAHN_SH:-$(cd .. && pwd)/shared/tools/autobahn.sh}"
if [ "${SKIP_AUTOBAHN:-0}" = 1 ]; then
  echo "skipped (SKIP_AUTOBAHN=1)"
elif [ ! -x "$autobahn" ]; then
  echo "skipped: no Autobahn runner at $autobahn (set AUTOBAHN_SH to its path)"
else
  cargo build --example ws_echo
  echo_log="$(mktemp)"
  PORT=0 "${CARGO_TARGET_DIR:-target}/debug/examples/ws_echo" >"$echo_log" 2>&1 &
  echo_pid=$!
  trap 'kill "$echo_pid" 2>/dev/null || true' EXIT
  port=""
  for _ in $(seq 100); do
    port="$(sed -n 's#^ws_echo listening on ws://127\.0\.0\.1:\([0-9]*\)$#\1#p' "$echo_log")"
    [ -n "$port" ] && break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "ws_echo did not start:"; cat "$echo_log"; exit 1
  fi
  "$autobahn" -o test-artifacts/autobahn -c '1.*,2.*,3.*,4.*,5.*,6.*,7.*,8.*,9.*,10.*' "ws://127.0.0.1:$port"
  kill "$echo_pid"
  wait "$echo_pid" 2>/dev/null || true
  trap - EXIT
  rm -f "$echo_log"
fi

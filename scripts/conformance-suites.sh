#!/usr/bin/env bash
# Runs the official protocol test suites (Engine.IO v4 and Socket.IO v5, from the
# socketio/socket.io repository) against examples/conformance.rs, N times in a row, and
# prints "N passed, M failed" (a run passes when both suites pass).
#
# The suites are not part of this repository. Give them one of two ways:
#   SUITES_DIR=/path       a directory holding docs/engine.io-protocol/v4-test-suite and
#                          docs/socket.io-protocol/v5-test-suite (a checkout, or an extract);
#   SOCKETIO_GIT=/path     a git directory of socketio/socket.io (bare or not): the two
#                          folders are extracted from its HEAD with `git archive`.
# They are copied to target/conformance-suites/, where their dependencies are installed
# with `npm ci` from their own lockfiles (the npm registry is the only network use), and
# their server URL (http://localhost:3000 in the suites) is pointed at the server this
# script starts on 127.0.0.1 and a free port.
#
# Environment:
#   ITERATIONS=10          runs of both suites
#   LOAD=0                 1: two busy processes (`yes`, one per core of two) compete for
#                          the CPU with the server during the runs: both run at nice 10,
#                          so they share the CPU on equal terms, while the suites' client
#                          keeps its normal priority. The client must not be starved: two
#                          tests assume it does a step within 5 ms ("closes the session
#                          upon cancelled polling request" aborts a GET 5 ms after calling
#                          fetch, which opens a new connection for it; starved longer, it
#                          aborts before the request was written, no server can see it, and
#                          the official Node server fails that test as often).
#   CARGO_PROFILE=release  the profile the conformance server is built with
#   RUN_TIMEOUT=300        seconds one suite run may take before it counts as failed
#
# Logs of failed runs are kept in target/conformance-suites/logs/. Everything this script
# starts (the server, the load) is stopped by its PID when it exits.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
work="$root/target/conformance-suites"
iterations="${ITERATIONS:-10}"
load="${LOAD:-0}"
profile="${CARGO_PROFILE:-release}"
run_timeout="${RUN_TIMEOUT:-300}"
suites=(engine.io-protocol/v4-test-suite socket.io-protocol/v5-test-suite)

started=()
cleanup() {
    for pid in "${started[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${started[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT

# 1. The suites, copied under target/.
mkdir -p "$work"
source_dir="$work/source"
if [[ -n "${SUITES_DIR:-}" ]]; then
    rm -rf "$source_dir"
    mkdir -p "$source_dir/docs/engine.io-protocol" "$source_dir/docs/socket.io-protocol"
    for suite in "${suites[@]}"; do
        [[ -f "$SUITES_DIR/docs/$suite/test-suite.js" ]] || {
            echo "no docs/$suite/test-suite.js under SUITES_DIR=$SUITES_DIR" >&2
            exit 2
        }
        cp -R "$SUITES_DIR/docs/$suite" "$source_dir/docs/$suite"
        rm -rf "$source_dir/docs/$suite/node_modules"
    done
elif [[ -n "${SOCKETIO_GIT:-}" ]]; then
    rm -rf "$source_dir"
    mkdir -p "$source_dir"
    git --git-dir="$SOCKETIO_GIT" archive HEAD "${suites[@]/#/docs/}" | tar -x -C "$source_dir"
else
    echo "set SUITES_DIR (a directory with the suites' docs/ folders) or SOCKETIO_GIT" \
        "(a git directory of socketio/socket.io)" >&2
    exit 2
fi

# 2. Their dependencies, from their lockfiles, once per lockfile.
for suite in "${suites[@]}"; do
    dir="$work/$(basename "$(dirname "$suite")")"
    mkdir -p "$dir"
    cp "$source_dir/docs/$suite/package.json" "$source_dir/docs/$suite/package-lock.json" \
        "$source_dir/docs/$suite/test-suite.js" "$source_dir/docs/$suite/node-imports.js" "$dir/"
    if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.installed-lock" 2>/dev/null; then
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
        cp "$dir/package-lock.json" "$dir/node_modules/.installed-lock"
    fi
done

# 3. The conformance server, on a free port of 127.0.0.1.
cargo build --quiet --profile "$profile" -p server-adapter --example conformance
case "$profile" in
    dev) out_dir=debug ;;
    *) out_dir="$profile" ;;
esac
server_log="$work/server.log"
server_nice=0
[[ "$load" == 1 ]] && server_nice=10
PORT=0 nice -n "$server_nice" "$root/target/$out_dir/examples/conformance" >"$server_log" 2>&1 &
started+=($!)
server_pid=$!
port=""
for _ in $(seq 1 100); do
    port=$(sed -n 's|^conformance listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$server_log")
    [[ -n "$port" ]] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [[ -z "$port" ]]; then
    echo "the conformance server did not start:" >&2
    cat "$server_log" >&2
    exit 1
fi
echo "conformance server: pid $server_pid, http://127.0.0.1:$port"

# The suites' URL, pointed at it.
for suite in "${suites[@]}"; do
    dir="$work/$(basename "$(dirname "$suite")")"
    sed -i "s|const URL = \"http://localhost:3000\";|const URL = \"http://127.0.0.1:$port\";|" \
        "$dir/test-suite.js"
    grep -q "const URL = \"http://127.0.0.1:$port\";" "$dir/test-suite.js" || {
        echo "could not point $suite at port $port (its URL line changed?)" >&2
        exit 1
    }
done

# 4. The competing load, bounded in time as well.
if [[ "$load" == 1 ]]; then
    for _ in 1 2; do
        nice -n 10 timeout $((iterations * run_timeout * 2 + 60)) yes >/dev/null &
        started+=($!)
    done
    echo "load: two 'yes' processes, at the server's priority (nice 10)"
fi

# 5. The runs.
logs="$work/logs"
rm -rf "$logs"
mkdir -p "$logs"
passed=0
failed=0
for i in $(seq 1 "$iterations"); do
    ok=1
    for suite in "${suites[@]}"; do
        name=$(basename "$(dirname "$suite")")
        log="$logs/run-$i-$name.log"
        if ! (cd "$work/$name" &&
            timeout "$run_timeout" ./node_modules/.bin/mocha test-suite.js >"$log" 2>&1); then
            ok=0
            echo "run $i: $name failed:"
            grep -E "^\s+[0-9]+\) " "$log" | sort -u | sed 's/^/    /' || true
        else
            rm -f "$log"
        fi
    done
    if [[ "$ok" == 1 ]]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
    kill -0 "$server_pid" 2>/dev/null || {
        echo "the conformance server exited" >&2
        break
    }
done
echo "$passed passed, $failed failed"
[[ "$failed" == 0 ]]

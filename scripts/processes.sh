# Sourced by the bench and soak scripts: stopping the servers they start, by process id.

# Stops process $1 (if set): SIGTERM, up to 5 s for it to exit, then SIGKILL; reaps it.
stop_pid() {
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

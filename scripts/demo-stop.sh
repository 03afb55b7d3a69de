#!/usr/bin/env bash
# Stops what scripts/demo.sh started (SIGTERM: each service drains, then exits).
cd "$(dirname "$0")/.."
demo_dir=${DEMO_DIR:-$(pwd)/.demo}
for pidfile in "$demo_dir"/pids/*.pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
done

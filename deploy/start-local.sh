#!/usr/bin/env bash
# Start dagster-daemon and dagster-webserver for local use (the seed had start-celery.sh).
#   deploy/start-local.sh                    SQLite instance in data/dagster_home
#   DAGSTER_HOME=/path deploy/start-local.sh any instance, e.g. one with deploy/dagster.yaml
# Settings: DAGSTER_HOST (127.0.0.1), DAGSTER_PORT (3000), LOG_DIR (data/logs),
# STOCK_PIPELINE_YAHOO_URL to use the fake Yahoo (`stock-pipeline fake-yahoo`).
# Both run until Ctrl-C (or either one exits); then both are stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/dagster-daemon ]; then
  if command -v uv >/dev/null 2>&1; then
    uv sync --frozen --quiet
  else
    echo "no .venv: run ./run.sh once (it installs uv and the locked dependencies)" >&2
    exit 2
  fi
fi

export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/data/dagster_home}"
mkdir -p "$DAGSTER_HOME"
if [ ! -f "$DAGSTER_HOME/dagster.yaml" ]; then
  cp dagster.yaml "$DAGSTER_HOME/dagster.yaml"
fi
# Create the instance's storage once, in this process, before the daemon and the webserver
# start: two processes creating a fresh SQLite instance at once race in alembic ("more than
# one head"). Opening an existing instance changes nothing.
.venv/bin/python -c "
import dagster as dg
with dg.DagsterInstance.get() as instance:
    instance.get_runs(limit=1)
    instance.all_instigator_state()
    instance.get_asset_keys()
"
HOST="${DAGSTER_HOST:-127.0.0.1}"
PORT="${DAGSTER_PORT:-3000}"
LOG_DIR="${LOG_DIR:-$PWD/data/logs}"
mkdir -p "$LOG_DIR"

pids=()
alive() {
  local pid
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # Up to 30 s to finish their ticks, then killed with their children (as systemd does
  # after TimeoutStopSec): a daemon signalled while still starting can miss the TERM.
  for _ in $(seq 1 60); do alive || break; sleep 0.5; done
  if alive; then
    echo "still running 30 s after SIGTERM: killing" >&2
    for pid in "${pids[@]}"; do
      pkill -KILL -P "$pid" 2>/dev/null || true
      kill -KILL "$pid" 2>/dev/null || true
    done
  fi
  wait || true
}
trap stop INT TERM EXIT

.venv/bin/dagster-daemon run -w workspace.yaml >>"$LOG_DIR/dagster-daemon.log" 2>&1 &
pids+=($!)
.venv/bin/dagster-webserver -w workspace.yaml -h "$HOST" -p "$PORT" \
  >>"$LOG_DIR/dagster-webserver.log" 2>&1 &
pids+=($!)

echo "dagster-daemon (pid ${pids[0]}) and dagster-webserver (pid ${pids[1]}) started"
echo "DAGSTER_HOME=$DAGSTER_HOME  UI: http://$HOST:$PORT  logs: $LOG_DIR"
# Return as soon as either exits (a crash, or Ctrl-C); the trap stops the other.
wait -n

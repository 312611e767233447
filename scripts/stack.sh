# stack.sh -- sourced by demo.sh and the end-to-end test: start and stop a whole mtrk stack
# (private PostgreSQL, mtrk-collector, mtrk-gateway) from a build tree. Not executable alone.
#
#   stack_start BUILD_DIR STATE_DIR PG_PORT   sets COLLECTOR_ADDR, GATEWAY_ADDR, DB_CONNINFO
#   stack_start_any_port BUILD_DIR STATE_DIR    the same on a random free-looking PostgreSQL port,
#                                              trying up to 5 (tests run side by side)
#   stack_stop                                 stops what stack_start started (safe to repeat)

STACK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK_PIDS=()
STACK_PG_DIR=

# wait_for_line FILE REGEX SECONDS PID: until FILE has a line matching REGEX; fails if PID dies.
wait_for_line() {
  local file=$1 re=$2 secs=$3 pid=$4 i
  for ((i = 0; i < secs * 10; i++)); do
    grep -qE "$re" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { echo "stack: process $pid exited; its log:" >&2; cat "$file" >&2; return 1; }
    sleep 0.1
  done
  echo "stack: timed out waiting for /$re/ in $file" >&2
  return 1
}

stack_start() {
  local build=$1 state=$2 pg_port=$3
  mkdir -p "$state"
  STACK_PG_DIR=$state/pg
  DB_CONNINFO=$("$STACK_ROOT/scripts/pg-local.sh" start "$STACK_PG_DIR" "$pg_port") || return 1

  # Retention off: the bundled sample logs are historical (November 2026), and the 10-day
  # default would expire them on a later day. A production collector keeps it on.
  "$build/collector/mtrk-collector" --listen 127.0.0.1:0 --db "$DB_CONNINFO" \
    --migrations "$STACK_ROOT/sql/migrations" --retention-interval-s 0 >"$state/collector.log" 2>&1 &
  STACK_PIDS+=($!)
  wait_for_line "$state/collector.log" 'listening on' 60 $! || return 1
  COLLECTOR_ADDR=$(grep -oE 'listening on [0-9.]+:[0-9]+' "$state/collector.log" | head -n1 | awk '{print $3}')

  "$build/mtqp-gateway/mtrk-gateway" --listen 127.0.0.1:0 --collector "$COLLECTOR_ADDR" \
    >"$state/gateway.log" 2>&1 &
  STACK_PIDS+=($!)
  wait_for_line "$state/gateway.log" 'listening on' 30 $! || return 1
  GATEWAY_ADDR=$(grep -oE 'listening on [0-9.]+:[0-9]+' "$state/gateway.log" | head -n1 | awk '{print $3}')
}

stack_start_any_port() {
  local attempt
  for attempt in 1 2 3 4 5; do
    stack_start "$1" "$2" $((20000 + RANDOM % 30000)) && return 0
    stack_stop
    rm -rf "$2/pg"
  done
  return 1
}

stack_stop() {
  local pid
  for pid in "${STACK_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${STACK_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  STACK_PIDS=()
  [ -n "$STACK_PG_DIR" ] && "$STACK_ROOT/scripts/pg-local.sh" stop "$STACK_PG_DIR"
  STACK_PG_DIR=
}

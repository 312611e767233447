#!/usr/bin/env bash
# mtqp_track_bench.sh BUILD_DIR [MESSAGES] [-- BENCH ARGS...]  (issue 6)
# Brings up a private PostgreSQL (scripts/pg-local.sh), mtrk-collector and mtrk-gateway (STARTTLS
# required, certificate from a throwaway CA) from BUILD_DIR (Release, -DMTRK_BENCH=ON), stores
# MESSAGES generated messages (default 1000000, two hops each), then runs mtqp_track_bench: 100
# clients tracking random messages directly against the collector, then over TLS through the
# gateway, and prints req/s, p50, p99 and the ratios. Removes everything it started.
# GATEWAY_ARGS="--lookup-threads 16" passes flags to the gateway. fsync is off: this measures
# lookups, and durability does not change reads.
set -euo pipefail
build=${1:?usage: mtqp_track_bench.sh BUILD_DIR [MESSAGES] [-- BENCH ARGS...]}
shift
messages=1000000
if [ $# -gt 0 ] && [ "$1" != "--" ]; then messages=$1; shift; fi
[ "${1:-}" = "--" ] && shift
build=$(cd "$build" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/mtrk-trackbench.XXXXXX)
chmod 755 "$dir"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  PG_FSYNC=off "$root/scripts/pg-local.sh" stop "$dir/pg"
  rm -rf "$dir"
}
trap cleanup EXIT
# wait_for FILE REGEX SECONDS PID
wait_for() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    kill -0 "$4" 2>/dev/null || { cat "$1" >&2; return 1; }
    sleep 0.1
  done
  echo "mtqp_track_bench.sh: timed out waiting for /$2/ in $1" >&2
  return 1
}
address() { grep -oE 'listening on [0-9.]+:[0-9]+' "$1" | head -n1 | awk '{print $3}'; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
conninfo=$(PG_FSYNC=off "$root/scripts/pg-local.sh" start "$dir/pg" "$port")
# Retention off: the generated messages are dated November 2026.
"$build/collector/mtrk-collector" --listen 127.0.0.1:0 --db "$conninfo" \
  --migrations "$root/sql/migrations" --retention-interval-s 0 >"$dir/collector.log" 2>&1 &
pids+=($!)
wait_for "$dir/collector.log" 'listening on' 60 $!
collector=$(address "$dir/collector.log")

echo "populating $messages messages ..."
"$build/bench/mtqp_track_bench" --db "$conninfo" --populate "$messages" --streams 2

MTRK_TEST_SANS=DNS:mtqp.bench.test "$root/tests/support/make-test-ca.sh" "$dir/ca" >/dev/null
# The limits are per client address, and all 100 bench clients are 127.0.0.1.
# shellcheck disable=SC2086
"$build/mtqp-gateway/mtrk-gateway" --listen 127.0.0.1:0 --collector "$collector" \
  --server-name mtqp.bench.test --tls-cert "$dir/ca/server.pem" --tls-key "$dir/ca/server.key" \
  --tls-required --connection-limit off --failed-track-limit off ${GATEWAY_ARGS:-} \
  >"$dir/gateway.log" 2>&1 &
pids+=($!)
wait_for "$dir/gateway.log" 'listening on' 30 $!
gateway=$(address "$dir/gateway.log")

echo "host: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo);" \
  "gateway flags: ${GATEWAY_ARGS:-(defaults)}"
"$build/bench/mtqp_track_bench" --collector "$collector" --gateway "$gateway" \
  --tls-name mtqp.bench.test --ca "$dir/ca/ca.pem" --messages "$messages" "$@"

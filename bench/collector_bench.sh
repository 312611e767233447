#!/usr/bin/env bash
# collector_bench.sh BUILD_DIR [bench args...]: runs collector_ingest_bench (configure with
# -DMTRK_BENCH=ON) on a private PostgreSQL cluster with fsync ON (durable commits, unlike the
# tests' clusters), then removes the cluster. Run from anywhere; prints the figures.
set -euo pipefail
build=${1:?usage: collector_bench.sh BUILD_DIR [args...]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/mtrk-bench.XXXXXX)
chmod 755 "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap 'PG_FSYNC=on "$root/scripts/pg-local.sh" stop "$dir/data"; rm -rf "$dir"' EXIT
conninfo=$(PG_FSYNC=on "$root/scripts/pg-local.sh" start "$dir/data" "$port")
cd "$root"
"$build/bench/collector_ingest_bench" --db "$conninfo" "$@"

#!/usr/bin/env bash
# collector_bench.sh BUILD_DIR [bench args...]: runs collector_ingest_bench (configure with
# -DMTRK_BENCH=ON) on a private PostgreSQL cluster with fsync and synchronous_commit ON (durable
# commits, unlike the tests' clusters), then removes the cluster. Run from anywhere; prints the
# figures. Example (issue 5): collector_bench.sh build-coll-release --lookup-hops 1000000,10000000
#
# The cluster gets the WAL and memory settings of an ingest database rather than initdb's
# defaults (128MB shared_buffers, 1GB max_wal_size): with six B-trees per hop, 400k hops write
# ~450MB of WAL, so the defaults checkpoint every ~900k rows and each checkpoint turns the next
# touch of every index page into a full-page image. None of this weakens durability.
set -euo pipefail
build=${1:?usage: collector_bench.sh BUILD_DIR [args...]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/mtrk-bench.XXXXXX)
chmod 755 "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap 'PG_FSYNC=on "$root/scripts/pg-local.sh" stop "$dir/data"; rm -rf "$dir"' EXIT
conninfo=$(PG_FSYNC=on "$root/scripts/pg-local.sh" start "$dir/data" "$port")
psql_=(psql -X -q -v ON_ERROR_STOP=1 "$conninfo")
if [ "$(id -u)" = 0 ]; then psql_=(runuser -u postgres -- "${psql_[@]}"); fi
for setting in "shared_buffers = '1GB'" "wal_buffers = '16MB'" "max_wal_size = '4GB'" \
    "checkpoint_timeout = '15min'" "wal_compression = 'lz4'"; do
  "${psql_[@]}" -c "ALTER SYSTEM SET $setting"
done
PG_FSYNC=on "$root/scripts/pg-local.sh" stop "$dir/data"  # shared_buffers needs a restart
PG_FSYNC=on "$root/scripts/pg-local.sh" start "$dir/data" "$port" >/dev/null
cd "$root"
"$build/bench/collector_ingest_bench" --db "$conninfo" "$@"

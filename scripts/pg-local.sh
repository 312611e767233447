#!/usr/bin/env bash
# pg-local.sh -- a private PostgreSQL cluster for mtrk's demo and tests: no system service.
#
#   pg-local.sh start DIR PORT   initdb DIR if needed (as the postgres user when run as root,
#                                since initdb refuses root), start it on 127.0.0.1:PORT, create
#                                database "mtrk"; prints the conninfo on stdout.
#   pg-local.sh stop DIR         fast shutdown; no error if it is not running.
#
# Trust authentication on loopback only: the cluster is a throwaway for one user's build tree.
set -euo pipefail

cmd=${1:?usage: pg-local.sh start DIR PORT | stop DIR}
dir=${2:?missing DIR}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -x "$bindir/initdb" ] || { echo "pg-local: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 2; }

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    port=${3:?missing PORT}
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      chown postgres:postgres "$dir"
      # The postgres user must reach DIR through every parent directory.
      if ! runuser -u postgres -- test -x "$dir"; then
        echo "pg-local: user postgres cannot reach $dir (a parent directory is not searchable)" >&2
        exit 2
      fi
    fi
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_pg "$bindir/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 ||
        { cat "$dir.initdb.log" >&2; exit 2; }
    fi
    if ! as_pg "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      as_pg "$bindir/pg_ctl" -D "$dir" -w -t 60 -l "$dir/server.log" \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c fsync=${PG_FSYNC:-on} -c max_connections=200" \
        start >/dev/null || { tail -20 "$dir/server.log" >&2; exit 2; }
    fi
    if ! as_pg "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atqc \
        "SELECT 1 FROM pg_database WHERE datname='mtrk'" | grep -q 1; then
      as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres mtrk
    fi
    echo "host=127.0.0.1 port=$port user=postgres dbname=mtrk"
    ;;
  stop)
    if [ -f "$dir/postmaster.pid" ]; then
      as_pg "$bindir/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  *)
    echo "usage: pg-local.sh start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac

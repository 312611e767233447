#!/usr/bin/env bash
# demo.sh -- README command 1: install, build, run the whole mtrk stack on a private PostgreSQL
# cluster under build/demo/, feed the bundled real Postfix logs through the agent, track one
# message over MTQP with its secret, print its hops, and stop everything it started.
# Re-runnable: the cluster is kept, and ingest is idempotent.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
LAB=$ROOT/tests/data/mtrk-lab
SCENARIO=${1:-a-simple-delivery}

say() { printf '\n==> %s\n' "$*"; }

say "installing Debian packages (if missing)"
"$ROOT/scripts/install-deps.sh"
say "building"
mkdir -p "$BUILD"
"$ROOT/scripts/build.sh" "$BUILD" >"$BUILD/demo-build.log" 2>&1 || { tail -50 "$BUILD/demo-build.log"; exit 1; }

source "$ROOT/scripts/stack.sh"
trap stack_stop EXIT
say "starting PostgreSQL (private cluster in $BUILD/demo/pg), mtrk-collector, mtrk-gateway"
stack_start "$BUILD" "$BUILD/demo" "${MTRK_DEMO_PG_PORT:-55432}"
echo "collector: $COLLECTOR_ADDR   MTQP gateway: $GATEWAY_ADDR   database: $DB_CONNINFO"

say "mtrk-agent: reading the bundled real Postfix logs of mta-a and mta-b (tests/data/mtrk-lab)"
# mta-b runs an mtrk agent too, so mta-a's hand-offs to 127.0.0.2 are "transferred" (tracked).
"$BUILD/agent/mtrk-agent" --collector "$COLLECTOR_ADDR" --reporting-mta mta-a.a.example \
  --tracked-next-hop 127.0.0.2 "$LAB/postfix-a.maillog"
"$BUILD/agent/mtrk-agent" --collector "$COLLECTOR_ADDR" --reporting-mta mta-b.b.example \
  "$LAB/postfix-b.maillog"

row=$(awk -F'\t' -v s="$SCENARIO" '$1 == s' "$LAB/scenarios.tsv")
[ -n "$row" ] || { echo "no scenario '$SCENARIO' in $LAB/scenarios.tsv" >&2; exit 2; }
envid=$(cut -f2 <<<"$row")
secret=$(cut -f3 <<<"$row")
say "mtrk-track: where is message $envid ($(cut -f7 <<<"$row"))?"
echo "\$ mtrk-track --server $GATEWAY_ADDR $envid <secret>"
"$BUILD/mtqp-gateway/mtrk-track" --server "$GATEWAY_ADDR" "$envid" "$secret"

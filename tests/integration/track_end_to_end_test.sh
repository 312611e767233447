#!/usr/bin/env bash
# End to end, all real parts: a private PostgreSQL, mtrk-collector and mtrk-gateway as processes,
# mtrk-agent feeding the real Postfix logs of tests/data/mtrk-lab, and mtrk-track asking over MTQP.
# For each scenario with a file in testdata/, the hops mtrk-track prints must equal that file
# (every field of every recipient line); a wrong secret and an unknown ENVID must both get
# "no information" (exit 1) with identical output.
#
#   track_end_to_end_test.sh BUILD_DIR      (MTRK_UPDATE_GOLDEN=1 rewrites the expected files)
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${1:?usage: track_end_to_end_test.sh BUILD_DIR}
LAB=$ROOT/tests/data/mtrk-lab
GOLDEN=$ROOT/tests/integration/testdata
TRACK=$BUILD/mtqp-gateway/mtrk-track

source "$ROOT/tests/support/stack_test.sh"
stack_test_begin mtrk-e2e
stack_test_start
ingest_lab "$LAB" mtrk-lab
# A second run of the same logs must change nothing (event ids are deterministic).
"$BUILD/agent/mtrk-agent" --collector "$COLLECTOR_ADDR" --reporting-mta mta-a.a.example \
  --tracked-next-hop 127.0.0.2 "$LAB/postfix-a.maillog" 2>"$STATE/agent-again.log"
check "agent re-ingests mta-a's log" $?

for expected in "$GOLDEN"/*.expected; do
  scenario=$(basename "$expected" .expected)
  row=$(awk -F'\t' -v s="$scenario" '$1 == s' "$LAB/scenarios.tsv")
  envid=$(cut -f2 <<<"$row")
  secret=$(cut -f3 <<<"$row")
  got=$("$TRACK" --server "$GATEWAY_ADDR" "$envid" "$secret" 2>&1)
  rc=$?
  if [ "${MTRK_UPDATE_GOLDEN:-0}" = 1 ]; then printf '%s\n' "$got" >"$expected"; fi
  if [ $rc = 0 ] && diff -u "$expected" <(printf '%s\n' "$got"); then ok=0; else ok=1; fi
  check "track $scenario" $ok
done

# The same message asked with a wrong secret, and an ENVID nobody sent: the same answer.
row=$(awk -F'\t' '$1 == "a-simple-delivery"' "$LAB/scenarios.tsv")
envid=$(cut -f2 <<<"$row")
wrong=$(printf 'not-the-secret-of-this-message' | base64 | tr -d '=')
out_wrong=$("$TRACK" --server "$GATEWAY_ADDR" "$envid" "$wrong" 2>&1); rc_wrong=$?
out_unknown=$("$TRACK" --server "$GATEWAY_ADDR" "no-such-message@a.example" "$wrong" 2>&1); rc_unknown=$?
[ $rc_wrong = 1 ]; check "wrong secret: exit 1 (no information)" $?
[ $rc_unknown = 1 ]; check "unknown ENVID: exit 1 (no information)" $?
[ "$out_wrong" = "$(sed "s/no-such-message@a.example/$envid/" <<<"$out_unknown")" ]
check "wrong secret and unknown ENVID answer alike" $?
# And the raw protocol: both get the byte-identical -ERR/noinfo line.
raw() { printf 'TRACK %s %s\r\nQUIT\r\n' "$1" "$2" | timeout 10 bash -c "exec 3<>/dev/tcp/${GATEWAY_ADDR%:*}/${GATEWAY_ADDR##*:}; cat >&3; cat <&3" | sed -n 2p; }
r1=$(raw "$envid" "$wrong"); r2=$(raw "no-such-message@a.example" "$wrong")
[ -n "$r1" ] && [ "$r1" = "$r2" ] && [[ "$r1" == -ERR/noinfo* ]]
check "raw MTQP: identical -ERR/noinfo ('$r1')" $?

stack_test_end

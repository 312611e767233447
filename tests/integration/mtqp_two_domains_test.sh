#!/usr/bin/env bash
# Two domains on loopback, all real parts (issue 6): for each of a.example and b.example a private
# PostgreSQL, an mtrk-collector fed by mtrk-agent with that domain's Postfix log, and an
# mtrk-gateway over STARTTLS (a test CA made here); dnsmasq serves the _mtqp._tcp SRV records.
# The lab's message left A for B: TRACK at A with chaining returns both domains' records; with
# chaining off, mtrk-track follows the referral and prints the same timeline. Also: required TLS
# refuses TRACK in clear, and a wrong server name fails.
#
#   mtqp_two_domains_test.sh BUILD_DIR
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${1:?usage: mtqp_two_domains_test.sh BUILD_DIR}
LAB=$ROOT/tests/data/mtrk-lab
TRACK=$BUILD/mtqp-gateway/mtrk-track
GATEWAY=$BUILD/mtqp-gateway/mtrk-gateway

STATE=$(mktemp -d /tmp/mtrk-2dom.XXXXXX)
chmod 755 "$STATE"  # the postgres user must reach the cluster directories below it
source "$ROOT/scripts/stack.sh"  # wait_for_line
PIDS=()
PG_DIRS=()
cleanup() {
  local pid d
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for d in "${PG_DIRS[@]}"; do "$ROOT/scripts/pg-local.sh" stop "$d" >/dev/null 2>&1; done
  rm -rf "$STATE"
}
trap cleanup EXIT

passed=0 failed=0
check() {  # check NAME EXIT_STATUS
  if [ "$2" = 0 ]; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi
}
fatal() { echo "FAIL $1"; echo "$passed passed, $((failed + 1)) failed"; exit 1; }

# addr_of LOG: the HOST:PORT a collector or gateway printed.
addr_of() { grep -oE 'listening on [0-9.]+:[0-9]+' "$1" | head -n1 | awk '{print $3}'; }

MTRK_TEST_SANS="DNS:mtqp.a.example,DNS:mtqp.b.example" \
  "$ROOT/tests/support/make-test-ca.sh" "$STATE/ca" || fatal "test CA"
TLS=(--tls-cert "$STATE/ca/server.pem" --tls-key "$STATE/ca/server.key" --tls-required)

# domain NAME: PostgreSQL + collector; sets COLLECTOR_<NAME>.
start_domain() {
  local name=$1 conninfo="" attempt port
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 30000))
    conninfo=$("$ROOT/scripts/pg-local.sh" start "$STATE/pg-$name" "$port" 2>"$STATE/pg-$name.log") && break
    "$ROOT/scripts/pg-local.sh" stop "$STATE/pg-$name" >/dev/null 2>&1
    rm -rf "$STATE/pg-$name"
    conninfo=""
  done
  [ -n "$conninfo" ] || return 1
  PG_DIRS+=("$STATE/pg-$name")
  "$BUILD/collector/mtrk-collector" --listen 127.0.0.1:0 --db "$conninfo" \
    --migrations "$ROOT/sql/migrations" --retention-interval-s 0 \
    >"$STATE/collector-$name.log" 2>&1 &  # retention off: the sample logs are historical
  PIDS+=($!)
  wait_for_line "$STATE/collector-$name.log" 'listening on' 60 $! || return 1
  printf -v "COLLECTOR_$name" '%s' "$(addr_of "$STATE/collector-$name.log")"
}
start_domain a || fatal "domain a starts"
start_domain b || fatal "domain b starts"
check "two PostgreSQL databases and collectors start" 0

# The lab's A log names B's MTA by address (relay=127.0.0.2[127.0.0.2]); a real MTA logs the
# name it looked up, which is what SRV discovery needs: give it that name.
sed 's/relay=127\.0\.0\.2\[127\.0\.0\.2\]/relay=mta-b.b.example[127.0.0.2]/' \
  "$LAB/postfix-a.maillog" >"$STATE/postfix-a.maillog"
"$BUILD/agent/mtrk-agent" --collector "$COLLECTOR_a" --reporting-mta mta-a.a.example \
  --tracked-next-hop mta-b.b.example "$STATE/postfix-a.maillog" 2>"$STATE/agent-a.log"
check "agent feeds domain a" $?
"$BUILD/agent/mtrk-agent" --collector "$COLLECTOR_b" --reporting-mta mta-b.b.example \
  "$LAB/postfix-b.maillog" 2>"$STATE/agent-b.log"
check "agent feeds domain b" $?

start_gateway() {  # start_gateway LABEL ARGS...: sets GW_<LABEL>
  local label=$1
  shift
  "$GATEWAY" --listen 127.0.0.1:0 "$@" >"$STATE/gateway-$label.log" 2>&1 &
  PIDS+=($!)
  wait_for_line "$STATE/gateway-$label.log" 'listening on' 30 $! || return 1
  printf -v "GW_$label" '%s' "$(addr_of "$STATE/gateway-$label.log")"
}
start_gateway b --collector "$COLLECTOR_b" --server-name mtqp.b.example "${TLS[@]}" ||
  fatal "gateway b starts"

start_gateway a_plain --collector "$COLLECTOR_a" --server-name mtqp.a.example "${TLS[@]}" ||
  fatal "gateway a (no chaining) starts"

# dnsmasq: SRV for both MTAs; answers only from its own data. It binds its port for UDP and
# TCP, below the ephemeral range where the servers here get theirs; if the port is taken
# anyway (a parallel test), it exits and another port is tried.
start_dnsmasq() {
  local attempt
  for attempt in 1 2 3 4 5; do
    dns_port=$((20000 + RANDOM % 12000))
    dnsmasq --no-daemon --keep-in-foreground --port="$dns_port" --listen-address=127.0.0.1 \
      --bind-interfaces --no-resolv --no-hosts --user=root --pid-file= --local=/example/ \
      --address=/mtqp.a.example/127.0.0.1 --address=/mtqp.b.example/127.0.0.1 \
      --srv-host="_mtqp._tcp.mta-a.a.example,mtqp.a.example,${GW_a_plain##*:}" \
      --srv-host="_mtqp._tcp.mta-b.b.example,mtqp.b.example,${GW_b##*:}" \
      >"$STATE/dnsmasq.log" 2>&1 &
    local pid=$!
    if wait_for_line "$STATE/dnsmasq.log" 'started' 10 $pid 2>/dev/null; then
      PIDS+=("$pid")
      DNS=127.0.0.1:$dns_port
      return 0
    fi
    kill "$pid" 2>/dev/null
  done
  return 1
}
start_dnsmasq || fatal "dnsmasq starts"
start_gateway a --collector "$COLLECTOR_a" --server-name mtqp.a.example "${TLS[@]}" \
  --chain on --own-host .a.example --dns-server "$DNS" --chain-ca "$STATE/ca/ca.pem" ||
  fatal "gateway a (chaining) starts"
check "gateways and dnsmasq start" 0

row=$(awk -F'\t' '$1 == "a-simple-delivery"' "$LAB/scenarios.tsv")
envid=$(cut -f2 <<<"$row")
secret=$(cut -f3 <<<"$row")
CLIENT=(--ca "$STATE/ca/ca.pem" --dns-server "$DNS")

chained=$("$TRACK" "${CLIENT[@]}" --server "$GW_a" --tls-name mtqp.a.example --no-referrals \
  "$envid" "$secret" 2>"$STATE/track-chained.err")
rc=$?
echo "$chained"
[ $rc = 0 ] && grep -q '^mta-a.a.example .* transferred ' <<<"$chained" &&
  grep -q '^mta-b.b.example .* delivered ' <<<"$chained"
check "chaining: TRACK at A returns A's transferred and B's delivered records" $?

referred=$("$TRACK" "${CLIENT[@]}" --submission-host mta-a.a.example "$envid" "$secret" \
  2>"$STATE/track-referral.err")
rc=$?
[ $rc = 0 ] && [ "$referred" = "$chained" ]
check "chaining off: mtrk-track follows the referral to the same answer" $?
[ $rc = 0 ] || cat "$STATE/track-referral.err"

"$TRACK" "${CLIENT[@]}" --server "$GW_a_plain" --tls-name mtqp.a.example --no-referrals \
  "$envid" "$secret" >"$STATE/plain.out" 2>&1
! grep -q '^mta-b.b.example' "$STATE/plain.out" && grep -q 'transferred.*remote=mta-b.b.example' "$STATE/plain.out"
check "chaining off: A alone answers with its transferred record (the referral)" $?

json=$("$TRACK" "${CLIENT[@]}" --server "$GW_a" --tls-name mtqp.a.example --json "$envid" "$secret")
[ $? = 0 ] && grep -q '"reporting_mta":"mta-b.b.example"' <<<"$json"
check "--json carries both domains" $?

raw=$(printf 'TRACK %s %s\r\nQUIT\r\n' "$envid" "$secret" |
  timeout 10 bash -c "exec 3<>/dev/tcp/${GW_a%:*}/${GW_a##*:}; cat >&3; cat <&3" | tr -d '\r' | grep -E '^-ERR')
[[ "$raw" == -ERR/tls-required* ]]
check "required TLS: TRACK in clear gets -ERR/tls-required ('$raw')" $?

"$TRACK" "${CLIENT[@]}" --server "$GW_a" --tls-name mtqp.c.example "$envid" "$secret" \
  >/dev/null 2>"$STATE/wrong-name.err"
[ $? = 2 ]
check "a wrong server name fails (exit 2: $(head -n1 "$STATE/wrong-name.err"))" $?

"$TRACK" "${CLIENT[@]}" --server "$GW_a" --tls-name mtqp.a.example --ca "$STATE/ca/rogue-ca.pem" \
  "$envid" "$secret" >/dev/null 2>"$STATE/rogue.err"
[ $? = 2 ]
check "an untrusted certificate fails (exit 2)" $?

wrong=$(printf 'not-the-secret-of-this-message' | base64 | tr -d '=')
"$TRACK" "${CLIENT[@]}" --server "$GW_a" --tls-name mtqp.a.example "$envid" "$wrong" >/dev/null 2>&1
[ $? = 1 ]
check "a wrong secret over the chain: exit 1 (no information)" $?

echo "$passed passed, $failed failed"
[ $failed = 0 ]

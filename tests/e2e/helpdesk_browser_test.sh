#!/usr/bin/env bash
# Headless Chromium against the helpdesk of a real stack: a private PostgreSQL, mtrk-collector,
# mtrk-agent feeding the postfix-lab logs (tests/data/postfix-lab), and mtrk-gateway serving the
# helpdesk over HTTPS with a test CA's certificate. The browser (helpdesk_cdp.py, DevTools
# protocol) signs in, searches a postfix-lab message by Message-ID, opens its timeline and checks
# every recipient's row; hostile input in every field must give a clear error. Screenshots are
# kept in BUILD_DIR/test-artifacts/helpdesk/.
#
#   helpdesk_browser_test.sh BUILD_DIR
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${1:?usage: helpdesk_browser_test.sh BUILD_DIR}
LAB=$ROOT/tests/data/postfix-lab
GATEWAY=$BUILD/mtqp-gateway/mtrk-gateway
ARTIFACTS=$BUILD/test-artifacts/helpdesk
mkdir -p "$ARTIFACTS"

[ -x /usr/bin/chromium ] || { echo "SKIP: /usr/bin/chromium not installed"; exit 0; }

source "$ROOT/tests/support/stack_test.sh"
DESK_PID= TLS_DESK_PID= TLS_COLLECTOR_PID=
stop_helpdesk() {
  local pid
  for pid in $DESK_PID $TLS_DESK_PID $TLS_COLLECTOR_PID; do kill "$pid" 2>/dev/null; done
  for pid in $DESK_PID $TLS_DESK_PID $TLS_COLLECTOR_PID; do wait "$pid" 2>/dev/null; done
}
STACK_TEST_CLEANUP=stop_helpdesk
stack_test_begin mtrk-helpdesk-e2e
stack_test_start
ingest_lab "$LAB" postfix-lab

# The mtrk lab's logs carry the tracking header: for the originator's page.
MLAB=$ROOT/tests/data/mtrk-lab
ingest_lab "$MLAB" mtrk-lab
row=$(awk -F'\t' '$1 == "a-simple-delivery"' "$MLAB/scenarios.tsv")

bash "$ROOT/tests/support/make-test-ca.sh" "$STATE/ca" >/dev/null 2>&1
check "test CA made" $?
password="e2e-$(head -c 12 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9')"
printf '%s\n' "$password" | "$GATEWAY" helpdesk-user add --db "$DB_CONNINFO" --name helen \
  --role helpdesk >"$STATE/user.log" 2>&1
check "helpdesk-user add" $?
printf 'x\n' | "$GATEWAY" helpdesk-user add --db "$DB_CONNINFO" --name bad --role root \
  >/dev/null 2>&1
[ $? = 2 ]; check "helpdesk-user add refuses an unknown role" $?

"$GATEWAY" --listen 127.0.0.1:0 --collector "$COLLECTOR_ADDR" --helpdesk-listen 127.0.0.1:0 \
  --helpdesk-db "$DB_CONNINFO" --helpdesk-cert "$STATE/ca/server.pem" \
  --helpdesk-key "$STATE/ca/server.key" >"$STATE/desk.log" 2>&1 &
DESK_PID=$!
wait_for_line "$STATE/desk.log" 'helpdesk listening on' 30 $DESK_PID
check "gateway serves the helpdesk" $?
DESK=$(grep -oE 'https://[0-9.]+:[0-9]+' "$STATE/desk.log" | head -n1)

# Scenario e-multi-recipient-one-bad: three recipients, nobody@b.example rejected at RCPT by B.
msgid=$(grep -oE 'C4544A74248: message-id=<[^>]+>' "$LAB/postfix-a.maillog" | sed 's/.*message-id=//')
python3 "$ROOT/tests/e2e/helpdesk_cdp.py" "$DESK" helen "$password" "$msgid" \
  "nobody@b.example=failed,alice@b.example=delivered,bob@b.example=delivered" "$ARTIFACTS" \
  "$(cut -f2 <<<"$row")" "$(cut -f3 <<<"$row")"
check "browser session (see lines above)" $?

# A bearer token from the CLI works for the API, and stops working once revoked.
"$GATEWAY" helpdesk-token create --db "$DB_CONNINFO" --name helen --label e2e >"$STATE/token" 2>&1
check "helpdesk-token create" $?
token_id=$(sed -n 's/^token id //p' "$STATE/token")
token=$(tail -n1 "$STATE/token")
api() { curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$DESK$1"; }
[ "$(api "/api/v1/messages?message_id=$msgid")" = 200 ]; check "bearer token: search allowed" $?
"$GATEWAY" helpdesk-token revoke --db "$DB_CONNINFO" --id "$token_id"
check "helpdesk-token revoke" $?
[ "$(api "/api/v1/messages?message_id=$msgid")" = 401 ]; check "revoked token refused" $?

# As deployed (deploy/k8s): the collector requires client certificates, and the gateway reaches
# it with --collector-ca/--collector-cert/--collector-key. Staff searches and originators' TRACKs
# on the helpdesk must both go over that TLS channel (staff searches once used a plain channel of
# their own, which such a collector refuses: every search failed with 503).
"$BUILD/collector/mtrk-collector" --listen 127.0.0.1:0 --db "$DB_CONNINFO" \
  --migrations "$ROOT/sql/migrations" --retention-interval-s 0 \
  --tls-cert "$STATE/ca/server.pem" --tls-key "$STATE/ca/server.key" \
  --tls-client-ca "$STATE/ca/ca.pem" >"$STATE/collector-tls.log" 2>&1 &
TLS_COLLECTOR_PID=$!
wait_for_line "$STATE/collector-tls.log" 'listening on' 60 $TLS_COLLECTOR_PID
check "a second collector on the same database, mutual TLS" $?
tls_collector=$(grep -oE 'listening on [0-9.]+:[0-9]+' "$STATE/collector-tls.log" | head -n1 | awk '{print $3}')
"$GATEWAY" --listen 127.0.0.1:0 --collector "$tls_collector" --collector-ca "$STATE/ca/ca.pem" \
  --collector-cert "$STATE/ca/client.pem" --collector-key "$STATE/ca/client.key" \
  --helpdesk-listen 127.0.0.1:0 --helpdesk-db "$DB_CONNINFO" --helpdesk-cert "$STATE/ca/server.pem" \
  --helpdesk-key "$STATE/ca/server.key" >"$STATE/desk-tls.log" 2>&1 &
TLS_DESK_PID=$!
wait_for_line "$STATE/desk-tls.log" 'helpdesk listening on' 30 $TLS_DESK_PID
check "gateway with a TLS collector channel serves the helpdesk" $?
tls_desk=$(grep -oE 'https://[0-9.]+:[0-9]+' "$STATE/desk-tls.log" | head -n1)
"$GATEWAY" helpdesk-token create --db "$DB_CONNINFO" --name helen --label e2e-tls >"$STATE/token-tls" 2>&1
tls_token=$(tail -n1 "$STATE/token-tls")
code=$(curl -sk -o "$STATE/search-tls.json" -w '%{http_code}' \
  -H "Authorization: Bearer $tls_token" "$tls_desk/api/v1/messages?message_id=$msgid")
[ "$code" = 200 ] && grep -q 'nobody@b.example' "$STATE/search-tls.json"
check "staff search through the TLS collector channel (HTTP $code)" $?
code=$(curl -sk -o "$STATE/track-tls.json" -w '%{http_code}' -X POST \
  --data-urlencode "envid=$(cut -f2 <<<"$row")" --data-urlencode "secret=$(cut -f3 <<<"$row")" \
  "$tls_desk/api/v1/track")
[ "$code" = 200 ] && grep -q '"found": *true' "$STATE/track-tls.json"
check "originator track through the TLS collector channel (HTTP $code)" $?

# Every lookup the browser made is in the audit trail.
n=$(psql "$DB_CONNINFO" -Atc "SELECT count(*) FROM helpdesk_audit_log WHERE user_name = 'helen'
    AND action IN ('search', 'timeline')" 2>/dev/null || echo 0)
[ "${n:-0}" -ge 2 ]; check "audit trail holds the browser's lookups ($n)" $?

echo "screenshots: $ARTIFACTS"
stack_test_end

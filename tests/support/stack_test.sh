# stack_test.sh -- sourced by the shell tests that run the whole stack (scripts/stack.sh) and
# feed it the lab logs: one state directory, one pass/fail tally, one way to start the stack and
# to run an agent over a lab's two MTAs. Needs ROOT and BUILD set by the caller.
#
#   stack_test_begin PREFIX      STATE=mktemp dir, sources stack.sh, cleanup on EXIT
#                                (STACK_TEST_CLEANUP, if set, names a caller function run first)
#   check NAME EXIT_STATUS       count and print one result
#   stack_test_start             start the stack on free ports, or print the tally and exit 1
#   ingest_lab LAB_DIR LABEL     run mtrk-agent over LAB_DIR's postfix-a and postfix-b logs
#   stack_test_end               print the tally; returns non-zero when anything failed

passed=0 failed=0

stack_test_begin() {
  STATE=$(mktemp -d "/tmp/$1.XXXXXX")
  chmod 755 "$STATE"  # the postgres user must reach the cluster directory below it
  source "$ROOT/scripts/stack.sh"
  trap stack_test_cleanup EXIT
}

stack_test_cleanup() {
  [ -n "${STACK_TEST_CLEANUP:-}" ] && "$STACK_TEST_CLEANUP"
  stack_stop
  rm -rf "$STATE"
}

check() {
  if [ "$2" = 0 ]; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi
}

stack_test_start() {
  stack_start_any_port "$BUILD" "$STATE"
  local started=$?
  check "stack starts" $started
  [ $started = 0 ] || { echo "0 passed, 1 failed"; exit 1; }
}

# MTA A relays to B (127.0.0.2), which runs an agent too: A's hops to it are "relayed".
ingest_lab() {
  local lab=$1 label=$2
  "$BUILD/agent/mtrk-agent" --collector "$COLLECTOR_ADDR" --reporting-mta mta-a.a.example \
    --tracked-next-hop 127.0.0.2 "$lab/postfix-a.maillog" 2>"$STATE/agent-$label-a.log"
  check "agent ingests $label mta-a" $?
  "$BUILD/agent/mtrk-agent" --collector "$COLLECTOR_ADDR" --reporting-mta mta-b.b.example \
    "$lab/postfix-b.maillog" 2>"$STATE/agent-$label-b.log"
  check "agent ingests $label mta-b" $?
}

stack_test_end() {
  echo "$passed passed, $failed failed"
  [ $failed = 0 ]
}

#!/usr/bin/env bash
# test.sh -- README command 2: install what is needed, build, and run the whole test suite with
# ctest (unit, pg, integration, e2e, fuzz corpus replay), then the tests of the code that handles
# untrusted input again under ASan/UBSan.
# Tests that need PostgreSQL start their own private cluster; no system service is used.
# Between the two, each libFuzzer target runs for a bounded time (clang build in build-fuzz/).
#   MTRK_SKIP_ASAN=1  skip the sanitizer pass    MTRK_SKIP_FUZZ=1  skip the fuzzing pass
#   MTRK_FUZZ_SECONDS=N  seconds per fuzz target (default 20)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

./scripts/install-deps.sh
./scripts/build.sh build
(cd build && ctest --output-on-failure -j2 --timeout 600)

if [ "${MTRK_SKIP_FUZZ:-0}" != 1 ]; then
  cmake -S . -B build-fuzz -DMTRK_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build-fuzz -j"$(nproc)" --target fuzz_line_parser fuzz_correlator fuzz_mtqp_command
  tests/fuzz/run_fuzz.sh build-fuzz "${MTRK_FUZZ_SECONDS:-20}"
fi

if [ "${MTRK_SKIP_ASAN:-0}" != 1 ]; then
  # The code that handles untrusted input and owns memory: parsers, correlator, tail, spool,
  # MTQP codec and server, originator view, PostgreSQL store, helpdesk input checks. (The
  # process-level integration tests run once above; rebuilding them all with ASan would double
  # CI time.)
  ASAN_TESTS=(mtrk_common_test mtrk_agent_parse_test mtrk_agent_correlate_test
    mtrk_agent_tail_test mtrk_agent_spool_test mtrk_gateway_mtqp_test mtrk_gateway_server_test
    mtrk_collector_lookup_test mtrk_collector_store_pg_test mtrk_gateway_helpdesk_test)
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMTRK_SANITIZE=ON >/dev/null
  cmake --build build-asan -j"$(nproc)" --target "${ASAN_TESTS[@]}"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$ROOT/tests/lsan.supp \
    ctest --output-on-failure -j2 --timeout 600 -R "^($(IFS='|'; echo "${ASAN_TESTS[*]}"))\$")
fi

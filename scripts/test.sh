#!/usr/bin/env bash
# test.sh -- README command 2: install what is needed, build, and run the whole test suite with
# ctest (unit, pg, integration, e2e), then the unit and pg tests again under ASan/UBSan.
# Tests that need PostgreSQL start their own private cluster; no system service is used.
#   MTRK_SKIP_ASAN=1  skip the sanitizer pass (faster local iterations)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

./scripts/install-deps.sh
./scripts/build.sh build
(cd build && ctest --output-on-failure -j2 --timeout 600)

if [ "${MTRK_SKIP_ASAN:-0}" != 1 ]; then
  BUILD_TYPE=Debug ./scripts/build.sh build-asan -DMTRK_SANITIZE=ON
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$ROOT/tests/lsan.supp ctest --output-on-failure -j2 --timeout 600 -L 'unit|pg')
fi

#!/usr/bin/env bash
# Runs each libFuzzer target of a -DMTRK_FUZZ=ON build for a bounded time, starting from the seed
# corpus (copied, so the checked-in corpus only grows by hand). Exit status non-zero on a crash;
# the crashing input is left in the work dir (artifact_prefix) for tests/fuzz/corpus/<target>/.
#   tests/fuzz/run_fuzz.sh BUILD_DIR [SECONDS_PER_TARGET=30]
set -euo pipefail
build=${1:?usage: run_fuzz.sh BUILD_DIR [SECONDS]}
seconds=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for target in line_parser correlator mtqp_command; do
  bin=$build/tests/fuzz/fuzz_$target
  [[ -x $bin ]] || bin=$build/mtqp-gateway/fuzz_$target
  mkdir -p "$work/$target" "$work/artifacts"
  cp "$here/corpus/$target"/* "$work/$target/"
  dict=()
  [[ -f "$here/postfix.dict" ]] && dict=(-dict="$here/postfix.dict")
  if ! "$bin" -max_total_time="$seconds" -max_len=4096 \
      -print_final_stats=1 "${dict[@]}" -artifact_prefix="$work/artifacts/" \
      "$work/$target" 2>&1 | tail -15; then
    status=1
    cp -r "$work/artifacts" "./fuzz-artifacts-$target" || true
  fi
done
exit $status

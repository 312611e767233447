#!/usr/bin/env bash
# A/B benchmark: the working tree (candidate) against a base commit, side by side on one host.
#
#   bench/run_ab.sh BASE-REF [TARGET] [-- BENCHMARK-ARGS...]
#     BASE-REF   any git revision (main, HEAD~3, a sha)
#     TARGET     a Google Benchmark program of bench/ (default: postfix_parse_bench)
#
# The base is checked out in a git worktree under build/ab/ and both trees are built Release with
# -DMTRK_BENCH=ON. Base and candidate then run alternately, one repetition each, ROUNDS times
# (default 10), so drift on a shared host (other builds, thermal) hits both sides alike. The
# result is the median ratio candidate/base of real time per benchmark, as notes quote it:
# "postfix parse: 0.81x base time (-19 %), n=10, same host". When python3 has scipy,
# Debian's /usr/share/benchmark/compare.py (libbenchmark-tools) also prints its U test.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BASE_REF=${1:?usage: bench/run_ab.sh BASE-REF [TARGET] [-- BENCHMARK-ARGS...]}
shift
TARGET=postfix_parse_bench
if [[ $# -gt 0 && $1 != -- ]]; then
  TARGET=$1
  shift
fi
[[ ${1:-} == -- ]] && shift
BENCH_ARGS=("$@")
ROUNDS=${ROUNDS:-10}

AB=$ROOT/build/ab
BASE_SRC=$AB/base-src
mkdir -p "$AB"

# The base tree: a detached worktree at BASE-REF, refreshed on every run.
base_sha=$(git -C "$ROOT" rev-parse --verify "$BASE_REF^{commit}")
if [[ -d $BASE_SRC ]]; then
  git -C "$BASE_SRC" checkout -q --detach "$base_sha"
else
  git -C "$ROOT" worktree add -q --detach "$BASE_SRC" "$base_sha"
fi

build() {  # build SRC DIR
  cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release -DMTRK_BENCH=ON >"$2.configure.log" 2>&1 ||
    { cat "$2.configure.log" >&2; return 1; }
  cmake --build "$2" -j"$(nproc)" --target "$TARGET" >"$2.build.log" 2>&1 ||
    { tail -50 "$2.build.log" >&2; return 1; }
}
echo "run_ab: building $TARGET at base ${base_sha:0:12} and in the working tree" >&2
build "$BASE_SRC" "$AB/base"
build "$ROOT" "$AB/candidate"

binary() { find "$1" -type f -name "$TARGET" -perm -u+x | head -1; }
BASE_BIN=$(binary "$AB/base")
CAND_BIN=$(binary "$AB/candidate")
[[ -x $BASE_BIN && -x $CAND_BIN ]] || { echo "run_ab: $TARGET not built" >&2; exit 1; }

rm -f "$AB"/run-*.json
for ((i = 1; i <= ROUNDS; i++)); do
  for side in base candidate; do
    bin=$BASE_BIN
    [[ $side == candidate ]] && bin=$CAND_BIN
    "$bin" --benchmark_repetitions=1 --benchmark_format=json \
      --benchmark_out="$AB/run-$side-$i.json" --benchmark_out_format=json \
      "${BENCH_ARGS[@]}" >/dev/null
  done
  echo "run_ab: round $i/$ROUNDS done" >&2
done

python3 "$ROOT/bench/ab_compare.py" "$AB" "$ROUNDS" "${base_sha:0:12}"
if python3 -c 'import scipy, numpy' 2>/dev/null && [[ -f /usr/share/benchmark/compare.py ]]; then
  python3 "$ROOT/bench/ab_compare.py" --merge "$AB" base >"$AB/base.json"
  python3 "$ROOT/bench/ab_compare.py" --merge "$AB" candidate >"$AB/candidate.json"
  python3 /usr/share/benchmark/compare.py benchmarks "$AB/base.json" "$AB/candidate.json"
fi

#!/usr/bin/env bash
# Parser throughput, side by side on one log file: mtrk's parse+correlate (postfix_parse_bench
# --file: two threads, as `mtrk-agent backfill` runs it; and --single-thread, as the tail runs it)
# vs `wc -l` vs pflogsumm, with wall time, CPU time and peak RSS (/usr/bin/time). Prints the
# figures and the ratios the goal is stated in (issue 8: within 3x of wc -l, >= 50x faster than
# pflogsumm).
#
#   bench/run_parse_bench.sh BENCH_BINARY [LOG_FILE | GENERATOR.py] [MESSAGES=1000000]
#
# The second argument is a log file, or a generator script run as `GENERATOR MESSAGES > file`
# (default: bench/gen_postfix_log.py, our own). pflogsumm comes from Debian's pflogsumm package;
# if it is missing and we are root, it is installed with apt-get. When postfix_floor_bench sits
# beside BENCH_BINARY (or FLOOR=path names it), the lower bound is timed too, stage by stage: its
# CPU seconds halved is the least wall time two cores could take (bench/postfix_floor_bench.cc).
# The file is read once by `cat` first so every tool runs from the page cache; each tool runs
# twice and the faster run counts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bench=${1:?usage: run_parse_bench.sh BENCH_BINARY [LOG_FILE|GENERATOR.py] [MESSAGES]}
source=${2:-$here/gen_postfix_log.py}
messages=${3:-1000000}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ "$source" == *.py ]]; then
  log=$work/mail.log
  echo "generating $messages messages with $source ..." >&2
  python3 "$source" "$messages" > "$log"
else
  log=$source
fi
if ! command -v pflogsumm > /dev/null; then
  if [[ $(id -u) == 0 ]]; then
    apt-get install -y -qq pflogsumm > /dev/null || true
  fi
fi
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (Debian package time)" >&2; exit 1; }

cat "$log" > /dev/null
lines=$(wc -l < "$log")
bytes=$(stat -c %s "$log")

# measure NAME CMD...: of the faster of two runs, wall seconds, peak RSS (KiB) and CPU seconds
# (user + system; on a shared machine the fairer comparison) -> $work/NAME.{s,kb,cpu}
measure() {
  local name=$1
  shift
  local best="" best_kb="" best_cpu=""
  for _ in 1 2; do
    /usr/bin/time -f '%e %M %U %S' -o "$work/$name.time" "$@" > "$work/$name.out" 2> /dev/null
    read -r s kb user sys < "$work/$name.time"
    if [[ -z "$best" ]] || awk -v a="$s" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$s
      best_kb=$kb
      best_cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
    fi
  done
  echo "$best" > "$work/$name.s"
  echo "$best_kb" > "$work/$name.kb"
  echo "$best_cpu" > "$work/$name.cpu"
}

measure wc wc -l "$log"
measure mtrk "$bench" --file="$log"
measure mtrk-1t "$bench" --single-thread --file="$log"
have_pflogsumm=0
if command -v pflogsumm > /dev/null; then
  have_pflogsumm=1
  measure pflogsumm pflogsumm "$log"
fi

floor=${FLOOR:-$(dirname "$bench")/postfix_floor_bench}
have_floor=0
if [[ -x "$floor" ]]; then
  have_floor=1
  measure floor-lines "$floor" "$log" --lines-only
  measure floor-parse "$floor" "$log" --no-events
  measure floor-events "$floor" "$log" --no-ids
  measure floor "$floor" "$log"
  measure floor-view-ids "$floor" "$log" --view-ids
fi

wc_s=$(cat "$work/wc.s")
mtrk_s=$(cat "$work/mtrk.s")
printf 'file: %s (%s lines, %s bytes)\n' "$log" "$lines" "$bytes"
printf '%-10s %10s %10s %12s %14s\n' tool wall_s cpu_s peak_rss_mb lines_per_wall_s
for name in wc mtrk mtrk-1t pflogsumm floor-lines floor-parse floor-events floor floor-view-ids; do
  [[ -f "$work/$name.s" ]] || continue
  awk -v n="$name" -v s="$(cat "$work/$name.s")" -v c="$(cat "$work/$name.cpu")" \
    -v kb="$(cat "$work/$name.kb")" -v l="$lines" \
    'BEGIN { printf "%-10s %10.2f %10.2f %12.1f %14.0f\n", n, s, c, kb / 1024, (s > 0 ? l / s : 0) }'
done
echo "mtrk: $(cat "$work/mtrk.out")"
ratio() {  # ratio LABEL A_FILE B_FILE: A / B
  awk -v label="$1" -v a="$(cat "$2")" -v b="$(cat "$3")" \
    'BEGIN { printf "%s: %.2fx\n", label, (b > 0 ? a / b : 0) }'
}
ratio "mtrk / wc -l, wall (goal <= 3x)" "$work/mtrk.s" "$work/wc.s"
ratio "mtrk / wc -l, cpu" "$work/mtrk.cpu" "$work/wc.cpu"
ratio "mtrk-1t / wc -l, cpu" "$work/mtrk-1t.cpu" "$work/wc.cpu"
ratio "mtrk / wc -l, peak RSS" "$work/mtrk.kb" "$work/wc.kb"
if [[ $have_floor == 1 ]]; then
  # Each stage's CPU seconds on top of the one before; the whole floor's on two ideal cores.
  awk -v a="$(cat "$work/floor-lines.cpu")" -v b="$(cat "$work/floor-parse.cpu")" \
    -v c="$(cat "$work/floor-events.cpu")" -v d="$(cat "$work/floor.cpu")" \
    -v v="$(cat "$work/floor-view-ids.cpu")" -v w="$(cat "$work/wc.s")" 'BEGIN {
      printf "floor cpu_s by stage: lines %.2f, +parse/correlate %.2f, +events %.2f, +ids %.2f\n",
        a, b - a, c - b, d - c
      printf "floor / wc -l, wall on two ideal cores (cpu / 2): %.2fx (budget of the goal: 3x)\n",
        (w > 0 ? d / 2 / w : 0)
      printf "floor with ids alone (no HopEvent; +%.2f cpu_s on parse/correlate) / wc -l, cpu / 2: %.2fx\n",
        v - b, (w > 0 ? v / 2 / w : 0)
    }'
fi
if [[ $have_pflogsumm == 1 ]]; then
  ratio "pflogsumm / mtrk, wall (goal >= 50x)" "$work/pflogsumm.s" "$work/mtrk.s"
  ratio "pflogsumm / mtrk, cpu" "$work/pflogsumm.cpu" "$work/mtrk.cpu"
  ratio "pflogsumm / mtrk-1t, wall" "$work/pflogsumm.s" "$work/mtrk-1t.s"
  ratio "pflogsumm / mtrk-1t, cpu" "$work/pflogsumm.cpu" "$work/mtrk-1t.cpu"
  ratio "pflogsumm / mtrk, peak RSS" "$work/pflogsumm.kb" "$work/mtrk.kb"
else
  echo "pflogsumm: not installed (apt-get install pflogsumm)"
fi

#!/usr/bin/env bash
# How `clinic-site check` and `clinic-site build` grow with the number of
# pages, against `mdbook build` on the same pages.
#
# For each size (100, 1,000 and 5,000 pages by default) benches/generate.py
# writes synthetic content in this site's format (articles of 50 pages of
# about 800 words) and the same pages as an mdBook; then each command runs
# REPEATS times (median reported) with its wall time and peak memory.
#
# Settings (environment): SIZES ("100 1000 5000"), REPEATS (3),
# MDBOOK_REPEATS_LARGEST (1: mdbook on the largest size takes minutes),
# CLINIC_BIN (skip cargo build), RESULTS (folder for the raw timings).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT

SIZES="${SIZES:-100 1000 5000}"
REPEATS="${REPEATS:-3}"
MDBOOK_REPEATS_LARGEST="${MDBOOK_REPEATS_LARGEST:-1}"

need_debian python3:python3
[ -x /usr/bin/time ] || need_debian /usr/bin/time:time
if ! command -v mdbook >/dev/null 2>&1; then
  export PATH="$HOME/.cargo/bin:$PATH"
  if ! command -v mdbook >/dev/null 2>&1; then
    log "installing mdbook with cargo (a few minutes)"
    cargo install mdbook --locked >&2
  fi
fi

BIN="$(build_release)"
bench_tmp
T="$BENCH_TMP"
RESULTS="${RESULTS:-$T/results}"
mkdir -p "$RESULTS"
TIMES="$RESULTS/scale.tsv"
printf 'pages\ttool\trun\tseconds\tmax_rss_kb\n' >"$TIMES"

cat >&2 <<EOF

$(versions)
mdbook: $(mdbook --version | awk '{print $2}')
sizes: $SIZES pages; $REPEATS runs each (mdbook on the largest: $MDBOOK_REPEATS_LARGEST)
EOF

# timed PAGES TOOL RUN CMD...: runs CMD (output to a log), records seconds
# and peak resident memory.
timed() {
  local pages="$1" tool="$2" run="$3"
  shift 3
  /usr/bin/time -f '%e %M' -o "$T/time.txt" "$@" >"$T/last.log" 2>&1 || {
    echo "$tool failed on $pages pages:" >&2
    tail -n 30 "$T/last.log" >&2
    exit 1
  }
  read -r secs rss <"$T/time.txt"
  printf '%s\t%s\t%s\t%s\t%s\n' "$pages" "$tool" "$run" "$secs" "$rss" >>"$TIMES"
  printf '  %5s pages  %-20s run %s  %8.2f s  %7.0f MB\n' "$pages" "$tool" "$run" "$secs" "$((rss / 1024))" >&2
}

largest="$(printf '%s\n' $SIZES | sort -n | tail -n1)"
for pages in $SIZES; do
  log "$pages pages"
  dir="$T/$pages"
  python3 "$BENCH_DIR/generate.py" --pages "$pages" --out "$dir/content" --mdbook "$dir/book"
  for run in $(seq "$REPEATS"); do
    timed "$pages" "clinic-site check" "$run" "$BIN" check --content "$dir/content" --static "$ROOT/static"
  done
  grep -q "No problems found" "$T/last.log" || { echo "check found problems in the generated content:" >&2; tail -n 20 "$T/last.log" >&2; exit 1; }
  for run in $(seq "$REPEATS"); do
    timed "$pages" "clinic-site build" "$run" "$BIN" build --content "$dir/content" --static "$ROOT/static" --data "$dir/no-data" --out "$dir/out"
  done
  echo "    $(tail -n1 "$T/last.log")" >&2
  runs="$REPEATS"
  [ "$pages" = "$largest" ] && runs="$MDBOOK_REPEATS_LARGEST"
  for run in $(seq "$runs"); do
    rm -rf "$dir/book-out"
    timed "$pages" "mdbook build" "$run" mdbook build "$dir/book" -d "$dir/book-out"
  done
  echo "    clinic-site export: $(du -sh "$dir/out" | cut -f1), mdbook output: $(du -sh "$dir/book-out" | cut -f1)" >&2
  rm -rf "$dir"
done

python3 - "$TIMES" <<'EOF'
import statistics, sys
from collections import defaultdict
times = defaultdict(list)
rss = defaultdict(list)
with open(sys.argv[1]) as f:
    next(f)
    for line in f:
        pages, tool, run, secs, kb = line.rstrip("\n").split("\t")
        times[(int(pages), tool)].append(float(secs))
        rss[(int(pages), tool)].append(int(kb))
sizes = sorted({p for p, _ in times})
tools = ["clinic-site check", "clinic-site build", "mdbook build"]
print()
print("Median wall time in seconds (runs), peak memory, and seconds per 1,000 pages")
print(f"{'pages':>6}  " + "  ".join(f"{t:>30}" for t in tools))
for p in sizes:
    cells = []
    for t in tools:
        v = times.get((p, t))
        if v:
            m = statistics.median(v)
            cells.append(f"{m:8.2f} s ({len(v)}) {max(rss[(p, t)]) / 1024:5.0f} MB {m / p * 1000:6.2f}/1k")
        else:
            cells.append(f"{'-':>30}")
    print(f"{p:6d}  " + "  ".join(f"{c:>30}" for c in cells))
print()
print("Growth between sizes (time ratio for the page ratio; 1.0x per page = linear)")
for a, b in zip(sizes, sizes[1:]):
    parts = []
    for t in tools:
        if (a, t) in times and (b, t) in times:
            r = statistics.median(times[(b, t)]) / statistics.median(times[(a, t)])
            parts.append(f"{t}: x{r:.1f} ({r / (b / a):.2f}x per page)")
    print(f"  {a} -> {b} pages (x{b // a}): " + "; ".join(parts))
print()
for p in sizes:
    if (p, "clinic-site build") in times and (p, "mdbook build") in times:
        print(f"  {p} pages: clinic-site build / mdbook build = x{statistics.median(times[(p, 'clinic-site build')]) / statistics.median(times[(p, 'mdbook build')]):.2f}")
big = max(sizes)
if (big, "clinic-site build") in times:
    m = statistics.median(times[(big, "clinic-site build")])
    print(f"\ngoal: {big} pages built in under 5 s: {m:.1f} s ({'met' if m < 5 else 'NOT met'})")
EOF

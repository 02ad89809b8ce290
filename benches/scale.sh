#!/usr/bin/env bash
# How `clinic-site check` and `clinic-site build` grow with the number of
# pages, against `mdbook build` on the same pages.
#
# For each size (100, 1,000 and 5,000 pages by default) benches/generate.py
# writes synthetic content in this site's format (articles of 50 pages of
# about 800 words) and the same pages as an mdBook; then each command runs
# REPEATS times (median reported) with its wall time and peak memory.
# `build` runs cold (empty data folder, so an empty cache, and no earlier
# export), then warm with nothing changed, then warm after one page's text
# was edited (the export updated in place). On the largest size `serve`
# then starts REPEATS times with a fresh data folder (empty cache) and
# REPEATS times with the builds' data folder (warm cache): time from the
# spawn to the first 200 for the home page, and resident memory then.
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
printf 'pages\ttool\trun\tseconds\tmax_rss_kb\tcpu_seconds\tload1\n' >"$TIMES"

cat >&2 <<EOF

$(versions)
mdbook: $(mdbook --version | awk '{print $2}')
sizes: $SIZES pages; $REPEATS runs each (mdbook on the largest: $MDBOOK_REPEATS_LARGEST)
EOF

# timed PAGES TOOL RUN CMD...: runs CMD (output to a log), records wall
# seconds, peak resident memory, CPU seconds (user + system: unlike wall
# time, it does not change when other work takes a core, and it shows how
# much of the work ran in parallel) and the load average before the run.
timed() {
  local pages="$1" tool="$2" run="$3"
  shift 3
  local load
  load="$(cut -d' ' -f1 /proc/loadavg)"
  /usr/bin/time -f '%e %M %U %S' -o "$T/time.txt" "$@" >"$T/last.log" 2>&1 || {
    echo "$tool failed on $pages pages:" >&2
    tail -n 30 "$T/last.log" >&2
    exit 1
  }
  local secs rss user sys cpu
  read -r secs rss user sys <"$T/time.txt"
  cpu="$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f", u + s}')"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$pages" "$tool" "$run" "$secs" "$rss" "$cpu" "$load" >>"$TIMES"
  printf '  %5s pages  %-20s run %s  %8.2f s wall  %8.2f s CPU  %6.0f MB  (load %s)\n' "$pages" "$tool" "$run" "$secs" "$cpu" "$((rss / 1024))" "$load" >&2
}

STARTS_FILE="$RESULTS/serve-starts.tsv"
printf 'pages\tkind\trun\tms\trss_kb\n' >"$STARTS_FILE"

# serve_start PAGES KIND RUN DATA CONTENT: starts `serve`, polls the home
# page every 10 ms until it answers 200, records the time and VmRSS, stops it.
serve_start() {
  local pages="$1" kind="$2" run="$3" data="$4" content="$5" port start pid ms rss
  port="$(free_port)"
  start="$(date +%s%N)"
  "$BIN" serve --addr "127.0.0.1:$port" --content "$content" --static "$ROOT/static" --data "$data" >"$T/serve.log" 2>&1 &
  pid=$!
  BENCH_PIDS+=("$pid")
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/" || true)" = "200" ]; do
    kill -0 "$pid" 2>/dev/null || { echo "serve stopped while starting:" >&2; tail -n 20 "$T/serve.log" >&2; exit 1; }
    sleep 0.01
  done
  ms=$((($(date +%s%N) - start) / 1000000))
  rss="$(rss_kb "$pid")"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  printf '%s\t%s\t%s\t%s\t%s\n' "$pages" "$kind" "$run" "$ms" "$rss" >>"$STARTS_FILE"
  printf '  %5s pages  serve, %-17s run %s  %8.2f s to the first 200  %6.0f MB resident\n' \
    "$pages" "$kind" "$run" "$(awk -v m="$ms" 'BEGIN {print m / 1000}')" "$((rss / 1024))" >&2
}

largest="$(printf '%s\n' $SIZES | sort -n | tail -n1)"
for pages in $SIZES; do
  log "$pages pages"
  dir="$T/$pages"
  python3 "$BENCH_DIR/generate.py" --pages "$pages" --out "$dir/content" --mdbook "$dir/book"
  for run in $(seq "$REPEATS"); do
    timed "$pages" "clinic-site check" "$run" "$BIN" check --content "$dir/content" --static "$ROOT/static"
  done
  # Generated pages carry no clinical review (only a reviewer's sign-off
  # may claim one), so `check` warns about each: errors are what stop a run.
  if grep -qE "[0-9]+ errors? " "$T/last.log"; then
    echo "check found errors in the generated content:" >&2; tail -n 20 "$T/last.log" >&2; exit 1
  fi
  build_args=(build --allow-placeholders --content "$dir/content" --static "$ROOT/static" --data "$dir/data" --out "$dir/out")
  # Cold: an empty cache and no earlier export.
  for run in $(seq "$REPEATS"); do
    rm -rf "$dir/data" "$dir/out"
    mkdir -p "$dir/data"
    timed "$pages" "clinic-site build" "$run" "$BIN" "${build_args[@]}"
  done
  echo "    $(tail -n1 "$T/last.log")" >&2
  # Warm: the cache and export of the last cold run, nothing changed; then
  # one page's text edited before each run (a different page each time).
  for run in $(seq "$REPEATS"); do
    timed "$pages" "build, warm" "$run" "$BIN" "${build_args[@]}"
  done
  for run in $(seq "$REPEATS"); do
    page="$(find "$dir/content" -name 'section-*.md' | sort | sed -n "${run}p")"
    sed -i "0,/your /s//our /" "$page"
    timed "$pages" "build, 1 page edited" "$run" "$BIN" "${build_args[@]}"
  done
  echo "    $(tail -n1 "$T/last.log")" >&2
  if [ "$pages" = "$largest" ]; then
    for run in $(seq "$REPEATS"); do
      rm -rf "$dir/serve-data"
      serve_start "$pages" "empty cache" "$run" "$dir/serve-data" "$dir/content"
    done
    for run in $(seq "$REPEATS"); do
      serve_start "$pages" "warm cache" "$run" "$dir/data" "$dir/content"
    done
  fi
  runs="$REPEATS"
  [ "$pages" = "$largest" ] && runs="$MDBOOK_REPEATS_LARGEST"
  for run in $(seq "$runs"); do
    rm -rf "$dir/book-out"
    timed "$pages" "mdbook build" "$run" mdbook build "$dir/book" -d "$dir/book-out"
  done
  echo "    clinic-site export: $(du -sh "$dir/out" | cut -f1), mdbook output: $(du -sh "$dir/book-out" | cut -f1)" >&2
  rm -rf "$dir"
done

python3 - "$TIMES" "$STARTS_FILE" <<'EOF'
import statistics, sys
from collections import defaultdict
wall, cpu, rss, load = defaultdict(list), defaultdict(list), defaultdict(list), []
with open(sys.argv[1]) as f:
    next(f)
    for line in f:
        pages, tool, run, secs, kb, cpus, load1 = line.rstrip("\n").split("\t")
        key = (int(pages), tool)
        wall[key].append(float(secs))
        cpu[key].append(float(cpus))
        rss[key].append(int(kb))
        load.append(float(load1))
med = lambda d, k: statistics.median(d[k])
sizes = sorted({p for p, _ in wall})
tools = ["clinic-site check", "clinic-site build", "build, warm", "build, 1 page edited", "mdbook build"]
print()
print("Median wall time and CPU time (user + system) in seconds, number of runs, peak memory")
print(f"{'pages':>6}  {'tool':20} {'wall s':>8} {'CPU s':>8} {'runs':>4} {'MB':>6} {'wall s/1k pages':>15} {'CPU s/1k pages':>14}")
for p in sizes:
    for t in tools:
        k = (p, t)
        if k in wall:
            print(f"{p:6d}  {t:20} {med(wall, k):8.2f} {med(cpu, k):8.2f} {len(wall[k]):4d} {max(rss[k]) / 1024:6.0f} "
                  f"{med(wall, k) / p * 1000:15.2f} {med(cpu, k) / p * 1000:14.2f}")
print()
print("Growth between sizes: time ratio for the page ratio (x1.00 per page = linear)")
for a, b in zip(sizes, sizes[1:]):
    for t in tools:
        if (a, t) in wall and (b, t) in wall:
            w = med(wall, (b, t)) / max(med(wall, (a, t)), 0.01)
            c = med(cpu, (b, t)) / max(med(cpu, (a, t)), 0.01)
            print(f"  {a:5d} -> {b:5d} pages (x{b // a:2d})  {t:18} wall x{w:5.1f} ({w / (b / a):.2f} per page)   CPU x{c:5.1f} ({c / (b / a):.2f} per page)")
print()
for p in sizes:
    if (p, "clinic-site build") in wall and (p, "mdbook build") in wall:
        print(f"  {p:5d} pages: clinic-site build / mdbook build: wall x{med(wall, (p, 'clinic-site build')) / med(wall, (p, 'mdbook build')):.2f}, "
              f"CPU x{med(cpu, (p, 'clinic-site build')) / max(med(cpu, (p, 'mdbook build')), 0.01):.2f}")
print(f"\nload average before the runs: median {statistics.median(load):.2f}, max {max(load):.2f} (2 cores; the build uses both, so other work slows its wall time)")
big = max(sizes)
if (big, "clinic-site build") in wall:
    m = med(wall, (big, "clinic-site build"))
    print(f"goal: {big} pages, cold build (empty cache) in <= 10 s: {m:.1f} s wall ({'met' if m <= 10 else 'NOT met'})")
if (big, "build, 1 page edited") in wall:
    m = med(wall, (big, "build, 1 page edited"))
    print(f"goal: {big} pages, warm rebuild after editing one page in <= 1 s: {m:.1f} s wall ({'met' if m <= 1 else 'NOT met'})")
starts = defaultdict(list)
with open(sys.argv[2]) as f:
    next(f)
    for line in f:
        pages, kind, run, ms, kb = line.rstrip("\n").split("\t")
        starts[(int(pages), kind)].append((int(ms), int(kb)))
for (pages, kind), values in sorted(starts.items()):
    s = statistics.median(ms for ms, _ in values) / 1000
    mb = statistics.median(kb for _, kb in values) / 1024
    print(f"goal: {pages} pages, serve start-up with {kind}: median {s:.1f} s to the first 200 "
          f"({min(ms for ms, _ in values) / 1000:.1f}-{max(ms for ms, _ in values) / 1000:.1f} s), "
          f"{mb:.0f} MB resident ({'met' if mb < 250 else 'NOT met'}: goal < 250 MB)")
EOF

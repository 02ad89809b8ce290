#!/usr/bin/env bash
# Every benchmark, in order, with one command:
#
#   benches/run-all.sh
#
# 1. serve-vs-nginx.sh  throughput, CPU and latency against nginx (both
#                       logging) on one core and on two, memory, start-up
# 2. scale.sh           check/build time for 100, 1,000 and 5,000 pages vs mdbook
# 3. cargo bench        criterion: render, Site::load, compression, cards
# 4. soak.sh            60 s at 256 connections plus malformed and slow clients
# 5. fair-share.py      one client holding 1,100 connections, another served
# 6. cargo bench        dynamic pages compressed: cost per form page
# 7. lighthouse.sh      Lighthouse scores and page weight
# 8. reload-latency.py  time from saving a content file to the new text served
# 9. cargo bench        the page editor: preview latency, save to live
#
# The release binary is built once and used by every step (CLINIC_BIN), so
# edits made while the benchmarks run do not change what is measured.
# Output goes to the terminal and to benches/results/<date>/ (ignored by git):
# one log per step plus the raw wrk, timing and Lighthouse files.
# Takes about 45 minutes on 2 cores (estimated: the serving comparison now
# runs on one core and on two, and the new steps were timed alone).
# Environment settings of each script pass through (ROUNDS, DURATION, SIZES,
# REPEATS, RUNS, ...); SKIP="scale lighthouse" leaves steps out.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# Everything below is one function, read whole before it runs: bash reads a
# script as it goes, so an edit to this file during a long run would
# otherwise break it.
main() {
SKIP="${SKIP:-}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="${OUT:-$BENCH_DIR/results/$STAMP}"
mkdir -p "$OUT"

export CLINIC_BIN="${CLINIC_BIN:-$(build_release)}"
# A private copy, so a rebuild by someone else mid-run changes nothing.
cp "$CLINIC_BIN" "$OUT/clinic-site"
export CLINIC_BIN="$OUT/clinic-site"

{
  echo "# Machine and versions ($STAMP)"
  versions
  echo "rustc: $(rustc --version)"
  echo "nginx: $(nginx -v 2>&1 | sed 's/.*version: //' || echo 'not installed yet')"
  echo "wrk: $( (wrk -v 2>&1 || true) | head -n1 | awk '{print $2}')"
  echo "mdbook: $( (mdbook --version || "$HOME/.cargo/bin/mdbook" --version) 2>/dev/null | awk '{print $2}')"
  echo "chromium: $(chromium --version 2>/dev/null | head -n1)"
  echo "node: $(node --version 2>/dev/null)"
  echo "python: $(python3 --version)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt"

step() {
  local name="$1"
  shift
  case " $SKIP " in *" $name "*) echo "skipping $name" ; return 0 ;; esac
  log "[$name] $*"
  local start=$SECONDS rc=0
  mkdir -p "$OUT/$name"
  RESULTS="$OUT/$name" "$@" 2>&1 | tee "$OUT/$name.log" || rc=$?
  echo "[$name] finished in $((SECONDS - start)) s with exit code $rc" | tee -a "$OUT/$name.log"
  FAILED+=$([ "$rc" -eq 0 ] || echo " $name")
}

FAILED=""
START_COMMIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || true)"
step serve-vs-nginx "$BENCH_DIR/serve-vs-nginx.sh"
step scale "$BENCH_DIR/scale.sh"
# Criterion compiles the library from the working tree (not the copied binary).
step criterion bash -c 'cd "$0" && git log -1 --format="commit: %h %s" && cargo bench --bench render -- --noplot' "$ROOT"
step soak "$BENCH_DIR/soak.sh"
step fair-share python3 "$BENCH_DIR/fair-share.py" "$CLINIC_BIN" "$ROOT/content" "$ROOT/static"
step dynamic bash -c 'cd "$0" && git log -1 --format="commit: %h %s" && cargo bench --bench dynamic' "$ROOT"
step lighthouse "$BENCH_DIR/lighthouse.sh"
step reload-latency python3 "$BENCH_DIR/reload-latency.py" "$CLINIC_BIN"
step editor bash -c 'cd "$0" && git log -1 --format="commit: %h %s" && cargo bench --bench editor' "$ROOT"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
END_COMMIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || true)"
if [ "$START_COMMIT" != "$END_COMMIT" ]; then
  echo "warning: HEAD moved from $START_COMMIT to $END_COMMIT during the run; the criterion step compiled the tree as it was then" | tee -a "$OUT/machine.txt"
fi

echo
echo "All output: $OUT"
if [ -n "$FAILED" ]; then
  echo "steps that failed or missed a hard check (zero errors, server up):$FAILED"
  exit 1
fi
}

main "$@"

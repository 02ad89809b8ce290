#!/usr/bin/env bash
# Lighthouse (mobile, the default form factor and throttling) against the
# article index and a section page served by `clinic-site serve`, in
# headless Chromium; prints the four category scores (median of RUNS runs),
# every audit that did not pass, and what the page loaded. Then the page
# weight of every page (benches/page_weight.py).
#
# Lighthouse 12 is installed with npm into benches/.tools/ (13 needs
# Node 22). Settings (environment): RUNS (3), PAGES ("/dry-needling/
# /dry-needling/safety/"), CHROME_PATH (/usr/bin/chromium), CLINIC_BIN,
# RESULTS. Everything targets 127.0.0.1 and stops by itself.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT

RUNS="${RUNS:-3}"
PAGES="${PAGES:-/dry-needling/ /dry-needling/safety/}"
need_debian node:nodejs npm:npm curl:curl python3:python3
if [ -z "${CHROME_PATH:-}" ]; then
  need_debian chromium:chromium
  CHROME_PATH="$(command -v chromium)"
fi
export CHROME_PATH

LH_DIR="$BENCH_DIR/.tools/lighthouse"
LH="$LH_DIR/node_modules/.bin/lighthouse"
if [ ! -x "$LH" ] || ! "$LH" --version | grep -q '^12\.'; then
  log "installing lighthouse@12 with npm into $LH_DIR"
  mkdir -p "$LH_DIR"
  [ -f "$LH_DIR/package.json" ] || echo '{"private": true, "description": "benchmark tools, installed by benches/lighthouse.sh"}' >"$LH_DIR/package.json"
  npm install --prefix "$LH_DIR" --no-audit --no-fund --loglevel=error lighthouse@12 >&2
fi

BIN="$(build_release)"
bench_tmp
T="$BENCH_TMP"
RESULTS="${RESULTS:-$T/results}"
mkdir -p "$RESULTS" "$T/data" "$T/lh"
PORT="$(free_port)"
start_clinic "$BIN" "$PORT" "$ROOT/content" "$ROOT/static" "$T/data" "$T/server.log"

cat >&2 <<EOF

$(versions)
lighthouse: $("$LH" --version), chromium: $("$CHROME_PATH" --version 2>/dev/null | head -n1), node: $(node --version)
pages: $PAGES ($RUNS runs each, mobile)
EOF

FLAGS="--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --disable-background-networking --disable-component-update --disable-sync"
for page in $PAGES; do
  name="$(echo "$page" | tr -c 'a-z0-9\n' '-' | sed 's/^-*//; s/-*$//')"
  [ -n "$name" ] || name="home"
  for run in $(seq "$RUNS"); do
    # Bounded: a hung browser is killed after 3 minutes. Lighthouse now and
    # then fails to record a trace (NO_NAVSTART) on a busy machine: up to
    # three attempts per run, and the retries are reported.
    for attempt in 1 2 3; do
      log "lighthouse $page (run $run, attempt $attempt)"
      if timeout 180 "$LH" "http://127.0.0.1:$PORT$page" --quiet --output=json --output-path="$T/lh/$name-$run.json" \
        --chrome-flags="$FLAGS" --only-categories=performance,accessibility,best-practices,seo >&2; then
        break
      fi
      rm -f "$T/lh/$name-$run.json"
      [ "$attempt" -lt 3 ] || { echo "lighthouse failed 3 times on $page" >&2; exit 1; }
      echo "lighthouse failed on $page (attempt $attempt); trying again" >&2
    done
  done
done
cp "$T"/lh/*.json "$RESULTS/" 2>/dev/null || true

python3 - "$T/lh" <<'EOF'
import glob, json, os, statistics, sys
from collections import defaultdict
reports = defaultdict(list)
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    with open(path) as f:
        r = json.load(f)
    reports[r["requestedUrl"]].append(r)
cats = ["performance", "accessibility", "best-practices", "seo"]
print()
print("Lighthouse 12, mobile: median score per category (all runs in brackets)")
all_perfect = True
for url, runs in reports.items():
    scores = {c: [round(r["categories"][c]["score"] * 100) for r in runs] for c in cats}
    med = {c: statistics.median(v) for c, v in scores.items()}
    all_perfect &= all(m == 100 for m in med.values())
    print(f"  {url.split('/', 3)[-1] and '/' + url.split('/', 3)[-1] or '/'}")
    print("    " + "   ".join(f"{c} {med[c]:.0f} {scores[c]}" for c in cats))
    # Audits below a full score in any run, with their category.
    failed = {}
    for r in runs:
        for c in cats:
            for ref in r["categories"][c]["auditRefs"]:
                a = r["audits"][ref["id"]]
                if a.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings") and a.get("score") is not None and a["score"] < 1:
                    key = (c, ref["id"], ref.get("weight", 0))
                    failed.setdefault(key, []).append((a["score"], a.get("displayValue", ""), a["title"]))
    for weighted, label in ((True, "scored audits below a full score"), (False, "unscored insights/diagnostics flagged (weight 0: no effect on the score)")):
        rows = {k: v for k, v in failed.items() if (k[2] > 0) == weighted}
        if rows:
            print(f"    {label} (runs flagged / runs):")
            for (c, audit, weight), hits in sorted(rows.items()):
                score, value, title = hits[0]
                print(f"      {c:15} {audit:32} {len(hits)}/{len(runs)}  score {score:.2f}  {value}  ({title})")
        elif weighted:
            print(f"    {label}: none")
    metrics = runs[0]["audits"]
    med_metric = lambda k: statistics.median(r["audits"][k]["numericValue"] for r in runs)
    print(f"    metrics (median): FCP {med_metric('first-contentful-paint'):.0f} ms, LCP {med_metric('largest-contentful-paint'):.0f} ms, "
          f"TBT {med_metric('total-blocking-time'):.0f} ms, CLS {med_metric('cumulative-layout-shift'):.3f}, SI {med_metric('speed-index'):.0f} ms")
    reqs = runs[0]["audits"]["network-requests"]["details"]["items"]
    origins = sorted({i["url"].split("/")[2] for i in reqs if i["url"].startswith("http")})
    print(f"    network (first run): {len(reqs)} requests, {sum(i.get('transferSize', 0) for i in reqs)} bytes transferred, origins {origins}")
    for i in reqs:
        print(f"      {i.get('transferSize', 0):7d} B  {i.get('resourceType', '?'):11} {i['url'].split('/', 3)[-1]}")
print()
print(f"goal: 100 in every category on every page: {'met' if all_perfect else 'NOT met'}")
EOF

log "page weight"
python3 "$BENCH_DIR/page_weight.py" --port "$PORT"

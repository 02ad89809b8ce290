#!/usr/bin/env bash
# `clinic-site serve` against nginx serving the same site's static export
# (`clinic-site build`), side by side: wrk runs against one and then the
# other, alternately, for several rounds; same pages, connections, threads
# and CPU pinning (each server on CPU 1, wrk on CPU 0).
#
# Variants per round:
#   identity   no Accept-Encoding                       nginx and clinic-site
#   gzip       Accept-Encoding: gzip                    nginx and clinic-site
#   br         Accept-Encoding: br, gzip                clinic-site (nginx has only gzip_static)
#   gzip-quiet Accept-Encoding: gzip, RUST_LOG=warn     clinic-site without its per-request log line
#
# Then: resident memory after the load, and start-up time to the first 200.
#
# Settings (environment): ROUNDS (5), DURATION seconds (10), CONNECTIONS (64),
# THREADS (2), STARTS (10), CLINIC_BIN (skip cargo build), RESULTS (folder
# to keep the raw wrk output in).
# Everything targets 127.0.0.1 and stops by itself.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT

ROUNDS="${ROUNDS:-5}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
STARTS="${STARTS:-10}"

need_debian wrk:wrk nginx:nginx curl:curl taskset:util-linux python3:python3
[ "$(nproc)" -ge 2 ] || { echo "needs at least 2 CPUs for the pinning (server on 1, wrk on 0)" >&2; exit 1; }

BIN="$(build_release)"
bench_tmp
T="$BENCH_TMP"
RESULTS="${RESULTS:-$T/results}"
mkdir -p "$RESULTS" "$T/data" "$T/data-quiet"

log "exporting the site with clinic-site build"
"$BIN" build --allow-placeholders --content "$ROOT/content" --static "$ROOT/static" --data "$T/no-data" --out "$T/export" >&2
chmod -R a+rX "$T/export"

NGINX_PORT="$(free_port)"
write_nginx_conf "$T/nginx" "$NGINX_PORT" "$T/export"
start_nginx "$T/nginx" "$NGINX_PORT"
CLINIC_PORT="$(free_port)"
start_clinic "$BIN" "$CLINIC_PORT" "$ROOT/content" "$ROOT/static" "$T/data" /dev/null
CLINIC_MAIN_PID="$CLINIC_PID"
QUIET_PORT="$(free_port)"
RUST_LOG=warn start_clinic "$BIN" "$QUIET_PORT" "$ROOT/content" "$ROOT/static" "$T/data-quiet" /dev/null
CLINIC_QUIET_PID="$CLINIC_PID"
RSS_IDLE_KB="$(rss_kb "$CLINIC_MAIN_PID")"

CSS="$(asset_urls "http://127.0.0.1:$CLINIC_PORT/dry-needling/safety/" | grep '\.css$' | head -n1)"
[ -n "$CSS" ] || { echo "no fingerprinted stylesheet found in the page" >&2; exit 1; }
export WRK_PATHS="/ /dry-needling/ /dry-needling/safety/ /dry-needling/what-to-expect/ $CSS"

# Both servers must send the same pages: compare the decoded bodies.
for path in $WRK_PATHS; do
  a="$(curl -s --compressed "http://127.0.0.1:$NGINX_PORT$path" | sha256sum)"
  b="$(curl -s --compressed "http://127.0.0.1:$CLINIC_PORT$path" | sha256sum)"
  [ "$a" = "$b" ] || { echo "nginx and clinic-site send different bytes for $path" >&2; exit 1; }
done

cat >&2 <<EOF

$(versions)
nginx: $(nginx -v 2>&1 | sed 's/.*version: //'), wrk: $( (wrk -v 2>&1 || true) | head -n1 | awk '{print $2}')
pages: $WRK_PATHS
wrk: -t$THREADS -c$CONNECTIONS -d${DURATION}s on CPU 0; servers on CPU 1; $ROUNDS rounds, order reversed every other round
EOF

RUNS="$RESULTS/serve-vs-nginx.tsv"
printf 'round\tserver\tvariant\tload1\tcpu_s\t%s\n' "result" >"$RUNS"

# run_wrk ROUND NAME VARIANT PORT PID [HEADER]
run_wrk() {
  local round="$1" name="$2" variant="$3" port="$4" pid="$5" header="${6:-}"
  local args=(-t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$BENCH_DIR/wrk/pages.lua")
  [ -n "$header" ] && args+=(-H "$header")
  local before after out load
  load="$(cut -d' ' -f1 /proc/loadavg)"
  before="$(cpu_ticks_tree "$pid")"
  out="$(taskset -c 0 wrk "${args[@]}" "http://127.0.0.1:$port/")"
  after="$(cpu_ticks_tree "$pid")"
  printf '%s\n' "$out" >"$RESULTS/wrk-r$round-$name-$variant.txt"
  local result
  result="$(printf '%s\n' "$out" | grep '^RESULT ' | sed 's/^RESULT //')"
  [ -n "$result" ] || { echo "wrk printed no RESULT line:" >&2; printf '%s\n' "$out" >&2; exit 1; }
  local cpu
  cpu="$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}')"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$variant" "$load" "$cpu" "$result" >>"$RUNS"
  printf '  round %s %-12s %-10s %s\n' "$round" "$name" "$variant" \
    "$(printf '%s\n' "$result" | awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]} printf "%9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  server CPU %5.2f s  errors %d  non-2xx %d", v["rps"], v["p50_us"]/1000, v["p99_us"]/1000, '"$cpu"', v["err_connect"]+v["err_read"]+v["err_write"]+v["err_timeout"], v["non2xx3xx"]+v["s3xx"]+v["s4xx"]+v["s5xx"]}')" >&2
}

JOBS=(
  "nginx identity $NGINX_PORT $NGINX_PID"
  "clinic-site identity $CLINIC_PORT $CLINIC_MAIN_PID"
  "nginx gzip $NGINX_PORT $NGINX_PID gzip"
  "clinic-site gzip $CLINIC_PORT $CLINIC_MAIN_PID gzip"
  "clinic-site br $CLINIC_PORT $CLINIC_MAIN_PID br,_gzip"
  "clinic-site gzip-quiet $QUIET_PORT $CLINIC_QUIET_PID gzip"
)

log "warming up (2 s each)"
for port in "$NGINX_PORT" "$CLINIC_PORT" "$QUIET_PORT"; do
  taskset -c 0 wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s "$BENCH_DIR/wrk/pages.lua" "http://127.0.0.1:$port/" >/dev/null
done

log "load: $ROUNDS rounds x ${#JOBS[@]} runs x ${DURATION}s"
for round in $(seq "$ROUNDS"); do
  order=("${JOBS[@]}")
  if [ $((round % 2)) -eq 0 ]; then
    order=()
    for ((i = ${#JOBS[@]} - 1; i >= 0; i--)); do order+=("${JOBS[$i]}"); done
  fi
  for job in "${order[@]}"; do
    read -r name variant port pid enc <<<"$job"
    header=""
    [ -n "${enc:-}" ] && header="Accept-Encoding: ${enc//_/ }"
    run_wrk "$round" "$name" "$variant" "$port" "$pid" "$header"
  done
done

RSS_AFTER_KB="$(rss_kb "$CLINIC_MAIN_PID")"
RSS_QUIET_KB="$(rss_kb "$CLINIC_QUIET_PID")"
NGINX_RSS_KB="$(rss_tree_kb "$NGINX_PID")"
kill -0 "$CLINIC_MAIN_PID" && kill -0 "$NGINX_PID"

log "start-up time to the first 200 for /dry-needling/safety/ ($STARTS starts of each kind)"
STARTUP="$(python3 "$BENCH_DIR/startup.py" "$BIN" "$ROOT/content" "$ROOT/static" --runs "$STARTS" | tee /dev/stderr | grep '^STARTUP ')"

python3 - "$RUNS" "$RSS_IDLE_KB" "$RSS_AFTER_KB" "$RSS_QUIET_KB" "$NGINX_RSS_KB" "$STARTUP" <<'EOF'
import statistics, sys
runs_file, rss_idle, rss_after, rss_quiet, nginx_rss, startup = sys.argv[1:7]
rows = []
with open(runs_file) as f:
    next(f)
    for line in f:
        rnd, server, variant, load, cpu, result = line.rstrip("\n").split("\t")
        kv = dict(item.split("=", 1) for item in result.split())
        rows.append(dict(server=server, variant=variant, load=float(load), cpu=float(cpu), **kv))

def runs(server, variant):
    return [r for r in rows if r["server"] == server and r["variant"] == variant]

def med(server, variant, key, scale=1.0):
    vals = [float(r[key]) / scale for r in runs(server, variant)]
    return statistics.median(vals) if vals else float("nan")

def per_cpu(server, variant):
    vals = [float(r["requests"]) / r["cpu"] for r in runs(server, variant) if r["cpu"] > 0]
    return statistics.median(vals) if vals else float("nan")

errors = sum(int(r[k]) for r in rows for k in ("err_connect", "err_read", "err_write", "err_timeout"))
bad = sum(int(r[k]) for r in rows for k in ("non2xx3xx", "s1xx", "s3xx", "s4xx", "s5xx"))
total = sum(int(r["requests"]) for r in rows)

print()
print("Medians over rounds (req/s, latency in ms; CPU = seconds of server CPU per run; req/CPU-s = requests per second of server CPU)")
print(f"{'server':12} {'variant':11} {'req/s':>9} {'p50':>7} {'p99':>7} {'bytes/resp':>10} {'CPU s':>6} {'req/CPU-s':>10} {'rounds':>6}")
for server, variant in [("nginx", "identity"), ("clinic-site", "identity"), ("nginx", "gzip"), ("clinic-site", "gzip"),
                        ("clinic-site", "br"), ("clinic-site", "gzip-quiet")]:
    n = len(runs(server, variant))
    print(f"{server:12} {variant:11} {med(server, variant, 'rps'):9.0f} {med(server, variant, 'p50_us', 1000):7.2f} "
          f"{med(server, variant, 'p99_us', 1000):7.2f} {med(server, variant, 'bytes_per_response'):10.0f} "
          f"{statistics.median([r['cpu'] for r in runs(server, variant)]):6.2f} {per_cpu(server, variant):10.0f} {n:6d}")

print()
print("clinic-site / nginx (goal: req/s ratio >= 1.0, p99 ratio <= 1.5)")
for variant, mine in [("identity", "identity"), ("gzip", "gzip"), ("gzip", "br"), ("gzip", "gzip-quiet")]:
    rps = med("clinic-site", mine, "rps") / med("nginx", variant, "rps")
    p99 = med("clinic-site", mine, "p99_us") / med("nginx", variant, "p99_us")
    eff = per_cpu("clinic-site", mine) / per_cpu("nginx", variant)
    label = f"clinic-site {mine} vs nginx {variant}"
    print(f"  {label:40} req/s x{rps:.2f} ({'met' if rps >= 1 else 'NOT met'})   p99 x{p99:.2f} ({'met' if p99 <= 1.5 else 'NOT met'})   req per CPU-second x{eff:.2f}")
print()
print(f"errors: {errors} socket errors, {bad} responses other than 2xx, over {len(rows)} runs and {total} requests ({'met' if errors == 0 and bad == 0 else 'NOT met'})")
rss_mb = int(rss_after) / 1024
print(f"memory: clinic-site VmRSS {int(rss_idle) / 1024:.1f} MB idle, {rss_mb:.1f} MB after the load ({'met' if rss_mb < 30 else 'NOT met'}: goal < 30 MB); "
      f"quiet-log instance {int(rss_quiet) / 1024:.1f} MB; nginx master+worker {int(nginx_rss) / 1024:.1f} MB")
kv = dict(item.split("=", 1) for item in startup.split()[1:])
ms = float(kv["median_reused_ms"])
print(f"start-up to first 200: median {kv['median_reused_ms']} ms (existing data folder), {kv['median_fresh_ms']} ms (fresh data folder) "
      f"({'met' if max(ms, float(kv['median_fresh_ms'])) < 100 else 'NOT met'}: goal < 100 ms)")
print(f"load average during the runs: median {statistics.median(r['load'] for r in rows):.2f} (2 cores; above ~2 means other work shared the machine)")
if errors or bad:
    sys.exit(1)
EOF
echo "raw wrk output: $RESULTS" >&2

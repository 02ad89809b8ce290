#!/usr/bin/env bash
# `clinic-site serve` against nginx serving the same site's static export
# (`clinic-site build`), side by side: wrk runs against one and then the
# other, alternately, for several rounds; same pages, connections, threads
# and CPU pinning. Both servers write an access log to a file: nginx through
# a 64 KB buffer (`access_log ... buffer=64k`), clinic-site through its
# buffered log writer.
#
# Two phases:
#   1 core   each server on CPU 1 (nginx: one worker; clinic-site: one tokio
#            worker thread), wrk on CPU 0
#   2 cores  each server on CPUs 0-1 (nginx: two workers; clinic-site: two
#            worker threads), wrk sharing the same two CPUs
#
# Variants per round:
#   identity   no Accept-Encoding                       nginx and clinic-site
#   gzip       Accept-Encoding: gzip                    nginx and clinic-site
#   br         Accept-Encoding: br, gzip                clinic-site (nginx has only gzip_static)
#   gzip-quiet Accept-Encoding: gzip, RUST_LOG=warn     clinic-site without its access log (1 core)
#
# Then: resident memory after the load, and start-up time to the first 200.
#
# Settings (environment): ROUNDS (5), DURATION seconds (10), CONNECTIONS (64),
# THREADS (2), STARTS (10), PHASES ("1 2"), CLINIC_BIN (skip cargo build),
# RESULTS (folder to keep the raw wrk output in).
# Everything targets 127.0.0.1 and stops by itself.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT

ROUNDS="${ROUNDS:-5}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
STARTS="${STARTS:-10}"
PHASES="${PHASES:-1 2}"

need_debian wrk:wrk nginx:nginx curl:curl taskset:util-linux python3:python3
[ "$(nproc)" -ge 2 ] || { echo "needs at least 2 CPUs for the pinning (server on 1, wrk on 0)" >&2; exit 1; }

BIN="$(build_release)"
bench_tmp
T="$BENCH_TMP"
RESULTS="${RESULTS:-$T/results}"
mkdir -p "$RESULTS"

log "exporting the site with clinic-site build"
"$BIN" build --allow-placeholders --content "$ROOT/content" --static "$ROOT/static" --data "$T/no-data" --out "$T/export" >&2
chmod -R a+rX "$T/export"

RUNS="$RESULTS/serve-vs-nginx.tsv"
printf 'cores\tround\tserver\tvariant\tload1\tcpu_s\t%s\n' "result" >"$RUNS"

# run_wrk CORES WRK_CPUS ROUND NAME VARIANT PORT PID [HEADER]
run_wrk() {
  local cores="$1" wrk_cpus="$2" round="$3" name="$4" variant="$5" port="$6" pid="$7" header="${8:-}"
  local args=(-t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$BENCH_DIR/wrk/pages.lua")
  [ -n "$header" ] && args+=(-H "$header")
  local before after out load
  load="$(cut -d' ' -f1 /proc/loadavg)"
  before="$(cpu_ticks_tree "$pid")"
  out="$(taskset -c "$wrk_cpus" wrk "${args[@]}" "http://127.0.0.1:$port/")"
  after="$(cpu_ticks_tree "$pid")"
  printf '%s\n' "$out" >"$RESULTS/wrk-c$cores-r$round-$name-$variant.txt"
  local result
  result="$(printf '%s\n' "$out" | grep '^RESULT ' | sed 's/^RESULT //')"
  [ -n "$result" ] || { echo "wrk printed no RESULT line:" >&2; printf '%s\n' "$out" >&2; exit 1; }
  local cpu
  cpu="$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}')"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cores" "$round" "$name" "$variant" "$load" "$cpu" "$result" >>"$RUNS"
  printf '  %s core(s) round %s %-12s %-10s %s\n' "$cores" "$round" "$name" "$variant" \
    "$(printf '%s\n' "$result" | awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]} printf "%9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  server CPU %5.2f s  errors %d  non-2xx %d", v["rps"], v["p50_us"]/1000, v["p99_us"]/1000, '"$cpu"', v["err_connect"]+v["err_read"]+v["err_write"]+v["err_timeout"], v["non2xx3xx"]+v["s3xx"]+v["s4xx"]+v["s5xx"]}')" >&2
}

stop() {
  kill "$1" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
}

# phase CORES SERVER_CPUS WRK_CPUS: starts both servers on SERVER_CPUS, runs
# every round against them, stops them.
phase() {
  local cores="$1" server_cpus="$2" wrk_cpus="$3"
  local dir="$T/c$cores"
  mkdir -p "$dir/data" "$dir/data-quiet"
  local nginx_port clinic_port quiet_port clinic_pid quiet_pid=""
  nginx_port="$(free_port)"
  write_nginx_conf "$dir/nginx" "$nginx_port" "$T/export" "$cores"
  start_nginx "$dir/nginx" "$nginx_port" "$server_cpus"
  clinic_port="$(free_port)"
  start_clinic "$BIN" "$clinic_port" "$ROOT/content" "$ROOT/static" "$dir/data" "$dir/clinic.log" "$server_cpus"
  clinic_pid="$CLINIC_PID"
  [ "$cores" != 1 ] || RSS_IDLE_KB="$(rss_kb "$clinic_pid")"
  local jobs=(
    "nginx identity $nginx_port $NGINX_PID"
    "clinic-site identity $clinic_port $clinic_pid"
    "nginx gzip $nginx_port $NGINX_PID gzip"
    "clinic-site gzip $clinic_port $clinic_pid gzip"
    "clinic-site br $clinic_port $clinic_pid br,_gzip"
  )
  if [ "$cores" = 1 ]; then
    quiet_port="$(free_port)"
    RUST_LOG=warn start_clinic "$BIN" "$quiet_port" "$ROOT/content" "$ROOT/static" "$dir/data-quiet" "$dir/quiet.log" "$server_cpus"
    quiet_pid="$CLINIC_PID"
    jobs+=("clinic-site gzip-quiet $quiet_port $quiet_pid gzip")
  fi

  local css
  css="$(asset_urls "http://127.0.0.1:$clinic_port/dry-needling/safety/" | grep '\.css$' | head -n1)"
  [ -n "$css" ] || { echo "no fingerprinted stylesheet found in the page" >&2; exit 1; }
  export WRK_PATHS="/ /dry-needling/ /dry-needling/safety/ /dry-needling/what-to-expect/ $css"

  # Both servers must send the same pages: compare the decoded bodies.
  local path a b
  for path in $WRK_PATHS; do
    a="$(curl -s --compressed "http://127.0.0.1:$nginx_port$path" | sha256sum)"
    b="$(curl -s --compressed "http://127.0.0.1:$clinic_port$path" | sha256sum)"
    [ "$a" = "$b" ] || { echo "nginx and clinic-site send different bytes for $path" >&2; exit 1; }
  done

  log "$cores core(s): servers on CPU $server_cpus, wrk on CPU $wrk_cpus; warming up (2 s each)"
  local job name variant port pid enc header round i
  for job in "${jobs[@]}"; do
    read -r name variant port pid enc <<<"$job"
    [ "$variant" = identity ] || [ "$variant" = gzip-quiet ] || continue
    taskset -c "$wrk_cpus" wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s "$BENCH_DIR/wrk/pages.lua" "http://127.0.0.1:$port/" >/dev/null
  done

  log "$cores core(s): $ROUNDS rounds x ${#jobs[@]} runs x ${DURATION}s"
  for round in $(seq "$ROUNDS"); do
    local order=("${jobs[@]}")
    if [ $((round % 2)) -eq 0 ]; then
      order=()
      for ((i = ${#jobs[@]} - 1; i >= 0; i--)); do order+=("${jobs[$i]}"); done
    fi
    for job in "${order[@]}"; do
      read -r name variant port pid enc <<<"$job"
      header=""
      [ -n "${enc:-}" ] && header="Accept-Encoding: ${enc//_/ }"
      run_wrk "$cores" "$wrk_cpus" "$round" "$name" "$variant" "$port" "$pid" "$header"
    done
  done

  kill -0 "$clinic_pid" && kill -0 "$NGINX_PID"
  if [ "$cores" = 1 ]; then
    RSS_AFTER_KB="$(rss_kb "$clinic_pid")"
    RSS_QUIET_KB="$(rss_kb "$quiet_pid")"
    NGINX_RSS_KB="$(rss_tree_kb "$NGINX_PID")"
  fi
  stop "$clinic_pid"
  [ -z "$quiet_pid" ] || stop "$quiet_pid"
  stop "$NGINX_PID"
  # Stopped, so both logs are written out: a line for every request each
  # answered (warm-up and the curl checks included).
  LOG_LINES+="$cores:$(grep -c ' 200 ' "$dir/clinic.log"):$(wc -l <"$dir/nginx/logs/access.log") "
}

cat >&2 <<EOF

$(versions)
nginx: $(nginx -v 2>&1 | sed 's/.*version: //'), wrk: $( (wrk -v 2>&1 || true) | head -n1 | awk '{print $2}')
wrk: -t$THREADS -c$CONNECTIONS -d${DURATION}s; $ROUNDS rounds per phase, order reversed every other round; phases: $PHASES core(s)
EOF

LOG_LINES=""
RSS_IDLE_KB=0 RSS_AFTER_KB=0 RSS_QUIET_KB=0 NGINX_RSS_KB=0
for cores in $PHASES; do
  case "$cores" in
    1) phase 1 1 0 ;;
    2) phase 2 0-1 0-1 ;;
    *) echo "PHASES takes 1 and 2" >&2; exit 1 ;;
  esac
done

log "start-up time to the first 200 for /dry-needling/safety/ ($STARTS starts of each kind)"
STARTUP="$(python3 "$BENCH_DIR/startup.py" "$BIN" "$ROOT/content" "$ROOT/static" --runs "$STARTS" | tee /dev/stderr | grep '^STARTUP ')"

python3 - "$RUNS" "$RSS_IDLE_KB" "$RSS_AFTER_KB" "$RSS_QUIET_KB" "$NGINX_RSS_KB" "$STARTUP" "$LOG_LINES" <<'EOF'
import statistics, sys
runs_file, rss_idle, rss_after, rss_quiet, nginx_rss, startup, log_lines = sys.argv[1:8]
rows = []
with open(runs_file) as f:
    next(f)
    for line in f:
        cores, rnd, server, variant, load, cpu, result = line.rstrip("\n").split("\t")
        kv = dict(item.split("=", 1) for item in result.split())
        rows.append(dict(cores=cores, server=server, variant=variant, load=float(load), cpu=float(cpu), **kv))

def runs(cores, server, variant):
    return [r for r in rows if r["cores"] == cores and r["server"] == server and r["variant"] == variant]

def med(cores, server, variant, key, scale=1.0):
    vals = [float(r[key]) / scale for r in runs(cores, server, variant)]
    return statistics.median(vals) if vals else float("nan")

def per_cpu(cores, server, variant):
    vals = [float(r["requests"]) / r["cpu"] for r in runs(cores, server, variant) if r["cpu"] > 0]
    return statistics.median(vals) if vals else float("nan")

errors = sum(int(r[k]) for r in rows for k in ("err_connect", "err_read", "err_write", "err_timeout"))
bad = sum(int(r[k]) for r in rows for k in ("non2xx3xx", "s1xx", "s3xx", "s4xx", "s5xx"))
total = sum(int(r["requests"]) for r in rows)
missed = False
for cores in sorted({r["cores"] for r in rows}):
    print()
    print(f"{cores} core(s). Medians over rounds (req/s, latency in ms; CPU = seconds of server CPU per run; "
          "req/CPU-s = requests per second of server CPU)")
    print(f"{'server':12} {'variant':11} {'req/s':>9} {'p50':>7} {'p99':>7} {'bytes/resp':>10} {'CPU s':>6} {'req/CPU-s':>10} {'rounds':>6}")
    for server, variant in [("nginx", "identity"), ("clinic-site", "identity"), ("nginx", "gzip"), ("clinic-site", "gzip"),
                            ("clinic-site", "br"), ("clinic-site", "gzip-quiet")]:
        n = len(runs(cores, server, variant))
        if n == 0:
            continue
        print(f"{server:12} {variant:11} {med(cores, server, variant, 'rps'):9.0f} {med(cores, server, variant, 'p50_us', 1000):7.2f} "
              f"{med(cores, server, variant, 'p99_us', 1000):7.2f} {med(cores, server, variant, 'bytes_per_response'):10.0f} "
              f"{statistics.median([r['cpu'] for r in runs(cores, server, variant)]):6.2f} {per_cpu(cores, server, variant):10.0f} {n:6d}")
    print()
    print(f"{cores} core(s): clinic-site / nginx, both logging every request (goal: req/s >= 1.0, CPU per request <= 1.0, p99 <= 1.5)")
    for variant, mine in [("identity", "identity"), ("gzip", "gzip"), ("gzip", "br"), ("gzip", "gzip-quiet")]:
        if not runs(cores, "clinic-site", mine):
            continue
        rps = med(cores, "clinic-site", mine, "rps") / med(cores, "nginx", variant, "rps")
        p99 = med(cores, "clinic-site", mine, "p99_us") / med(cores, "nginx", variant, "p99_us")
        cpu = per_cpu(cores, "nginx", variant) / per_cpu(cores, "clinic-site", mine)
        label = f"clinic-site {mine} vs nginx {variant}"
        if mine != "gzip-quiet":
            missed = missed or rps < 1 or cpu > 1 or p99 > 1.5
        print(f"  {label:40} req/s x{rps:.2f} ({'met' if rps >= 1 else 'NOT met'})   CPU per request x{cpu:.2f} "
              f"({'met' if cpu <= 1 else 'NOT met'})   p99 x{p99:.2f} ({'met' if p99 <= 1.5 else 'NOT met'})")
    for item in log_lines.split():
        c, clinic_lines, nginx_lines = item.split(":")
        if c != cores:
            continue
        served = {server: sum(int(r["requests"]) for r in rows if r["cores"] == cores and r["server"] == server
                              and r["variant"] != "gzip-quiet") for server in ("clinic-site", "nginx")}
        ok = int(clinic_lines) >= served["clinic-site"] and int(nginx_lines) >= served["nginx"]
        print(f"  access logs: clinic-site {int(clinic_lines):,} lines with status 200 for {served['clinic-site']:,} requests counted by wrk, "
              f"nginx {int(nginx_lines):,} lines for {served['nginx']:,} ({'every request logged' if ok else 'LINES MISSING'})")
        missed = missed or not ok
print()
print(f"errors: {errors} socket errors, {bad} responses other than 2xx, over {len(rows)} runs and {total} requests ({'met' if errors == 0 and bad == 0 else 'NOT met'})")
if int(rss_after):
    rss_mb = int(rss_after) / 1024
    print(f"memory (1 core): clinic-site VmRSS {int(rss_idle) / 1024:.1f} MB idle, {rss_mb:.1f} MB after the load ({'met' if rss_mb < 30 else 'NOT met'}: goal < 30 MB); "
          f"quiet-log instance {int(rss_quiet) / 1024:.1f} MB; nginx master+worker {int(nginx_rss) / 1024:.1f} MB")
kv = dict(item.split("=", 1) for item in startup.split()[1:])
ms = float(kv["median_reused_ms"])
print(f"start-up to first 200: median {kv['median_reused_ms']} ms (existing data folder), {kv['median_fresh_ms']} ms (fresh data folder) "
      f"({'met' if max(ms, float(kv['median_fresh_ms'])) < 100 else 'NOT met'}: goal < 100 ms)")
print(f"load average during the runs: median {statistics.median(r['load'] for r in rows):.2f} (2 cores; above ~2 in the 1-core phase means other work shared the machine)")
print(f"serving goals: {'all met' if not missed else 'NOT all met (see above)'}")
if errors or bad:
    sys.exit(1)
EOF
echo "raw wrk output: $RESULTS" >&2

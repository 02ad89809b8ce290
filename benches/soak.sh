#!/usr/bin/env bash
# Soak: wrk at 256 connections for 60 s against `clinic-site serve` while
# benches/malformed.py sends hostile and broken requests and holds slow,
# half-sent requests open. Afterwards the server must still answer, no
# response may be a 5xx (counted by wrk's Lua hook and by the malformed
# loop), and resident memory should be flat (before / peak / after).
#
# Settings (environment): DURATION (60), CONNECTIONS (256), THREADS (2),
# SLOW_CLIENTS (40), CLINIC_BIN (skip cargo build), RESULTS.
# Everything targets 127.0.0.1 and stops by itself.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT

DURATION="${DURATION:-60}"
CONNECTIONS="${CONNECTIONS:-256}"
THREADS="${THREADS:-2}"
SLOW_CLIENTS="${SLOW_CLIENTS:-40}"

need_debian wrk:wrk curl:curl taskset:util-linux python3:python3
BIN="$(build_release)"
bench_tmp
T="$BENCH_TMP"
RESULTS="${RESULTS:-$T/results}"
mkdir -p "$RESULTS" "$T/data"

PORT="$(free_port)"
start_clinic "$BIN" "$PORT" "$ROOT/content" "$ROOT/static" "$T/data" "$T/server.log"
CSS="$(asset_urls "http://127.0.0.1:$PORT/dry-needling/safety/" | grep '\.css$' | head -n1)"
JS="$(asset_urls "http://127.0.0.1:$PORT/dry-needling/safety/" | grep '\.js$' | head -n1)"
export WRK_PATHS="/ /dry-needling/ /dry-needling/safety/ /dry-needling/what-to-expect/ /dry-needling/print/ $CSS $JS /sitemap.xml /healthz"

cat >&2 <<EOF

$(versions)
soak: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s (Accept-Encoding: br, gzip) on CPU 0, server on CPU 1,
      plus malformed requests and $SLOW_CLIENTS slow clients (unpinned)
pages: $WRK_PATHS
EOF

# The server logs a line per request; for the soak it goes to a file
# (truncated from time to time by nothing: the soak is short) so that any
# error or panic can be found afterwards.
log "warm-up (5 s)"
taskset -c 0 wrk -t"$THREADS" -c"$CONNECTIONS" -d5s -H 'Accept-Encoding: br, gzip' -s "$BENCH_DIR/wrk/pages.lua" "http://127.0.0.1:$PORT/" >/dev/null
sleep 1
RSS_BEFORE="$(rss_kb "$CLINIC_PID")"

log "soak: ${DURATION}s"
# RSS once a second while the load runs (bounded: stops after DURATION+15 s).
(
  end=$((SECONDS + DURATION + 15))
  while [ $SECONDS -lt "$end" ] && [ ! -e "$T/done" ] && kill -0 "$CLINIC_PID" 2>/dev/null; do
    rss_kb "$CLINIC_PID" >>"$T/rss.txt" 2>/dev/null || true
    sleep 1
  done
) &
SAMPLER=$!
python3 "$BENCH_DIR/malformed.py" --port "$PORT" --duration "$((DURATION - 5))" --slow "$SLOW_CLIENTS" --slow-hold 25 >"$T/malformed.txt" 2>&1 &
MALFORMED=$!
BENCH_PIDS+=("$MALFORMED" "$SAMPLER")
taskset -c 0 wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H 'Accept-Encoding: br, gzip' -s "$BENCH_DIR/wrk/pages.lua" "http://127.0.0.1:$PORT/" >"$T/wrk.txt"
MALFORMED_RC=0
wait "$MALFORMED" || MALFORMED_RC=$?
touch "$T/done"
wait "$SAMPLER" || true
RSS_AFTER="$(rss_kb "$CLINIC_PID")"
log "idle 10 s"
sleep 10
RSS_IDLE="$(rss_kb "$CLINIC_PID")"
RSS_PEAK="$(sort -n "$T/rss.txt" | tail -n1)"

UP="no"
HEALTH="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/healthz" || true)"
PAGE="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/dry-needling/safety/" || true)"
if kill -0 "$CLINIC_PID" 2>/dev/null && [ "$HEALTH" = 200 ] && [ "$PAGE" = 200 ]; then UP="yes"; fi
LOG_5XX="$(grep -cE 'status=5[0-9][0-9]' "$T/server.log" || true)"
LOG_PANIC="$(grep -ciE 'panick|panic' "$T/server.log" || true)"
cp "$T/wrk.txt" "$T/malformed.txt" "$T/rss.txt" "$RESULTS/" 2>/dev/null || true
grep -E 'ERROR|panick' "$T/server.log" | head -n 20 >"$RESULTS/soak-server-errors.txt" || true

echo >&2
cat "$T/malformed.txt" >&2
echo >&2
grep -A12 'Latency Distribution' "$T/wrk.txt" | head -n 6 >&2 || true
python3 - "$T/wrk.txt" "$T/malformed.txt" "$RSS_BEFORE" "$RSS_PEAK" "$RSS_AFTER" "$RSS_IDLE" "$UP" "$LOG_5XX" "$LOG_PANIC" "$MALFORMED_RC" <<'EOF'
import sys
wrk_file, mal_file, before, peak, after, idle, up, log5xx, panics, mal_rc = sys.argv[1:11]
def kv(line):
    return dict(item.split("=", 1) for item in line.split()[1:])
w = kv(next(l for l in open(wrk_file) if l.startswith("RESULT ")))
m = kv(next(l for l in open(mal_file) if l.startswith("MALFORMED ")))
errors = sum(int(w[k]) for k in ("err_connect", "err_read", "err_write", "err_timeout"))
print()
print(f"wrk: {int(w['requests'])} requests, {float(w['rps']):.0f} req/s, p50 {int(w['p50_us']) / 1000:.2f} ms, p99 {int(w['p99_us']) / 1000:.2f} ms, "
      f"max {int(w['max_us']) / 1000:.0f} ms; 2xx {w['s2xx']}, 3xx {w['s3xx']}, 4xx {w['s4xx']}, 5xx {w['s5xx']}; socket errors {errors} "
      f"(connect {w['err_connect']}, read {w['err_read']}, write {w['err_write']}, timeout {w['err_timeout']})")
print(f"malformed: {m['requests']} requests, 2xx {m['s2xx']}, 3xx {m['s3xx']}, 4xx {m['s4xx']}, 5xx {m['s5xx']}, "
      f"closed without a response {m['closed_without_response']}; slow clients closed {m['slow_closed']}; control requests ok {m['controls_ok']}")
print(f"server log: {log5xx} responses logged with a 5xx status, {panics} lines mentioning a panic")
mb = lambda kb: int(kb) / 1024
print(f"memory (VmRSS): {mb(before):.1f} MB before, {mb(peak):.1f} MB peak during, {mb(after):.1f} MB right after, {mb(idle):.1f} MB after 10 s idle")
five = int(w["s5xx"]) + int(m["s5xx"]) + int(log5xx)
flat = mb(idle) - mb(before) < 5
print(f"goals: server still up: {up}; zero 5xx: {'met' if five == 0 else 'NOT met'} ({five}); memory flat (< 5 MB growth after idle): {'met' if flat else 'NOT met'}")
ok = up == "yes" and five == 0 and int(panics) == 0 and mal_rc == "0"
sys.exit(0 if ok else 1)
EOF

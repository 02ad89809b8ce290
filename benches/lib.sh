# Shared helpers for the benchmark scripts (sourced, not run).
#
# Every server started here listens on 127.0.0.1 only and is killed by the
# EXIT trap of the script that sourced this file (bench_cleanup).

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
# Set CLINIC_BIN to benchmark a binary built elsewhere (the scripts then
# skip `cargo build`).
CLINIC_BIN="${CLINIC_BIN:-}"
BENCH_PIDS=()
BENCH_TMP=""

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

log() { printf '\n==> %s\n' "$*" >&2; }

# Installs the named Debian packages when the named commands are missing:
# need_debian CMD:PACKAGE ...
APT_UPDATED=0
need_debian() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]} from Debian's packages"
  if [ "$APT_UPDATED" -eq 0 ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Sets BENCH_TMP to a fresh temporary folder, removed on exit (call it
# directly, not in $(...), or the variable is lost). It is world-readable
# because nginx's worker runs as www-data when started by root.
bench_tmp() {
  if [ -z "$BENCH_TMP" ]; then
    BENCH_TMP="$(mktemp -d -t clinic-bench.XXXXXX)"
    chmod 755 "$BENCH_TMP"
  fi
}

bench_cleanup() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  if [ -n "$BENCH_TMP" ] && [ -z "${KEEP_TMP:-}" ]; then rm -rf "$BENCH_TMP"; fi
}

# Builds the release binary unless CLINIC_BIN is given; prints its path.
build_release() {
  if [ -n "$CLINIC_BIN" ]; then echo "$CLINIC_BIN"; return; fi
  log "cargo build --release"
  (cd "$ROOT" && cargo build --release --quiet) >&2
  echo "$ROOT/target/release/clinic-site"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL [SECONDS]: until URL answers 200.
wait_http() {
  local url="$1" limit="${2:-60}" start=$SECONDS
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)" = "200" ]; do
    if [ $((SECONDS - start)) -ge "$limit" ]; then echo "no answer from $url after ${limit}s" >&2; return 1; fi
    sleep 0.05
  done
}

# start_clinic BIN PORT CONTENT STATIC DATA LOG [CPUS]: starts `serve` pinned
# to CPUS (a taskset list, default 1; tokio starts one worker thread per CPU
# it may use), waits until it answers; sets CLINIC_PID.
#
# The server writes one access line per request to stdout (through its
# buffered log writer), here to the file LOG.
#
# Every load generator here connects from one address (127.0.0.1), so the
# per-client connection share (64 by default) is turned off: the runs measure
# serving, not that limit.
start_clinic() {
  local bin="$1" port="$2" content="$3" static="$4" data="$5" logfile="$6" cpus="${7:-1}"
  taskset -c "$cpus" "$bin" serve --addr "127.0.0.1:$port" --content "$content" --static "$static" --data "$data" \
    --max-connections-per-client 0 >"$logfile" 2>&1 &
  CLINIC_PID=$!
  BENCH_PIDS+=("$CLINIC_PID")
  wait_http "http://127.0.0.1:$port/healthz" 120
}

# write_nginx_conf DIR PORT ROOT [WORKERS]: a production-style config for the
# static export: WORKERS worker processes (default 1), sendfile, keep-alive,
# precompressed .gz files, an access log written through a 64 KB buffer (as
# `serve` writes its own), the same security and cache headers the Rust
# server sends.
write_nginx_conf() {
  local dir="$1" port="$2" root="$3" workers="${4:-1}"
  mkdir -p "$dir/logs" "$dir/tmp"
  local security='
      add_header Content-Security-Policy "default-src '"'"'self'"'"'; script-src '"'"'self'"'"'; style-src '"'"'self'"'"'; img-src '"'"'self'"'"' data:; form-action '"'"'self'"'"'; frame-ancestors '"'"'none'"'"'; base-uri '"'"'self'"'"'; object-src '"'"'none'"'"'" always;
      add_header X-Content-Type-Options "nosniff" always;
      add_header Referrer-Policy "strict-origin-when-cross-origin" always;
      add_header X-Frame-Options "DENY" always;
      add_header Permissions-Policy "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=()" always;
      add_header Cross-Origin-Opener-Policy "same-origin" always;
      add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;'
  cat >"$dir/nginx.conf" <<EOF
# Written by benches/lib.sh: nginx serving \`clinic-site build\` output.
worker_processes $workers;
daemon off;
master_process on;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;

events {
  worker_connections 4096;
  multi_accept on;
}

http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  charset utf-8;
  charset_types text/css text/plain text/xml application/xml application/javascript text/javascript;
  access_log $dir/logs/access.log combined buffer=64k flush=1s;
  server_tokens off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65s;
  keepalive_requests 100000;
  open_file_cache max=10000 inactive=60s;
  open_file_cache_valid 60s;
  gzip off;
  gzip_static on;
  gzip_vary on;
  etag on;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;

  server {
    listen 127.0.0.1:$port;
    root $root;
    index index.html;
    error_page 404 /404.html;

    location /static/ {
      add_header Cache-Control "public, max-age=31536000, immutable" always;$security
      try_files \$uri =404;
    }
    location / {
      add_header Cache-Control "public, max-age=300, stale-while-revalidate=86400" always;$security
      try_files \$uri \$uri/index.html =404;
    }
  }
}
EOF
}

# start_nginx DIR PORT [CPUS]: nginx in the foreground with DIR as prefix,
# master and workers pinned to CPUS (default 1); sets NGINX_PID (the master).
start_nginx() {
  local dir="$1" port="$2" cpus="${3:-1}"
  taskset -c "$cpus" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" >"$dir/logs/stdout.log" 2>&1 &
  NGINX_PID=$!
  BENCH_PIDS+=("$NGINX_PID")
  wait_http "http://127.0.0.1:$port/" 30
}

# Resident memory of a process in kB (VmRSS), and of a process with its
# children (nginx: master + worker).
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
rss_tree_kb() {
  local total=0 pid
  for pid in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(rss_kb "$pid")))
  done
  echo "$total"
}

# CPU time used so far by a process and its threads (plus, with
# cpu_ticks_tree, its children), in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_ticks_tree() {
  local total=0 pid
  for pid in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(cpu_ticks "$pid")))
  done
  echo "$total"
}

# The fingerprinted asset URLs a page links to.
asset_urls() {
  curl -s "$1" | grep -oE '/static/[A-Za-z0-9._-]+\.[0-9a-f]{8}\.(css|js)' | sort -u
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) {print "nan"} else if (NR % 2) {print a[(NR+1)/2]} else {print (a[NR/2] + a[NR/2+1]) / 2}}'; }

versions() {
  echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$( [ -n "$(git -C "$ROOT" status --porcelain -- src templates static Cargo.toml 2>/dev/null)" ] && echo ' (with uncommitted changes in src/templates/static)')"
  echo "cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel: $(uname -r)"
}

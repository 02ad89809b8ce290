#!/usr/bin/env python3
"""Malformed and hostile requests against a server on 127.0.0.1, for the soak.

    python3 benches/malformed.py --port PORT [--duration 55] [--max-requests 20000] [--slow 40]

Sends raw bytes over sockets (so nothing normalises the paths):
climbing paths (`..`, `%2e%2e`, encoded slashes and backslashes), NUL
(`%00`), very long paths and queries, a 64 KB and a 256 KB header, 300
headers, broken request lines and headers, bad bodies (chunked and
Content-Length mismatches, both at once), odd methods and targets, and
pipelined requests. Meanwhile `--slow` clients each send half a request and
wait, to see the server close them (its header timeout), and a control
request checks every 2 s that a normal page still answers quickly.

Bounded in count and time, only to 127.0.0.1; stops by itself. Prints the
status codes per case and one summary line; exits 1 on any 5xx.
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict

HOST = "127.0.0.1"
STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) ")


def get(path: str, extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n{extra}Connection: close\r\n\r\n".encode()


CASES: list[tuple[str, bytes]] = [
    ("dotdot", get("/static/../Cargo.toml")),
    ("dotdot-deep", get("/static/../../../../etc/passwd")),
    ("pct-2e2e", get("/static/%2e%2e/Cargo.toml")),
    ("pct-2E2E-mixed", get("/static/%2E%2e/%2e%2E/etc/passwd")),
    ("pct-slash", get("/static/..%2fCargo.toml")),
    ("pct-backslash", get("/static/..%5cCargo.toml")),
    ("backslash", get("/static/..\\Cargo.toml")),
    ("nul-pct", get("/dry-needling/%00")),
    ("nul-in-name", get("/static/site.css%00.png")),
    ("dot-segment", get("/dry-needling/./safety/")),
    ("double-slash", get("//etc/passwd")),
    ("double-pct", get("/static/%252e%252e/Cargo.toml")),
    ("utf8-overlong", get("/static/%c0%ae%c0%ae/Cargo.toml")),
    ("bad-pct", get("/dry-needling/%zz/")),
    ("long-path-2k", get("/" + "a" * 2000)),
    ("long-path-9k", get("/" + "a" * 9000)),
    ("long-path-70k", get("/" + "a" * 70000)),
    ("long-query", get("/dry-needling/?" + "q=1&" * 4000)),
    ("header-64k", get("/dry-needling/", "X-Big: " + "a" * 65536 + "\r\n")),
    ("header-256k", get("/dry-needling/", "X-Big: " + "a" * 262144 + "\r\n")),
    ("headers-300", get("/dry-needling/", "".join(f"X-H{i}: {i}\r\n" for i in range(300)))),
    ("cookie-32k", get("/", "Cookie: " + "c=" + "x" * 32768 + "\r\n")),
    ("no-host", b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"),
    ("http-9.9", b"GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n"),
    ("http-0.9", b"GET /\r\n\r\n"),
    ("garbage-line", b"GARBAGE\r\n\r\n"),
    ("binary", bytes(range(256)) * 4),
    ("nul-bytes", b"GET /\x00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
    ("header-no-colon", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nNoColonHere\r\n\r\n"),
    ("header-space-name", b"GET / HTTP/1.1\r\nHost : 127.0.0.1\r\n\r\n"),
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\r\n  folded\r\n\r\n"),
    ("bare-lf", b"GET / HTTP/1.1\nHost: 127.0.0.1\nConnection: close\n\n"),
    ("bad-content-length", b"POST /dry-needling/safety/comment/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n"),
    ("two-content-lengths", b"POST /dry-needling/safety/comment/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde"),
    ("cl-and-te", b"POST /dry-needling/safety/comment/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("bad-chunk", b"POST /dry-needling/safety/comment/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n"),
    ("huge-content-length", b"POST /dry-needling/safety/comment/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999\r\nConnection: close\r\n\r\nx"),
    ("post-page", b"POST /dry-needling/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\na=b"),
    ("post-comment-junk", b"POST /dry-needling/safety/comment/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\nConnection: close\r\n\r\n%%%=&&&=%zz"),
    ("delete", b"DELETE / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    ("options-star", b"OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    ("connect", b"CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    ("absolute-form", b"GET http://example.invalid/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    ("lowercase-method", b"get / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    ("long-method", b"X" * 5000 + b" / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
    ("bad-encoding-header", get("/dry-needling/", "Accept-Encoding: br;q=abc, gzip;q=-1, *;q=\r\n")),
    ("bad-if-none-match", get("/dry-needling/", "If-None-Match: " + "\"x\"," * 2000 + "\r\n")),
    ("bad-if-modified-since", get("/dry-needling/", "If-Modified-Since: Mon, 99 Foo 99999 99:99:99 GMT\r\n")),
    ("range-junk", get("/static/site.css", "Range: bytes=999999-1,-,a-b\r\n")),
    ("pipelined-50", b"".join(f"GET /dry-needling/ HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode() for _ in range(49)) + get("/healthz")),
    ("half-close", b"GET /dry-needling/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"),  # then shut down writing
]


def send_case(port: int, payload: bytes, half_close: bool) -> list[int | None]:
    """Sends one payload; returns the status codes read (None: closed with none)."""
    try:
        with socket.create_connection((HOST, port), timeout=3) as s:
            try:
                s.sendall(payload)
                if half_close:
                    s.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the server may close before reading everything: fine
            data = b""
            deadline = time.monotonic() + 3
            while len(data) < 4_000_000 and time.monotonic() < deadline:
                try:
                    chunk = s.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
    except OSError:
        return [None]
    codes = [int(m) for m in STATUS.findall(data)]
    return codes or [None]


def slow_client(port: int, hold: float, results: list, lock: threading.Lock) -> None:
    """Sends half a request, then waits for the server to give up on it."""
    start = time.monotonic()
    status = None
    try:
        with socket.create_connection((HOST, port), timeout=hold) as s:
            s.sendall(b"GET /dry-needling/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            data = b""
            while time.monotonic() - start < hold:
                try:
                    chunk = s.recv(4096)
                except socket.timeout:
                    break
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
            m = STATUS.match(data)
            status = int(m.group(1)) if m else None
            closed = time.monotonic() - start < hold
    except OSError:
        closed = True
    with lock:
        results.append((closed, time.monotonic() - start, status))


def control(port: int) -> float | None:
    start = time.monotonic()
    codes = send_case(port, get("/healthz"), False)
    return time.monotonic() - start if codes == [200] else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--duration", type=float, default=55)
    parser.add_argument("--max-requests", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--slow", type=int, default=40, help="slow clients holding half a request")
    parser.add_argument("--slow-hold", type=float, default=25, help="longest a slow client waits (s)")
    args = parser.parse_args()

    lock = threading.Lock()
    per_case: dict[str, Counter] = defaultdict(Counter)
    sent = [0]
    stop = time.monotonic() + args.duration

    def worker(offset: int) -> None:
        i = offset
        while time.monotonic() < stop:
            with lock:
                if sent[0] >= args.max_requests:
                    return
                sent[0] += 1
            name, payload = CASES[i % len(CASES)]
            i += 1
            codes = send_case(args.port, payload, name == "half-close")
            with lock:
                per_case[name].update(codes)

    slow_results: list = []
    slow_threads = [threading.Thread(target=slow_client, args=(args.port, args.slow_hold, slow_results, lock)) for _ in range(args.slow)]
    for t in slow_threads:
        t.start()
    workers = [threading.Thread(target=worker, args=(w * 7,)) for w in range(args.workers)]
    for t in workers:
        t.start()
    controls: list[float | None] = []
    while any(t.is_alive() for t in workers):
        controls.append(control(args.port))
        time.sleep(2)
    for t in workers:
        t.join()
    for t in slow_threads:
        t.join()

    total = Counter()
    print(f"{'case':22} statuses (None = closed without a response)")
    for name, _ in CASES:
        counts = per_case.get(name, Counter())
        total.update(counts)
        print(f"  {name:22} " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=lambda kv: str(kv[0]))))
    fivexx = sum(v for k, v in total.items() if k is not None and k >= 500)
    requests = sum(total.values())
    closed = [r for r in slow_results if r[0]]
    slow_statuses = Counter(r[2] for r in slow_results)
    ok_controls = [c for c in controls if c is not None]
    print(f"slow clients: {len(closed)}/{len(slow_results)} closed by the server, after a median "
          f"{statistics.median(r[1] for r in closed) if closed else float('nan'):.1f} s (statuses {dict(slow_statuses)})")
    print(f"control GET /healthz every 2 s during the burst: {len(ok_controls)}/{len(controls)} answered 200, "
          f"slowest {max(ok_controls) * 1000 if ok_controls else float('nan'):.0f} ms")
    classes = Counter("none" if k is None else f"{k // 100}xx" for k in total.elements())
    print(f"MALFORMED requests={requests} s2xx={classes['2xx']} s3xx={classes['3xx']} s4xx={classes['4xx']} s5xx={fivexx} "
          f"closed_without_response={classes['none']} slow_closed={len(closed)}/{len(slow_results)} "
          f"controls_ok={len(ok_controls)}/{len(controls)}")
    return 1 if fivexx or len(ok_controls) != len(controls) else 0


if __name__ == "__main__":
    sys.exit(main())

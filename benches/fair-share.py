#!/usr/bin/env python3
"""One client holding many connections, and everyone else (issue 14, goal 3).

    python3 benches/fair-share.py BINARY CONTENT STATIC [--hold 1100] [--requests 200]

For each setting, a fresh `clinic-site serve` (default `--max-connections`
1024, header time-out 60 s so nothing is closed for idling during the run):

- `limit 64`: the default per-client share (`--max-connections-per-client`);
- `no limit`: `--max-connections-per-client 0`, the behaviour before it.

One client (127.0.0.1) opens HOLD connections and sends nothing on them,
or only half its headers (every other one), as a slow or hostile client
does. Then another client (127.0.0.2: on Linux all of 127/8 is loopback)
sends REQUESTS GETs for an article page, each on a fresh connection, one
after another, and counts the answers. Goal: with the default limit, every
one of them is a 200, and the first client's extra connections are told
429; without the limit the second client gets 503s (what the limit is for).

Prints one `FAIRSHARE` line per setting and exits 1 if the default limit
does not keep the other client served. Stdlib only; stops by itself.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time

PAGE = "/dry-needling/"
OTHER = "127.0.0.2"


def raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary: str, content: str, static: str, data: str, extra: list[str]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen(
        [binary, "serve", "--addr", f"127.0.0.1:{port}", "--content", content, "--static", static, "--data", data,
         "--header-timeout", "60", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        # The server needs a descriptor per connection, over 1,024 here.
        preexec_fn=lambda: raise_fd_limit(8192),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if status_of("127.0.0.1", port, "/healthz") == 200:
            return server, port
        time.sleep(0.05)
    server.kill()
    sys.exit("the server did not answer /healthz within 60 s")


def status_of(source: str, port: int, path: str) -> int | None:
    """GET on a fresh connection from `source`: the status, or None when
    the connection failed first (a refused one may be reset)."""
    try:
        with socket.socket() as s:
            s.settimeout(10)
            s.bind((source, 0))
            s.connect(("127.0.0.1", port))
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: clinic\r\nConnection: close\r\n\r\n".encode())
            head = b""
            while b"\r\n" not in head:
                chunk = s.recv(4096)
                if not chunk:
                    break
                head += chunk
            parts = head.split(b" ", 2)
            return int(parts[1]) if len(parts) > 1 else None
    except OSError:
        return None


def hold(port: int, count: int) -> tuple[list[socket.socket], int, int]:
    """Opens `count` connections from 127.0.0.1 (every other one sends half
    its headers); returns those still open, and how many were answered 429
    and 503 straight away."""
    held = []
    for n in range(count):
        s = socket.socket()
        s.connect(("127.0.0.1", port))
        if n % 2:
            s.sendall(b"GET / HTTP/1.1\r\nHost: clinic\r\n")
        held.append(s)
    time.sleep(0.5)
    refused = {429: 0, 503: 0}
    still_open = []
    for s in held:
        s.settimeout(0.01)
        try:
            answer = s.recv(64)
        except (TimeoutError, BlockingIOError):
            still_open.append(s)
            continue
        except OSError:
            answer = b""
        parts = answer.split(b" ", 2)
        if len(parts) > 1 and parts[1].isdigit() and int(parts[1]) in refused:
            refused[int(parts[1])] += 1
        s.close()
    return still_open, refused[429], refused[503]


def run(binary: str, content: str, static: str, label: str, extra: list[str], hold_count: int, requests: int) -> dict:
    with tempfile.TemporaryDirectory() as data:
        server, port = start(binary, content, static, data, extra)
        try:
            held, told_429, told_503 = hold(port, hold_count)
            statuses: dict[str, int] = {}
            times = []
            for _ in range(requests):
                t0 = time.perf_counter()
                status = status_of(OTHER, port, PAGE)
                times.append((time.perf_counter() - t0) * 1000)
                key = str(status) if status else "failed"
                statuses[key] = statuses.get(key, 0) + 1
            alive = server.poll() is None
            for s in held:
                s.close()
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
    result = dict(label=label, held=len(held), told_429=told_429, told_503=told_503, statuses=statuses,
                  median_ms=statistics.median(times), alive=alive)
    shown = " ".join(f"other_{k}={v}" for k, v in sorted(statuses.items()))
    print(f"FAIRSHARE setting=\"{label}\" held_open={len(held)} told_429={told_429} told_503={told_503} "
          f"{shown} other_requests={requests} other_median_ms={result['median_ms']:.2f} server_up={alive}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary")
    parser.add_argument("content")
    parser.add_argument("static")
    parser.add_argument("--hold", type=int, default=1100)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    raise_fd_limit(args.hold + 256)
    limited = run(args.binary, args.content, args.static, "limit 64 (default)", [], args.hold, args.requests)
    unlimited = run(args.binary, args.content, args.static, "no limit (--max-connections-per-client 0)",
                    ["--max-connections-per-client", "0"], args.hold, args.requests)
    ok = (limited["statuses"].get("200", 0) == args.requests and limited["held"] <= 64
          and limited["told_429"] > 0 and limited["alive"])
    print(f"goal (one client holding {args.hold} connections, another still served): "
          f"{'met' if ok else 'NOT met'} with the default limit: {limited['statuses'].get('200', 0)}/{args.requests} "
          f"answered 200; without it {unlimited['statuses'].get('200', 0)}/{args.requests} "
          f"({unlimited['statuses'].get('503', 0)} told 503)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Time from starting `clinic-site serve` to its first 200 for a real page.

    python3 benches/startup.py BINARY CONTENT STATIC [--runs 10] [--path /dry-needling/safety/]

Each run starts the server on a fresh 127.0.0.1 port, then a tight loop
(a raw socket, 1 ms apart) asks for the page until it answers 200; the clock
starts just before the process is spawned and stops when the status line
arrives. Runs alternate between a fresh data folder (first start: the
comments database and signing key are created) and a reused one. Prints each
run and the medians. Stdlib only; stops by itself (60 s limit per start).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_of(port: int, path: str) -> int | None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            line = s.recv(64).split(b"\r\n", 1)[0].split()
            return int(line[1]) if len(line) > 1 else None
    except OSError:
        return None


def one_start(binary: str, content: str, static: str, data: str, path: str) -> float:
    port = free_port()
    args = [binary, "serve", "--addr", f"127.0.0.1:{port}", "--content", content, "--static", static, "--data", data]
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if status_of(port, path) == 200:
                return (time.perf_counter() - start) * 1000
            if proc.poll() is not None:
                raise SystemExit(f"the server exited with {proc.returncode} before answering")
            if time.perf_counter() - start > 60:
                raise SystemExit("no 200 within 60 s")
            time.sleep(0.001)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("content")
    parser.add_argument("static")
    parser.add_argument("--runs", type=int, default=10, help="starts of each kind (default 10)")
    parser.add_argument("--path", default="/dry-needling/safety/")
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="clinic-startup.")
    fresh: list[float] = []
    reused: list[float] = []
    try:
        kept = os.path.join(root, "kept")
        one_start(args.binary, args.content, args.static, kept, args.path)  # creates the data folder
        for i in range(args.runs):
            data = os.path.join(root, f"fresh-{i}")
            fresh.append(one_start(args.binary, args.content, args.static, data, args.path))
            reused.append(one_start(args.binary, args.content, args.static, kept, args.path))
            print(f"start {i + 1:2d}: fresh data folder {fresh[-1]:7.1f} ms   existing data folder {reused[-1]:7.1f} ms", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"STARTUP median_fresh_ms={statistics.median(fresh):.1f} median_reused_ms={statistics.median(reused):.1f} "
          f"min_ms={min(fresh + reused):.1f} max_ms={max(fresh + reused):.1f} runs={args.runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

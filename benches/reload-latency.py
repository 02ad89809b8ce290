#!/usr/bin/env python3
"""Live reload latency: time from saving a content file to the server
answering with the new text, for `clinic-site serve` on a copy of the real
content. Prints each sample and the median (goal: under 300 ms).

Usage: benches/reload-latency.py [path/to/clinic-site] [samples]
Stdlib only; talks to 127.0.0.1 only; stops by itself.
"""

import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/clinic-site")
SAMPLES = int(sys.argv[2]) if len(sys.argv) > 2 else 15
PAGE = "/dry-needling/safety/"
FILE = "dry-needling/safety.md"


def fetch(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path)
    body = conn.getresponse().read().decode()
    conn.close()
    return body


def main():
    work = tempfile.mkdtemp(prefix="clinic-reload-")
    content = os.path.join(work, "content")
    shutil.copytree(os.path.join(ROOT, "content"), content)
    log_path = os.path.join(work, "server.log")
    log = open(log_path, "w")
    # The log goes to a file: a pipe nobody reads would fill and stall the server.
    server = subprocess.Popen(
        [BINARY, "serve", "--addr", "127.0.0.1:0", "--content", content, "--static", os.path.join(ROOT, "static"), "--data", os.path.join(work, "data")],
        stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    try:
        port = None
        for _ in range(500):
            found = re.search(r"serving the site at http://127\.0\.0\.1:(\d+)/", open(log_path).read())
            if found:
                port = int(found.group(1))
                break
            time.sleep(0.01)
        if port is None:
            sys.exit("the server did not start")
        path = os.path.join(content, FILE)
        original = open(path, encoding="utf-8").read()
        times = []
        for n in range(SAMPLES):
            marker = f"Reload check {n} {time.time_ns()}."
            started = time.perf_counter()
            with open(path, "w", encoding="utf-8") as f:
                f.write(original.replace("Mild bruising", f"Mild bruising {marker}"))
            deadline = started + 5
            while marker not in fetch(port, PAGE):
                if time.perf_counter() > deadline:
                    sys.exit(f"sample {n}: the edit was not served within 5 s")
                time.sleep(0.002)
            times.append((time.perf_counter() - started) * 1000)
            print(f"sample {n + 1:2}: {times[-1]:6.1f} ms")
            time.sleep(0.3)
        print(f"median {statistics.median(times):.1f} ms, min {min(times):.1f}, max {max(times):.1f} over {SAMPLES} saves (goal: under 300 ms)")
        builds = [int(m) for m in re.findall(r"published the new version in (\d+) ms", open(log_path).read())]
        if builds:
            print(f"of which rebuilding the site took a median of {statistics.median(builds)} ms (the rest is the {75} ms wait for the editor's save to finish, and the watcher)")
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

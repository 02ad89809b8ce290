#!/usr/bin/env python3
"""Page weight: every page with everything it loads, as a browser fetches it.

    python3 benches/page_weight.py --port PORT [--encoding br]

Lists the pages from /sitemap.xml (plus each article's print page), fetches
each with `Accept-Encoding: br` and counts the bytes on the wire (compressed
body, and body plus response headers), then does the same for every resource
the page makes the browser load: stylesheets, scripts, images, icons,
preloads, and `url(...)` in the stylesheets. Links a reader may click are not
counted. Requests to another origin are listed as third-party. `data:` URLs
cost no request. Prints a table and the heaviest page; stdlib only,
127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import http.client
import re
import sys
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit


class Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        rel = a.get("rel", "").lower().split()
        if tag == "link" and ({"stylesheet", "icon", "preload", "modulepreload", "manifest", "apple-touch-icon"} & set(rel)) and a.get("href"):
            self.urls.append(a["href"])
        elif tag in ("script", "img", "iframe", "video", "audio", "source", "embed") and a.get("src"):
            self.urls.append(a["src"])
        elif tag == "img" and a.get("srcset"):
            self.urls.extend(part.strip().split()[0] for part in a["srcset"].split(",") if part.strip())


def fetch(port: int, path: str, encoding: str) -> tuple[int, int, int, bytes]:
    """(status, body bytes on the wire, header bytes, decoded-enough body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Accept-Encoding": encoding} if encoding else {}
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    header_bytes = len(f"HTTP/1.1 {resp.status} {resp.reason}\r\n") + sum(len(f"{k}: {v}\r\n") for k, v in resp.getheaders()) + 2
    conn.close()
    return resp.status, len(body), header_bytes, body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--encoding", default="br")
    args = parser.parse_args()
    origin = f"http://127.0.0.1:{args.port}"

    _, _, _, sitemap = fetch(args.port, "/sitemap.xml", "")
    pages = [urlsplit(u).path for u in re.findall(r"<loc>([^<]+)</loc>", sitemap.decode())]
    articles = sorted({"/" + p.strip("/").split("/")[0] + "/" for p in pages if p.strip("/")})
    pages += [a + "print/" for a in articles]

    rows = []
    for page in pages:
        status, body, head, _ = fetch(args.port, page, args.encoding)
        _, _, _, html = fetch(args.port, page, "")
        assert status == 200, f"{page}: {status}"
        finder = Resources()
        finder.feed(html.decode("utf-8", "replace"))
        total_body, total_wire, requests, third = body, body + head, 1, []
        seen = set()
        queue = list(finder.urls)
        while queue:
            url = queue.pop(0)
            if url.startswith("data:"):
                continue
            absolute = urljoin(origin + page, url)
            if absolute in seen:
                continue
            seen.add(absolute)
            if not absolute.startswith(origin + "/"):
                third.append(absolute)
                continue
            path = absolute[len(origin):]
            rstatus, rbody, rhead, _ = fetch(args.port, path, args.encoding)
            assert rstatus == 200, f"{path}: {rstatus}"
            requests += 1
            total_body += rbody
            total_wire += rbody + rhead
            if path.split("?")[0].endswith(".css"):
                _, _, _, css = fetch(args.port, path, "")
                queue += [u.strip("'\"") for u in re.findall(r"url\(([^)]+)\)", css.decode("utf-8", "replace"))]
        rows.append((page, body, total_body, total_wire, requests, third, sorted(seen)))

    print(f"Page weight with Accept-Encoding: {args.encoding} (bytes of compressed bodies; 'with headers' adds the response headers)")
    print(f"{'page':34} {'HTML':>7} {'all bodies':>10} {'with headers':>12} {'requests':>8} {'3rd-party':>9}")
    for page, html, total, wire, requests, third, _ in rows:
        print(f"{page:34} {html:7d} {total:10d} {wire:12d} {requests:8d} {len(third):9d}")
    articles_rows = [r for r in rows if not r[0].endswith("/print/")]
    heaviest = max(articles_rows, key=lambda r: r[2])
    page, html, total, wire, requests, third, loaded = heaviest
    print()
    print(f"heaviest page (print pages aside): {page}: {total} bytes ({total / 1024:.1f} KB) of compressed bodies, "
          f"{wire} bytes ({wire / 1024:.1f} KB) with headers, {requests} requests, {len(third)} third-party")
    print("  loads: " + ", ".join(u.split(str(args.port), 1)[-1] for u in loaded))
    ok = total < 30 * 1024 and requests <= 3 and not third
    print(f"WEIGHT page={page} bytes={total} bytes_with_headers={wire} requests={requests} third_party={len(third)} goal={'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

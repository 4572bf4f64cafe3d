"""The dev server's HTTP side: the dev build, the reload client and build events.

* Files come from the dev output folder; ``/dir/`` means ``/dir/index.html`` and
  ``/dir`` redirects to ``/dir/``; a missing path gets ``404.html`` with status 404.
* Every HTML response gets the reload client injected before ``</body>``. The
  build output on disk never contains it.
* ``/__labpress/reload.js`` is the client; ``/__labpress/events`` is a stream of
  server-sent events, one ``state`` event on connect and one per build outcome.
"""

from __future__ import annotations

import json
import mimetypes
import os
import shutil
import socket
import sys
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import quote, unquote, urlsplit

from .state import BuildState, Snapshot

PREFIX = "/__labpress/"
EVENTS_PATH = PREFIX + "events"
CLIENT_PATH = PREFIX + "reload.js"
CLIENT_FILE = Path(__file__).resolve().with_name("reload.js")
KEEPALIVE_SECONDS = 15.0

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".py": "text/x-python; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".zip": "application/zip",
    ".whl": "application/zip",
}

NO_BUILD_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="color-scheme" content="light dark"><title>No build yet · LabPress</title></head>
<body data-labpress-no-build>
<h1>No build to show yet</h1>
<p>The site has not built successfully yet. Fix the errors shown here or in the terminal; this page reloads by itself.</p>
</body>
</html>
"""

NOT_FOUND_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="color-scheme" content="light dark"><title>Not found · LabPress</title></head>
<body>
<h1>Not found</h1>
<p>Nothing in the build answers to this address.</p>
</body>
</html>
"""


def content_type(path: Path) -> str:
    known = CONTENT_TYPES.get(path.suffix.lower())
    if known:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    if guessed and guessed.startswith("text/"):
        return guessed + "; charset=utf-8"
    return guessed or "application/octet-stream"


def client_tag(build: str) -> bytes:
    """The reload client's script tag; the build id tells the client which build the page shows."""
    return f'<script type="module" src="{CLIENT_PATH}?build={quote(build)}"></script>'.encode("ascii")


def inject_client(html: bytes, build: str) -> bytes:
    """``html`` with the reload client before its last ``</body>`` (or at the end when there is none)."""
    at = html.lower().rfind(b"</body>")
    if at < 0:
        return html + b"\n" + client_tag(build) + b"\n"
    return html[:at] + client_tag(build) + b"\n" + html[at:]


class DevRequestHandler(BaseHTTPRequestHandler):
    server: "DevHTTPServer"
    server_version = "LabPress-dev"
    timeout = 60  # an idle connection (a browser's preconnect) does not hold a thread for ever

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the terminal stays for build news
        pass

    def do_GET(self) -> None:
        self.respond(head=False)

    def do_HEAD(self) -> None:
        self.respond(head=True)

    # ------------------------------------------------------------------ routing

    def respond(self, head: bool) -> None:
        url = urlsplit(self.path)
        path = url.path or "/"
        if path == EVENTS_PATH:
            self.send_events(head)
        elif path == CLIENT_PATH:
            self.send_bytes(HTTPStatus.OK, CLIENT_FILE.read_bytes(), "text/javascript; charset=utf-8", head,
                            cache="no-cache")
        elif path.startswith(PREFIX):
            self.send_not_found(head)
        else:
            self.send_site_file(path, url.query, head)

    def locate(self, path: str) -> Path | str | None:
        """The build file for a URL path, a redirect target (str), or None."""
        parts = [unquote(part) for part in path.split("/")]
        if any(part == ".." or "\\" in part or "\0" in part for part in parts):
            return None
        relative = [part for part in parts if part not in ("", ".")]
        target = self.server.out_dir.joinpath(*relative)
        if target.is_dir():
            if not path.endswith("/"):
                return path + "/"
            target = target / "index.html"
        return target if target.is_file() else None

    def wait_for_output(self) -> bool:
        """Whether the output folder exists, allowing for the instant a rebuild swaps it."""
        for _ in range(20):
            if self.server.out_dir.is_dir():
                return True
            time.sleep(0.05)
        return False

    # ------------------------------------------------------------------ responses

    def send_site_file(self, path: str, query: str, head: bool) -> None:
        build = self.server.state.snapshot.build  # read before the file: a newer file with an older id only reloads once more
        if not self.wait_for_output():
            self.send_html(HTTPStatus.SERVICE_UNAVAILABLE, NO_BUILD_PAGE.encode("utf-8"), build, head)
            return
        found = self.locate(path)
        if isinstance(found, str):
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", found + (f"?{query}" if query else ""))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if found is None:
            self.send_not_found(head, build)
            return
        try:
            if found.suffix.lower() in (".html", ".htm"):
                self.send_html(HTTPStatus.OK, found.read_bytes(), build, head)
            else:
                self.send_file(found, head)
        except FileNotFoundError:  # removed by a rebuild between the look-up and the read
            self.send_not_found(head, build)

    def send_not_found(self, head: bool, build: str | None = None) -> None:
        build = build if build is not None else self.server.state.snapshot.build
        page = self.server.out_dir / "404.html"
        try:
            body = page.read_bytes()
        except OSError:
            body = NOT_FOUND_PAGE.encode("utf-8")
        self.send_html(HTTPStatus.NOT_FOUND, body, build, head)

    def send_html(self, status: int, body: bytes, build: str, head: bool) -> None:
        self.send_bytes(status, inject_client(body, build), "text/html; charset=utf-8", head, cache="no-store")

    def send_bytes(self, status: int, body: bytes, kind: str, head: bool, cache: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def send_file(self, path: Path, head: bool) -> None:
        with path.open("rb") as handle:
            stat = os.fstat(handle.fileno())
            tag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
            if self.headers.get("If-None-Match") == tag:
                self.send_response(HTTPStatus.NOT_MODIFIED)
                self.send_header("ETag", tag)
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                return
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", content_type(path))
            self.send_header("Content-Length", str(stat.st_size))
            self.send_header("ETag", tag)
            self.send_header("Cache-Control", "no-cache")  # revalidate: a rebuild may change it
            self.end_headers()
            if not head:
                shutil.copyfileobj(handle, self.wfile)

    # ------------------------------------------------------------------ server-sent events

    def send_events(self, head: bool) -> None:
        self.close_connection = True
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if head:
            return
        state = self.server.state
        snapshot = state.snapshot
        try:
            self.wfile.write(b"retry: 1000\n")
            self.send_state(snapshot)
            while not state.closed:
                changed = state.wait(snapshot.seq, KEEPALIVE_SECONDS)
                if changed is None:
                    if not state.closed:
                        self.wfile.write(b": keep-alive\n\n")  # also notices a page that went away
                    continue
                snapshot = changed
                self.send_state(snapshot)
        except (ConnectionError, OSError):
            pass  # the page closed or reloaded

    def send_state(self, snapshot: Snapshot) -> None:
        data = json.dumps(snapshot.as_event(), ensure_ascii=False)
        self.wfile.write(f"event: state\ndata: {data}\n\n".encode("utf-8"))


class DevHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], out_dir: Path, state: BuildState,
                 on_error: Callable[[str], None] | None = None):
        self.out_dir = out_dir
        self.state = state
        self.on_error = on_error
        super().__init__(address, DevRequestHandler)

    def handle_error(self, request, client_address) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return  # a browser dropped a connection: nothing to report
        if self.on_error:
            self.on_error(f"dev server: {type(error).__name__}: {error}")


def make_server(host: str, port: int, out_dir: Path, state: BuildState,
                on_error: Callable[[str], None] | None = None) -> DevHTTPServer:
    """A bound, listening server (not yet serving); raises OSError when the port is taken."""
    cls = DevHTTPServer
    if ":" in host:  # an IPv6 address such as ::1
        cls = type("DevHTTPServer6", (DevHTTPServer,), {"address_family": socket.AF_INET6})
    return cls((host, port), out_dir, state, on_error)


def server_url(server: DevHTTPServer) -> str:
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"

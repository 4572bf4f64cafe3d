"""The dev server's HTTP side: the dev build, the reload client and build events.

* Files come from the dev output folder; ``/dir/`` means ``/dir/index.html`` and
  ``/dir`` redirects to ``/dir/``; a missing path gets ``404.html`` with status 404.
* Every HTML response gets the reload client injected before ``</body>``. The
  build output on disk never contains it.
* ``/__labpress/reload.js`` is the client; ``/__labpress/events`` is a stream of
  server-sent events, one ``state`` event on connect and one per build outcome.

Nothing outside the output folder is ever served. A request target is decoded
once and split into names; ``..``, NUL, backslashes, text that is not UTF-8 and
anything but a path (``http://host/``, ``*``) get 404, and so does a name that
resolves, through a symlink say, outside the resolved output folder. Redirects
are built from the names, so ``//host`` never becomes ``Location: //host/``.
A request whose ``Host`` is neither the bound address nor ``localhost`` (with the
bound port or none) gets 403, which keeps a page elsewhere from reading the
preview by DNS rebinding. A request target over ``MAX_TARGET`` bytes gets 414,
and no error report repeats a URL whole.
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
from urllib.parse import quote, unquote_to_bytes

from labpress.devserver.state import BuildState, Snapshot
from labpress.errors import shorten, visible

PREFIX = "/__labpress/"
EVENTS_PATH = PREFIX + "events"
CLIENT_PATH = PREFIX + "reload.js"
CLIENT_FILE = Path(__file__).resolve().parent.parent / "browser" / "reload.js"
KEEPALIVE_SECONDS = 15.0
MAX_TARGET = 8192  # bytes in a request target; longer ones get 414
MAX_REQUEST_LINE = MAX_TARGET + 64  # room for the method and the HTTP version
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
FORBIDDEN_BODY = b"Forbidden: this preview answers only to localhost and the address it listens on.\n"

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


def split_target(target: str) -> tuple[list[str], bool, str] | None:
    """A request target as ``(names, ends_with_slash, query)``, or None for one that may not be served.

    The target is decoded once (``%252e`` is the name ``%2e``), as UTF-8; empty
    names and ``.`` are dropped. None for a target that is not a path starting
    with ``/``, or that holds ``..``, a NUL, a backslash or bytes that are not UTF-8.
    """
    if not target.startswith("/"):
        return None  # absolute form (http://host/...), authority form, "*"
    path, _, query = target.partition("?")
    path = path.partition("#")[0]
    try:
        # parse_request decoded the line as Latin-1: back to its bytes, then decode the escapes once.
        decoded = unquote_to_bytes(path.encode("latin-1")).decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None
    if "\0" in decoded or "\\" in decoded:
        return None
    names = decoded.split("/")
    if ".." in names:
        return None
    return [name for name in names if name not in ("", ".")], decoded.endswith("/"), query


def host_allowed(value: str | None, bound_host: str, bound_port: int) -> bool:
    """Whether a ``Host`` header names this server: ``localhost``, a loopback address or the
    bound address, with the bound port or none. No header at all (HTTP/1.0) is allowed."""
    if value is None:
        return True
    value = value.strip().lower()
    if value.startswith("["):  # an IPv6 address, [::1]:8000
        end = value.find("]") + 1
    else:
        end = value.find(":") if ":" in value else len(value)
    name, rest = value[:end], value[end:]
    if rest and rest != f":{bound_port}":
        return False
    shown = f"[{bound_host.lower()}]" if ":" in bound_host else bound_host.lower()
    return name in LOOPBACK_NAMES or bool(name) and name == shown


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

    def handle_one_request(self) -> None:
        """BaseHTTPRequestHandler's, with a much shorter limit on the request line."""
        try:
            self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
            if len(self.raw_requestline) > MAX_REQUEST_LINE:
                self.requestline = self.request_version = self.command = ""
                self.refuse_too_long()
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return  # an error has been sent
            if len(self.path) > MAX_TARGET:
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            method = getattr(self, "do_" + self.command, None)
            if method is None:
                self.send_error(HTTPStatus.NOT_IMPLEMENTED)
                return
            method()
            self.wfile.flush()
        except TimeoutError:
            self.close_connection = True

    def refuse_too_long(self) -> None:
        """414 for a request line that is still coming in, then read a bounded amount of the rest,
        so that closing the connection does not reset it before the client has read the answer."""
        self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(1.0)
            left, deadline = 1 << 20, time.monotonic() + 2.0
            while left > 0 and time.monotonic() < deadline:
                chunk = self.rfile.read1(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
        except OSError:
            pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """A short plain-text error. Unlike BaseHTTPRequestHandler's, it never repeats the request
        (whose line it puts in the reason phrase and the page of a 400)."""
        self.close_connection = True
        status = HTTPStatus(code)
        self.send_response(status)
        self.send_header("Connection", "close")
        body = f"{status.value} {status.phrase}\n".encode("ascii")
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        self.respond(head=False)

    def do_HEAD(self) -> None:
        self.respond(head=True)

    # ------------------------------------------------------------------ routing

    def respond(self, head: bool) -> None:
        hosts = self.headers.get_all("Host") or []
        if len(hosts) > 1 or not host_allowed(hosts[0] if hosts else None, *self.server.server_address[:2]):
            self.close_connection = True
            self.send_bytes(HTTPStatus.FORBIDDEN, FORBIDDEN_BODY, "text/plain; charset=utf-8", head,
                            cache="no-store")
            return
        target = split_target(self.path)
        if target is None:
            self.send_not_found(head)
            return
        names, slash, query = target
        path = "/" + "/".join(names) + ("/" if slash and names else "")
        if path == EVENTS_PATH:
            self.send_events(head)
        elif path == CLIENT_PATH:
            self.send_bytes(HTTPStatus.OK, CLIENT_FILE.read_bytes(), "text/javascript; charset=utf-8", head,
                            cache="no-cache")
        elif path.startswith(PREFIX):
            self.send_not_found(head)
        else:
            self.send_site_file(names, slash, query, head)

    def inside(self, names: list[str]) -> Path | None:
        """``out_dir/names...`` resolved, symlinks and all, when that is inside the resolved output
        folder; None when it is outside or cannot be looked at."""
        try:
            root = self.server.out_dir.resolve()
            target = root.joinpath(*names).resolve()
        except (OSError, RuntimeError, ValueError):  # a symlink loop; a name too long
            return None
        return target if target == root or target.is_relative_to(root) else None

    def locate(self, names: list[str], slash: bool) -> Path | str | None:
        """The build file for a path's names, a redirect target (str), or None."""
        target = self.inside(names)
        try:
            if target is not None and target.is_dir():
                if not slash and names:
                    return "/" + "/".join(quote(name) for name in names) + "/"
                target = self.inside([*names, "index.html"])
            return target if target is not None and target.is_file() else None
        except OSError:  # a name too long, say
            return None

    def wait_for_output(self) -> bool:
        """Whether the output folder exists, allowing for the instant a rebuild swaps it."""
        for _ in range(20):
            if self.server.out_dir.is_dir():
                return True
            time.sleep(0.05)
        return False

    # ------------------------------------------------------------------ responses

    def send_site_file(self, names: list[str], slash: bool, query: str, head: bool) -> None:
        build = self.server.state.snapshot.build  # read before the file: a newer file with an older id only reloads once more
        if not self.wait_for_output():
            self.send_html(HTTPStatus.SERVICE_UNAVAILABLE, NO_BUILD_PAGE.encode("utf-8"), build, head)
            return
        found = self.locate(names, slash)
        if isinstance(found, str):
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            if query and query.isascii() and query.isprintable():
                found += "?" + query
            self.send_header("Location", found)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if found is None:
            self.send_not_found(head, build)
            return
        try:
            handle = found.open("rb")
        except OSError:  # removed by a rebuild between the look-up and the read, or unreadable
            self.send_not_found(head, build)
            return
        with handle:
            if found.suffix.lower() in (".html", ".htm"):
                self.send_html(HTTPStatus.OK, handle.read(), build, head)
            else:
                self.send_file(found, handle, head)

    def send_not_found(self, head: bool, build: str | None = None) -> None:
        build = build if build is not None else self.server.state.snapshot.build
        page = self.inside(["404.html"])
        try:
            body = page.read_bytes() if page is not None else NOT_FOUND_PAGE.encode("utf-8")
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

    def send_file(self, path: Path, handle, head: bool) -> None:
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
        if self.on_error:  # shortened: the error may quote a request
            self.on_error(f"dev server: {type(error).__name__}: {shorten(visible(str(error)), 200)}")


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

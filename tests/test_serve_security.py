"""``labpress serve`` leaks nothing: paths outside the output folder, other Host names, long URLs.

A real DevHTTPServer runs in a thread over a temporary output folder that has
secrets beside it and symlinks inside it pointing out. Requests go over a raw
socket, so every target reaches the server exactly as written here. The last
tests check that a change in ``data/`` reaches the watcher.
"""

from __future__ import annotations

import http.client
import os
import socket
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

import support

from labpress.devserver.server import MAX_TARGET, make_server
from labpress.devserver.state import BuildState
from labpress.devserver.watcher import SiteWatcher

TIMEOUT = 30.0
SECRET = b"SECRET-BESIDE-THE-BUILD"
TOML_SECRET = b"TOML-SECRET"
CACHE_SECRET = b"CACHE-SECRET"
SECRETS = (SECRET, TOML_SECRET, CACHE_SECRET)


class Response:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return f"<{self.status} {dict(self.headers)} {self.body[:80]!r}>"


class Served:
    """A DevHTTPServer on 127.0.0.1 (or another address) serving ``out_dir`` from a thread."""

    def __init__(self, out_dir: Path, host: str = "127.0.0.1"):
        self.errors: list[str] = []
        self.server = make_server(host, 0, out_dir, BuildState(), on_error=self.errors.append)
        self.host = host
        self.port = self.server.server_address[1]
        self.authority = (f"[{host}]" if ":" in host else host) + f":{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def raw(self, data: bytes, method: str = "GET") -> Response:
        """Send ``data`` as it is and read one response (an event stream's body is left: it goes on)."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(TIMEOUT)
            sock.connect((self.host, self.port))
            sock.sendall(data)
            response = http.client.HTTPResponse(sock, method=method)
            response.begin()
            stream = (response.headers.get("Content-Type") or "").startswith("text/event-stream")
            return Response(response.status, response.headers, b"" if stream else response.read())

    def request(self, target: str | bytes, method: str = "GET", host: str | None | bytes = "default",
                extra: bytes = b"") -> Response:
        """``METHOD target HTTP/1.1`` with a Host header (the bound address unless told; None for none)."""
        if isinstance(target, str):
            target = target.encode("latin-1")
        lines = [method.encode("ascii") + b" " + target + b" HTTP/1.1"]
        if host == "default":
            host = self.authority
        if host is not None:
            lines.append(b"Host: " + (host if isinstance(host, bytes) else host.encode("latin-1")))
        lines.append(b"Connection: close")
        return self.raw(b"\r\n".join(lines) + b"\r\n" + extra + b"\r\n", method=method)

    def close(self) -> None:
        self.server.state.close()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(TIMEOUT)


@pytest.fixture
def tree(tmp_path) -> Path:
    """A site folder with secrets beside ``build/`` and symlinks in it; returns ``build/``."""
    site = tmp_path / "site"
    out = site / "build"
    (out / "post").mkdir(parents=True)
    (out / "sub").mkdir()
    (out / "evil.example").mkdir()
    (out / "evil.example" / "index.html").write_text("<p>a folder named like a host</p>")
    (site / "secret.txt").write_bytes(SECRET)
    (site / "labpress.toml").write_bytes(b'title = "' + TOML_SECRET + b'"\n')
    (site / ".labpress-cache").mkdir()
    (site / ".labpress-cache" / "posts.sqlite").write_bytes(CACHE_SECRET)
    (out / "index.html").write_text("<html><body><p>home page</p></body></html>")
    (out / "404.html").write_text("<html><body><p>the site's own 404</p></body></html>")
    (out / "post" / "index.html").write_text("<html><body><p>a post</p></body></html>")
    (out / "a file.txt").write_text("with a space")
    (out / "100%.txt").write_text("a percent sign")
    (out / "café.txt").write_text("not ASCII")
    (out / "style.css").write_text("body { color: black }")
    os.symlink(site / "secret.txt", out / "leak.txt")  # absolute, pointing out
    os.symlink("../labpress.toml", out / "config.txt")  # relative, pointing out
    os.symlink("..", out / "up")  # a folder pointing out
    os.symlink("style.css", out / "alias.css")  # pointing inside: fine
    os.symlink("loop", out / "loop")
    (out / "sub" / "readme.txt").write_text("in a folder")
    return out


@pytest.fixture
def served(tree):
    started: list[Served] = []

    def start(out_dir: Path = tree, host: str = "127.0.0.1") -> Served:
        server = Served(out_dir, host)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def both(server: Served, target: str | bytes, **options) -> Response:
    """GET and HEAD of ``target``: the same status and headers, HEAD without a body. Returns the GET."""
    got = server.request(target, "GET", **options)
    head = server.request(target, "HEAD", **options)
    assert head.status == got.status, (target, got, head)
    assert head.body == b"", (target, head)
    assert head.headers.get("Location") == got.headers.get("Location")
    assert head.headers.get("Content-Type") == got.headers.get("Content-Type")
    return got


# --------------------------------------------------------------------------- what is served


@pytest.mark.parametrize("target, expected", [
    ("/", b"home page"),
    ("/index.html", b"home page"),
    ("/post/", b"a post"),
    ("/post/index.html", b"a post"),
    ("/a%20file.txt", b"with a space"),
    ("/100%25.txt", b"a percent sign"),
    ("/caf%C3%A9.txt", b"not ASCII"),
    ("/caf\xc3\xa9.txt", b"not ASCII"),  # raw UTF-8 bytes on the request line
    ("/style.css?v=3", b"body { color: black }"),
    ("/alias.css", b"body { color: black }"),  # a symlink that stays inside
    ("/sub/readme.txt", b"in a folder"),
    ("/./sub/./readme.txt", b"in a folder"),
    ("/%2e/sub/readme.txt", b"in a folder"),  # an encoded single dot is harmless
])
def test_files_of_the_build_are_served(served, tree, target, expected):
    server = served()
    response = both(server, target)
    assert response.status == 200, response
    assert expected in response.body
    assert response.headers["Content-Length"] == str(len(response.body))


def test_a_folder_redirects_to_its_slash_form(served):
    server = served()
    response = both(server, "/post")
    assert response.status == 301 and response.headers["Location"] == "/post/"
    response = both(server, "/post?x=1")
    assert response.status == 301 and response.headers["Location"] == "/post/?x=1"


ESCAPES = [
    "/%2fetc%2fpasswd",
    "/%2Fetc%2Fpasswd",
    "/..%2fsecret.txt",
    "/..%2flabpress.toml",
    "/..%2f.labpress-cache%2fposts.sqlite",
    "/../secret.txt",
    "/../labpress.toml",
    "/post/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/labpress.toml",
    "/.%2e/secret.txt",
    "/%2e./secret.txt",
    "/%2e%2e%2fsecret.txt",
    "/post/..%2f..%2fsecret.txt",
    "/" + "..%2f" * 12 + "etc/passwd",
    "/..",
    "/%2e%2e",
    "/%2e%2e/",
    "/..\\secret.txt",
    "/..%5csecret.txt",
    "/..%5Clabpress.toml",
    "/post\\..\\..\\secret.txt",
    "/index.html%00",
    "/index.html%00.css",
    "/%00",
    "/%252e%252e/secret.txt",  # decoded once: a folder literally named %2e%2e, which is not there
    "/%252e%252e%252fsecret.txt",
    "/%25252e%25252e/secret.txt",
    "/%c0%ae%c0%ae/secret.txt",  # overlong UTF-8 for "..": not UTF-8 at all
    "/%ff",
    "//etc/passwd",
    "///etc/passwd",
    "/leak.txt",  # symlinks inside the build pointing out
    "/config.txt",
    "/up/secret.txt",
    "/up/labpress.toml",
    "/up/.labpress-cache/posts.sqlite",
    "/up",
    "/up/",
    "/loop",
    "/sub/",  # a folder without index.html
    "http://evil/",
    "http://evil/secret.txt",
    "http://127.0.0.1/index.html",
    "evil.example:80",
    "*",
    "index.html",
]


@pytest.mark.parametrize("target", ESCAPES)
def test_nothing_outside_the_build_is_served(served, tree, target):
    server = served()
    response = both(server, target)
    assert response.status == 404, response
    assert "Location" not in response.headers
    for secret in SECRETS:
        assert secret not in response.body
    assert b"root:" not in response.body  # /etc/passwd
    assert b"the site's own 404" in response.body


def test_absolute_paths_in_one_encoded_name_are_refused(served, tree):
    server = served()
    secret = tree.parent / "secret.txt"
    for target in ("/" + quote(str(secret), safe=""), "/" + quote(str(secret), safe="/"),
                   "/%2f" + quote(str(secret).lstrip("/"), safe=""), "/" + str(secret)):
        response = both(server, target)
        assert response.status == 404 and SECRET not in response.body, (target, response)


@pytest.mark.parametrize("target", ["//evil.example", "///evil.example", "////evil.example", "//evil.example/..",
                                    "/%2fevil.example", "/%2f%2fevil.example", "/.//evil.example",
                                    "//evil.example?x=//evil.example"])
def test_a_redirect_never_leaves_the_site(served, target):
    server = served()
    response = both(server, target)
    location = response.headers.get("Location")
    if location is not None:
        assert response.status == 301
        assert location.startswith("/") and not location.startswith("//") and "\\" not in location, location
        assert location.partition("?")[0] == "/evil.example/"
    else:
        assert response.status == 404


def test_a_404_page_that_points_out_is_not_served(served, tree):
    (tree / "404.html").unlink()
    os.symlink(tree.parent / "secret.txt", tree / "404.html")
    server = served()
    response = both(server, "/no/such/page")
    assert response.status == 404 and SECRET not in response.body
    assert b"Not found" in response.body


def test_the_build_folder_itself_may_be_a_symlink(served, tree, tmp_path):
    link = tmp_path / "link-to-build"
    os.symlink(tree, link)
    server = served(link)
    assert both(server, "/post/").status == 200
    assert both(server, "/leak.txt").status == 404
    assert both(server, "/up/secret.txt").status == 404


# --------------------------------------------------------------------------- Host


@pytest.mark.parametrize("target", ["/", "/index.html", "/post", "/no/such", "/__labpress/events",
                                    "/__labpress/reload.js", "/..%2fsecret.txt"])
@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example",
                                  "127.0.0.1.evil.example:{port}", "localhost.evil.example:{port}",
                                  "127.0.0.1:{other}", "localhost:{other}", "127.0.0.1:", "127.0.0.1:{port}x",
                                  "[::1].evil.example", "", "127.0.0.2:{port}"])
def test_other_host_names_are_refused(served, target, host):
    server = served()
    value = host.format(port=server.port, other=server.port + 1 if server.port < 65535 else 1)
    response = both(server, target, host=value)
    assert response.status == 403, (value, response)
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.body.startswith(b"Forbidden") and len(response.body) < 200
    assert value.encode() not in response.body or not value
    assert "Location" not in response.headers


def test_two_host_headers_are_refused(served):
    server = served()
    response = server.request("/", host=server.authority, extra=b"Host: evil.example\r\n")
    assert response.status == 403


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LocalHost:{port}", "localhost",
                                  "127.0.0.1", "[::1]:{port}", "[::1]", " localhost:{port} "])
def test_the_bound_address_and_localhost_are_answered(served, host):
    server = served()
    value = host.format(port=server.port)
    assert both(server, "/", host=value).status == 200
    assert both(server, "/__labpress/reload.js", host=value).status == 200
    events = both(server, "/__labpress/events", host=value)
    assert events.status == 200 and events.headers["Content-Type"].startswith("text/event-stream")


def test_a_request_without_host_is_answered(served):
    server = served()
    response = server.raw(b"GET /post/ HTTP/1.0\r\n\r\n")
    assert response.status == 200 and b"a post" in response.body


def test_ipv6_loopback(served, tree):
    try:
        server = served(tree, "::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    assert both(server, "/").status == 200
    assert both(server, "/", host=f"localhost:{server.port}").status == 200
    assert both(server, "/", host="::1").status == 403
    assert both(server, "/", host=f"[::1].evil.example:{server.port}").status == 403
    assert both(server, "/..%2fsecret.txt").status == 404


# --------------------------------------------------------------------------- long URLs and error reports


@pytest.mark.parametrize("length", [MAX_TARGET + 1, MAX_TARGET + 200, 40_000, 200_000])
def test_a_long_url_gets_414_at_once_and_is_not_repeated(served, capfd, length):
    server = served()
    marker = "LONGURL"
    target = "/" + (marker * (length // len(marker) + 1))[:length - 1]
    started = time.monotonic()
    for method in ("GET", "HEAD"):
        response = server.request(target, method)
        assert response.status == 414, response
        assert marker.encode() not in response.body
        assert all(marker not in value for value in response.headers.values())
    assert time.monotonic() - started < TIMEOUT / 2  # not after a read timeout
    assert not server.errors
    captured = capfd.readouterr()
    assert marker not in captured.out + captured.err


def test_a_url_just_under_the_limit_is_looked_up(served, capfd):
    server = served()
    # One name far longer than a file name may be: a lookup error, reported as 404 and printed nowhere.
    target = "/" + "N" * (MAX_TARGET - 1)
    assert len(target) == MAX_TARGET
    response = both(server, target)
    assert response.status == 404 and b"NNNN" not in response.body
    assert both(server, "/post/" + "n" * 300).status == 404
    assert not server.errors
    captured = capfd.readouterr()
    assert "NNNN" not in captured.out + captured.err and "nnnn" not in captured.out + captured.err


def test_malformed_requests_are_not_echoed(served, capfd):
    server = served()
    marker = b"ECHO" * 500
    for request, status in ((b"GET / HTTP/1.1" + marker + b"\r\n\r\n", b"400"),  # a bad version
                            (b"GET /a /" + marker + b" HTTP/1.1\r\n\r\n", b"400"),  # too many words
                            (b"GET /" + marker + b" HTTP/9.9\r\n\r\n", b"505"),
                            (marker + b" / HTTP/1.1\r\nHost: localhost\r\n\r\n", b"501")):  # an unknown method
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert status in answer and b"ECHO" not in answer, answer
    assert not server.errors
    captured = capfd.readouterr()
    assert "ECHO" not in captured.out + captured.err


# --------------------------------------------------------------------------- watching data/


def wait_until(predicate, what: str, timeout: float = TIMEOUT):
    return support.wait_until(predicate, what, timeout)


class Changes:
    def __init__(self):
        self.lock = threading.Lock()
        self.paths: set[Path] = set()

    def __call__(self, paths: set[Path]) -> None:
        with self.lock:
            self.paths |= paths

    def seen(self, path: Path) -> bool:
        with self.lock:
            return path.resolve() in {p.resolve() for p in self.paths}


def test_a_change_in_data_is_seen(site):
    data = site.root / "data"
    data.mkdir()
    table = data / "readings.csv"
    table.write_text("t,v\n0,1\n")
    changes = Changes()
    watcher = SiteWatcher(site.root, changes)
    assert "data/" in watcher.watched
    watcher.start()
    try:
        table.write_text("t,v\n0,1\n1,2\n")
        wait_until(lambda: changes.seen(table), "the change in data/ to be reported")
        nested = data / "runs" / "run1.json"
        nested.parent.mkdir()
        nested.write_text("{}")
        # A file made at once in a new folder may be written before the folder is watched: the
        # folder's own creation is then what is reported (and what starts the rebuild).
        wait_until(lambda: changes.seen(nested) or changes.seen(nested.parent),
                   "a new file in a folder under data/ to be reported")
    finally:
        watcher.close()


def test_a_data_folder_made_later_is_watched(site):
    changes = Changes()
    watcher = SiteWatcher(site.root, changes)
    assert "data/" not in watcher.watched
    watcher.start()
    try:
        data = site.root / "data"
        data.mkdir()
        wait_until(lambda: changes.seen(data), "the new data/ folder to be reported")
        assert "data/" in watcher.watched
        table = data / "readings.csv"
        count = iter(range(10_000))

        def edited() -> bool:  # the folder watcher restarts to take data/ in; edit until it reports
            table.write_text(f"t,v\n0,{next(count)}\n")
            return changes.seen(table)

        wait_until(edited, "a change in the new data/ folder to be reported")
    finally:
        watcher.close()

"""``labpress serve``: the dev server as a real process, driven over HTTP and through headless Chromium.

Each test starts ``python -m labpress serve SITE --port 0`` and reads the URL it
prints. Waits are generous (30 s) and nothing asserts how long anything took.
Browser tests are marked ``browser``.
"""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import support

from labpress.devserver.server import CLIENT_PATH, content_type, inject_client

TIMEOUT = 30.0
URL_PATTERN = re.compile(r"http://127\.0\.0\.1:\d+/")

POST = """
---
title: First light
date: 2026-03-01
exp: 4
series: basics
step: 1
summary: A short dek.
tags: [optics]
verdict: mixed
---

::: hypothesis
The lamp is on.
:::

The lamp glows at $x^2$ lumens.
"""


def error_position(text: str, line_text: str, column_of: str) -> str:
    """``content/post.md:LINE:COL`` of ``column_of`` in the line that reads ``line_text``."""
    lines = text.lstrip("\n").splitlines()
    line = lines.index(line_text) + 1
    return f"content/post.md:{line}:{line_text.index(column_of) + 1}"


def wait_until(predicate, what: str, timeout: float = TIMEOUT):
    return support.wait_until(predicate, what, timeout)


class DevServer:
    """A running ``labpress serve``; its output is collected by reader threads."""

    def __init__(self, site_dir: Path, *args: str):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "labpress", "serve", str(site_dir), "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
        )
        self.stdout_lines: list[str] = []
        self.stderr_lines: list[str] = []
        self.readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.stdout_lines), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self.stderr_lines), daemon=True),
        ]
        for reader in self.readers:
            reader.start()
        self.url = wait_until(self._url, "the dev server to print its URL")

    @staticmethod
    def _read(stream, lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    def _url(self) -> str | None:
        if self.process.poll() is not None:
            raise AssertionError(f"labpress serve exited with {self.process.returncode}:\n{self.stderr}")
        for line in list(self.stdout_lines):
            found = URL_PATTERN.search(line)
            if found:
                return found.group(0)
        return None

    @property
    def stdout(self) -> str:
        return "\n".join(self.stdout_lines)

    @property
    def stderr(self) -> str:
        return "\n".join(self.stderr_lines)

    def wait_for_stderr(self, text: str) -> None:
        wait_until(lambda: text in self.stderr, f"{text!r} in the server's stderr")

    def wait_for_stdout(self, text: str, count: int = 1) -> None:
        wait_until(lambda: self.stdout.count(text) >= count, f"{text!r} in the server's stdout")

    def interrupt(self) -> int:
        """Ctrl-C, as a terminal sends it; the exit code once the server has stopped."""
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(TIMEOUT)
        for reader in self.readers:
            reader.join(TIMEOUT)
        return code

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        for stream in (self.process.stdout, self.process.stderr):
            stream.close()


@pytest.fixture
def serve():
    """``serve(site_dir, *args)`` starts a dev server; every one started is stopped afterwards."""
    started: list[DevServer] = []

    def start(site_dir: Path, *args: str) -> DevServer:
        server = DevServer(site_dir, *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body; redirects are not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=TIMEOUT) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class EventStream:
    """The dev server's server-sent events, read as a browser's EventSource would."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
        self.connection.request("GET", "/__labpress/events")
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        assert self.response.headers["Content-Type"].startswith("text/event-stream")

    def next_state(self) -> dict:
        event, data = None, []
        while True:
            line = self.response.fp.readline().decode("utf-8")
            assert line, "the event stream ended"
            line = line.rstrip("\n")
            if line.startswith("event:"):
                event = line.partition(":")[2].strip()
            elif line.startswith("data:"):
                data.append(line.partition(":")[2].strip())
            elif line == "" and data:
                if event == "state":
                    return json.loads("\n".join(data))
                event, data = None, []

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def events():
    streams: list[EventStream] = []

    def open_stream(url: str) -> EventStream:
        stream = EventStream(url)
        streams.append(stream)
        return stream

    yield open_stream
    for stream in streams:
        stream.close()


# --------------------------------------------------------------------------- the server in a browser


@pytest.mark.browser
def test_edit_reloads_error_shows_overlay_fix_clears_it(site, serve, browser):
    from playwright.sync_api import expect

    path = site.post("post.md", POST)
    server = serve(site.root)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.url + "post/")
        expect(page.locator("main")).to_contain_text("The lamp glows", timeout=TIMEOUT * 1000)

        # An edit: the page reloads by itself and shows it.
        page.evaluate("window.__notReloaded = true")
        path.write_text(path.read_text().replace("The lamp glows", "The lamp shines"))
        expect(page.locator("main")).to_contain_text("The lamp shines", timeout=TIMEOUT * 1000)
        assert page.evaluate("window.__notReloaded === undefined"), "the page should have reloaded"

        # A mistake: the overlay names it; the page keeps the last good build.
        broken = path.read_text().replace("verdict: mixed", "verdict: mixd")
        path.write_text(broken)
        where = error_position(broken, "verdict: mixd", "mixd")
        alert = page.get_by_role("alert")
        expect(alert).to_be_visible(timeout=TIMEOUT * 1000)
        expect(alert).to_contain_text(f"{where}: error: 'verdict' must be one of", timeout=TIMEOUT * 1000)
        expect(alert).to_contain_text("Build failed")
        expect(page.locator("main")).to_contain_text("The lamp shines")
        expect(page.get_by_role("button", name="Close build errors")).to_be_visible()
        server.wait_for_stderr(f"{where}: error: 'verdict' must be one of")

        # The fix: the overlay goes and the page shows the new text.
        page.evaluate("window.__notReloaded = true")
        path.write_text(broken.replace("verdict: mixd", "verdict: mixed").replace("The lamp shines", "The lamp is bright"))
        expect(page.locator("main")).to_contain_text("The lamp is bright", timeout=TIMEOUT * 1000)
        expect(page.get_by_role("alert")).to_have_count(0, timeout=TIMEOUT * 1000)
        assert page.evaluate("window.__notReloaded === undefined")
    finally:
        context.close()


@pytest.mark.browser
def test_page_opened_while_broken_shows_errors_and_close_button_hides_them(site, serve, browser):
    from playwright.sync_api import expect

    path = site.post("post.md", POST)
    server = serve(site.root)
    broken = POST.replace("exp: 4", "exp: four")
    path.write_text(broken.lstrip("\n"))
    where = error_position(broken, "exp: four", "four")
    server.wait_for_stderr(f"{where}: error: 'exp' must be a whole number")

    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.url + "post/")
        expect(page.locator("main")).to_contain_text("The lamp glows", timeout=TIMEOUT * 1000)  # the last good build
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text(f"{where}: error: 'exp' must be a whole number", timeout=TIMEOUT * 1000)

        page.get_by_role("button", name="Close build errors").click()
        expect(page.get_by_role("alert")).to_have_count(0)

        # Opening another page of the site shows them again, as does a new mistake.
        page.goto(server.url)
        expect(page.get_by_role("alert")).to_be_visible(timeout=TIMEOUT * 1000)
        page.keyboard.press("Escape")
        expect(page.get_by_role("alert")).to_have_count(0)
        path.write_text(broken.lstrip("\n").replace("verdict: mixed", "verdict: mixd"))
        expect(page.get_by_role("alert")).to_contain_text("'verdict' must be one of", timeout=TIMEOUT * 1000)
    finally:
        context.close()


def _luminance(css_colour: str) -> float:
    channels = [int(float(c)) / 255 for c in re.findall(r"[\d.]+", css_colour)[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_overlay_readable_in_both_colour_schemes(site, serve, browser, scheme):
    from playwright.sync_api import expect

    site.post("post.md", POST.replace("verdict: mixed", "verdict: mixd"))
    server = serve(site.root)
    context = browser.new_context(color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto(server.url)
        expect(page.get_by_role("alert")).to_be_visible(timeout=TIMEOUT * 1000)
        colours = page.get_by_role("alert").evaluate(
            """panel => {
                const style = getComputedStyle(panel);
                const title = getComputedStyle(panel.querySelector('h2'));
                const code = getComputedStyle(panel.querySelector('code'));
                return {bg: style.backgroundColor, fg: style.color, title: title.color,
                        codeBg: code.backgroundColor, code: code.color, position: style.position};
            }"""
        )
        assert colours["position"] == "fixed"
        dark_background = _luminance(colours["bg"]) < 0.2
        assert dark_background == (scheme == "dark"), colours
        assert _contrast(colours["fg"], colours["bg"]) >= 7, colours
        assert _contrast(colours["title"], colours["bg"]) >= 4.5, colours
        assert _contrast(colours["code"], colours["codeBg"]) >= 7, colours
    finally:
        context.close()


# --------------------------------------------------------------------------- the server over HTTP


def test_build_output_has_no_reload_script(site, serve, events):
    path = site.post("post.md", POST)
    server = serve(site.root)
    stream = events(server.url)
    first = stream.next_state()
    path.write_text(path.read_text().replace("glows", "shines"))
    assert stream.next_state()["build"] != first["build"]

    status, headers, body = fetch(server.url + "post/")
    assert status == 200 and b"The lamp shines" in body
    assert body.count(b"/__labpress/reload.js") == 1
    assert re.search(rb'<script type="module" src="/__labpress/reload\.js\?build=[^"]+"></script>\s*</body>', body)

    out = site.root / "build"
    pages = list(out.rglob("*.html"))
    assert pages and (out / "post" / "index.html") in pages
    for file in out.rglob("*"):
        if file.is_file():
            assert b"__labpress" not in file.read_bytes(), file
    assert not list(out.rglob("reload.js"))


def test_events_report_builds_and_errors(site, serve, events):
    path = site.post("post.md", POST)
    server = serve(site.root)
    stream = events(server.url)
    first = stream.next_state()
    assert first["ok"] and first["errors"] == []

    broken = POST.replace("verdict: mixed", "verdict: mixd").lstrip("\n")
    path.write_text(broken)
    failed = stream.next_state()
    assert not failed["ok"] and failed["build"] == first["build"]
    assert failed["errors"][0].startswith(error_position(broken, "verdict: mixd", "mixd") + ": error: ")

    # A page opened now gets the errors at once, and the last good page.
    late = events(server.url).next_state()
    assert late == failed
    status, _, body = fetch(server.url + "post/")
    assert status == 200 and b"The lamp glows" in body

    path.write_text(POST.lstrip("\n"))
    fixed = stream.next_state()
    assert fixed["ok"] and fixed["errors"] == [] and fixed["build"] != first["build"]


def test_editing_a_data_file_rebuilds_its_table_figure_and_numbers(site, serve, events):
    (site.root / "data").mkdir()
    csv = site.root / "data" / "k.csv"
    csv.write_text("x,y\n1,4\n2,8\n")
    site.post("p.md", """---
title: Spring
date: 2026-02-02
---

The slope is `{python} f"{k:.1f}"`.

```python {run}
x, y = np.loadtxt("data/k.csv", delimiter=",", skiprows=1, unpack=True)
k = float(np.polyfit(x, y, 1)[0])
```

```python {figure} caption="slope {k:.1f}" alt="points"
plt.plot(x, y, "o")
```

::: table data/k.csv
:::
""")
    server = serve(site.root)
    stream = events(server.url)
    first = stream.next_state()
    assert first["ok"], first
    page = fetch(server.url + "p/")[2].decode()
    assert "The slope is 4.0." in page and "slope 4.0</figcaption>" in page and "n=2" in page

    csv.write_text("x,y\n1,4\n2,10\n3,16\n")
    rebuilt = stream.next_state()
    assert rebuilt["ok"] and rebuilt["build"] != first["build"], rebuilt
    page = fetch(server.url + "p/")[2].decode()
    assert "The slope is 6.0." in page and "slope 6.0</figcaption>" in page and "n=3" in page


def test_the_search_index_follows_an_edit_once_the_page_has_reloaded(site, serve, events):
    """Open pages reload as soon as the pages are published; Pagefind makes the index meanwhile, and
    it is published when it is done. Stopping the server leaves nothing beside the output folder."""
    path = site.post("post.md", POST)
    server = serve(site.root)
    stream = events(server.url)
    first = stream.next_state()
    entry = site.root / "build" / "assets" / "pagefind" / "pagefind-entry.json"
    wait_until(entry.is_file, "the first search index")
    before = entry.read_bytes()
    path.write_text(path.read_text().replace("The lamp glows", "The lamp shimmers, then glows"))
    assert stream.next_state()["build"] != first["build"]
    assert b"shimmers" in fetch(server.url + "post/")[2]
    wait_until(lambda: entry.read_bytes() != before, "the search index made again")
    assert server.interrupt() == 0
    assert not [p.name for p in site.root.iterdir() if p.name.startswith(".build.")]


def test_broken_at_start_serves_a_placeholder_until_it_builds(site, serve):
    path = site.post("post.md", POST.replace("exp: 4", "exp: four"))
    server = serve(site.root)
    server.wait_for_stderr("content/post.md:")
    status, headers, body = fetch(server.url)
    assert status == 503 and headers["Content-Type"].startswith("text/html")
    assert CLIENT_PATH.encode() in body
    path.write_text(POST.lstrip("\n"))
    wait_until(lambda: fetch(server.url + "post/")[0] == 200, "the fixed site to be served")


def test_paths_statuses_and_content_types(site, serve):
    site.post("post.md", POST)
    server = serve(site.root)

    status, headers, body = fetch(server.url + "no/such/page/")
    assert status == 404
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert body.replace(CLIENT_PATH.encode(), b"").startswith((site.root / "build" / "404.html").read_bytes()[:200])
    assert CLIENT_PATH.encode() in body

    assert fetch(server.url + "post/")[0] == 200
    status, headers, _ = fetch(server.url + "post")
    assert status == 301 and headers["Location"] == "/post/"
    assert fetch(server.url + "%2e%2e/labpress.toml")[0] == 404
    assert fetch(server.url + "__labpress/nothing")[0] == 404

    status, headers, body = fetch(server.url + CLIENT_PATH.lstrip("/"))
    assert status == 200 and headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert b"EventSource" in body

    out = site.root / "build"
    expected = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".svg": "image/svg+xml", ".woff2": "font/woff2", ".xml": "application/xml"}
    seen = set()
    for file in sorted(p for p in out.rglob("*") if p.is_file()):
        if file.suffix in expected and file.suffix not in seen:
            seen.add(file.suffix)
            status, headers, body = fetch(server.url + file.relative_to(out).as_posix())
            assert status == 200 and headers["Content-Type"] == expected[file.suffix], file
            assert body == file.read_bytes()  # never injected into
    assert seen == set(expected)


def test_content_types_and_injection_helpers():
    for name, kind in {"a.mjs": "text/javascript", "a.js": "text/javascript", "a.wasm": "application/wasm",
                       "a.json": "application/json", "a.css": "text/css", "a.svg": "image/svg+xml",
                       "a.woff2": "font/woff2", "a.html": "text/html"}.items():
        assert content_type(Path(name)).split(";")[0] == kind, name
    tag = b'<script type="module" src="/__labpress/reload.js?build=x-1"></script>'
    assert inject_client(b"<p>a</p></BODY></html>", "x-1") == b"<p>a</p>" + tag + b"\n</BODY></html>"
    assert inject_client(b"<p>no body end</p>", "x-1").endswith(tag + b"\n")


def test_ctrl_c_stops_cleanly(site, serve, events):
    site.post("post.md", POST)
    server = serve(site.root)
    stream = events(server.url)  # an open page must not keep it running
    stream.next_state()
    port = urlsplit(server.url).port
    assert server.interrupt() == 0
    assert "Traceback" not in server.stderr, server.stderr
    assert "Stopped." in server.stdout
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_taken_port_is_a_usage_error(site):
    site.post("post.md", POST)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "labpress", "serve", str(site.root), "--port", str(port)],
                                capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_not_a_site_is_a_usage_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "labpress", "serve", str(tmp_path), "--port", "0"],
                            capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 2
    assert "no labpress.toml" in result.stderr


def test_the_server_readies_markdown_and_katex_before_the_first_edit(site):
    """Before any edit (the loop's first step), the session has the Markdown stack loaded and KaTeX's
    engine started, so the first edit, with a formula no build had met, waits for neither."""
    import io

    from rich.console import Console

    from labpress.devserver.session import DevSession

    post = site.post("one.md", "---\ntitle: One\ndate: 2026-01-01\n---\n\nBody with $a + b$.\n")
    quiet = Console(file=io.StringIO())
    session = DevSession(site.root, None, "127.0.0.1", 0, drafts=False, use_cache=True, stdout=quiet, stderr=quiet)
    try:
        session.start()  # builds: every formula from the cache or typeset, nothing rendered afresh later
        katex = session.memory.katex
        katex._render = katex._context = None  # as in a server whose first build found everything cached
        session.warm_up()
        assert katex._render is not None
        post.write_text(post.read_text() + "\nAnd $\\frac{p}{q}$ added while serving.\n")
        session.rebuild({post})
        page = (session.out_dir / "one" / "index.html").read_text()
        assert "added while serving" in page and "<mfrac>" in page  # the new formula, typeset
    finally:
        session.close()

"""What the tests and the benchmarks (bench/) both need: the Chromium they drive and a static
server for a built site, on 127.0.0.1 only. bench/ imports this module from here."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
import time
from pathlib import Path

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_executable() -> str | None:
    """$LABPRESS_CHROMIUM, else a system Chromium; None lets Playwright use its own browser."""
    if os.environ.get("LABPRESS_CHROMIUM"):
        return os.environ["LABPRESS_CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


class StaticServer:
    """Serves ``directory`` on 127.0.0.1 under ``prefix`` (such as "/my-notebook/")."""

    def __init__(self, directory: Path, prefix: str = "/"):
        root = directory
        if prefix != "/":
            # Mount the build at the sub-path, as GitHub project pages do.
            mount = directory.parent / f"mount-{directory.name}"
            target = mount / prefix.strip("/")
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(directory, target_is_directory=True)
            root = mount
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}{prefix}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def wait_until(predicate, what: str, timeout: float = 30.0):
    """``predicate()``'s first true value, polled until ``timeout``; an AssertionError naming ``what`` after."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.contextmanager
def open_context(browser, **options):
    """A fresh browser context (own storage, scheme, viewport) with a 60 s default wait, closed afterwards."""
    context = browser.new_context(**options)
    context.set_default_timeout(60_000)
    try:
        yield context
    finally:
        context.close()


def tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` and its bytes: two builds compare equal when their outputs are identical."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# A small widget with pre-computed frames, for sites made in tests.
DIAL = '''
from labpress.kernel import Figure, Slider, View, widget

@widget(k=Slider(0, 1, value=0.5, step=0.5, label="k"))
def dial(k):
    fig = Figure(x=(0, 1), y=(0, 1), title="Dial")
    fig.circle(k, k)
    return View(fig, {"k": k})
'''

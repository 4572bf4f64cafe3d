"""Reader-side benchmarks of a built LabPress site, in headless Chromium (issue 5).

What a reader pays for one post: bytes transferred (gzip, as a static host
serves them) with no interaction and after the first touch of each kind of
widget; first contentful paint and whether any JavaScript ran before it; the
longest main-thread task during load; input-to-frame latency of a
pre-computed-frames widget (key presses and a slider drag); and, for a widget
that runs its kernel under Pyodide, time to the first live frame (cold and warm
HTTP cache) and input-to-frame latency while its slider and its point's handle
are dragged, with a trace of where each frame's time went.

    python bench/reader.py BUILD_DIR [--post PATH] [--quick] [--json OUT]

bench/run.py calls measure() and report_lines(). The site is served from
127.0.0.1 by a small server in this file; nothing comes from the internet.
The browser is $LABPRESS_CHROMIUM, else a chromium on PATH, else Playwright's.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import http.server
import json
import math
import os
import platform
import re
import statistics
import sys
import tempfile
import threading
import time
from email.utils import formatdate, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support import CHROMIUM_ARGS, chromium_executable  # noqa: E402 (one Chromium lookup for tests and bench)

VIEWPORT = {"width": 1280, "height": 720}
DEFAULT_POST = "regularisation-four-knobs/"
KB = 1000  # bytes; the targets are read as decimal kilobytes (the stricter reading)

TARGETS = {
    "load_kb": 150,  # transferred to display the post, fonts included
    "longest_task_ms": 50,  # no main-thread task over this, during load or a drag
    "frames_p95_ms": 16,  # pre-computed frames: input to new frame on screen
    "drag_median_ms": 16,  # Pyodide widget during a drag: input to frame
    "drag_p95_ms": 33,
    "first_live_ms": 1000,  # first touch to a live widget's first frame, cold HTTP cache, with the snapshot
    "first_live_vs_alone": 0.5,  # ... and at most this share of plain loadPyodide() in the same run
}

QUIET_S = 1.0  # the network counts as settled after this long with no request to the server
PAGE_TIMEOUT_MS = 60_000
PYODIDE_TIMEOUT_S = 150  # the runtime itself gives up on Pyodide after 120 s
FRAME_TIMEOUT_MS = 3_000  # one pre-computed frame; a miss is counted, not fatal
MOVE_INTERVAL_S = 0.016  # one pointer move per 60 Hz frame while dragging

# Trace categories: top-level tasks, script, parsing/layout/paint and the paint timing marks.
# disabled-by-default-devtools.timeline is left out: it roughly doubles the tracing overhead.
TRACE_CATEGORIES = ["toplevel", "devtools.timeline", "v8", "v8.execute", "loading", "blink.user_timing", "__metadata"]
# During a drag: tasks, the timeline (messages, animation frames and their presentation, style, layout,
# paint) and user-timing marks only, so tracing costs the drag as little as it can.
DRAG_TRACE_CATEGORIES = ["toplevel", "devtools.timeline", "blink.user_timing", "__metadata"]
TASK_EVENT = "ThreadControllerImpl::RunTask"  # one task of a thread's scheduler, on every Chromium of the last years
SCRIPT_EVENTS = {"EvaluateScript", "v8.evaluateModule", "FunctionCall", "TimerFire", "FireIdleCallback",
                 "FireAnimationFrame"}
WRAPPER_EVENTS = {TASK_EVENT, "RunTask", "Receive mojo message", "Receive mojo reply", "SimpleWatcher::OnHandleReady",
                  "BlinkScheduler_PerformMicrotaskCheckpoint", "ThreadPool_RunTask"}

# ---------------------------------------------------------------------------- serving the site

GZIP_SUFFIXES = {".html", ".css", ".js", ".mjs", ".json", ".svg", ".xml", ".py", ".txt", ".map"}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json", ".svg": "image/svg+xml", ".xml": "application/xml",
    ".py": "text/x-python; charset=utf-8", ".txt": "text/plain; charset=utf-8",
    ".wasm": "application/wasm", ".zip": "application/zip", ".woff2": "font/woff2", ".woff": "font/woff",
    ".ttf": "font/ttf", ".png": "image/png", ".jpg": "image/jpeg", ".ico": "image/x-icon",
}
BLANK_PATH = "/__reader-bench__/blank.html"  # no content, no script: for timing loadPyodide alone
BLANK_HTML = (b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>blank</title>'
              b'<link rel="icon" href="data:,"></head><body></body></html>')  # the icon link spares a /favicon.ico 404


class SiteServer:
    """Serves a built site on 127.0.0.1 the way a static host does: gzip for text when the
    request accepts it, validators and a ten-minute Cache-Control (as GitHub Pages sends), 304s.
    Every response is logged with the bytes it put on the wire, so phases can be told apart."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self.log: list[dict] = []
        self.lock = threading.Lock()
        self.active = 0
        self.last_activity = time.monotonic()
        self._gzipped: dict[Path, tuple[int, bytes]] = {}
        handler = type("Handler", (_Handler,), {"site": self})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def mark(self) -> int:
        with self.lock:
            return len(self.log)

    def since(self, mark: int) -> list[dict]:
        with self.lock:
            return list(self.log[mark:])

    def quiet_for(self) -> float:
        """Seconds since the last request started or finished (0 while one is in flight)."""
        with self.lock:
            return 0.0 if self.active else time.monotonic() - self.last_activity

    def gzipped(self, path: Path, raw: bytes, mtime_ns: int) -> bytes:
        with self.lock:
            cached = self._gzipped.get(path)
        if cached and cached[0] == mtime_ns:
            return cached[1]
        body = gzip.compress(raw, compresslevel=6, mtime=0)
        with self.lock:
            self._gzipped[path] = (mtime_ns, body)
        return body

    def _activity(self, delta: int, entry: dict | None = None) -> None:
        with self.lock:
            self.active += delta
            self.last_activity = time.monotonic()
            if entry:
                self.log.append(entry)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as any real host
    site: SiteServer

    def log_message(self, *args):  # the log that matters is SiteServer.log
        pass

    def do_GET(self):
        self._serve(head_only=False)

    def do_HEAD(self):
        self._serve(head_only=True)

    def _serve(self, head_only: bool) -> None:
        self.site._activity(+1)
        entry = None
        try:
            entry = self._respond(head_only)
        except (ConnectionError, TimeoutError):  # the browser went away mid-response
            self.close_connection = True
        finally:
            self.site._activity(-1, entry)

    def _respond(self, head_only: bool) -> dict:
        path = unquote(urlsplit(self.path).path)
        status, headers, body, raw_size = 200, {}, b"", 0
        if path == BLANK_PATH:
            file, raw, mtime_ns = None, BLANK_HTML, 0
        else:
            file = (self.site.root / path.lstrip("/")).resolve()
            if not file.is_relative_to(self.site.root):
                file = self.site.root / "__outside__"
            if file.is_dir() and not path.endswith("/"):
                return self._send(301, {"Location": path + "/"}, b"", path, 0, head_only)
            if file.is_dir():
                file = file / "index.html"
            if not file.is_file():
                status, file = 404, self.site.root / "404.html"
            raw = file.read_bytes() if file.is_file() else b"Not found"
            mtime_ns = file.stat().st_mtime_ns if file.is_file() else 0
        raw_size = len(raw)
        suffix = Path(path).suffix.lower() if not path.endswith("/") else ".html"
        if file is not None and status == 404:
            suffix = ".html"
        compressible = suffix in GZIP_SUFFIXES
        use_gzip = compressible and re.search(r"\bgzip\b", self.headers.get("Accept-Encoding", "")) is not None
        headers["Content-Type"] = CONTENT_TYPES.get(suffix, "application/octet-stream")
        if compressible:
            headers["Vary"] = "Accept-Encoding"
        if status == 200:
            etag = f'"{raw_size:x}-{mtime_ns:x}{"-gz" if use_gzip else ""}"'
            modified = formatdate(mtime_ns / 1e9, usegmt=True)
            headers.update({"ETag": etag, "Last-Modified": modified, "Cache-Control": "max-age=600"})
            if self._not_modified(etag, mtime_ns):
                return self._send(304, headers, b"", path, raw_size, head_only)
        if use_gzip:
            body = self.site.gzipped(file or Path(BLANK_PATH), raw, mtime_ns)
            headers["Content-Encoding"] = "gzip"
        else:
            body = raw
        return self._send(status, headers, body, path, raw_size, head_only)

    def _not_modified(self, etag: str, mtime_ns: int) -> bool:
        if "If-None-Match" in self.headers:
            return etag in [tag.strip() for tag in self.headers["If-None-Match"].split(",")]
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                return int(mtime_ns / 1e9) <= parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError):
                return False
        return False

    def _send(self, status: int, headers: dict, body: bytes, path: str, raw_size: int, head_only: bool) -> dict:
        headers = {"Date": formatdate(usegmt=True), **headers, "Content-Length": str(len(body))}
        reason = self.responses.get(status, ("",))[0]
        head = "".join([f"HTTP/1.1 {status} {reason}\r\n", *(f"{k}: {v}\r\n" for k, v in headers.items()), "\r\n"])
        sent = b"" if head_only else body
        self.wfile.write(head.encode("latin-1") + sent)
        self.wfile.flush()
        return {"path": path, "status": status, "kind": resource_kind(path), "gzip": "Content-Encoding" in headers,
                "headers": len(head), "body": len(sent), "raw": raw_size if status == 200 else 0}


def resource_kind(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if path.endswith("/") or suffix == ".html":
        return "html"
    if suffix == ".json":
        return "frames" if "/frames/" in path else "json"
    return {".css": "css", ".js": "js", ".mjs": "js", ".woff2": "font", ".woff": "font", ".ttf": "font",
            ".otf": "font", ".wasm": "wasm", ".zip": "python stdlib", ".py": "python",
            ".svg": "image", ".png": "image", ".jpg": "image", ".ico": "image"}.get(suffix, "other")


def byte_summary(entries: list[dict]) -> dict:
    """Bytes on the wire per kind of resource. transferred = response headers + (gzip) body;
    uncompressed = the files' own sizes. Requests answered from the browser's cache never
    reach the server and count nothing; 304s count their headers."""
    kinds: dict[str, dict] = {}
    for e in entries:
        k = kinds.setdefault(e["kind"], {"requests": 0, "transferred": 0, "body": 0, "headers": 0, "uncompressed": 0})
        k["requests"] += 1
        k["transferred"] += e["headers"] + e["body"]
        k["body"] += e["body"]
        k["headers"] += e["headers"]
        k["uncompressed"] += e["raw"]
    total = {key: sum(k[key] for k in kinds.values()) for key in ("requests", "transferred", "body", "headers", "uncompressed")}
    return {"total": total, "by_kind": kinds,
            "requests": [{key: e[key] for key in ("path", "status", "kind", "gzip", "headers", "body", "raw")} for e in entries]}


# ---------------------------------------------------------------------------- the post and the browser


class BrowserUnavailable(RuntimeError):
    """No Chromium (or no Playwright) to run the reader benchmarks with."""


class _PostParser(HTMLParser):
    """The post's widget figures, its runtime configuration and its script tags."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.widgets: list[dict] = []
        self.scripts: list[dict] = []
        self.runtime_json = ""
        self._in_runtime = False
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "head":
            self._in_head = True
        elif tag == "body":
            self._in_head = False
        elif tag == "figure" and "widget" in a.get("class", "").split():
            self.widgets.append({"id": a.get("id", ""), "name": a.get("data-widget", ""),
                                 "frames": a.get("data-frames") or None,
                                 "controls": json.loads(a.get("data-controls") or "[]")})
        elif tag == "script":
            kind = a.get("type", "")
            if kind == "application/json":
                self._in_runtime = a.get("id") == "labpress-runtime"
                return
            if kind == "module":
                how = "module (deferred)"
            elif "async" in a or "defer" in a:
                how = "classic, async" if "async" in a else "classic, deferred"
            else:
                how = "classic, parser-blocking" if a.get("src") else "inline, parser-blocking"
            self.scripts.append({"src": a.get("src", ""), "how": how, "in_head": self._in_head})

    def handle_data(self, data):
        if self._in_runtime:
            self.runtime_json += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_runtime = False
        elif tag == "head":
            self._in_head = False


def read_post(site_dir: Path, post_path: str) -> dict:
    page = site_dir / post_path.strip("/") / "index.html"
    if not page.is_file():
        raise FileNotFoundError(f"{page} does not exist: build the site first (labpress build --out {site_dir})")
    parser = _PostParser()
    parser.feed(page.read_text(encoding="utf-8"))
    runtime = json.loads(parser.runtime_json) if parser.runtime_json.strip() else {}
    return {"widgets": parser.widgets, "scripts": parser.scripts, "runtime": runtime, "html_bytes": page.stat().st_size}


def first_slider(widget: dict) -> dict | None:
    return next((c for c in widget["controls"] if c.get("kind") == "slider"), None)


def _playwright():
    try:
        from playwright import sync_api
    except ImportError as exc:
        raise BrowserUnavailable("Playwright for Python is not installed (pip install playwright); "
                                 "the browser is $LABPRESS_CHROMIUM or a chromium on PATH") from exc
    return sync_api


def _launch(p, user_data_dir: Path | None = None):
    """A browser (or, with user_data_dir, a persistent context whose HTTP cache lives on disk)."""
    executable = chromium_executable()
    try:
        if user_data_dir is None:
            return p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        return p.chromium.launch_persistent_context(str(user_data_dir), executable_path=executable,
                                                    args=CHROMIUM_ARGS, viewport=VIEWPORT)
    except Exception as exc:
        where = executable or "Playwright's own Chromium"
        raise BrowserUnavailable(f"cannot start Chromium ({where}): {str(exc).splitlines()[0]}. "
                                 "Set $LABPRESS_CHROMIUM or put chromium on PATH.") from exc


# ---------------------------------------------------------------------------- in-page instrumentation

# Installed before any page script (add_init_script). Records long tasks; for every input event on a
# widget, the key press or pointer event that caused it (dispatched just before, in the same task: its
# timeStamp is when the browser received it, so queueing delay counts), and whether the browser sent it
# (the runtime sends its own while a slider's thumb is held, from a raw pointer update that comes before
# that move's pointermove: slider drags are timed from the pointer samples instead); each widget's first
# interaction; and, by wrapping Worker, every render request the runtime posts and every frame that
# comes back, stamped once the frame has been through a rendering step.
INSTRUMENT_JS = r"""
(() => {
  const B = window.__lpBench = {longtasks: [], inputs: [], first: {}, posts: [], messages: [], raw: null,
                                moves: [], worker: null, ready: null};
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) B.longtasks.push({start: e.startTime, duration: e.duration});
    }).observe({type: "longtask", buffered: true});
  } catch (err) {
    B.longtaskError = String(err);
  }
  const figureOf = (el) => (el && el.closest ? el.closest("figure.widget") : null);
  for (const type of ["keydown", "pointerdown", "pointermove", "focusin"]) {
    document.addEventListener(type, (e) => {
      B.raw = {type, t: e.timeStamp};
      const fig = figureOf(e.target);
      if (fig && type !== "pointermove" && !(fig.id in B.first)) B.first[fig.id] = {type, t: e.timeStamp};
    }, {capture: true, passive: true});
  }
  // Every pointer position the browser reported over a widget with a button down (a drag), each
  // coalesced sample with its own timeStamp: a drag's moves are told apart by where they went.
  document.addEventListener("pointermove", (e) => {
    const fig = e.buttons ? figureOf(e.target) : null;
    if (!fig) return;
    const samples = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
    for (const s of samples.length ? samples : [e]) B.moves.push({id: fig.id, t: s.timeStamp, x: s.clientX, y: s.clientY});
  }, {capture: true, passive: true});
  document.addEventListener("input", (e) => {
    const fig = figureOf(e.target);
    if (!fig) return;
    const raw = B.raw && B.raw.t <= e.timeStamp ? B.raw : null;
    B.inputs.push({id: fig.id, t: raw ? raw.t : e.timeStamp, tInput: e.timeStamp, raw: raw ? raw.type : "input",
                   value: e.target.value, trusted: e.isTrusted});
  }, {capture: true, passive: true});

  const Native = window.Worker;
  if (typeof Native !== "function") return;
  window.Worker = class extends Native {
    constructor(...args) {
      super(...args);
      if (B.worker === null) B.worker = performance.now();
      // Added before the runtime's own listener, which swaps the frame in during this same task.
      this.addEventListener("message", (event) => {
        const m = event.data || {};
        const now = performance.now();
        if (m.type === "ready" && B.ready === null) B.ready = now;
        if (m.type !== "frame" && m.type !== "error") return;
        const record = {id: m.id, seq: m.seq, type: m.type, ms: m.ms, tMessage: now, tRaf: null, tShown: null};
        B.messages.push(record);
        requestAnimationFrame(() => {
          record.tRaf = performance.now();
          setTimeout(() => { record.tShown = performance.now(); }, 0); // after that frame's rendering step
        });
      });
    }
    postMessage(message, ...rest) {
      if (message && message.type === "render") {
        B.posts.push({id: message.id, seq: message.seq, t: performance.now(), state: message.state});
      }
      return super.postMessage(message, ...rest);
    }
  };
})();
"""

# Pre-computed frames are swapped in synchronously by the input handler: watch the figure's stage,
# readouts and caption, then stamp after the next rendering step (rAF, then a task after it).
ARM_FRAME_JS = r"""
(id) => {
  const fig = document.getElementById(id);
  const targets = [".widget-stage", ".widget-readouts", ".widget-caption"]
    .map((s) => fig.querySelector(s)).filter(Boolean);
  window.__lpBench.next = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      observer.disconnect();
      const tMutation = performance.now();
      requestAnimationFrame(() => {
        const tRaf = performance.now();
        setTimeout(() => resolve({tMutation, tRaf, tShown: performance.now()}), 0);
      });
    });
    for (const t of targets) observer.observe(t, {childList: true, subtree: true, characterData: true});
  });
}
"""

WAIT_FRAME_JS = r"""
async ([id, timeoutMs]) => {
  const B = window.__lpBench;
  const shown = await Promise.race([B.next, new Promise((r) => setTimeout(() => r(null), timeoutMs))]);
  const inputs = B.inputs.filter((i) => i.id === id);
  const last = inputs[inputs.length - 1] || null;
  return {shown, input: last, inputs: inputs.length, source: document.getElementById(id).dataset.source || null};
}
"""

PYODIDE_ALONE_JS = r"""
async (indexURL) => {
  const t0 = performance.now();
  const { loadPyodide } = await import(indexURL + "pyodide.mjs");
  const tImported = performance.now();
  const py = await loadPyodide({ indexURL });
  const tLoaded = performance.now();
  py.runPython("1 + 1");
  return { import_ms: tImported - t0, total_ms: tLoaded - t0 };
}
"""

# ---------------------------------------------------------------------------- small helpers


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (p95 of 20 samples is the 19th smallest)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _guard(name: str, job, *args, **kwargs) -> dict:
    """Run one benchmark; a failure (a timeout, a page that misbehaves) is reported, never fatal."""
    try:
        return job(*args, **kwargs)
    except BrowserUnavailable:
        raise
    except Exception as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        _say(f"  {name}: not measured: {type(exc).__name__}: {text}")
        return {"error": f"{type(exc).__name__}: {text}"}


def wait_quiet(page, server: SiteServer, timeout_s: float = 30, quiet_s: float = QUIET_S) -> None:
    deadline = time.monotonic() + timeout_s
    while server.quiet_for() < quiet_s:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the network did not settle within {timeout_s:.0f} s")
        page.wait_for_timeout(50)  # lets Playwright process events meanwhile


def wait_for(page, script: str, arg, timeout_s: float, what: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    try:
        page.wait_for_function(script, arg=arg, timeout=timeout_s * 1000, polling=50)
    except PlaywrightTimeout:
        raise TimeoutError(f"{what} did not happen within {timeout_s:.0f} s") from None


def open_post(page, url: str, server: SiteServer) -> None:
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(url, wait_until="load")
    enhanced = page.evaluate("() => window.labpress ? window.labpress.ready.then(() => window.labpress.widgets.size) : -1")
    if enhanced < 0:
        raise RuntimeError("the page has no window.labpress (widgets.js did not load)")
    wait_quiet(page, server)


def instrument(page) -> dict:
    return page.evaluate("() => window.__lpBench")


class Trace:
    """A Chromium trace over CDP, on the page's own session (works for persistent contexts too)."""

    def __init__(self, context, page, categories: list[str] | None = None):
        self.page = page
        self.categories = categories or TRACE_CATEGORIES
        self.cdp = context.new_cdp_session(page)
        self.stream = None
        self.cdp.on("Tracing.tracingComplete", lambda event: setattr(self, "stream", event.get("stream", "")))

    def start(self) -> None:
        self.cdp.send("Tracing.start", {"transferMode": "ReturnAsStream", "traceConfig": {
            "recordMode": "recordAsMuchAsPossible", "includedCategories": self.categories, "excludedCategories": ["*"]}})

    def stop(self, timeout_s: float = 60) -> list[dict]:
        self.cdp.send("Tracing.end")
        deadline = time.monotonic() + timeout_s
        while self.stream is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"Chromium did not hand over the trace within {timeout_s:.0f} s")
            self.page.wait_for_timeout(20)
        chunks = []
        while True:
            part = self.cdp.send("IO.read", {"handle": self.stream, "size": 1 << 22})
            data = part.get("data", "")
            if part.get("base64Encoded"):
                data = base64.b64decode(data).decode("utf-8")
            chunks.append(data)
            if part.get("eof"):
                break
        self.cdp.send("IO.close", {"handle": self.stream})
        self.cdp.detach()
        parsed = json.loads("".join(chunks))
        return parsed["traceEvents"] if isinstance(parsed, dict) else parsed


def _event_url(e: dict) -> str:
    args = e.get("args") or {}
    data = args.get("data") or args.get("beginData") or {}
    return data.get("url") or args.get("fileName") or ""


def renderer_main(events: list[dict], url: str | None = None) -> tuple | None:
    """(pid, tid) of the renderer main thread that loaded url, or else the one that handled input."""
    names = {(e["pid"], e["tid"]): e["args"].get("name") for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    mains = {key for key, name in names.items() if name == "CrRendererMain"}
    if url:
        for e in events:
            if e.get("name") == "navigationStart" and (e.get("pid"), e.get("tid")) in mains \
                    and ((e.get("args") or {}).get("data") or {}).get("documentLoaderURL") == url:
                return e["pid"], e["tid"]
    handled = {}
    for e in events:
        key = (e.get("pid"), e.get("tid"))
        if key in mains and e.get("name") == "EventDispatch":
            kind = ((e.get("args") or {}).get("data") or {}).get("type", "")
            if kind in ("input", "pointermove", "mousemove", "keydown"):
                handled[key] = handled.get(key, 0) + 1
    return max(handled, key=handled.get) if handled else None


def task_breakdown(events: list[dict], task: dict, top: int = 4) -> list[dict]:
    """The outermost pieces of work inside one task, longest first: what the task was spent on."""
    end = task["ts"] + task["dur"]
    inside = sorted((e for e in events if e.get("ph") == "X" and e.get("pid") == task["pid"] and e.get("tid") == task["tid"]
                     and e is not task and e.get("name") not in WRAPPER_EVENTS
                     and task["ts"] <= e["ts"] and e["ts"] + e.get("dur", 0) <= end), key=lambda e: (e["ts"], -e.get("dur", 0)))
    outer, reach = [], -1
    for e in inside:
        if e["ts"] >= reach:
            outer.append(e)
            reach = e["ts"] + e.get("dur", 0)
    outer.sort(key=lambda e: -e.get("dur", 0))
    return [{"name": e["name"], "ms": round(e.get("dur", 0) / 1000, 2), "url": _event_url(e)} for e in outer[:top]]


def longest_task(events: list[dict], thread: tuple, since_ts: float = 0) -> dict | None:
    tasks = [e for e in events if e.get("name") == TASK_EVENT and e.get("ph") == "X"
             and (e["pid"], e["tid"]) == thread and e["ts"] >= since_ts]
    if not tasks:
        return None
    task = max(tasks, key=lambda e: e.get("dur", 0))
    # cpu_ms: the thread's own time in the task; far below ms, the thread was waiting for a core.
    return {"ms": task["dur"] / 1000, "cpu_ms": task["tdur"] / 1000 if "tdur" in task else None,
            "at_ms": (task["ts"] - since_ts) / 1000 if since_ts else None,
            "over_50ms": sum(1 for t in tasks if t.get("dur", 0) > 50_000), "tasks": len(tasks),
            "breakdown": task_breakdown(events, task)}


def analyse_load_trace(events: list[dict], url: str) -> dict:
    """First contentful paint, the scripts that ran before it, and the longest task, from one traced load."""
    thread = renderer_main(events, url)
    if thread is None:
        raise RuntimeError("the trace has no renderer main thread that loaded the post")
    on_thread = [e for e in events if (e.get("pid"), e.get("tid")) == thread]
    nav = next(e for e in on_thread if e.get("name") == "navigationStart"
               and ((e.get("args") or {}).get("data") or {}).get("documentLoaderURL") == url)
    frame = (nav.get("args") or {}).get("frame")
    paints = [e["ts"] for e in on_thread if e.get("name") == "firstContentfulPaint" and e["ts"] >= nav["ts"]
              and (e.get("args") or {}).get("frame", frame) == frame]
    if not paints:
        raise RuntimeError("the trace has no firstContentfulPaint mark")
    fcp = min(paints)
    scripts, modules = [], []
    for e in on_thread:
        if e.get("name") == "v8.compileModule" and e["ts"] >= nav["ts"]:
            modules.append(_event_url(e))
        if e.get("name") in SCRIPT_EVENTS and e.get("ph") == "X" and nav["ts"] <= e["ts"] < fcp:
            url_of = _event_url(e)
            if e["name"] == "v8.evaluateModule":  # the event names no URL: the module compiled before it, if only one
                url_of = modules[0] if len(set(modules)) == 1 else "(module script)"
            scripts.append({"event": e["name"], "url": url_of, "start_ms": round((e["ts"] - nav["ts"]) / 1000, 2),
                            "ms": round(e.get("dur", 0) / 1000, 2)})
    return {"fcp_ms": (fcp - nav["ts"]) / 1000, "scripts_before_fcp": scripts,
            "longest_task": longest_task(events, thread, nav["ts"])}


# ---------------------------------------------------------------------------- the benchmarks


def bench_loads(browser, server: SiteServer, url: str, runs: int, traced_runs: int) -> dict:
    """Cold loads (a fresh context each: empty HTTP cache), no interaction, viewport at the top."""
    loads = []
    for i in range(runs):
        context = browser.new_context(viewport=VIEWPORT)
        context.add_init_script(INSTRUMENT_JS)
        page = context.new_page()
        mark = server.mark()
        open_post(page, url, server)
        timing = page.evaluate("""() => {
          const fcp = performance.getEntriesByName("first-contentful-paint")[0];
          const nav = performance.getEntriesByType("navigation")[0];
          return {fcp: fcp ? fcp.startTime : null, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd};
        }""")
        longtasks = instrument(page)["longtasks"]
        loads.append({"fcp_ms": timing["fcp"], "dcl_ms": timing["dcl"], "load_ms": timing["load"],
                      "longtask_max_ms": max((t["duration"] for t in longtasks), default=0.0),
                      "longtasks": len(longtasks), "bytes": byte_summary(server.since(mark))})
        context.close()
        _say(f"  cold load {i + 1}/{runs}: FCP {_ms(timing['fcp'], 0)}, {_kb(loads[-1]['bytes']['total']['transferred'])}")
    traces = []
    for i in range(traced_runs):
        context = browser.new_context(viewport=VIEWPORT)  # no init script: it would be JavaScript before paint
        page = context.new_page()
        trace = Trace(context, page)
        trace.start()
        open_post(page, url, server)
        traces.append(analyse_load_trace(trace.stop(), url))
        context.close()
        _say(f"  traced load {i + 1}/{traced_runs}: longest task {_ms((traces[-1]['longest_task'] or {}).get('ms'), 0)}")
    fcps = [r["fcp_ms"] for r in loads if r["fcp_ms"] is not None]
    totals = {r["bytes"]["total"]["transferred"] for r in loads}
    return {
        "runs": loads, "traced": traces,
        "fcp_median_ms": median(fcps), "fcp_min_ms": min(fcps, default=None), "fcp_max_ms": max(fcps, default=None),
        "bytes": loads[0]["bytes"], "bytes_vary_between_runs": len(totals) > 1,
        # Per load, its longest task; the verdict takes the median load (a shared machine makes the worst noisy).
        "longtask_median_ms": median([r["longtask_max_ms"] for r in loads]),
        "longtask_max_ms": max(r["longtask_max_ms"] for r in loads),
        "trace_longest_task_median_ms": median([t["longest_task"]["ms"] for t in traces if t["longest_task"]]),
        "trace_longest_task_ms": max((t["longest_task"]["ms"] for t in traces if t["longest_task"]), default=None),
        "js_before_fcp": any(t["scripts_before_fcp"] for t in traces) if traces else None,
    }


def reach(page, selector: str):
    """Bring an element to the middle of the viewport in one jump and return its locator. The theme
    scrolls smoothly, and a smooth scroll (focus() does one) sweeps past the widgets in between,
    whose runtime then pre-starts: a live widget on the way would start Pyodide mid-measurement."""
    page.evaluate("(s) => document.querySelector(s).scrollIntoView({block: 'center', behavior: 'instant'})", selector)
    return page.locator(selector)


def slider_selector(widget: dict, control: dict) -> str:
    return f"#{widget['id']} input[type=range][data-control='{control['name']}']"


def bench_scroll(browser, server: SiteServer, url: str) -> dict:
    """Bytes a reader pulls by scrolling to the end of the post without touching anything: the runtime
    fetches frames files and starts Pyodide for widgets that come near the viewport, when idle."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    open_post(page, url, server)
    mark = server.mark()
    page.mouse.move(VIEWPORT["width"] / 2, VIEWPORT["height"] / 2)
    for _ in range(400):  # one wheel notch-ish every 50 ms: a brisk read
        page.mouse.wheel(0, 300)
        page.wait_for_timeout(50)
        if page.evaluate("() => scrollY + innerHeight >= document.documentElement.scrollHeight - 2"):
            break
    wait_quiet(page, server, timeout_s=120)
    summary = byte_summary(server.since(mark))
    context.close()
    _say(f"  scrolled to the end, no touch: {summary['total']['transferred'] / KB:.0f} KB")
    return summary


def _first_touch(page, widget: dict) -> None:
    """A reader's first touch of a widget: focus its first control, move a slider one step."""
    slider = first_slider(widget)
    if slider:
        reach(page, slider_selector(widget, slider)).focus()
        page.keyboard.press("ArrowRight")
    else:
        reach(page, f"#{widget['id']} [data-control]").focus()


def bench_frames(browser, server: SiteServer, url: str, widgets: list[dict], inputs: int, drag_seconds: float = 0) -> dict:
    """A pre-computed-frames widget: bytes on first touch, then key presses on its slider, input to frame."""
    framed = [w for w in widgets if w["frames"]]
    target = next((w for w in framed if first_slider(w)), None)
    if target is None:
        raise RuntimeError("the post has no pre-computed-frames widget with a slider")
    control = first_slider(target)
    fig, states = target["id"], round((control["max"] - control["min"]) / control["step"]) + 1
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(INSTRUMENT_JS)
    page = context.new_page()
    open_post(page, url, server)
    slider = page.locator(slider_selector(target, control))
    index = round((float(slider.input_value()) - control["min"]) / control["step"])

    seen = {"inputs": 0}

    def press_and_time(direction: int) -> dict | None:
        """One key press; None when it brought no input event or no new frame in time."""
        page.evaluate(ARM_FRAME_JS, fig)
        page.keyboard.press("ArrowRight" if direction > 0 else "ArrowLeft")
        got = page.evaluate(WAIT_FRAME_JS, [fig, FRAME_TIMEOUT_MS])
        fresh = got["inputs"] > seen["inputs"]
        seen["inputs"] = got["inputs"]
        if not got["shown"] or not fresh:
            return None
        start = got["input"]["t"]
        return {"ms": got["shown"]["tShown"] - start, "dom_ms": got["shown"]["tMutation"] - start,
                "raf_ms": got["shown"]["tRaf"] - start, "source": got["source"], "raw": got["input"]["raw"]}

    # First touch, frames file not loaded yet: focusing the slider starts its fetch, the key press waits for it.
    mark = server.mark()
    reach(page, slider_selector(target, control)).focus()
    direction = 1 if index < states - 1 else -1
    first = press_and_time(direction)
    index += direction
    wait_quiet(page, server)
    first_bytes = byte_summary(server.since(mark))

    samples, sources, misses = [], {}, 0
    for _ in range(inputs):
        if not 0 <= index + direction < states:
            direction = -direction  # bounce between the ends of the slider
        timed = press_and_time(direction)
        index += direction
        if timed is None:
            misses += 1
            continue
        samples.append(timed)
        sources[timed["source"]] = sources.get(timed["source"], 0) + 1
    longtasks = instrument(page)["longtasks"]
    dragged = _guard("frames widget drag", drag_frames, page, target, control, drag_seconds, context) if drag_seconds else None

    # The other frames widgets' first touch, for their bytes.
    others = {}
    for w in framed:
        if w is target:
            continue
        mark = server.mark()
        _first_touch(page, w)
        wait_quiet(page, server)
        others[w["id"]] = byte_summary(server.since(mark))
    context.close()
    latencies = [s["ms"] for s in samples]
    _say(f"  frames widget {target['name']}: {len(samples)} inputs, median {median(latencies) or 0:.1f} ms, "
         f"p95 {percentile(latencies, 0.95) or 0:.1f} ms")
    return {
        "widget": target["name"], "id": fig, "control": control["name"], "states": states,
        "first_input": first, "first_touch_bytes": first_bytes, "other_widgets_first_touch_bytes": others,
        "inputs": inputs, "misses": misses, "sources": sources,
        "latency_ms": [round(x, 3) for x in latencies], "median_ms": median(latencies),
        "p95_ms": percentile(latencies, 0.95), "max_ms": max(latencies, default=None),
        # The same inputs timed to the DOM change, and to the animation-frame callback before the render step.
        "dom_median_ms": median([s["dom_ms"] for s in samples]),
        "raf_median_ms": median([s["raf_ms"] for s in samples]),
        "raf_p95_ms": percentile([s["raf_ms"] for s in samples], 0.95),
        "longtask_max_ms": max((t["duration"] for t in longtasks), default=0.0),
        "drag": dragged,
    }


def first_live_frame(page, server: SiteServer, url: str, widget: dict, control: dict) -> dict:
    """Open the post, touch the live widget's slider once, wait for its first frame from Pyodide."""
    fig = widget["id"]
    open_post(page, url, server)
    mark = server.mark()
    reach(page, slider_selector(widget, control)).focus()
    page.keyboard.press("ArrowRight")
    # Done when the frame is stamped, or when the runtime gives up (it then marks the figure static).
    wait_for(page, """(id) => window.__lpBench.messages.some((m) => m.id === id && m.tShown !== null)
                       || document.getElementById(id).classList.contains("is-static")""", fig,
             PYODIDE_TIMEOUT_S, "the first live frame")
    failed = page.evaluate("""(id) => {
      const fig = document.getElementById(id);
      return fig.classList.contains("is-static") ? fig.querySelector(".widget-status")?.textContent || "?" : null;
    }""", fig)
    if failed:
        raise RuntimeError(f"the runtime could not go live: {failed}")
    b = instrument(page)
    first = next(m for m in b["messages"] if m["id"] == fig)
    touched = b["first"].get(fig, {}).get("t")
    start = min(t for t in (touched, b["worker"]) if t is not None)  # whichever came first started the clock
    wait_quiet(page, server)
    source = page.evaluate("(id) => document.getElementById(id).dataset.source || null", fig)
    return {
        "start": worker_start(page, start),
        "ms": first["tShown"] - start,
        "interaction_to_ready_ms": (b["ready"] - start) if b["ready"] is not None else None,
        "kernel_ms": first["ms"], "result": first["type"], "source": source,
        "worker_started_before_touch": b["worker"] is not None and touched is not None and b["worker"] < touched,
        "bytes": byte_summary(server.since(mark)),
    }


def worker_start(page, clock_start: float) -> dict | None:
    """How the widget worker started (worker.js self.labpressStart: "snapshot" or "plain", why not the
    snapshot, and when each step ended), its times moved to the page's clock since the first touch."""
    for worker in page.workers:
        if worker.url.split("?")[0].endswith("/worker.js"):
            started = worker.evaluate("() => self.labpressStart ? {...self.labpressStart, origin: performance.timeOrigin} : null")
            if not started:
                return None
            page_origin = page.evaluate("() => performance.timeOrigin")
            shift = started.pop("origin") - page_origin - clock_start  # worker ms + shift = ms since the touch
            started["phases"] = {name: round(ms + shift) for name, ms in (started.get("phases") or {}).items()}
            return started
    return None


# Where the SVG's data coordinates are on screen: its data-scale-x/y (domain and viewBox pixels, as the
# runtime reads them) and the SVG's screen matrix, for a point control's handle.
GEOMETRY_JS = r"""
([id, name]) => {
  const fig = document.getElementById(id);
  const svg = fig.querySelector(".widget-stage svg");
  const scale = (axis) => (svg.getAttribute(`data-scale-${axis}`) || "").trim().split(/\s+/).map(Number);
  const m = svg.getScreenCTM();
  return {x: scale("x"), y: scale("y"), ctm: [m.a, m.b, m.c, m.d, m.e, m.f],
          point: window.labpress.widgets.get(id).state()[name]};
}
"""

# Settled: every render posted for the figure has been answered and its frame stamped.
SETTLED_JS = r"""
(id) => {
  const B = window.__lpBench;
  const posted = B.posts.filter((p) => p.id === id).length;
  const shown = B.messages.filter((m) => m.id === id && m.tShown !== null).length;
  return posted === shown;
}
"""


def _sweep(page, points: list[tuple[float, float]], seconds: float) -> tuple[int, float, float]:
    """Press at points[0], then move through points[1:] and back again, one move every 16 ms, for
    `seconds`; release. Returns (moves made, performance.now() at the press, … at the release)."""
    t_start = page.evaluate("performance.now()")
    page.mouse.move(*points[0])
    page.mouse.down()
    path = points[1:] + points[-2:0:-1]  # there and back: every move goes somewhere new
    moves = 0
    deadline = time.monotonic() + seconds
    next_move = time.monotonic()
    while time.monotonic() < deadline:
        page.mouse.move(*path[moves % len(path)])
        moves += 1
        next_move += MOVE_INTERVAL_S
        time.sleep(max(0.0, next_move - time.monotonic()))
    page.mouse.up()
    return moves, t_start, page.evaluate("performance.now()")


def _drag_result(fig: str, seconds: float, moves: int, t_start: float, t_end: float, events: list[dict],
                 sync: tuple[float, float], b: dict, causes: list[dict], per_input: list[float]) -> dict:
    """What a drag measured. `causes`: per render request posted during the drag, the input behind the
    state it sent ({"post", "t"}); `per_input`: every input's time to the first frame showing it or a later state."""
    shown = {m["seq"]: m for m in b["messages"] if m["id"] == fig}
    per_frame, kernel, parts = [], [], {"to_post": [], "worker": [], "to_screen": [], "raf": []}
    frames = []
    for cause in causes:
        post, start = cause["post"], cause["t"]
        message = shown.get(post["seq"])
        if message is None or message["type"] != "frame":
            continue
        per_frame.append(message["tShown"] - start)
        kernel.append(message["ms"])
        parts["to_post"].append(post["t"] - start)  # the input's turn on the main thread, or the previous render
        parts["worker"].append(message["tMessage"] - post["t"])  # the worker's render and both message hops
        parts["to_screen"].append(message["tShown"] - message["tMessage"])  # patch, next frame, its rendering
        parts["raf"].append(message["tRaf"] - start)
        frames.append({"input": start, "message": message["tMessage"]})
    thread = renderer_main(events)
    task = longest_task(events, thread) if thread else None
    trace = frame_breakdown(events, thread, sync, frames) if thread else None
    longtasks = [t for t in b["longtasks"] if t_start <= t["start"] <= t_end + 5000]
    return {
        "seconds": seconds, "moves": moves, "moves_per_s": moves / (t_end - t_start) * 1000,
        "frames": len(per_frame), "posts": len(causes),
        "latency_ms": [round(x, 3) for x in per_frame], "median_ms": median(per_frame),
        "p95_ms": percentile(per_frame, 0.95), "max_ms": max(per_frame, default=None),
        "per_input_median_ms": median(per_input), "per_input_p95_ms": percentile(per_input, 0.95),
        "per_input_max_ms": max(per_input, default=None),
        "kernel_median_ms": median(kernel),
        "breakdown_median_ms": {name: median(values) for name, values in parts.items()},
        "raf_p95_ms": percentile(parts["raf"], 0.95),
        "longtask_max_ms": max((t["duration"] for t in longtasks), default=0.0), "longtasks": len(longtasks),
        "trace_longest_task": task, "trace": trace,
    }


def _traced_sweep(page, context, fig: str, points: list[tuple[float, float]], seconds: float):
    """A drag through `points` under the Chromium trace, until every render it posted is on screen:
    (moves, its start and end on the page's clock, the trace's events, the clock's sync mark, what the
    page recorded)."""
    trace = Trace(context, page, DRAG_TRACE_CATEGORIES)
    trace.start()
    sync = _sync_clock(page)
    moves, t_start, t_end = _sweep(page, points, seconds)
    wait_for(page, SETTLED_JS, fig, 30, "the last frame of the drag")
    events = trace.stop()
    return moves, t_start, t_end, events, sync, instrument(page)


def _sync_clock(page) -> tuple[float, float]:
    """(performance.now() of a user-timing mark, its name): the trace's clock is read from the mark."""
    name = f"lp-bench-sync-{time.monotonic_ns()}"
    return page.evaluate("(name) => performance.mark(name).startTime", name), name


def _slider_points(page, widget: dict, control: dict) -> tuple[list[tuple[float, float]], list[float]]:
    """Where the pointer goes to sweep a slider one step at a time: from the thumb's place to the
    right end, back to the left end and up to where it started (the slider scrolled into view); and
    the slider's value at each of those places. Each place is the middle of its value's stretch of
    the track (the thumb's centre travels the track less half a 16 px thumb at each end), so every
    move of the sweep puts the slider at a new value, which names the move."""
    slider = reach(page, slider_selector(widget, control))
    box = slider.bounding_box()
    states = round((control["max"] - control["min"]) / control["step"]) + 1
    pad = min(8.0, box["width"] / 4)  # half a thumb: the track the thumb's centre travels
    left, right = box["x"] + pad, box["x"] + box["width"] - pad
    step_px = (right - left) / max(1, states - 1)
    frac = (float(slider.input_value()) - control["min"]) / (control["max"] - control["min"])
    index = round(frac * (states - 1))
    y = box["y"] + box["height"] / 2
    order = list(range(index, states)) + list(range(states - 2, -1, -1)) + list(range(1, index + 1))
    return [(left + i * step_px, y) for i in order], [round(control["min"] + i * control["step"], 10) for i in order]


def _swept_moves(b: dict, fig: str, t_start: float, points: list[tuple[float, float]], meant: list,
                 moves: int, name: str = "value") -> list[dict]:
    """Each move of a sweep the browser reported: the timeStamp of its pointer sample (every
    coalesced sample of the pointermove events is recorded; a pointerrawupdate carries the same
    timeStamp as its sample), what the move meant (``meant[i]`` for ``points[i]``, under ``name``: the
    value it put a slider at, the point it put a handle at), and its number k in the sweep. The
    samples are matched to the moves in order, by where they went (_sweep: move k goes to
    path[k % len(path)])."""
    path = list(range(1, len(points))) + list(range(len(points) - 2, 0, -1))
    samples = [m for m in b["moves"] if m["id"] == fig and m["t"] >= t_start]
    timed, j = [], 0
    for k in range(moves):
        px, py = points[path[k % len(path)]]
        while j < len(samples) and not (abs(samples[j]["x"] - px) < 0.5 and abs(samples[j]["y"] - py) < 0.5):
            j += 1
        if j == len(samples):
            break
        timed.append({"t": samples[j]["t"], name: meant[path[k % len(path)]], "k": k})
        j += 1
    return timed


# A pre-computed frames widget during a drag: every change of its stage, readouts or caption is a new
# frame, put in by the input handler itself; stamped, like the others, after the next rendering step,
# and timed from the pointer event behind the last input before it.
ARM_DRAG_FRAMES_JS = r"""
([id, name]) => {
  const B = window.__lpBench;
  const fig = document.getElementById(id);
  const slider = fig.querySelector(`input[type=range][data-control="${name}"]`);
  B.dragFrames = [];
  if (B.dragObserver) B.dragObserver.disconnect();
  let last = slider.value;
  B.dragObserver = new MutationObserver(() => {
    if (slider.value === last) return; // one frame per value the slider took
    last = slider.value;
    const stamp = {value: Number(slider.value), tMutation: performance.now(), tRaf: null, tShown: null};
    B.dragFrames.push(stamp);
    requestAnimationFrame(() => {
      stamp.tRaf = performance.now();
      setTimeout(() => { stamp.tShown = performance.now(); }, 0);
    });
  });
  for (const el of [".widget-stage", ".widget-readouts", ".widget-caption"].map((s) => fig.querySelector(s))) {
    if (el) B.dragObserver.observe(el, {childList: true, subtree: true, characterData: true, attributes: true});
  }
}
"""


def drag_frames(page, widget: dict, control: dict, seconds: float, context) -> dict:
    """Sweep a pre-computed frames widget's slider as drag() does a live one's: input to frame, per
    frame, from the timeStamp of the pointer sample that put the slider at the frame's value (the
    last move to that value before the frame went in) to the frame stamped after the next rendering
    step. Whichever event set the value (the runtime's raw-update path or the browser's own `input`
    event a frame later), the clock starts at the pointer input."""
    fig = widget["id"]
    points, values = _slider_points(page, widget, control)
    page.evaluate(ARM_DRAG_FRAMES_JS, [fig, control["name"]])
    trace = Trace(context, page, DRAG_TRACE_CATEGORIES)
    trace.start()
    moves, t_start, t_end = _sweep(page, points, seconds)
    wait_for(page, "() => window.__lpBench.dragFrames.every((f) => f.tShown !== null)", None, 30, "the last frame")
    events = trace.stop()
    b = instrument(page)
    page.evaluate("() => window.__lpBench.dragObserver.disconnect()")
    timed = _swept_moves(b, fig, t_start, points, values, moves)
    stamps, unmatched = [], 0
    for f in b["dragFrames"]:
        cause = [m for m in timed if m["t"] <= f["tMutation"] and abs(m["value"] - f["value"]) < 1e-9]
        if not cause:
            unmatched += 1
            continue
        stamps.append({**f, "t": cause[-1]["t"]})
    latency = [f["tShown"] - f["t"] for f in stamps]
    thread = renderer_main(events)
    longtasks = [t for t in b["longtasks"] if t_start <= t["start"] <= t_end + 5000]
    inputs = [i for i in b["inputs"] if i["id"] == fig and i["tInput"] >= t_start]
    return {
        "seconds": seconds, "moves": moves, "moves_per_s": moves / (t_end - t_start) * 1000, "inputs": len(inputs),
        "pointer_moves": len(timed), "unmatched_frames": unmatched, "input_events": len(inputs),
        "runtime_inputs": sum(1 for i in inputs if not i.get("trusted", True)),
        "frames": len(latency), "latency_ms": [round(x, 3) for x in latency], "median_ms": median(latency),
        "p95_ms": percentile(latency, 0.95), "max_ms": max(latency, default=None),
        "dom_median_ms": median([f["tMutation"] - f["t"] for f in stamps]),
        "raf_median_ms": median([f["tRaf"] - f["t"] for f in stamps]),
        "longtask_max_ms": max((t["duration"] for t in longtasks), default=0.0), "longtasks": len(longtasks),
        "trace_longest_task": longest_task(events, thread) if thread else None,
    }


def drag(page, widget: dict, control: dict, seconds: float, context) -> dict:
    """Hold the slider's thumb and sweep it one step per 16 ms for `seconds`, end to end and back.

    Each move puts the slider at a new value (_slider_points), so the state a render request sends
    names the move behind it, as for the point's handle: input to frame, per frame drawn, is from the
    timeStamp of that move's pointer sample (the last move to the value sent, before the request) to
    the frame stamped after the reply (INSTRUMENT_JS: a task queued from the first animation-frame
    callback after the reply's task, i.e. once that frame's style, layout, paint and commit have run).
    The clock starts at the pointer input whichever event then set the value: the runtime's, from the
    raw pointer update, or the browser's own `input` event at the next frame."""
    fig, name = widget["id"], control["name"]
    points, values = _slider_points(page, widget, control)
    coalesced_before = int(page.evaluate("(id) => document.getElementById(id).dataset.coalesced || 0", fig))

    moves, t_start, t_end, events, sync, b = _traced_sweep(page, context, fig, points, seconds)
    coalesced = int(page.evaluate("(id) => document.getElementById(id).dataset.coalesced || 0", fig)) - coalesced_before

    timed = _swept_moves(b, fig, t_start, points, values, moves)
    inputs = [i for i in b["inputs"] if i["id"] == fig and i["tInput"] >= t_start]
    posts = [p for p in b["posts"] if p["id"] == fig and p["t"] >= t_start]
    causes, unmatched = [], 0
    for post in posts:
        value = (post.get("state") or {}).get(name)
        match = [m for m in timed if m["t"] <= post["t"] and isinstance(value, (int, float)) and abs(value - m["value"]) < 1e-9]
        if not match:
            unmatched += 1
            continue
        causes.append({"post": post, "t": match[-1]["t"], "input": match[-1], "k": match[-1]["k"]})
    shown = {m["seq"]: m for m in b["messages"] if m["id"] == fig}
    per_input = []
    for m in timed:
        # A move reaches the screen with the first frame drawn for it or for a later move.
        answer = next((shown.get(c["post"]["seq"]) for c in causes if c["k"] >= m["k"]), None)
        if answer and answer["type"] == "frame":
            per_input.append(answer["tShown"] - m["t"])
    result = _drag_result(fig, seconds, moves, t_start, t_end, events, sync, b, causes, per_input)
    result.update({"inputs": len(timed), "input_events": len(inputs), "unmatched_posts": unmatched,
                   "runtime_inputs": sum(1 for i in inputs if not i.get("trusted", True)), "coalesced": coalesced})
    return result


def drag_handle(page, widget: dict, control: dict, seconds: float, context) -> dict:
    """Hold a point control's handle and sweep it along x, one grid step (the control's step) per
    16 ms, for `seconds`, end to end and back, at the height it started.

    Each move goes to the centre of a new grid point, so the state a render request sends names the
    move behind it: input to frame is from the timeStamp of that move's pointer event (the first
    the browser reported with its position; INSTRUMENT_JS records every coalesced sample) to the
    frame stamped after the reply, as for the slider. The runtime's own rules are not replayed here:
    a request whose point no move went to is counted as unmatched."""
    fig, name, step = widget["id"], control["name"], float(control.get("step") or 0.05)
    reach(page, f"#{fig} .widget-stage circle.lp-handle[data-control='{name}']")
    geo = page.evaluate(GEOMETRY_JS, [fig, name])
    (dx0, dx1, px0, px1), (dy0, dy1, py0, py1) = geo["x"], geo["y"]
    a, b_, c, d, e, f = geo["ctm"]

    def client(x: float, y: float) -> tuple[float, float]:
        u, v = px0 + (x - dx0) * (px1 - px0) / (dx1 - dx0), py0 + (y - dy0) * (py1 - py0) / (dy1 - dy0)
        return a * u + c * v + e, b_ * u + d * v + f

    lo, hi = sorted(control.get("x") or (-1.0, 1.0))
    x0, y0 = geo["point"]
    first, last = math.ceil((lo + step) / step - 1e-9), math.floor((hi - step) / step + 1e-9)  # a step inside the bounds
    here = min(max(round(x0 / step), first), last)
    order = list(range(here, last + 1)) + list(range(last - 1, first - 1, -1)) + list(range(first + 1, here + 1))
    grid = [(round(i * step, 10), y0) for i in order]
    # The press lands on the handle's centre (its state, drawn there), so the drag keeps no offset.
    points = [client(x0, y0)] + [client(x, y) for x, y in grid[1:]]
    targets = [(x0, y0)] + grid[1:]

    moves, t_start, t_end, events, sync, b = _traced_sweep(page, context, fig, points, seconds)

    timed = _swept_moves(b, fig, t_start, points, targets, moves, "point")  # (timeStamp, target point) per move

    def same(p, q) -> bool:
        return isinstance(p, (list, tuple)) and len(p) == 2 and abs(p[0] - q[0]) < 1e-6 and abs(p[1] - q[1]) < 1e-6

    posts = [p for p in b["posts"] if p["id"] == fig and p["t"] >= t_start]
    causes, unmatched = [], 0
    for post in posts:
        point = (post.get("state") or {}).get(name)
        match = [m for m in timed if m["t"] <= post["t"] and same(point, m["point"])]
        if not match:
            unmatched += 1
            continue
        causes.append({"post": post, "t": match[-1]["t"], "input": match[-1], "k": match[-1]["k"]})
    shown = {m["seq"]: m for m in b["messages"] if m["id"] == fig}
    per_input = []
    for m in timed:
        # A move reaches the screen with the first frame drawn for it or for a later move.
        answer = next((shown.get(c["post"]["seq"]) for c in causes if c["k"] >= m["k"]), None)
        if answer and answer["type"] == "frame":
            per_input.append(answer["tShown"] - m["t"])
    result = _drag_result(fig, seconds, moves, t_start, t_end, events, sync, b, causes, per_input)
    result.update({"inputs": len(timed), "unmatched_posts": unmatched, "control": name})
    return result


def frame_breakdown(events: list[dict], thread: tuple, sync: tuple[float, float], frames: list[dict]) -> dict:
    """Where each live frame's time went, from the drag's trace: for every reply of the worker that the
    main thread handled, the worker's task, the wait for the main thread, the patch (the message's
    task), the wait for the next rendering step, its style and layout (with animation-frame callbacks),
    its paint and commit, and the wait until the compositor presented that frame. `frames`: the bench's
    own records ({"input", "message"} in performance.now() ms), tied to the trace through the mark `sync`
    names, so input to presentation is measured too."""
    pid, tid = thread
    names = {(e["pid"], e["tid"]): e["args"].get("name") for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    workers = {key for key, n in names.items() if key[0] == pid and n == "DedicatedWorker thread"}
    on_main = sorted((e for e in events if (e.get("pid"), e.get("tid")) == thread), key=lambda e: e["ts"])
    replies = [e for e in on_main if e.get("name") == "HandlePostMessage" and e.get("ph") == "X"]
    renders = [e for e in on_main if e.get("name") == "AnimationFrame::Render" and e.get("ph") in ("b", "e")]
    tasks = [e for e in on_main if e.get("name") == TASK_EVENT and e.get("ph") == "X"]
    jobs = sorted((e for e in events if (e.get("pid"), e.get("tid")) in workers and e.get("name") == "HandlePostMessage"
                   and e.get("ph") == "X"), key=lambda e: e["ts"] + e.get("dur", 0))
    # AnimationFrame b/e pairs (one at a time per frame) and the presentation of each, by its id.
    spans, open_frame = [], None
    for e in on_main:
        if e.get("name") == "AnimationFrame" and e.get("ph") == "b":
            open_frame = e
        elif e.get("name") == "AnimationFrame" and e.get("ph") == "e" and open_frame is not None:
            spans.append((open_frame["ts"], e["ts"], ((open_frame.get("args") or {}).get("id"))))
            open_frame = None
    presented = {(e.get("args") or {}).get("id"): e["ts"] for e in events
                 if e.get("name") == "AnimationFrame::Presentation" and e.get("pid") == pid}
    mark = next((e for e in events if e.get("name") == sync[1] and e.get("pid") == pid), None)
    offset = mark["ts"] - sync[0] * 1000 if mark else None  # trace µs = performance.now() ms × 1000 + offset

    parts = {name: [] for name in ("worker", "to_main", "patch", "to_frame", "style_layout", "paint_commit",
                                   "to_present", "input_to_present")}
    for reply in replies:
        end = reply["ts"] + reply.get("dur", 0)
        job = None
        for w in jobs:  # the worker's last task to end before this reply was handled
            if w["ts"] + w.get("dur", 0) <= reply["ts"]:
                job = w
            else:
                break
        begin = next((r for r in renders if r["ph"] == "b" and r["ts"] >= end), None)
        if job is None or begin is None:
            continue
        finish = next((r for r in renders if r["ph"] == "e" and r["ts"] >= begin["ts"]), None)
        task = next((t for t in tasks if t["ts"] <= begin["ts"] <= t["ts"] + t.get("dur", 0)), None)
        if finish is None or task is None:
            continue
        task_end = task["ts"] + task["dur"]
        span = next((s for s in spans if s[0] <= begin["ts"] <= s[1]), None)
        shown_at = presented.get(span[2]) if span else None
        parts["worker"].append(job["dur"] / 1000)
        parts["to_main"].append((reply["ts"] - job["ts"] - job["dur"]) / 1000)
        parts["patch"].append(reply.get("dur", 0) / 1000)
        parts["to_frame"].append((begin["ts"] - end) / 1000)
        parts["style_layout"].append((finish["ts"] - begin["ts"]) / 1000)
        parts["paint_commit"].append((task_end - finish["ts"]) / 1000)
        if shown_at is not None:
            parts["to_present"].append((shown_at - task_end) / 1000)
            if offset is not None:
                record = next((f for f in frames if reply["ts"] <= f["message"] * 1000 + offset <= end + 200), None)
                if record:
                    parts["input_to_present"].append((shown_at - offset) / 1000 - record["input"])
    out = {f"{name}_median_ms": median(values) for name, values in parts.items()}
    out.update({f"{name}_p95_ms": percentile(values, 0.95) for name, values in parts.items()})
    out["replies"] = len(parts["worker"])
    out["input_to_present_max_ms"] = max(parts["input_to_present"], default=None)
    return out


def bench_pyodide(p, server: SiteServer, url: str, widgets: list[dict], runtime: dict, runs: int,
                  drag_seconds: float, work: Path) -> dict:
    """The live widget, cold (fresh profile) and warm (same profile, browser restarted), a drag in the
    last warm page; and loadPyodide alone on a blank page of the same site, cold and warm."""
    live = next((w for w in widgets if not w["frames"] and first_slider(w)), None)
    if live is None:
        raise RuntimeError("the post has no live (Pyodide) widget with a slider")
    control = first_slider(live)
    point = next((c for c in live["controls"] if c.get("kind") == "point"), None)  # its handle is dragged too
    result = {"widget": live["name"], "id": live["id"], "control": control["name"], "runs": [], "alone": [],
              "point": point["name"] if point else None}
    index_url = server.url.rstrip("/") + runtime.get("pyodide", "")
    for run in range(runs):
        profile = work / f"profile-{run}"
        one = {}
        # "plain": a fresh profile again, with the snapshot's request refused, so the worker starts
        # Pyodide the plain way: the same page and widget, without the snapshot.
        for temperature in ("cold", "warm", "plain"):
            context = _launch(p, work / f"profile-plain-{run}" if temperature == "plain" else profile)
            try:
                context.add_init_script(INSTRUMENT_JS)
                if temperature == "plain":
                    context.route("**/snapshot-*.bin.gz", lambda route: route.abort())
                page = context.pages[0] if context.pages else context.new_page()
                one[temperature] = first_live_frame(page, server, url, live, control)
                _say(f"  Pyodide widget, {temperature}: first live frame {one[temperature]['ms'] / 1000:.2f} s "
                     f"after the first touch, {one[temperature]['bytes']['total']['transferred'] / KB:.0f} KB")
                if temperature == "warm" and run == runs - 1:
                    result["drag"] = _guard("drag", drag, page, live, control, drag_seconds, context)
                    if "median_ms" in result["drag"]:
                        _say(f"  drag {drag_seconds:.0f} s: {result['drag']['frames']} frames for "
                             f"{result['drag']['inputs']} inputs, median {result['drag']['median_ms'] or 0:.0f} ms")
                    if point:
                        result["drag_handle"] = _guard("handle drag", drag_handle, page, live, point, drag_seconds, context)
                        if "median_ms" in result["drag_handle"]:
                            _say(f"  handle drag {drag_seconds:.0f} s: {result['drag_handle']['frames']} frames, "
                                 f"median {result['drag_handle']['median_ms'] or 0:.0f} ms")
            finally:
                context.close()
        result["runs"].append(one)
        if runtime.get("pyodide"):
            result["alone"].append(_guard("loadPyodide alone", pyodide_alone, p, server, index_url, work / f"blank-{run}"))
    cold = [r["cold"]["ms"] for r in result["runs"]]
    warm = [r["warm"]["ms"] for r in result["runs"]]
    plain = [r["plain"]["ms"] for r in result["runs"]]
    result.update({"cold_median_ms": median(cold), "warm_median_ms": median(warm), "plain_median_ms": median(plain)})
    alone = [a for a in result["alone"] if "cold_ms" in a]
    result["alone_cold_median_ms"] = median([a["cold_ms"] for a in alone])
    result["alone_warm_median_ms"] = median([a["warm_ms"] for a in alone])
    return result


def pyodide_alone(p, server: SiteServer, index_url: str, profile: Path) -> dict:
    """loadPyodide() on the main thread of a blank page from the same site: fresh profile, then restarted."""
    out = {}
    for temperature in ("cold", "warm"):
        context = _launch(p, profile)
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(PYODIDE_TIMEOUT_S * 1000)
            page.goto(server.url.rstrip("/") + BLANK_PATH)
            mark = server.mark()
            timing = page.evaluate(PYODIDE_ALONE_JS, index_url)
            wait_quiet(page, server)
            out[f"{temperature}_ms"] = timing["total_ms"]
            out[f"{temperature}_import_ms"] = timing["import_ms"]
            out[f"{temperature}_bytes"] = byte_summary(server.since(mark))["total"]
        finally:
            context.close()
    _say(f"  loadPyodide alone: cold {out['cold_ms'] / 1000:.2f} s, warm {out['warm_ms'] / 1000:.2f} s")
    return out


def measure(site_dir: Path, post_path: str = DEFAULT_POST, runs: int = 7, quick: bool = False) -> dict:
    """Every reader-side measure for one post of a built site; JSON-serialisable raw numbers.

    runs: cold page loads for first paint (quick: at most 3). Quick mode also traces one load
    instead of three, times 20 inputs instead of 100, one Pyodide cold/warm pair instead of
    three and a 2-second drag instead of 5. Raises BrowserUnavailable without a browser; every
    other failure is recorded under "error" in its section."""
    site_dir = Path(site_dir).resolve()
    post = read_post(site_dir, post_path)
    sync_api = _playwright()
    load_runs = min(runs, 3) if quick else runs
    server = SiteServer(site_dir)
    url = server.url + post_path.strip("/") + "/"
    result = {
        "post": post_path.strip("/") + "/", "quick": quick, "viewport": VIEWPORT, "kb": KB,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "widgets": [{"id": w["id"], "name": w["name"], "frames": bool(w["frames"])} for w in post["widgets"]],
        "scripts": post["scripts"],
    }
    try:
        with sync_api.sync_playwright() as p, tempfile.TemporaryDirectory(prefix="labpress-reader-") as work:
            browser = _launch(p)
            result["browser"] = f"Chromium {browser.version}"
            _say(f"reader benchmarks: {url} in {result['browser']} ({'quick' if quick else 'full'} mode)")
            result["load"] = _guard("page load", bench_loads, browser, server, url, load_runs, 1 if quick else 3)
            result["scroll"] = _guard("scroll through", bench_scroll, browser, server, url)
            result["frames"] = _guard("frames widget", bench_frames, browser, server, url, post["widgets"],
                                      20 if quick else 100, 2.0 if quick else 5.0)
            browser.close()
            result["pyodide"] = _guard("Pyodide widget", bench_pyodide, p, server, url, post["widgets"], post["runtime"],
                                       1 if quick else 3, 2.0 if quick else 5.0, Path(work))
    finally:
        server.close()
    return result


# ---------------------------------------------------------------------------- the report


def _kb(n: float | None) -> str:
    return "–" if n is None else f"{n / KB:.1f} KB"


def _ms(n: float | None, digits: int = 1) -> str:
    if n is None:
        return "–"
    return f"{n / 1000:.2f} s" if n >= 10_000 else f"{n:.{digits}f} ms"


def _verdict(value: float | None, limit: float, unit: str, strict: bool = True) -> str:
    """'met' or 'missed by …': strict means the value must stay under the limit, else at most the limit."""
    if value is None:
        return "not measured"
    ok = value < limit if strict else value <= limit
    if ok:
        return "met"
    over = value - limit
    return f"missed by {over:.1f} {unit}" if over else "missed (at the limit)"


def _failed(section: dict | None) -> str | None:
    if section is None:
        return "not run"
    return section.get("error")


def _kind_split(summary: dict, kinds: list[str]) -> str:
    by = summary["by_kind"]
    parts = [f"{kind} {by[kind]['transferred'] / KB:.1f}" for kind in kinds if kind in by]
    rest = sum(v["transferred"] for k, v in by.items() if k not in kinds)
    if rest:
        parts.append(f"other {rest / KB:.1f}")
    return ", ".join(parts)


def _bytes_table(title: str, summary: dict) -> list[str]:
    lines = [f"**{title}**", "", "| type | requests | transferred | of which headers | uncompressed |", "|---|---|---|---|---|"]
    for kind, v in sorted(summary["by_kind"].items(), key=lambda kv: -kv[1]["transferred"]):
        lines.append(f"| {kind} | {v['requests']} | {_kb(v['transferred'])} | {_kb(v['headers'])} | {_kb(v['uncompressed'])} |")
    t = summary["total"]
    lines += [f"| **total** | {t['requests']} | **{_kb(t['transferred'])}** | {_kb(t['headers'])} | {_kb(t['uncompressed'])} |", ""]
    return lines


def _task_row(d: dict) -> str:
    """The longest main-thread task during a drag, from the trace and the longtask observer, with its verdict."""
    task = d.get("trace_longest_task")
    trace_ms = task["ms"] if task else None
    parts = ", ".join(f"{p['name']} {p['ms']:.0f} ms" for p in task["breakdown"][:3]) if task else ""
    cpu = f", {_ms(task['cpu_ms'])} of it on the CPU" if task and task.get("cpu_ms") is not None else ""
    over = f", {task['over_50ms']} over 50 ms" if task and task.get("over_50ms") else ""
    return (f"| … longest main-thread task during the drag | {_ms(trace_ms)} in the trace{cpu}{over} ({parts or 'nothing traced'}); "
            f"longtask observer: {d['longtasks']} task{'s' * (d['longtasks'] != 1)}, longest {_ms(d['longtask_max_ms'])} "
            f"| ≤ {TARGETS['longest_task_ms']} ms "
            f"| {_verdict(max(trace_ms or 0, d['longtask_max_ms']), TARGETS['longest_task_ms'], 'ms', strict=False)} |")


def _snapshot_rows(py: dict, each) -> list[str]:
    """The first live frame against its targets, with the Pyodide snapshot and with it refused, and where
    the time of the cold start went (the worker's own record of its steps)."""
    if "plain_median_ms" not in py:
        return []
    cold, plain, alone = py["cold_median_ms"], py["plain_median_ms"], py["alone_cold_median_ms"]
    starts = sorted({(r["cold"].get("start") or {}).get("start", "?") for r in py["runs"]})
    rows = [f"| … the same with the snapshot refused (the worker starts Pyodide the plain way), cold "
            f"| {_ms(plain)}{each([r['plain']['ms'] for r in py['runs']])} | | |",
            f"| first touch to first live frame, cold, with the snapshot (worker started from: {', '.join(starts)}) "
            f"| {_ms(cold)} | < {TARGETS['first_live_ms']} ms | {_verdict(cold, TARGETS['first_live_ms'], 'ms')} |"]
    if cold is not None and alone:
        share, limit = cold / alone, TARGETS["first_live_vs_alone"]
        verdict = "met" if share < limit else f"missed by {share - limit:.2f}"
        rows.append(f"| … as a share of plain `loadPyodide()` in the same run | {share:.2f} ({_ms(cold)} / {_ms(alone)}) "
                    f"| < {limit} | {verdict} |")
    first = py["runs"][0]
    for label, run in (("with the snapshot", first["cold"]), ("snapshot refused", first["plain"])):
        phases = (run.get("start") or {}).get("phases") or {}
        if phases:
            steps = ", ".join(f"{name} {ms / 1000:.2f} s" for name, ms in sorted(phases.items(), key=lambda kv: kv[1]))
            rows.append(f"| … where the first cold start went, {label} (each step's end, since the touch) "
                        f"| {steps}; frame on screen {_ms(run['ms'])} | | |")
    snap_bytes, plain_bytes = first["cold"]["bytes"]["total"], first["plain"]["bytes"]["total"]
    rows.append(f"| … bytes on that first touch, with the snapshot / without "
                f"| {_kb(snap_bytes['transferred'])} / {_kb(plain_bytes['transferred'])} "
                f"(the snapshot adds {_kb(snap_bytes['transferred'] - plain_bytes['transferred'])}) | | |")
    return rows


def _drag_rows(title: str, d: dict | None, live: bool) -> list[str]:
    """A drag's rows: input to frame against its targets, and for a live widget where the time went."""
    if _failed(d):
        return [f"| {title.format(s='?')} | not measured: {_failed(d)} | | |"]
    seconds = f"{d['seconds']:.0f}"
    coalesced = f", {d['coalesced']} coalesced" if d.get("coalesced") else ""
    head = (f"| {title.format(s=seconds)}: input to frame, per frame drawn "
            f"({d['frames']} frames, {d['inputs']} inputs at {d['moves_per_s']:.0f} moves/s{coalesced}) "
            f"| median {_ms(d['median_ms'])}, p95 {_ms(d['p95_ms'])}, max {_ms(d['max_ms'])} ")
    if live:
        head += (f"| median < {TARGETS['drag_median_ms']} ms, p95 < {TARGETS['drag_p95_ms']} ms "
                 f"| median {_verdict(d['median_ms'], TARGETS['drag_median_ms'], 'ms')}; "
                 f"p95 {_verdict(d['p95_ms'], TARGETS['drag_p95_ms'], 'ms')} |")
    else:
        head += (f"| p95 < {TARGETS['frames_p95_ms']} ms | {_verdict(d['p95_ms'], TARGETS['frames_p95_ms'], 'ms')} |")
    rows = [head]
    if live:
        t = d.get("trace") or {}
        if t.get("replies"):
            rows.append(f"| … input to that frame presented by the compositor (trace) | median {_ms(t['input_to_present_median_ms'])}, "
                        f"p95 {_ms(t['input_to_present_p95_ms'])}, max {_ms(t['input_to_present_max_ms'])} | | |")
            rows.append(f"| … where a frame's time goes, trace medians (p95) over {t['replies']} replies "
                        f"| worker {_ms(t['worker_median_ms'])} ({_ms(t['worker_p95_ms'])}); reply waits for the main thread "
                        f"{_ms(t['to_main_median_ms'])} ({_ms(t['to_main_p95_ms'])}); patch {_ms(t['patch_median_ms'])} "
                        f"({_ms(t['patch_p95_ms'])}); wait for the next frame {_ms(t['to_frame_median_ms'])} "
                        f"({_ms(t['to_frame_p95_ms'])}); style and layout {_ms(t['style_layout_median_ms'])} "
                        f"({_ms(t['style_layout_p95_ms'])}); paint and commit {_ms(t['paint_commit_median_ms'])} "
                        f"({_ms(t['paint_commit_p95_ms'])}); to presentation {_ms(t['to_present_median_ms'])} "
                        f"({_ms(t['to_present_p95_ms'])}) | | |")
        br = d["breakdown_median_ms"]
        rows.append(f"| … the same from the page (medians) | input to render request {_ms(br['to_post'])}, "
                    f"request to reply {_ms(br['worker'])} (kernel {_ms(d['kernel_median_ms'])}), reply to frame rendered "
                    f"{_ms(br['to_screen'])}; input to the animation-frame callback {_ms(br['raf'])} "
                    f"(p95 {_ms(d['raf_p95_ms'])}) | | |")
        rows.append(f"| … every input, to the first frame showing it or a later state "
                    f"| median {_ms(d['per_input_median_ms'])}, p95 {_ms(d['per_input_p95_ms'])} | | |")
    else:
        rows.append(f"| … input to the DOM change / to the animation-frame callback (medians) "
                    f"| {_ms(d['dom_median_ms'])} / {_ms(d['raf_median_ms'])} | | |")
    rows.append(_task_row(d))
    return rows


def _slider_source_row(d: dict | None) -> list[str]:
    """Who set a dragged slider's values: the runtime, from raw pointer updates while the thumb was
    held, or the browser, with its frame-aligned input event (a restyled thumb, another browser)."""
    if _failed(d) or d.get("runtime_inputs") is None:
        return []
    unmatched = d.get("unmatched_posts", d.get("unmatched_frames")) or 0
    return [f"| … the slider's values during the drag: set by the runtime from raw pointer updates / by the"
            f" browser's own input event{' / frames matched to no move' if unmatched else ''} "
            f"| {d['runtime_inputs']} / {d['input_events'] - d['runtime_inputs']}{f' / {unmatched}' if unmatched else ''} | | |"]


def report_lines(result: dict) -> list[str]:
    """The "## Reader side" section of bench/report.md, as Markdown lines."""
    load, frames, py = result.get("load"), result.get("frames"), result.get("pyodide")
    lines = ["## Reader side", "",
             f"Post `/{result['post']}` served gzip-compressed from 127.0.0.1, in headless {result.get('browser', 'Chromium')}"
             f" ({result['viewport']['width']}×{result['viewport']['height']}), {result['machine']['cpus']} cores. "
             f"Mode: {'quick' if result['quick'] else 'full'}. 1 KB = {result['kb']} bytes; transferred = response headers + "
             "encoded body.", "",
             "| measure | value | target | verdict |", "|---|---|---|---|"]

    if _failed(load):
        lines.append(f"| page load | not measured: {_failed(load)} | | |")
    else:
        b = load["bytes"]["total"]
        lines.append(f"| bytes to display the post, no interaction | {_kb(b['transferred'])} "
                     f"({_kind_split(load['bytes'], ['html', 'css', 'font', 'js'])}); {_kb(b['uncompressed'])} uncompressed "
                     f"| < {TARGETS['load_kb']} KB | {_verdict(b['transferred'] / KB, TARGETS['load_kb'], 'KB')} |")
        runs = len(load["runs"])
        lines.append(f"| first contentful paint, median of {runs} cold loads | {_ms(load['fcp_median_ms'], 0)} "
                     f"(range {_ms(load['fcp_min_ms'], 0)}–{_ms(load['fcp_max_ms'], 0)}) | | |")
        traced = load["traced"]
        if traced:
            ran = {}  # script file -> its longest total time before first paint over the traced loads
            for t in traced:
                per_file = {}
                for s in t["scripts_before_fcp"]:
                    key = s["url"].rsplit("/", 1)[-1] or s["event"]
                    per_file[key] = per_file.get(key, 0) + s["ms"]
                for key, ms in per_file.items():
                    ran[key] = max(ran.get(key, 0), ms)
            what = "; ".join(f"{name} ({ms:.1f} ms)" for name, ms in ran.items()) or "none"
            lines.append(f"| JavaScript run before first paint ({len(traced)} traced load{'s' * (len(traced) > 1)}) "
                         f"| {'yes: ' + what if ran else 'none'} | none | {'missed' if ran else 'met'} |")
        tasks = sorted((t["longest_task"] for t in traced if t["longest_task"]), key=lambda t: t["ms"])
        if tasks:
            typical = tasks[(len(tasks) - 1) // 2]  # the median traced load (the lower middle of an even count)
            parts = ", ".join(f"{p['name']} {p['ms']:.0f} ms" for p in typical["breakdown"][:3])
            observed = load["longtask_median_ms"]
            lines.append(f"| longest main-thread task during load, median load | longtask observer: {_ms(observed, 0)} "
                         f"over {runs} loads (worst {_ms(load['longtask_max_ms'], 0)}); trace: {_ms(typical['ms'], 0)} "
                         f"({parts}; worst of {len(tasks)} {_ms(tasks[-1]['ms'], 0)}) | ≤ {TARGETS['longest_task_ms']} ms "
                         f"| {_verdict(observed or typical['ms'], TARGETS['longest_task_ms'], 'ms', strict=False)} |")

    scroll = result.get("scroll")
    if _failed(scroll):
        lines.append(f"| scrolling through the post | not measured: {_failed(scroll)} | | |")
    else:
        lines.append(f"| bytes after scrolling to the end, no touch (runtime pre-starts widgets near the viewport) "
                     f"| {_kb(scroll['total']['transferred'])} "
                     f"({_kind_split(scroll, ['frames', 'wasm', 'python stdlib', 'js', 'json', 'python'])}) | | |")

    if _failed(frames):
        lines.append(f"| pre-computed frames widget | not measured: {_failed(frames)} | | |")
    else:
        lines.append(f"| frames widget `{frames['widget']}`: key press to new frame on screen, {len(frames['latency_ms'])} inputs "
                     f"| median {_ms(frames['median_ms'])}, p95 {_ms(frames['p95_ms'])}, max {_ms(frames['max_ms'])}; "
                     f"DOM changed after {_ms(frames['dom_median_ms'])}, next animation frame callback after "
                     f"{_ms(frames['raf_median_ms'])} (p95 {_ms(frames['raf_p95_ms'])}) "
                     f"| p95 < {TARGETS['frames_p95_ms']} ms | {_verdict(frames['p95_ms'], TARGETS['frames_p95_ms'], 'ms')} |")
        if frames.get("first_input"):
            lines.append(f"| frames widget: first key press (frames file fetched on demand) "
                         f"| {_ms(frames['first_input']['ms'])} | | |")
        if frames.get("drag"):
            lines += _drag_rows(f"frames widget `{frames['widget']}`: drag {{s}} s on `{frames['control']}`", frames["drag"],
                                live=False)
            lines += _slider_source_row(frames["drag"])

    if _failed(py):
        lines.append(f"| Pyodide widget | not measured: {_failed(py)} | | |")
    else:
        n = len(py["runs"])
        def each(values: list) -> str:
            return f" (runs: {', '.join(_ms(v) for v in values)})" if len(values) > 1 else ""

        cold, warm = [r["cold"]["ms"] for r in py["runs"]], [r["warm"]["ms"] for r in py["runs"]]
        alone = [a for a in py["alone"] if "cold_ms" in a]
        lines.append(f"| Pyodide widget `{py['widget']}`: first touch to first live frame, cold HTTP cache (median of {n}) "
                     f"| {_ms(py['cold_median_ms'])}{each(cold)} | | |")
        lines.append(f"| … warm HTTP cache (browser restarted, same profile) | {_ms(py['warm_median_ms'])}{each(warm)} | | |")
        lines.append(f"| `loadPyodide()` alone on a blank page of the site: cold / warm "
                     f"| {_ms(py['alone_cold_median_ms'])} / {_ms(py['alone_warm_median_ms'])}"
                     f"{each([a['cold_ms'] for a in alone])} | | |")
        lines += _snapshot_rows(py, each)
        lines += _drag_rows(f"drag {{s}} s on the slider `{py['control']}`", py.get("drag"), live=True)
        lines += _slider_source_row(py.get("drag"))
        if py.get("point"):
            lines += _drag_rows(f"drag {{s}} s of the handle `{py['point']}`", py.get("drag_handle"), live=True)
    lines.append("")

    if not _failed(load):
        lines += _bytes_table("Bytes to display the post (cold cache, no interaction)", load["bytes"])
    if not _failed(frames):
        lines += _bytes_table(f"Bytes on the first touch of the frames widget `{frames['widget']}`", frames["first_touch_bytes"])
        for fig, summary in frames["other_widgets_first_touch_bytes"].items():
            t = summary["total"]
            lines.append(f"First touch of `{fig}`: {_kb(t['transferred'])} ({_kind_split(summary, ['frames'])}), "
                         f"{_kb(t['uncompressed'])} uncompressed.")
        if frames["other_widgets_first_touch_bytes"]:
            lines.append("")
    if not _failed(py) and py["runs"]:
        lines += _bytes_table(f"Bytes on the first touch of the Pyodide widget `{py['widget']}` (cold cache)",
                              py["runs"][0]["cold"]["bytes"])
        warm = py["runs"][0]["warm"]["bytes"]["total"]
        lines += [f"Warm cache: {warm['requests']} requests reached the server, {_kb(warm['transferred'])}.", ""]

    lines += ["How it is measured:", "",
              "- Bytes: counted by the benchmark's own server (gzip level 6 for text, `Cache-Control: max-age=600`, "
              "validators, like GitHub Pages); a request the browser answers from its cache costs nothing. "
              "Real hosts send larger headers (about 0.5–1 KB a response) and may use Brotli.",
              "- Cold loads use a fresh browser context each (empty HTTP cache), viewport at the top of the post, "
              "no interaction; the network counts as settled after 1 s without a request.",
              "- First contentful paint is the `first-contentful-paint` paint entry (navigation start to paint). "
              "JavaScript before first paint comes from a Chromium trace: script evaluation and callback events "
              "(EvaluateScript, v8.evaluateModule, FunctionCall, timers, idle and animation-frame callbacks) on the "
              "page's main thread that start before the `firstContentfulPaint` mark. Traced loads carry no "
              "instrumentation script; tracing slows them a little.",
              "- Longest task: the longest `ThreadControllerImpl::RunTask` on the page's renderer main thread in the "
              "trace (from navigation start until the network settles), next to the `longtask` PerformanceObserver "
              "of the untraced loads (which only sees tasks over 50 ms). Trace tasks include tracing overhead. "
              "The verdict takes each load's longest task and the median over loads (the trace's when the observer "
              "saw none); the worst load is shown beside it.",
              "- Input to frame: from the timeStamp of the key press or pointer event behind a state (when the browser "
              "received it, so queueing counts) to a task queued from the first animation-frame callback after that "
              "state's frame was put into the page, i.e. once that frame's style, layout, paint and commit have run on "
              "the main thread. Pre-computed frames: the first change of the figure (MutationObserver) after the "
              "input; Pyodide: the worker's reply, via a wrapped Worker (the runtime puts a frame in during the task "
              "that brings it). The targets are judged on that. The animation-frame callback itself (shown alongside) "
              "comes before the frame's rendering, so it flatters; raster, compositing and display come after (the "
              "trace's presentation of the frame, shown for the live drags). At 60 Hz, waiting for the next frame "
              "alone costs up to 16.7 ms, and Chromium hands pointermove (and a range input's own input event) to "
              "the page only at the start of a frame, which is why the runtime reads a held slider or handle from "
              "pointerrawupdate, delivered as the pointer moves.",
              "- Software rendering: Chromium runs with --disable-gpu, so paint and raster run on the CPU; on a shared "
              "2-core machine other load shows up in every timing. Numbers are from one run of each measure.",
              "- Pyodide cold: a fresh browser profile; warm: the same profile after a browser restart (HTTP cache on "
              "disk). The clock starts at the first touch (focus of the slider) or at the worker's creation if the "
              "runtime started it earlier. `loadPyodide()` alone runs on the blank page's main thread.",
              "- Drags: mouse down, one move every 16 ms, end to end and back. A slider (live widget, and the frames "
              "widget's): one step per move, each to the middle of a new value's stretch of the track, so the value "
              "a render request sends (or a pre-computed frame shows) names the move behind it, timed from that "
              "move's pointer sample, whichever event then set the value (the runtime's, from the raw pointer "
              "update, or the browser's own `input` a frame later; the report counts both). A handle: one grid step (the point's step) per "
              "move along x, each to a new grid point, so the state a request sends names the move behind it, timed "
              "from the first pointer event the browser reported at that position (every coalesced sample is kept). "
              "Each Playwright mouse move waits until the renderer has taken the event, so the rate achieved (shown) "
              "is what the page absorbs. The trace of each drag (tasks and the timeline only) gives, per reply of "
              "the worker: its task on the worker's thread, the reply's wait for the main thread, the patch (the "
              "reply's task), the wait for the next rendering step, its style and layout (with animation-frame "
              "callbacks), its paint and commit, and the compositor's presentation of that frame (tied to the "
              "page's clock by a user-timing mark). A task's CPU time far below its length means the thread was "
              "waiting for a core.", ""]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build_dir", type=Path, help="a built site, such as build/")
    parser.add_argument("--post", default=DEFAULT_POST, help=f"the post's path in the site (default {DEFAULT_POST})")
    parser.add_argument("--runs", type=int, default=7, help="cold page loads for first paint (default 7; quick: 3)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions: well under two minutes")
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = parser.parse_args()
    started = time.perf_counter()
    try:
        result = measure(args.build_dir, args.post, runs=args.runs, quick=args.quick)
    except (BrowserUnavailable, FileNotFoundError) as exc:
        raise SystemExit(f"reader benchmark: {exc}") from None
    result["seconds"] = time.perf_counter() - started
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    print("\n".join(report_lines(result)))
    _say(f"done in {result['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

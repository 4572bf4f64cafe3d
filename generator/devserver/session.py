"""One ``labpress serve`` session: build, serve, rebuild on change, stop on Ctrl-C.

Builds run in the main thread, one at a time, so Ctrl-C interrupts a build the
way it interrupts ``labpress build`` (its staging folder is removed, the last
good output stays). The HTTP server and the watchers run in background threads.

The session keeps what its builds made in memory (site/memory.py), so a rebuild
after an edit does the work the edit calls for; open pages reload as soon as
the pages are published, and the caches, the manifest and the search index are
brought up to date after that (Pagefind runs in a thread; its index is published
when it is done, without another reload).
"""

from __future__ import annotations

import queue
import signal
import sys
import threading
import time
from pathlib import Path

import jinja2
from rich.console import Console
from rich.markup import escape

from labpress.site.memory import BuildMemory
from labpress.site.pipeline import CACHE_DIR, BuildResult, build_site, finish, finish_search
from labpress.config.schema import CONFIG_NAME
from labpress.errors import ConfigError, ContentErrors, shorten
from labpress.devserver.server import DevHTTPServer, make_server, server_url
from labpress.devserver.state import BuildState
from labpress.devserver.watcher import SiteWatcher

DEV_BASE_URL = "/"  # the dev server serves the site at its root, whatever base path labpress.toml names
SEARCH_WAIT_SECONDS = 10.0  # on stopping, for a Pagefind run to end


def error_lines(exc: BaseException) -> list[str]:
    """What a failed build has to say, one ``path:line:col: error: message`` (or ``error: …``) per line."""
    if isinstance(exc, ContentErrors):
        return [str(error) for error in exc.errors]
    if isinstance(exc, jinja2.TemplateError):
        where = getattr(exc, "filename", None) or getattr(exc, "name", None) or "template"
        line = getattr(exc, "lineno", None) or 1
        return [f"{where}:{line}:1: error: theme template: {getattr(exc, 'message', None) or exc}"]
    if isinstance(exc, ConfigError):
        return str(exc).splitlines() or ["error: configuration error"]
    return [f"error: the build stopped on an internal error: {type(exc).__name__}: {exc}"]


def forget_modules_under(folder: Path) -> None:
    """Drop modules imported from ``folder`` so a rebuild sees edited widget helper modules."""
    folder = folder.resolve()
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file:
            try:
                inside = Path(file).resolve().is_relative_to(folder)
            except OSError:
                continue
            if inside:
                sys.modules.pop(name, None)


class DevSession:
    def __init__(self, site_dir: Path, out_dir: Path | None, host: str, port: int, drafts: bool, use_cache: bool,
                 stdout: Console, stderr: Console, quiet: bool = False, verbose: bool = False):
        self.site_dir = site_dir.resolve()
        self.out_dir = (out_dir or self.site_dir / "build").resolve()
        self.host = host
        self.port = port
        self.drafts = drafts
        self.use_cache = use_cache
        self.stdout = stdout
        self.stderr = stderr
        self.quiet = quiet  # errors only
        self.verbose = verbose  # a traceback when LabPress itself fails
        self.state = BuildState()
        self.changes: queue.Queue[set[Path]] = queue.Queue()
        self.server: DevHTTPServer | None = None
        self.server_thread: threading.Thread | None = None
        self.watcher: SiteWatcher | None = None
        self.memory = BuildMemory()
        self.memory.on_search_done = lambda: self.changes.put(set())  # wakes the loop to publish the index

    # ------------------------------------------------------------------ messages

    def shown(self, path: Path) -> str:
        for root in (Path.cwd(), self.site_dir):
            try:
                return path.relative_to(root).as_posix() or "."
            except ValueError:
                continue
        return path.as_posix()

    def warn(self, message: str) -> None:
        self.stderr.print(message, markup=False)

    # ------------------------------------------------------------------ building

    def build(self) -> BuildResult | None:
        """One build; on failure, the errors go to the terminal and to open pages. Open pages reload
        once the pages are published; what the build left for after that is done then."""
        try:
            result = build_site(self.site_dir, out_dir=self.out_dir, base_url=DEV_BASE_URL,
                                drafts=self.drafts, use_cache=self.use_cache, notify=self.warn,
                                memory=self.memory)
        except Exception as exc:  # content, configuration, template or internal: the server keeps going
            if self.verbose and not isinstance(exc, (ContentErrors, ConfigError, jinja2.TemplateError)):
                self.stderr.print_exception()
            lines = error_lines(exc)
            for line in lines:
                self.stderr.print(line, markup=False)
            count = sum(1 for line in lines if "error:" in line) or 1
            kept = "still serving the last good build" if self.out_dir.is_dir() else "nothing to serve until it builds"
            self.stderr.print(f"build failed: {count} error{'s' if count != 1 else ''}; {kept}", markup=False)
            self.state.failed(lines)
            return None
        self.state.succeeded()
        self.after_build()
        return result

    def after_build(self) -> None:
        """The caches, the manifest and the stamp written, the search index started (site/memory.py)."""
        try:
            finish(self.memory, self.site_dir, notify=self.warn)
        except Exception as exc:  # the pages are published; the next build does this again
            self.warn(f"warning: after the build: {type(exc).__name__}: {shorten(str(exc), 200)}")

    def publish_search(self) -> None:
        """The search index Pagefind made meanwhile, published (no reload: pages load it when searched)."""
        try:
            finish_search(self.memory, self.site_dir, notify=self.warn)
        except Exception as exc:  # Pagefind failed: the index stays as it was, the next build tries again
            for line in error_lines(exc):
                self.stderr.print(f"search index: {line}", markup=False)

    def info(self, message: str, markup: bool = True) -> None:
        if not self.quiet:
            self.stdout.print(message, markup=markup, highlight=False)

    def initial_build(self) -> None:
        result = self.build()
        if result:
            self.info(
                f"Built {result.pages} pages ({result.files} files) into {self.shown(result.out_dir)}/ in {result.seconds:.2f} s"
                f" · {result.formulas_typeset} formulas typeset, {result.formulas_cached} from cache",
                markup=False,
            )

    def rebuild(self, paths: set[Path]) -> None:
        forget_modules_under(self.site_dir / "widgets")
        # An editor's temporary files come and go around a save: name what is left, when anything is.
        names = sorted(self.shown(path) for path in paths if path.exists()) or sorted(self.shown(path) for path in paths)
        what = ", ".join(names) if len(names) <= 3 else f"{names[0]} and {len(names) - 1} more files"
        stamp = time.strftime("%H:%M:%S")
        self.info(f"[dim]{stamp}[/dim] {escape(what)} changed · rebuilding…")
        result = self.build()
        if result:
            self.info(f"[dim]{time.strftime('%H:%M:%S')}[/dim] [green]rebuilt[/green] {result.pages} pages"
                      f" in {result.seconds:.2f} s · open pages reload")

    # ------------------------------------------------------------------ running

    def on_change(self, paths: set[Path]) -> None:
        self.changes.put(paths)

    def start(self) -> str:
        """Bind the server (so a taken port fails at once), watch, build, serve. Returns the URL."""
        if not (self.site_dir / CONFIG_NAME).is_file():
            raise ConfigError(f"error: no {CONFIG_NAME} in {self.site_dir}: is this a LabPress site directory?")
        try:
            self.server = make_server(self.host, self.port, self.out_dir, self.state, on_error=self.warn)
        except OSError as exc:
            hint = "; try another --port, or --port 0 for a free one" if self.port else ""
            raise ConfigError(f"error: cannot listen on {self.host}:{self.port}: {exc.strerror or exc}{hint}") from None
        # Watch before the first build, so an edit made while it runs is built too.
        self.watcher = SiteWatcher(self.site_dir, self.on_change, ignore=(self.out_dir, self.site_dir / CACHE_DIR),
                                   on_error=self.warn)
        self.watcher.start()
        self.initial_build()
        self.server_thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                              name="labpress-http", daemon=True)
        self.server_thread.start()
        return server_url(self.server)

    def warm_up(self) -> None:
        """What the first edit would otherwise wait for, done while the author has not edited yet: the
        Markdown stack imported (a build that renders nothing never loads it) and KaTeX's engine
        started (about 0.2 s of a first one-post edit). In the thread that builds, so never beside a
        build; anything that fails here is for the build that needs it to report."""
        try:
            from labpress.markdown.render import markdown_parser

            markdown_parser()
            if self.memory.katex is not None:
                self.memory.katex.start()
        except Exception:  # noqa: BLE001 (the build that needs it says what is wrong)
            pass

    def loop(self) -> None:
        self.warm_up()
        while True:
            try:
                paths = self.changes.get(timeout=0.5)
            except queue.Empty:
                continue
            if not paths:  # Pagefind is done (see BuildMemory.on_search_done)
                self.publish_search()
                continue
            time.sleep(0.05)  # let both watchers report a save that touched several files
            while True:
                try:
                    paths |= self.changes.get_nowait()
                except queue.Empty:
                    break
            if paths:
                self.rebuild(paths)
            else:
                self.publish_search()

    def close(self) -> None:
        if self.watcher:
            self.watcher.close()
            self.watcher = None
        pending = self.memory.pending
        if pending is not None and pending.search is not None:
            pending.search.wait(SEARCH_WAIT_SECONDS)  # Pagefind's scratch folder removed, not left behind
        if self.memory.shadow is not None:
            self.memory.shadow.forget()  # the second tree beside the output folder
        self.state.close()  # ends the event streams of open pages
        if self.server:
            if self.server_thread:
                self.server.shutdown()
                self.server_thread.join(5)
                self.server_thread = None
            self.server.server_close()
            self.server = None

    def run(self) -> int:
        """Serve until Ctrl-C (or SIGTERM); 0 when stopped that way."""
        in_main = threading.current_thread() is threading.main_thread()
        previous_term = None
        if in_main:
            previous_term = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            try:
                url = self.start()
                # Printed even with --quiet: the address is what the command is for.
                self.stdout.print(
                    f"Serving {escape(self.shown(self.out_dir))}/ at [bold]{url}[/bold] · watching "
                    f"{escape(', '.join(self.watcher.watched))} · Ctrl-C stops",
                    highlight=False,
                )
                self.loop()
            except KeyboardInterrupt:
                pass
            previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
            try:
                self.close()  # a second Ctrl-C must not cut the clean-up short
            finally:
                if in_main:
                    signal.signal(signal.SIGINT, previous_int)
            self.info("Stopped.")
            return 0
        finally:
            self.close()
            if in_main:
                signal.signal(signal.SIGTERM, previous_term)


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt

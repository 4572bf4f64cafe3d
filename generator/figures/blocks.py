"""```` ```python {figure} ```` blocks: code run at build time, its matplotlib figure inlined as SVG.

The fence's info string may carry ``caption="..."`` and ``alt="..."``. The code
runs in a fresh namespace (``np`` and ``plt`` already imported) under the
Agg backend with a fixed random seed; the current figure afterwards is saved
as SVG with text kept as text and no date or random ids, so two builds of the
same post are byte-identical.

Colours follow the theme in both schemes: the figure is drawn with sentinel
colours (:data:`INK`, :data:`MUTED`, …, and a sentinel colour cycle) and the
SVG is rewritten afterwards: ink becomes ``currentColor``, every other
sentinel a light-scheme colour plus a ``pyfig-*`` class that the theme's CSS
points at its ``light-dark()`` custom properties. Inline ``style`` attributes
become presentation attributes and the SVG's ``<style>`` element is dropped, so
the page works under a Content-Security-Policy without ``'unsafe-inline'``.

The code runs with the site folder as its working folder (``data/x.csv`` is
the site's wherever the build started), under ``[limits] seconds_per_block``;
what it reads inside the site folder is recorded (see "What a block reads").

Results are cached by source, caption, alt and library versions in
``env["cache_dir"]/figures/`` (no cache when it is None), together with the
digests of the files the block read: a lookup checks them and the entry's own
digest, and draws the figure again when either differs. Only the raw SVG is
stored; the cheap rewrite above runs on every build.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import io
import json
import os
import re
import signal
import sys
import tempfile
import threading
import traceback
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from labpress.cache.inputs import input_digest, inputs_unchanged
from labpress.errors import did_you_mean
from labpress.limits import DEFAULT_SECONDS, TimeLimitError, TimeLimitExceeded, call_with_deadline

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

# Bump when the drawing style below changes: cached SVGs are then redrawn.
FORMAT_VERSION = "1"
CACHE_SUBDIR = "figures"
LANGUAGES = ("python", "py", "python3")
OPTIONS = ("caption", "alt")
_CODE_FILENAME = "<labpress figure>"

# Sentinel colours: unlikely in an author's own choices, near-black if ever left over.
INK = "#010203"
MUTED = "#010204"
RULE = "#010205"
PAPER = "#010206"
CYCLE = tuple(f"#0102{n:02x}" for n in range(0xA1, 0xA9))  # C0..C7

# sentinel -> (theme name used in class names, light-scheme fallback colour)
_THEME_COLOURS = {
    MUTED: ("muted", "#595550"),
    RULE: ("rule", "#d8d2c6"),
    PAPER: ("paper", "#f7f4ee"),
    "#ffffff": ("paper", "#f7f4ee"),  # white on a transparent figure means "the page"
}
_CYCLE_FALLBACKS = ("#1f5fa8", "#c2410c", "#1b7a4a", "#8a3ea8", "#8a6d00", "#0f7480", "#b0306a", "#5f6670")
for _i, (_sentinel, _fallback) in enumerate(zip(CYCLE, _CYCLE_FALLBACKS), start=1):
    _THEME_COLOURS[_sentinel] = (f"c{_i}", _fallback)
_INK_VALUES = {INK, "#000000"}  # black, matplotlib's default for most things, reads as the page's ink
_PAINT_PROPERTIES = ("fill", "stroke", "stop-color")

STYLE = {
    "svg.fonttype": "none",          # text stays text (selectable, searchable, themable)
    "svg.hashsalt": "labpress",      # ids from content hashes, not random
    "svg.image_inline": True,
    "figure.figsize": (7.0, 4.0),    # 504pt = 672 CSS px: about the width of the text column
    "figure.facecolor": "none",
    "figure.edgecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
    "savefig.edgecolor": "none",
    "savefig.transparent": True,
    "font.family": "sans-serif",
    "font.size": 11.0,
    "text.color": INK,
    "axes.labelcolor": INK,
    "axes.titlecolor": INK,
    "axes.edgecolor": MUTED,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": MUTED,
    "ytick.labelcolor": MUTED,
    "grid.color": RULE,
    "grid.alpha": 1.0,
    "grid.linewidth": 0.8,
    "legend.facecolor": PAPER,
    "legend.edgecolor": RULE,
    "legend.framealpha": 0.9,
    "legend.labelcolor": INK,
    "patch.edgecolor": INK,
    "hatch.color": INK,
    "lines.linewidth": 2.0,
    "errorbar.capsize": 3.0,
    "boxplot.boxprops.color": INK,
    "boxplot.whiskerprops.color": INK,
    "boxplot.capprops.color": INK,
    "boxplot.flierprops.markeredgecolor": INK,
    "boxplot.medianprops.color": CYCLE[1],
    "boxplot.meanprops.color": CYCLE[2],
    "boxplot.meanprops.markerfacecolor": CYCLE[2],
    "boxplot.meanprops.markeredgecolor": CYCLE[2],
}


class FigureError(Exception):
    """The figure code failed; ``line``/``col`` are 1-based inside the code (None: the block itself)."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col


def figures_plugin(md: MarkdownIt) -> None:
    md.core.ruler.push("labpress_figures", _run_figures)
    md.add_render_rule("labpress_figure", lambda self, tokens, idx, options, env: tokens[idx].meta.get("html", ""))


# --- Parsing the fence -------------------------------------------------------

_FIGURE_FLAG = "{figure}"
_OPTION = re.compile(r"""([A-Za-z_][\w-]*)\s*=\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s"']+)""")


def is_figure_fence(token) -> bool:
    return token.type == "fence" and _FIGURE_FLAG in token.info.split()


def _raw_info(token, env) -> tuple[str, int]:
    """The fence's info string as written (before Markdown unescaping) and its 0-based column."""
    line = env["source"].lines[token.map[0]]
    start = line.find(token.markup)
    start = start + len(token.markup) if start >= 0 else 0
    return line[start:], start


def _parse_options(token, env, line: int):
    """(language, options, column of '{figure}') or None after reporting an error."""
    from markdown_it.common.utils import unescapeAll  # here: the rendered-post cache imports this module

    sink = env["sink"]
    info, base = _raw_info(token, env)
    flag_at = info.find(_FIGURE_FLAG)
    flag_col = base + max(flag_at, 0) + 1
    language = info[:max(flag_at, 0)].strip()
    if language.lower() not in LANGUAGES:
        shown = f"'{language}'" if language else "no language"
        sink.add(line, base + 1, f"a figure block runs Python, not {shown}: write ```python {{figure}}")
        return None
    options: dict[str, str] = {}
    pos = flag_at + len(_FIGURE_FLAG)
    while True:
        while pos < len(info) and info[pos].isspace():
            pos += 1
        if pos >= len(info):
            break
        col = base + pos + 1
        match = _OPTION.match(info, pos)
        if not match:
            key = re.match(r"([A-Za-z_][\w-]*)\s*=\s*(['\"])", info[pos:])
            if key:
                sink.add(line, col, f"the value of figure option '{key.group(1)}' has no closing {key.group(2)}")
            else:
                sink.add(line, col, 'figure options are written key="value", as in caption="..." alt="..."')
            return None
        key, value = match.group(1), match.group(2)
        if key not in OPTIONS:
            sink.add(line, col, f"unknown figure option '{key}'{did_you_mean(key, OPTIONS)}; known options: {', '.join(OPTIONS)}")
            return None
        if key in options:
            sink.add(line, col, f"figure option '{key}' is given twice")
            return None
        if value[:1] in "\"'":
            value = value[1:-1]
        options[key] = unescapeAll(value).strip()
        pos = match.end()
    return language, options, flag_col


def _code_column(token, env, code_line: int, char_col: int) -> int:
    """1-based column in the Markdown file of a 0-based character column on a line of the code."""
    lines = token.content.split("\n")
    text = lines[code_line - 1] if 0 < code_line <= len(lines) else ""
    source_index = token.map[0] + code_line
    source_line = env["source"].lines[source_index] if source_index < len(env["source"].lines) else ""
    prefix = len(source_line) - len(text) if text and source_line.endswith(text) else 0
    return prefix + char_col + 1


# --- What a block reads ------------------------------------------------------
#
# A figure may read data files (open(), numpy.loadtxt/genfromtxt/fromfile,
# pandas, matplotlib's imread, ...) or list a folder (glob, os.listdir,
# Path.iterdir). All of these reach Python's ``open``, ``os.listdir`` or
# ``os.scandir`` audit events, so one audit hook per process sees them whatever
# library does the reading. Hooks cannot be removed, so the hook does nothing
# unless a recording is active in the calling thread (the dev server's HTTP
# thread is never recorded). What it saw becomes the figure's inputs:
#
# * only paths inside the site folder count (paths are made absolute when the
#   event fires, so a block that changes folder is still understood);
# * inside it, Python's own files do not: anything under sys.prefix,
#   sys.base_prefix or sys.exec_prefix (a virtual environment kept in the site
#   folder), in a site-packages, dist-packages or __pycache__ folder, or
#   matplotlib's configuration and cache folders; nor LabPress's cache folder;
# * a file opened only for writing is an output, not an input;
# * what the import system reads and lists to import a module is not data
#   (modules a block imports are not tracked; '' on sys.path lists the site);
# * a file the block tried to open but that did not exist counts (with no
#   digest): when it appears, the figure is drawn again.
#
# * a path looked at with os.stat (os.path.exists, isfile, Path.exists, ...)
#   counts as a file: numpy checks that a file exists before opening it, so a
#   block that falls back when the file is missing is drawn again when it
#   appears. Stat fires no audit event: while a recording is active anywhere,
#   ``os.stat`` is wrapped (the wrapper only notes paths for a recording thread).
#
# Outside the site folder nothing is tracked (system fonts, /dev, /proc, the
# standard library). Reads done in C without Python's I/O (h5py, netCDF) fire
# no event and are not seen.

_READ_EVENTS = frozenset({"open", "os.listdir", "os.scandir"})
_PYTHON_FOLDERS = frozenset({"site-packages", "dist-packages", "__pycache__"})
_CACHE_FOLDER_NAME = ".labpress-cache"
_IMPORT_SYSTEM = "<frozen importlib"

_thread = threading.local()  # .recorder: the _Reads of the block running in this thread, if any
_recordings = 0  # recordings active in any thread: while 0 the hook returns at once
_hook_lock = threading.Lock()
_hook_installed = False


class _Reads:
    """Absolute paths a block opened for reading, and folders it listed."""

    def __init__(self):
        self.files: set[str] = set()
        self.folders: set[str] = set()


def _audit(event: str, args: tuple) -> None:
    if not _recordings or event not in _READ_EVENTS:
        return
    reads = getattr(_thread, "recorder", None)
    if reads is None:
        return
    try:
        if sys._getframe(1).f_code.co_filename.startswith(_IMPORT_SYSTEM):
            return  # finding or loading a module the block imports: not its data
        path = args[0] if args else None
        if event == "open":
            if path is None or isinstance(path, int):
                return  # a file descriptor: opened (and recorded) before
            flags = args[2] if len(args) > 2 else None
            if isinstance(flags, int) and flags & os.O_ACCMODE == os.O_WRONLY:
                return
            reads.files.add(os.path.abspath(os.fsdecode(os.fspath(path))))
        else:
            if isinstance(path, int):
                return
            reads.folders.add(os.path.abspath(os.fsdecode(os.fspath(path)) if path is not None else "."))
    except Exception:  # an audit hook that raises would fail the author's own call
        pass


_plain_stat = os.stat


def _noted_stat(path, *args, **kwargs):
    reads = getattr(_thread, "recorder", None)
    if reads is not None and not isinstance(path, int) and kwargs.get("dir_fd") is None:
        try:
            reads.files.add(os.path.abspath(os.fsdecode(os.fspath(path))))
        except Exception:
            pass
    return _plain_stat(path, *args, **kwargs)


def _install_hook() -> None:
    global _hook_installed
    with _hook_lock:
        if not _hook_installed:
            sys.addaudithook(_audit)
            _hook_installed = True


@contextlib.contextmanager
def _recording(reads: _Reads | None):
    """Record into ``reads`` what this thread opens and lists until the block ends (None: nothing)."""
    global _recordings
    if reads is None:
        yield
        return
    _install_hook()
    previous = getattr(_thread, "recorder", None)
    _thread.recorder = reads
    with _hook_lock:
        _recordings += 1
        if _recordings == 1 and os.stat is _plain_stat:
            os.stat = _noted_stat
    try:
        yield
    finally:
        _thread.recorder = previous
        with _hook_lock:
            _recordings -= 1
            if _recordings == 0 and os.stat is _noted_stat:
                os.stat = _plain_stat


def _ignored_prefixes(root: Path, cache_dir) -> tuple[str, ...]:
    folders = [root / _CACHE_FOLDER_NAME, sys.prefix, sys.base_prefix, sys.exec_prefix]
    if cache_dir:
        folders.append(cache_dir)
    matplotlib = sys.modules.get("matplotlib")
    if matplotlib is not None:
        for name in ("get_configdir", "get_cachedir"):
            with contextlib.suppress(Exception):
                folders.append(getattr(matplotlib, name)())
    prefixes = set()
    for folder in folders:
        for form in (os.path.abspath(folder), os.path.realpath(folder)):
            prefixes.add(form.rstrip(os.sep) + os.sep)
    return tuple(sorted(prefixes))


def _relative_inside(path: str, roots: tuple[str, ...], ignored: tuple[str, ...]) -> str | None:
    """``path`` relative to the site folder (posix), or None when it is not an input (see above)."""
    for form in dict.fromkeys((path, os.path.realpath(path))):
        if (form + os.sep).startswith(ignored):
            return None
    for form in dict.fromkeys((path, os.path.realpath(path))):
        for root in roots:
            if form == root or form.startswith(root + os.sep):
                relative = Path(os.path.relpath(form, root))
                if _PYTHON_FOLDERS.intersection(relative.parts) or relative.suffix == ".pyc":
                    return None
                return relative.as_posix()
    return None


def _site_inputs(reads: _Reads, root: Path, cache_dir) -> list[tuple[str, str]]:
    """(kind, path relative to the site folder) of each input the block read: kind 'file' or 'folder'."""
    roots = tuple(dict.fromkeys((os.path.abspath(root), os.path.realpath(root))))
    ignored = _ignored_prefixes(root, cache_dir)
    found = set()
    for kind, paths in (("file", reads.files), ("folder", reads.folders)):
        for path in paths:
            relative = _relative_inside(path, roots, ignored)
            if relative is not None:
                found.add((kind, relative))
    return sorted(found)


def _version(package: str) -> str:
    from importlib import metadata  # here: slow to import, and only figure blocks need it

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:  # pragma: no cover - both are dependencies
        return "?"


def cache_key(code: str, caption: str, alt: str) -> str:
    """The block itself; the files it reads are checked against the entry found under this key."""
    payload = {"format": FORMAT_VERSION, "matplotlib": _version("matplotlib"), "numpy": _version("numpy"),
               "source": code, "caption": caption, "alt": alt}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


def _char_col(text: str, byte_col: int | None) -> int:
    if not byte_col:
        return 0
    return len(text.encode("utf-8")[:byte_col].decode("utf-8", "replace"))


def _describe(exc: BaseException) -> str:
    try:
        detail = " ".join(str(exc).split())
    except Exception:  # an author's exception whose __str__ fails
        detail = ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def time_limit_message(seconds: float) -> str:
    return (f"figure block ran for more than {seconds:g} s "
            f"(the limit is [limits] seconds_per_block in labpress.toml)")


@contextlib.contextmanager
def _interrupts_noted():
    """Tell a real Ctrl-C (which must stop the build) from a KeyboardInterrupt the code raised itself."""
    state = {"real": False}
    if threading.current_thread() is not threading.main_thread():
        yield state  # a real Ctrl-C reaches the main thread only: here every one is the code's
        return
    previous = signal.getsignal(signal.SIGINT)

    def noted(signum, frame):
        state["real"] = True
        if callable(previous) and previous is not noted:
            return previous(signum, frame)
        if previous == signal.SIG_IGN:
            return None
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGINT, noted)
    except (ValueError, OSError):  # pragma: no cover - no signals here
        yield state
        return
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _working_folder(folder: Path | None):
    """Run in ``folder`` (the site's), so ``data/x.csv`` means the site's file wherever the build started."""
    if folder is None:
        yield
        return
    try:
        previous = os.getcwd()
    except OSError:  # the folder the command started in is gone
        previous = None
    os.chdir(folder)
    try:
        yield
    finally:
        if previous is not None:
            with contextlib.suppress(OSError):
                os.chdir(previous)


def _raised(exc: BaseException, lines: list[str], what: str = "figure code raised") -> FigureError:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == _CODE_FILENAME]
    if not frames:
        return FigureError(f"{what} {_describe(exc)}")
    frame = frames[-1]
    text = lines[frame.lineno - 1] if 0 < (frame.lineno or 0) <= len(lines) else ""
    col = _char_col(text, getattr(frame, "colno", None))
    if not col:
        col = len(text) - len(text.lstrip())
    return FigureError(f"{what} {_describe(exc)}", frame.lineno, col)


def draw_figure(code: str, seconds: float | None = None, folder: Path | None = None, reads: _Reads | None = None) -> bytes:
    """Run ``code`` and return the SVG of the figure it drew; raise FigureError if it cannot.

    ``seconds``: the time limit for running and drawing (None: none). ``folder``: the working
    folder while the code runs (None: leave it). ``reads``: record what the code opens and lists.
    """
    try:
        compiled = compile(code, _CODE_FILENAME, "exec")
    except SyntaxError as exc:
        line = exc.lineno or 1
        col = max((exc.offset or 1) - 1, 0)
        raise FigureError(f"figure code is not valid Python: {exc.msg}", line, col) from None

    import random

    # Imported before the code runs, outside the working folder and the recording:
    # what importing reads is neither the author's input nor different per build.
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.figure import Figure

    lines = code.split("\n")

    def run(namespace: dict, interrupts: dict) -> bytes:
        try:
            exec(compiled, namespace)
        except TimeLimitExceeded:
            raise
        except KeyboardInterrupt as exc:
            if interrupts["real"]:
                raise
            raise _raised(exc, lines) from None
        except BaseException as exc:  # SystemExit and the like too: a figure must not end the build
            raise _raised(exc, lines) from None
        figure = plt.gcf() if plt.get_fignums() else None
        if figure is None:
            drawn = [v for v in namespace.values() if isinstance(v, Figure)]
            figure = drawn[-1] if drawn else None
        if figure is None:
            raise FigureError("figure code drew no figure: draw with matplotlib (plt.plot, plt.subplots, ...) "
                              "and leave the figure open")
        buffer = io.BytesIO()
        try:
            figure.savefig(buffer, format="svg", bbox_inches="tight", pad_inches=0.06,
                           metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
        except TimeLimitExceeded:
            raise
        except KeyboardInterrupt as exc:
            if interrupts["real"]:
                raise
            raise _raised(exc, lines, "figure could not be drawn:") from None
        except BaseException as exc:
            raise _raised(exc, lines, "figure could not be drawn:") from None
        return buffer.getvalue()

    plt.close("all")
    try:
        style = {**STYLE, "axes.prop_cycle": matplotlib.cycler(color=list(CYCLE))}
        # Everything restored afterwards (styles, streams, folder, recording) is set up outside
        # the time limit, so the limit striking cannot leave any of it behind.
        with matplotlib.rc_context(style), warnings.catch_warnings(), \
                contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                _interrupts_noted() as interrupts, _working_folder(folder), _recording(reads):
            warnings.simplefilter("ignore")
            np.random.seed(0)
            random.seed(0)
            namespace = {"__name__": "__figure__", "__builtins__": builtins, "np": np, "plt": plt}
            try:
                return call_with_deadline(seconds, run, namespace, interrupts)
            except TimeLimitError as exc:
                raise FigureError(time_limit_message(exc.seconds)) from None
    finally:
        plt.close("all")


# --- The cache of drawn figures ----------------------------------------------
#
# One file per block, ``figures/<key>.figure``:
#
#     labpress-figure 2\n
#     <sha256 of everything after this line>\n
#     {"key": ..., "inputs": [[kind, path relative to the site, digest or null], ...]}\n
#     <the SVG as matplotlib wrote it>
#
# An entry whose digest does not match (a damaged or truncated file), whose
# header is not understood, or that was stored under another key is dropped and
# the figure drawn again. Entries are written to a temporary file and renamed
# into place, so a reader never sees half of one.

_MAGIC = b"labpress-figure 2"
_SUFFIX = ".figure"


def _cache_file(cache_dir, key: str) -> Path | None:
    return Path(cache_dir) / CACHE_SUBDIR / f"{key}{_SUFFIX}" if cache_dir else None


def _encode_entry(key: str, svg: bytes, inputs: list) -> bytes:
    header = json.dumps({"key": key, "inputs": [list(i) for i in inputs]}, separators=(",", ":"),
                        ensure_ascii=True).encode("ascii")
    rest = header + b"\n" + svg
    return _MAGIC + b"\n" + hashlib.sha256(rest).hexdigest().encode("ascii") + b"\n" + rest


def _decode_entry(data: bytes, key: str) -> tuple[bytes, list[tuple[str, str, str | None]]] | None:
    magic, _, data = data.partition(b"\n")
    stored, _, rest = data.partition(b"\n")
    if magic != _MAGIC or stored != hashlib.sha256(rest).hexdigest().encode("ascii"):
        return None
    header, _, svg = rest.partition(b"\n")
    try:
        meta = json.loads(header)
        inputs = [(kind, path, digest) for kind, path, digest in meta["inputs"]]
    except (ValueError, TypeError, KeyError):
        return None
    if meta.get("key") != key or not svg.rstrip().endswith(b"</svg>"):
        return None
    if not all(kind in ("file", "folder") and isinstance(path, str) and (digest is None or isinstance(digest, str))
               for kind, path, digest in inputs):
        return None
    return svg, inputs


def _read_entry(path: Path, key: str):
    """(svg, inputs) of a sound entry, or None; a damaged one is removed."""
    try:
        data = path.read_bytes()
    except OSError:  # absent, or figures/ is not a folder
        return None
    entry = _decode_entry(data, key)
    if entry is None:
        with contextlib.suppress(OSError):
            path.unlink()
    return entry


def _write_entry(path: Path, data: bytes) -> None:
    """Atomically, or not at all: a cache that cannot be written only costs time."""
    folder = path.parent
    try:
        if not folder.is_dir():
            if folder.is_symlink() or folder.exists():  # a file (or a dangling link) where the folder goes
                folder.unlink()
            folder.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    legacy = path.with_suffix(".svg")  # the unchecked layout of older versions
    with contextlib.suppress(OSError):
        legacy.unlink()


def cached_figure(code: str, caption: str, alt: str, cache_dir, root: Path | None = None,
                  seconds: float | None = None) -> tuple[bytes, list[tuple[str, str, str | None]]]:
    """The figure's raw SVG and its inputs (kind, path relative to ``root``, digest).

    From the cache when the same block was drawn before and every file it read then
    is unchanged; else drawn now, in ``root`` (the site folder), within ``seconds``.
    """
    key = cache_key(code, caption, alt)
    path = _cache_file(cache_dir, key)
    base = Path(root) if root is not None else Path.cwd()
    if path is not None:
        entry = _read_entry(path, key)
        if entry is not None:
            svg, inputs = entry
            if all(input_digest(kind, base / relative) == stored for kind, relative, stored in inputs):
                return svg, inputs
    reads = _Reads()
    svg = draw_figure(code, seconds, root, reads)
    inputs = [(kind, relative, input_digest(kind, base / relative))
              for kind, relative in _site_inputs(reads, base, cache_dir)]
    if path is not None:
        _write_entry(path, _encode_entry(key, svg, inputs))
    return svg, inputs


# --- Rewriting the SVG for the page -----------------------------------------

_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_URL_REF = re.compile(r"url\(#([^)]+)\)")
_TEXT_TAGS = {"text", "tspan"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _declarations(style: str) -> list[tuple[str, str]]:
    pairs = []
    for declaration in style.split(";"):
        name, colon, value = declaration.partition(":")
        if colon and name.strip() and value.strip():
            pairs.append((name.strip(), value.strip()))
    return pairs


def _paint(name: str, value: str, classes: list[str]) -> str:
    colour = value.strip().lower()
    if colour in _INK_VALUES:
        return "currentColor"
    theme = _THEME_COLOURS.get(colour)
    if theme is None:
        return value
    classes.append(f"pyfig-{name}-{theme[0]}")
    return theme[1]


_NO_ROTATION = re.compile(r"rotate\(-?0(?:\.0*)?(?: [-\d.e]+ [-\d.e]+)?\)")
_GENERIC_FAMILIES = {"sans-serif": "sans", "serif": "serif", "monospace": "mono", "cursive": None, "fantasy": None}


def _font_family(value: str, classes: list[str]) -> str:
    """matplotlib's expanded family list: generic ones follow the theme's fonts; single faces get a fallback."""
    names = [n.strip().strip("'\"") for n in value.split(",") if n.strip()]
    if names and names[-1] in _GENERIC_FAMILIES:
        theme = _GENERIC_FAMILIES[names[-1]]
        if theme:
            classes.append(f"pyfig-font-{theme}")
        return names[-1]
    if len(names) == 1:  # a mathtext glyph: keep its face, fall back to a generic family
        name = names[0]
        generic = "monospace" if "mono" in name.lower() else "sans-serif" if "sans" in name.lower() else "serif"
        return f"'{name}', {generic}"
    return value


def _prune(parent) -> None:
    """Unwrap attribute-less groups and drop empty <defs>, outside text."""
    children = []
    for child in list(parent):
        name = _local(child.tag)
        if name in _TEXT_TAGS:
            children.append(child)
            continue
        _prune(child)
        if name == "defs" and len(child) == 0:
            continue
        if name == "g" and not child.attrib:
            children.extend(child)
            continue
        children.append(child)
    for child in list(parent):
        parent.remove(child)
    for child in children:
        if child.tail is not None and not child.tail.strip():
            child.tail = None
        parent.append(child)


def _pt_to_px(length: str | None) -> str | None:
    if not length:
        return None
    match = re.fullmatch(r"([\d.]+)(pt)?", length.strip())
    if not match:
        return length
    number = float(match.group(1)) * (4 / 3 if match.group(2) else 1)
    return f"{number:.2f}".rstrip("0").rstrip(".")


def theme_svg(raw: bytes, prefix: str) -> str:
    """matplotlib's SVG made fit for the page: themed colours, no inline style, ids under ``prefix``."""
    root = ET.fromstring(raw)
    root_attributes = {}
    # Drop metadata and the <style> element; its one rule (*{...}) becomes inherited attributes.
    for parent in list(root.iter()):
        for child in list(parent):
            name = _local(child.tag)
            if name == "metadata":
                parent.remove(child)
            elif name == "style":
                rule = re.fullmatch(r"\s*\*\s*\{([^}]*)\}\s*", child.text or "")
                if rule:
                    root_attributes.update(_declarations(rule.group(1)))
                parent.remove(child)

    references: set[str] = set()
    for element in root.iter():
        style = element.attrib.pop("style", None)
        if style is not None:
            for name, value in _declarations(style):
                element.set(name, value)
        for name in ("d", "points"):
            if name in element.attrib:
                element.set(name, " ".join(element.attrib[name].split()))
        if _NO_ROTATION.fullmatch(element.get("transform", "")):
            del element.attrib["transform"]
        classes: list[str] = []
        for name in _PAINT_PROPERTIES:
            if name in element.attrib:
                element.set(name, _paint(name, element.attrib[name], classes))
        if "font-family" in element.attrib:
            element.set("font-family", _font_family(element.attrib["font-family"], classes))
        if classes:
            existing = element.get("class", "")
            element.set("class", " ".join(dict.fromkeys((existing.split() if existing else []) + classes)))
        for name, value in element.attrib.items():
            references.update(_URL_REF.findall(value))
            if _local(name) == "href" and value.startswith("#"):
                references.add(value[1:])

    def rename(match: re.Match) -> str:
        return f"url(#{prefix}{match.group(1)})"

    for element in root.iter():
        identifier = element.attrib.pop("id", None)
        if identifier is not None and identifier in references:
            element.set("id", prefix + identifier)
        for name, value in list(element.attrib.items()):
            if "url(#" in value:
                element.set(name, _URL_REF.sub(rename, value))
        href = element.attrib.pop(_XLINK_HREF, None)
        if href is not None:
            element.set("href", href)
        if element.get("href", "").startswith("#"):
            element.set("href", "#" + prefix + element.get("href")[1:])

    _prune(root)

    attributes = {
        "xmlns": _SVG_NS,
        "viewBox": root.get("viewBox", ""),
        "width": _pt_to_px(root.get("width")),
        "height": _pt_to_px(root.get("height")),
        "fill": "currentColor",  # black fills and text (left implicit by matplotlib) take the ink colour
        **root_attributes,
        "aria-hidden": "true",
        "focusable": "false",
    }
    root.attrib.clear()
    out: list[str] = []
    _serialise(root, attributes, out)
    return "".join(out)


def _escape(raw: str) -> str:
    """&, <, > and " as entities (markdown-it's escapeHtml, without importing markdown-it)."""
    return raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _attributes(attributes: dict) -> str:
    return "".join(f' {_local(k)}="{_escape(str(v))}"' for k, v in attributes.items() if v is not None)


def _serialise(element, attributes: dict, out: list[str]) -> None:
    """Compact markup: whitespace between elements goes (matplotlib spells spaces in maths as U+00A0)."""
    name = _local(element.tag)
    text = element.text or ""
    if len(element) and not text.strip():
        text = ""
    if len(element) == 0 and not text:
        out.append(f"<{name}{_attributes(attributes)}/>")
        return
    out.append(f"<{name}{_attributes(attributes)}>{_escape(text)}")
    for child in element:
        _serialise(child, dict(child.attrib), out)
        if child.tail and child.tail.strip():
            out.append(_escape(child.tail))
    out.append(f"</{name}>")


def figure_html(svg: str, caption: str, alt: str) -> str:
    label = _escape(alt or caption)
    caption_html = f"<figcaption>{_escape(caption)}</figcaption>" if caption else ""
    return (f'<figure class="py-figure"><div class="py-figure-svg" role="img" aria-label="{label}">'
            f"{svg}</div>{caption_html}</figure>\n")


# --- The core rule -------------------------------------------------------------

def site_of(env) -> tuple[Path | None, float]:
    """The site folder (figure code runs there) and the time limit per block, from the Markdown env."""
    config = env.get("config")
    root = getattr(config, "root", None)
    if root is None:
        root = getattr(env.get("widget_library"), "site_dir", None)
    if root is None and env.get("cache_dir"):
        root = Path(env["cache_dir"]).parent
    seconds = getattr(config, "seconds_per_block", None) or DEFAULT_SECONDS
    return (Path(root).resolve() if root is not None else None), seconds


def _run_figures(state) -> None:
    env = state.env
    sink = env["sink"]
    root, seconds = site_of(env)
    for token in state.tokens:
        if not is_figure_fence(token) or not token.map:
            continue
        line = token.map[0] + 1
        token.type = "labpress_figure"
        token.meta["html"] = ""
        parsed = _parse_options(token, env, line)
        if parsed is None:
            continue
        _language, options, flag_col = parsed
        caption, alt = options.get("caption", ""), options.get("alt", "")
        if not alt and not caption:
            sink.add(line, flag_col, 'a figure needs a text alternative for readers who cannot see it: '
                                     'add alt="what the figure shows" (or a caption="...")')
            continue
        count = env.setdefault("figure_count", 0) + 1
        env["figure_count"] = count
        try:
            raw, inputs = cached_figure(token.content, caption, alt, env.get("cache_dir"), root, seconds)
        except FigureError as exc:
            if exc.line is None:
                sink.add(line, flag_col, exc.message)
            else:
                sink.add(line + exc.line, _code_column(token, env, exc.line, exc.col or 0), exc.message)
            continue
        # What the figures read, for the rendered-post cache (RenderedBody.figure_inputs).
        base = root if root is not None else Path.cwd()
        found = env.setdefault("figure_inputs", [])
        found.extend((kind, str(base / relative), digest) for kind, relative, digest in inputs
                     if (kind, str(base / relative), digest) not in found)
        token.meta["html"] = figure_html(theme_svg(raw, f"pyfig{count}-"), caption, alt)

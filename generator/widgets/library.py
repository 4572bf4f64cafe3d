"""Widgets at build time: load kernels from ``widgets/``, check what they import,
run them for the first frame (and every frame, when the state space is small),
and write the controls, figure and readouts into the page.

The kernels run through ``labpress.kernel.render_frame``, the same function the
browser worker calls under Pyodide, so both runtimes produce the same frames.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import re
import sys
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from labpress.cache.inputs import input_digest
from labpress.cache.reads import Reads, in_folder, recording, site_inputs
from labpress.config.schema import DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_STATES
from labpress.errors import did_you_mean, display_path
from labpress.kernel import ControlError, KernelError, Widget, render_frame
from labpress.kernel.tracebacks import location
from labpress.kernel.widget import Frame, _describe, display
from labpress.limits import DEFAULT_SECONDS, Interrupts, TimeLimitError, TimeLimitExceeded, call_with_deadline

WIDGETS_DIR = "widgets"
KERNEL_DIR = Path(__file__).resolve().parent.parent / "kernel"
# Standard-library modules the browser's Python does not have (or cannot run).
NOT_IN_PYODIDE = frozenset({
    "tkinter", "turtle", "turtledemo", "idlelib", "venv", "ensurepip", "curses", "readline",
    "multiprocessing", "subprocess", "pty", "tty", "termios", "resource", "winreg", "msvcrt", "winsound",
})


class WidgetLoadError(Exception):
    """A widget module cannot be used; ``where`` is 'widgets/x.py:LINE:COL' when known."""

    def __init__(self, message: str, where: str = ""):
        super().__init__(message)
        self.message = message
        self.where = where


@dataclass
class LoadedWidget:
    name: str
    path: Path
    widget: Widget
    helpers: list[str]  # sibling modules in widgets/ that the kernel imports
    # What the kernel read at build (importing, drawing frames): files under the site folder, such as
    # data/x.csv. They ship with the kernel's sources, so the same path works in the browser.
    reads: Reads = field(default_factory=Reads)


@dataclass
class WidgetLimits:
    max_states: int = DEFAULT_MAX_STATES
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    # Seconds for each kernel call, each module import and each widget's pre-computed frames
    # together; None: the caller passes [limits] seconds_per_block (see run_widget).
    seconds: float | None = None


SECONDS_HINT = "the limit is [limits] seconds_per_block in labpress.toml"


def _stuck_at(exc: TimeLimitError, folder: Path) -> str:
    """'file:line' in the site's widgets/ where code was running when the time limit struck."""
    return location(exc.__context__, lambda filename: Path(filename).parent == folder)


class WidgetLibrary:
    """The site's ``widgets/`` folder: modules loaded once per build, by name."""

    def __init__(self, site_dir: Path, pyodide_packages: str, limits: WidgetLimits):
        self.site_dir = site_dir
        self.folder = site_dir / WIDGETS_DIR
        self.pyodide_packages = pyodide_packages
        self.limits = limits
        self._loaded: dict[str, LoadedWidget] = {}
        self._failed: dict[str, WidgetLoadError] = {}  # a module that failed once is not imported (and timed) again
        self._frames: dict[tuple[str, str], tuple[str, bytes] | None] = {}  # (widget, caption) -> precompute_frames
        self._cdn_imports: set[str] | None = None

    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.py") if not p.stem.startswith("_"))

    def shown(self, path: Path) -> str:
        return display_path(path, self.site_dir)

    def shown_location(self, where: str) -> str:
        """'file:line' with the file shown relative to the site, as authors know it."""
        file, sep, line = where.rpartition(":")
        return f"{self.shown(Path(file))}:{line}" if sep and file else where

    def load(self, name: str, seconds: float | None = None) -> LoadedWidget:
        """The widget module ``name``, imported within ``seconds``; raises WidgetLoadError (again for each use)."""
        if name in self._loaded:
            return self._loaded[name]
        if name in self._failed:
            raise self._failed[name]
        try:
            loaded = self._load(name, seconds or self.limits.seconds or DEFAULT_SECONDS)
        except WidgetLoadError as exc:
            if not exc.message.startswith("unknown widget"):
                self._failed[name] = exc
            raise
        self._loaded[name] = loaded
        return loaded

    def _load(self, name: str, seconds: float) -> LoadedWidget:
        path = self.folder / f"{name}.py"
        if not name.isidentifier() or not path.is_file():
            known = self.names()
            raise WidgetLoadError(f"unknown widget '{name}'{did_you_mean(name, known)}; widgets in {WIDGETS_DIR}/: "
                                  + (", ".join(known) or "none"))
        helpers = self.check_imports(path)
        module_name = f"labpress_site_widgets.{name}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        # Helper modules import by their bare names, as they do in the browser.
        # A helper imported by an earlier build (dev server) may have changed since: import it afresh.
        for helper in helpers:
            cached = sys.modules.get(helper)
            if cached is not None and Path(getattr(cached, "__file__", "") or "").parent == self.folder:
                del sys.modules[helper]
        added = str(self.folder) not in sys.path
        if added:
            sys.path.insert(0, str(self.folder))
        reads = Reads()
        try:
            with Interrupts(), in_folder(self.site_dir), recording(reads):
                try:
                    call_with_deadline(seconds, spec.loader.exec_module, module)
                except TimeLimitError as exc:
                    where = _stuck_at(exc, self.folder)
                    raise WidgetLoadError(f"widget module '{name}' ran for more than {exc.seconds:g} s while loading"
                                          f" ({SECONDS_HINT})",
                                          self.shown_location(where) if where else f"{self.shown(path)}:1") from None
                except BaseException as exc:  # the author's module failed to import, sys.exit() included
                    raise self._import_failure(name, path, exc) from None
        finally:
            if added and str(self.folder) in sys.path:
                sys.path.remove(str(self.folder))
        found = [value for value in vars(module).values() if isinstance(value, Widget)]
        if len(found) != 1:
            raise WidgetLoadError(f"{self.shown(path)} must define exactly one @widget, found {len(found)}",
                                  f"{self.shown(path)}:1")
        if getattr(module, name, None) is not found[0]:
            line = getattr(getattr(found[0].kernel, "__code__", None), "co_firstlineno", 1)
            raise WidgetLoadError(f"the @widget in {self.shown(path)} must be a function named '{name}', like its file",
                                  f"{self.shown(path)}:{line}")
        return LoadedWidget(name, path, found[0], helpers, reads)

    def inputs(self, loaded: LoadedWidget) -> list[tuple[str, str, str | None]]:
        """(kind, path relative to the site, digest) of what ``loaded`` read at build so far."""
        return [(kind, relative, input_digest(kind, self.site_dir / relative))
                for kind, relative in site_inputs(loaded.reads, self.site_dir, None)]

    def _import_failure(self, name: str, path: Path, exc: BaseException) -> WidgetLoadError:
        """The error for a module that raised while it was imported: its message, at its file and line."""
        where = location(exc, lambda filename: Path(filename).parent == self.folder)
        return WidgetLoadError(f"widget module '{name}' failed to load: {_describe(exc)}",
                               self.shown_location(where) if where else f"{self.shown(path)}:1")

    def _cdn_packages(self) -> set[str]:
        if self._cdn_imports is None:
            self._cdn_imports = set()
            from labpress.theme.lookup import find_node_package

            lock_file = find_node_package("pyodide", self.site_dir) / "pyodide-lock.json"
            lock = json.loads(lock_file.read_text(encoding="utf-8"))
            for package in lock.get("packages", {}).values():
                self._cdn_imports.update(package.get("imports", []))
        return self._cdn_imports

    def check_imports(self, path: Path, seen: set[Path] | None = None) -> list[str]:
        """Sibling helper modules the kernel needs; raises WidgetLoadError for an import the browser cannot satisfy."""
        seen = seen if seen is not None else set()
        seen.add(path)
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            raise WidgetLoadError(f"{self.shown(path)} is not UTF-8 text (byte 0x{data[exc.start]:02x}):"
                                  " save it as UTF-8, as the browser's Python reads it",
                                  f"{self.shown(path)}:{line}:{col}") from None
        try:
            tree = ast.parse(text, filename=str(path))
        except SyntaxError as exc:
            raise WidgetLoadError(f"syntax error in widget module: {exc.msg}",
                                  f"{self.shown(path)}:{exc.lineno or 1}:{exc.offset or 1}") from None
        except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes; nesting the parser cannot take
            raise WidgetLoadError(f"widget module cannot be parsed: {type(exc).__name__}: {str(exc)[:200]}",
                                  f"{self.shown(path)}:1") from None
        helpers: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    raise WidgetLoadError("widget modules use absolute imports (import helper), not relative ones",
                                          f"{self.shown(path)}:{node.lineno}:{node.col_offset + 1}")
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                where = f"{self.shown(path)}:{node.lineno}:{node.col_offset + 1}"
                if module == "labpress.kernel" or module.startswith("labpress.kernel."):
                    continue
                if top == "labpress":
                    raise WidgetLoadError(f"a kernel may import only labpress.kernel from LabPress, not '{module}'", where)
                sibling = self.folder / f"{top}.py"
                if sibling.is_file():
                    if sibling not in seen:
                        helpers.append(top)
                        helpers.extend(self.check_imports(sibling, seen))
                    continue
                if top in sys.stdlib_module_names and top not in NOT_IN_PYODIDE:
                    continue
                if self.pyodide_packages == "cdn" and top in self._cdn_packages():
                    continue
                if top in sys.stdlib_module_names:
                    raise WidgetLoadError(f"kernel imports '{module}', which does not work in the browser's Python (Pyodide)", where)
                if self.pyodide_packages == "cdn":
                    raise WidgetLoadError(f"kernel imports '{module}', which is neither in the standard library nor a package Pyodide publishes", where)
                raise WidgetLoadError(
                    f"kernel imports '{module}', which the self-hosted Pyodide cannot load: write the kernel in pure Python"
                    " (standard library and labpress.kernel), or set `packages = \"cdn\"` under [pyodide] in labpress.toml"
                    " to load Pyodide's packages from its CDN when a reader opens the page", where)
        return sorted(set(helpers))


@dataclass
class WidgetInstance:
    """One ``::: widget`` block of a post, after its kernel ran."""

    element_id: str
    loaded: LoadedWidget
    state: dict
    caption: str
    first: object  # Frame
    frames_path: str | None = None
    frames_json: bytes | None = None
    extras: dict = field(default_factory=dict)


@dataclass(frozen=True)
class WidgetUse:
    """What a page keeps of a widget it embeds: plain data, so a rendered post can be cached."""

    name: str
    path: Path
    helpers: tuple[str, ...]
    frames_path: str | None
    frames_json: bytes | None
    # Files the kernel read at build, relative to the site folder (data/x.csv): shipped beside the kernels.
    data_files: tuple[str, ...] = ()

    @classmethod
    def of(cls, instance: "WidgetInstance", data_files: tuple[str, ...] = ()) -> "WidgetUse":
        loaded = instance.loaded
        return cls(loaded.name, loaded.path, tuple(loaded.helpers), instance.frames_path, instance.frames_json,
                   data_files)

    def source_files(self) -> list[Path]:
        return [self.path.parent / f"{module}.py" for module in (self.name, *self.helpers)]


def frame_key(w: Widget, state: dict) -> str:
    return "-".join(str(control.index_of(state[name])) for name, control in w.controls.items())


def check_overrides(w: Widget, overrides: dict) -> list[ControlError]:
    """Every problem of a widget block's settings at once (each unknown control, each value a control
    refuses), where ``Widget.coerce`` stops at the first; each error's ``control`` names its setting."""
    problems = []
    for name, value in overrides.items():
        try:
            w.coerce({name: value})  # the kernel's own rules and messages, one setting at a time
        except ControlError as exc:
            exc.control = name
            problems.append(exc)
    return problems


def load_error_text(exc: WidgetLoadError) -> str:
    """A load error as the widget block that uses the module reports it: the message, then where in
    the kernel (``once_per_kernel`` knows it by that)."""
    return f"{exc.message} ({exc.where})" if exc.where else exc.message


_KERNEL_AT = re.compile(rf" \(({WIDGETS_DIR}/[^()]*?:\d+(?::\d+)?)(, used by \d+ posts)?\)$")


def kernel_failure(message: str) -> str | None:
    """The message of a kernel that failed to load without the count of the posts using it; None for
    any other message."""
    match = _KERNEL_AT.search(message)
    return message[:match.start()] + f" ({match.group(1)})" if match else None


def once_per_kernel(errors: list) -> list:
    """One error for a kernel that failed to load, not one per post using it: at its first use (in the
    order errors are shown), saying how many posts use it. Each post reports it once (markdown/widgets.py)."""
    from dataclasses import replace

    uses: dict[str, list] = {}
    for error in errors:
        if kernel_failure(error.message) is not None:
            uses.setdefault(error.message, []).append(error)
    kept, done = [], set()
    for error in errors:
        same = uses.get(error.message)
        if same is None:
            kept.append(error)
        elif error.message not in done and error == min(same):
            done.add(error.message)
            posts = len({e.path for e in same})
            kept.append(replace(error, message=f"{error.message[:-1]}, used by {posts} posts)") if posts > 1 else error)
    return kept


def render_within(library: WidgetLibrary, loaded: LoadedWidget, state: dict, caption: str, seconds: float) -> Frame:
    """One frame, the kernel stopped after ``seconds``; raises ControlError or KernelError."""
    with Interrupts(), in_folder(library.site_dir), recording(loaded.reads):
        try:
            return call_with_deadline(seconds, render_frame, loaded.widget, state, caption,
                                      let_through=(TimeLimitExceeded,))
        except TimeLimitError as exc:
            where = _stuck_at(exc, library.folder)
            raise KernelError(f"the kernel ran for more than {exc.seconds:g} s ({SECONDS_HINT})", where) from None


def _state_text(w: Widget, state: dict) -> str:
    text = ", ".join(f"{name}={display(state[name])}" for name in w.controls)
    return text if len(text) <= 80 else text[:79] + "…"


def precompute_frames(library: WidgetLibrary, loaded: LoadedWidget, caption: str, seconds: float) -> tuple[str, bytes] | None:
    """All frames as JSON, when every control is discrete and the state space is small enough.

    The state space is counted by arithmetic (a slider with a tiny step has billions of
    states: it is live-only, never listed). All frames together get ``seconds``; a kernel too
    slow for that gets no pre-computed frames (the reader's browser computes them, as it does
    for continuous controls) rather than an error: the page is complete without them.
    A kernel error at any state is an error, as it would be in the browser.
    """
    count = loaded.widget.state_count()
    if count is None or count > library.limits.max_states:
        return None
    key = (loaded.name, caption)
    if key not in library._frames:
        with Interrupts(), in_folder(library.site_dir), recording(loaded.reads):
            try:
                library._frames[key] = call_with_deadline(seconds, _all_frames, loaded, caption, library.limits)
            except TimeLimitError:
                library._frames[key] = None
    return library._frames[key]


def _all_frames(loaded: LoadedWidget, caption: str, limits: WidgetLimits) -> tuple[str, bytes] | None:
    w = loaded.widget
    spaces = w.state_space()
    names = list(w.controls)
    frames: dict[str, dict] = {}
    size = 0

    def walk(i: int, state: dict) -> bool:
        nonlocal size
        if i == len(names):
            try:
                frame = render_frame(w, state, caption, let_through=(TimeLimitExceeded,))
            except KernelError as exc:
                raise KernelError(f"at {_state_text(w, state)}: {exc.message}", exc.where) from exc
            entry = {"svg": frame.svg, "readouts": frame.readouts, "caption": frame.caption}
            size += len(frame.to_json().encode("utf-8"))
            frames[frame_key(w, state)] = entry
            return size <= limits.max_frame_bytes
        for value in spaces[i]:
            if not walk(i + 1, {**state, names[i]: value}):
                return False
        return True

    if not walk(0, {}):
        return None
    data = json.dumps({"widget": loaded.name, "frames": frames}, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")
    digest = hashlib.sha256(data).hexdigest()[:10]
    return f"assets/frames/{loaded.name}.{digest}.json", data


def _json_attr(value) -> str:
    return escape(json.dumps(value, ensure_ascii=False, sort_keys=False, separators=(",", ":")), quote=True)


def _control_html(element_id: str, name: str, control, value) -> str:
    cid = f"{element_id}-{name}"
    label = escape(control.label or name)
    kind = control.kind
    if kind == "slider":
        step = "any" if control.step is None else f"{control.step:g}"
        unit = f' <span class="control-unit">{escape(control.unit)}</span>' if control.unit else ""
        return (f'<div class="control control--slider"><label for="{cid}">{label}</label>'
                f'<input type="range" id="{cid}" name="{escape(name)}" data-control="{escape(name)}"'
                f' min="{control.min:g}" max="{control.max:g}" step="{step}" value="{value:g}">'
                f'<output class="control-value" for="{cid}">{value:g}</output>{unit}</div>')
    if kind == "toggle":
        checked = " checked" if value else ""
        return (f'<div class="control control--toggle"><input type="checkbox" role="switch" id="{cid}" name="{escape(name)}"'
                f' data-control="{escape(name)}"{checked}><label for="{cid}">{label}</label></div>')
    if kind == "choice":
        options = "".join(
            f'<label class="control-option"><input type="radio" name="{cid}" data-control="{escape(name)}" value="{i}"'
            f'{" checked" if option == value else ""}> {escape(text)}</label>'
            for i, (option, text) in enumerate(control.options))
        return f'<fieldset class="control control--choice"><legend>{label}</legend>{options}</fieldset>'
    if kind == "point":
        axes = "".join(
            f'<label class="control-axis">{axis} <input type="number" id="{cid}-{axis}" name="{escape(name)}-{axis}"'
            f' data-control="{escape(name)}" data-axis="{axis}" min="{lo:g}" max="{hi:g}" step="{control.step:g}" value="{v:g}"></label>'
            for axis, (lo, hi), v in (("x", control.x, value[0]), ("y", control.y, value[1])))
        return (f'<fieldset class="control control--point"><legend>{label}</legend>{axes}'
                f'<p class="control-hint" id="{cid}-hint">Drag the marker in the figure, or focus it and use the arrow keys.</p></fieldset>')
    if kind == "seed":
        return (f'<div class="control control--seed"><button type="button" id="{cid}" name="{escape(name)}"'
                f' data-control="{escape(name)}" value="{value}">{label}</button></div>')
    raise ValueError(kind)


_VIEWBOX_WIDTH = re.compile(r'<svg\b[^>]*?\sviewBox="[-\d.]+[ ,]+[-\d.]+[ ,]+(\d+(?:\.\d+)?)[ ,]')
NO_SCRIPT_NOTE = "This figure becomes interactive with JavaScript: with it off, its controls are disabled."


def instance_html(instance: WidgetInstance, url) -> str:
    """The figure, readouts, controls and caption of one widget, correct with JavaScript off."""
    w = instance.loaded.widget
    controls = [{"name": name, **control.describe(),
                 **({"options": [[o, t] for o, t in control.options]} if control.kind == "choice" else {})}
                for name, control in w.controls.items()]
    state = {name: list(v) if isinstance(v, tuple) else v for name, v in instance.state.items()}
    attrs = ['class="widget"', f'id="{instance.element_id}"', f'data-widget="{escape(w.name)}"',
             f'data-state="{_json_attr(state)}"', f'data-controls="{_json_attr(controls)}"',
             f'data-caption="{escape(instance.caption, quote=True)}"']
    if instance.frames_path:
        attrs.append(f'data-frames="{escape(url(instance.frames_path))}"')
    labels = {**{name: name for name in instance.first.readouts}, **w.readout_labels}
    readouts = "".join(
        f'<div><dt>{escape(labels.get(name, name))}</dt><dd><output data-readout="{escape(name)}">{escape(text)}</output></dd></div>'
        for name, text in instance.first.readouts.items())
    controls_html = "".join(_control_html(instance.element_id, name, control, instance.state[name])
                            for name, control in w.controls.items())
    caption = f'<figcaption class="widget-caption">{escape(instance.first.caption)}</figcaption>' if instance.caption else ""
    title = escape(w.title)
    # The figure's width in viewBox units: the theme keeps its text at reading size on a narrow
    # screen with it (widgets.css). A style attribute here becomes a class (math/styles.py).
    width = _VIEWBOX_WIDTH.search(instance.first.svg)
    stage = f' style="--lp-vbw: {width.group(1)}"' if width else ""
    # The controls work only with the runtime: off until it enhances the widget (browser/runtime/controls.js),
    # and a note that says so, which the theme hides once scripts run.
    off = " disabled" if w.controls else ""
    note = f'<p class="widget-nojs">{NO_SCRIPT_NOTE}</p>' if w.controls else ""
    # Where the runtime puts its "Copy link to this view" button (browser/runtime/share.js): the theme
    # keeps its room from the first paint when scripts run, so adding the button moves nothing below it.
    share = '<div class="widget-share"></div>\n' if w.controls else ""
    return (
        f'<figure {" ".join(attrs)} aria-label="Interactive figure: {title}">\n'
        f'<div class="widget-stage"{stage}>{instance.first.svg}</div>\n'
        f'<dl class="widget-readouts">{readouts}</dl>\n'
        f'<fieldset class="widget-controls"{off}><legend class="widget-controls-legend">Controls</legend>{note}{controls_html}</fieldset>\n'
        f'{share}<p class="widget-status" role="status"></p>\n{caption}\n</figure>\n'
    )


def run_widget(library: WidgetLibrary, name: str, overrides: dict, caption: str, element_id: str,
               seconds: float | None = None) -> WidgetInstance:
    """Load, validate overrides, and draw the first frame; raises WidgetLoadError, ControlError or KernelError.

    ``seconds`` bounds the module's import, the first frame, and the pre-computed frames
    together, each (default: the library's limit, else 30 s).
    """
    seconds = seconds or library.limits.seconds or DEFAULT_SECONDS
    loaded = library.load(name, seconds)
    state = loaded.widget.coerce(overrides)
    first = render_within(library, loaded, state, caption, seconds)
    instance = WidgetInstance(element_id, loaded, state, caption, first)
    frames = precompute_frames(library, loaded, caption, seconds)
    if frames:
        instance.frames_path, instance.frames_json = frames
    return instance


__all__ = ["WidgetLibrary", "WidgetLimits", "WidgetInstance", "WidgetLoadError", "ControlError", "KernelError",
           "run_widget", "instance_html", "display", "check_overrides", "load_error_text", "kernel_failure",
           "once_per_kernel"]

"""The widget protocol: controls + a kernel from control state to a View.

``render_frame`` is the one code path both runtimes use: the build calls it in
CPython, the browser worker calls it in Pyodide, and each returns the same Frame.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass, field

from .controls import Control, ControlError, shown
from .svg import Figure, fmt
from .tracebacks import describe, location


@dataclass
class View:
    """What a kernel returns: the figure and its named readouts."""

    svg: Figure | str
    readouts: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Frame:
    svg: str
    readouts: dict  # name -> display text
    caption: str

    def to_json(self) -> str:
        return json.dumps({"svg": self.svg, "readouts": self.readouts, "caption": self.caption},
                          ensure_ascii=False, sort_keys=True)


class KernelError(Exception):
    """The kernel raised, or returned something other than a View. ``where`` is 'file:line' in the kernel."""

    def __init__(self, message: str, where: str = ""):
        super().__init__(message)
        self.message = message
        self.where = where


def display(value) -> str:
    """Readout text: floats with three decimals, points as (x, y), booleans as yes/no."""
    if type(value).__module__ == "numpy" and hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()  # a numpy scalar (numpy.bool_, float32…) reads as the Python value it holds
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(f"{v:.2f}" if isinstance(v, float) else display(v) for v in value) + ")"
    return str(value)


class _Readouts(dict):
    """Readouts for caption templates: ``{sparse}`` shows yes/no, ``{l1[0]:.2f}`` formats raw values."""

    def __missing__(self, key):
        raise KeyError(key)


# Widths and precisions in caption templates: ``{y:.1000000000f}`` would ask for a gigabyte of digits.
MAX_FORMAT_NUMBER = 1000
_DIGITS = re.compile(r"[0-9]+")


class _CaptionFormatter(string.Formatter):
    def format_field(self, value, format_spec):
        if not format_spec:
            return _text(display(value), "the caption")
        for digits in _DIGITS.findall(format_spec):
            if len(digits) > 4 or int(digits) > MAX_FORMAT_NUMBER:
                raise ValueError(f"the format '{format_spec[:20]}' asks for more than {MAX_FORMAT_NUMBER} characters")
        return _text(format(value, format_spec), "the caption")


def format_caption(template: str, readouts: dict) -> str:
    if not template:
        return ""
    return _CaptionFormatter().vformat(template, (), _Readouts(readouts))


class Widget:
    def __init__(self, kernel, controls: dict[str, Control], readouts: dict[str, str], title: str):
        self.kernel = kernel
        self.name = kernel.__name__
        self.controls = controls
        self.readout_labels = readouts
        self.title = title or self.name.replace("_", " ")
        for name, control in controls.items():
            control.name = name

    def defaults(self) -> dict:
        return {name: control.default for name, control in self.controls.items()}

    def coerce(self, state: dict) -> dict:
        """A complete, valid state: defaults overridden by ``state``; raises ControlError."""
        unknown = sorted(set(state) - set(self.controls))
        if unknown:
            error = ControlError(f"widget '{self.name}' has no control {shown(unknown[0], 40)}; its controls: {', '.join(self.controls)}")
            error.control = unknown[0]
            raise error
        full = self.defaults()
        for name, value in state.items():
            try:
                full[name] = self.controls[name].coerce(value)
            except ControlError as exc:
                exc.control = name
                raise
        return full

    def state_count(self) -> int | None:
        """How many states the controls have together, by arithmetic; None if any control is continuous."""
        total = 1
        for control in self.controls.values():
            count = control.count()
            if count is None:
                return None
            total *= count
        return total

    def state_space(self) -> list[list] | None:
        """Every control's states, or None if any control is continuous (mind ``state_count`` first)."""
        spaces = [control.states() for control in self.controls.values()]
        return None if any(space is None for space in spaces) else spaces

    def __call__(self, **state):
        return self.kernel(**self.coerce(state))


CONTROL_KINDS = ("slider", "toggle", "choice", "point", "seed")


def widget(title: str = "", readouts: dict[str, str] | None = None, **controls: Control):
    """Declare a widget: ``@widget(strength=Slider(0, 2, value=1), readouts={"l1": "L1 →"})``."""
    for name, control in controls.items():
        # The page and the browser know these five kinds only: a subclass of Control of another kind
        # would have no markup and no behaviour there.
        if not isinstance(control, Control) or control.kind not in CONTROL_KINDS:
            raise TypeError(f"control '{name}' must be a Slider, Toggle, Choice, Point or Seed")

    def wrap(kernel) -> Widget:
        return Widget(kernel, controls, dict(readouts or {}), title)

    return wrap


# Error messages quote an author's exception; a megabyte of it helps nobody.
MAX_MESSAGE = 300


def _clip(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _describe(exc: BaseException) -> str:
    return describe(exc, MAX_MESSAGE)


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} became {type(value).__name__}, not text")
    return "".join((value,))  # a plain str, even from a str subclass


_HERE = __file__.rpartition("/")[0]  # labpress/kernel: frames of the widget API are not the author's


def _kernel_location(exc: BaseException, kernel_file: str) -> str:
    """'file:line' of the innermost frame in the kernel's file, else in any of the author's files, else ''."""
    return (location(exc, lambda filename: filename == kernel_file)
            or location(exc, lambda filename: filename.rpartition("/")[0] != _HERE))


def render_frame(w: Widget, state: dict, caption: str = "", let_through: tuple = ()) -> Frame:
    """Run the kernel on ``state`` and turn its View into a Frame; raises ControlError or KernelError.

    Whatever the kernel raises becomes a KernelError, ``SystemExit`` and other BaseExceptions
    included, except instances of ``let_through`` (the build's time limit).
    """
    full = w.coerce(state)
    code = getattr(w.kernel, "__code__", None)
    kernel_file = code.co_filename if code else ""
    here = f"{kernel_file}:{code.co_firstlineno}" if code else ""
    try:
        view = w.kernel(**full)
    except let_through:
        raise
    except BaseException as exc:  # the author's code: report it, with its own file and line
        message = "the kernel called sys.exit(): a kernel returns a View" if isinstance(exc, SystemExit) else _describe(exc)
        raise KernelError(message, _kernel_location(exc, kernel_file)) from exc
    if not isinstance(view, View):
        raise KernelError(f"the kernel returned {type(view).__name__}, not a View", here)
    try:
        if isinstance(view.svg, Figure):
            svg = _text(view.svg.to_svg(), "the figure")
        elif isinstance(view.svg, str):
            svg = _text(view.svg, "the figure")
        else:
            raise KernelError(f"View.svg must be a Figure or SVG text, not {type(view.svg).__name__}", here)
    except (*let_through, KernelError):
        raise
    except BaseException as exc:
        raise KernelError(f"the figure cannot be drawn: {_describe(exc)}", _kernel_location(exc, kernel_file)) from exc
    if not isinstance(view.readouts, dict):
        raise KernelError(f"View.readouts must be a dict of name -> value, not {type(view.readouts).__name__}", here)
    shown_readouts = {}
    for name, value in view.readouts.items():
        if not isinstance(name, str):
            raise KernelError(f"readout names must be text, not {shown(name, 40)} ({type(name).__name__})", here)
        try:
            shown_readouts[_text(name, "the name")] = _text(display(value), f"readout '{_clip(name, 40)}'")
        except let_through:
            raise
        except BaseException as exc:
            raise KernelError(f"readout '{_clip(name, 40)}' cannot be shown as text: {_describe(exc)}",
                              _kernel_location(exc, kernel_file) or here) from exc
    try:
        text = format_caption(caption, view.readouts)
    except let_through:
        raise
    except BaseException as exc:
        raise KernelError(f"the caption cannot be filled in: {_describe(exc)}") from exc
    return Frame(svg=svg, readouts=shown_readouts, caption=text)


def render_json(w: Widget, state_json: str, caption: str = "") -> str:
    """Entry point for the browser worker: JSON state in, JSON frame (or error) out."""
    try:
        return render_frame(w, json.loads(state_json), caption).to_json()
    except (ControlError, KernelError) as exc:
        where = getattr(exc, "where", "")
        return json.dumps({"error": str(exc), "where": where}, ensure_ascii=False)


__all__ = ["View", "Frame", "Widget", "widget", "render_frame", "render_json", "KernelError", "fmt"]

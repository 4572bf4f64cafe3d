"""The widget protocol: controls + a kernel from control state to a View.

``render_frame`` is the one code path both runtimes use: the build calls it in
CPython, the browser worker calls it in Pyodide, and each returns the same Frame.
"""

from __future__ import annotations

import json
import string
import traceback
from dataclasses import dataclass, field

from .controls import Control, ControlError
from .svg import Figure, fmt


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


class _CaptionFormatter(string.Formatter):
    def format_field(self, value, format_spec):
        return display(value) if not format_spec else format(value, format_spec)


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
            raise ControlError(f"widget '{self.name}' has no control '{unknown[0]}'; its controls: {', '.join(self.controls)}")
        full = self.defaults()
        for name, value in state.items():
            full[name] = self.controls[name].coerce(value)
        return full

    def state_space(self) -> list[list] | None:
        """Every control's states, or None if any control is continuous."""
        spaces = [control.states() for control in self.controls.values()]
        return None if any(space is None for space in spaces) else spaces

    def __call__(self, **state):
        return self.kernel(**self.coerce(state))


def widget(title: str = "", readouts: dict[str, str] | None = None, **controls: Control):
    """Declare a widget: ``@widget(strength=Slider(0, 2, value=1), readouts={"l1": "L1 →"})``."""
    for name, control in controls.items():
        if not isinstance(control, Control):
            raise TypeError(f"control '{name}' must be a Slider, Toggle, Choice, Point or Seed")

    def wrap(kernel) -> Widget:
        return Widget(kernel, controls, dict(readouts or {}), title)

    return wrap


def _kernel_location(exc: BaseException, kernel_file: str) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    inside = [f for f in frames if f.filename == kernel_file] or frames
    last = inside[-1] if inside else None
    return f"{last.filename}:{last.lineno}" if last else ""


def render_frame(w: Widget, state: dict, caption: str = "") -> Frame:
    """Run the kernel on ``state`` and turn its View into a Frame; raises ControlError or KernelError."""
    full = w.coerce(state)
    kernel_file = w.kernel.__code__.co_filename
    try:
        view = w.kernel(**full)
    except Exception as exc:  # the author's code: report it, with its own file and line
        raise KernelError(f"{type(exc).__name__}: {exc}", _kernel_location(exc, kernel_file)) from exc
    if not isinstance(view, View):
        raise KernelError(f"the kernel returned {type(view).__name__}, not a View", f"{kernel_file}:{w.kernel.__code__.co_firstlineno}")
    svg = view.svg.to_svg() if isinstance(view.svg, Figure) else str(view.svg)
    if not isinstance(view.readouts, dict):
        raise KernelError("View.readouts must be a dict of name -> value")
    shown = {name: display(value) for name, value in view.readouts.items()}
    try:
        text = format_caption(caption, view.readouts)
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise KernelError(f"the caption cannot be filled in: {type(exc).__name__}: {exc}") from exc
    return Frame(svg=svg, readouts=shown, caption=text)


def render_json(w: Widget, state_json: str, caption: str = "") -> str:
    """Entry point for the browser worker: JSON state in, JSON frame (or error) out."""
    try:
        return render_frame(w, json.loads(state_json), caption).to_json()
    except (ControlError, KernelError) as exc:
        where = getattr(exc, "where", "")
        return json.dumps({"error": str(exc), "where": where}, ensure_ascii=False)


__all__ = ["View", "Frame", "Widget", "widget", "render_frame", "render_json", "KernelError", "fmt"]

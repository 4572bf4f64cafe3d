"""The widget API: the only part of LabPress that also runs in the reader's browser.

Standard library only, so Pyodide imports it with no packages. A widget module
declares its controls and a kernel from control state to a :class:`View`; the
build runs the kernel in CPython for the first frame (and for pre-computed
frames), the browser runs the very same code under Pyodide.
"""

from .controls import Choice, Control, ControlError, Point, Seed, Slider, Toggle
from .svg import Figure, LinearScale
from .widget import Frame, KernelError, View, Widget, render_frame, widget

__all__ = [
    "Choice", "Control", "ControlError", "Figure", "Frame", "KernelError", "LinearScale", "Point",
    "Seed", "Slider", "Toggle", "View", "Widget", "render_frame", "widget",
]

"""Running a figure block's code: in a fresh namespace, in the site folder, under the time limit.

The code runs with ``np`` and ``plt`` already imported, under the Agg backend,
with a fixed random seed and the drawing style of ``figures/style.py``; the
current figure afterwards is saved as SVG with text kept as text and no date or
random ids, so two builds of the same post are byte-identical. The working
folder is the site folder (``data/x.csv`` is the site's wherever the build
started); the limit is ``[limits] seconds_per_block``. What the code reads is
recorded by ``cache/reads.py`` when asked.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import warnings
from pathlib import Path

from labpress.kernel.tracebacks import describe, innermost
from labpress.cache.reads import Reads, recording
from labpress.figures.style import CYCLE, STYLE
from labpress.limits import Interrupts, TimeLimitError, TimeLimitExceeded, call_with_deadline

_CODE_FILENAME = "<labpress figure>"


class FigureError(Exception):
    """The figure code failed; ``line``/``col`` are 1-based inside the code (None: the block itself)."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col



def _char_col(text: str, byte_col: int | None) -> int:
    if not byte_col:
        return 0
    return len(text.encode("utf-8")[:byte_col].decode("utf-8", "replace"))


def _describe(exc: BaseException) -> str:
    return " ".join(describe(exc).split())  # one line: the message quotes the author's exception


def time_limit_message(seconds: float) -> str:
    return (f"figure block ran for more than {seconds:g} s "
            f"(the limit is [limits] seconds_per_block in labpress.toml)")


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
    place = innermost(exc, lambda filename: filename == _CODE_FILENAME)
    if place is None:
        return FigureError(f"{what} {_describe(exc)}")
    text = lines[place.line - 1] if 0 < place.line <= len(lines) else ""
    col = _char_col(text, place.col - 1 if place.col else None)
    if not col:
        col = len(text) - len(text.lstrip())
    return FigureError(f"{what} {_describe(exc)}", place.line, col)


def draw_figure(code: str, seconds: float | None = None, folder: Path | None = None, reads: Reads | None = None) -> bytes:
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

    def run(namespace: dict, interrupts: Interrupts) -> bytes:
        try:
            exec(compiled, namespace)
        except TimeLimitExceeded:
            raise
        except KeyboardInterrupt as exc:
            if interrupts.real:
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
            if interrupts.real:
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
                Interrupts() as interrupts, _working_folder(folder), recording(reads):
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


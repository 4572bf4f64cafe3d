"""Running a post's code: its blocks in one namespace, top to bottom, then its inline values.

Like a notebook run from the top: every ```` ```python {run} ```` and
```` ```python {figure} ```` block of a post runs in order of appearance in one
namespace, which starts with ``np`` and ``plt`` imported, under the Agg backend,
with the random seeds fixed and the drawing style of ``figures/style.py``. After a
figure block the figure it left is saved as SVG (``figures/draw.py``), its caption
filled in from the namespace as it is then, and closed, so the next figure starts
blank. Once every block has run, each inline `` `{python} expr` `` is evaluated in
the final namespace (as Quarto's Jupyter engine does), so a sentence anywhere in the
post may cite a result computed further down.

The working folder is the site folder (``data/x.csv`` is the site's wherever the
build started); each block and each inline value has the limit
``[limits] seconds_per_block``. What the code reads is recorded (``cache/reads.py``)
when asked. Errors name the block (or inline value) and the line and column in its
code; the first block that fails stops the run, since what follows would see a
namespace it did not expect.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from labpress.cache.reads import Reads, in_folder, recording
from labpress.kernel.tracebacks import describe, innermost
from labpress.limits import Interrupts, TimeLimitError, TimeLimitExceeded, call_with_deadline

# A value shown in the prose is text in a sentence, not a table: longer than this is a mistake.
MAX_VALUE_CHARS = 10_000


@dataclass(frozen=True)
class Block:
    """One run or figure block: ``kind`` is "run" or "figure"."""

    kind: str
    code: str
    caption: str = ""
    alt: str = ""


@dataclass
class CodeError:
    """What went wrong, and where: ``part`` is ("block", i) or ("inline", j); ``line``/``col``
    (1-based line, 0-based column) are inside that block's code or expression (None: the part itself);
    ``in_caption``: the figure's caption could not be filled in."""

    message: str
    part: tuple[str, int]
    line: int | None = None
    col: int | None = None
    in_caption: bool = False


@dataclass
class Results:
    """Per figure block, in order: (raw SVG, caption filled in), or None where it failed; per inline
    value, its text, or None where it failed; and every error."""

    figures: list = field(default_factory=list)
    values: list = field(default_factory=list)
    errors: list[CodeError] = field(default_factory=list)


def _block_file(index: int) -> str:
    return f"<labpress block {index}>"


def _inline_file(index: int) -> str:
    return f"<labpress inline {index}>"


def _char_col(text: str, byte_col: int | None) -> int:
    if not byte_col:
        return 0
    return len(text.encode("utf-8")[:byte_col].decode("utf-8", "replace"))


def _describe(exc: BaseException) -> str:
    return " ".join(describe(exc).split())  # one line: the message quotes the author's exception


def time_limit_message(what: str, seconds: float) -> str:
    return (f"{what} ran for more than {seconds:g} s "
            f"(the limit is [limits] seconds_per_block in labpress.toml)")


class _Code:
    """The sources of a post's blocks and values, to place an exception in the author's own text."""

    def __init__(self, blocks: list[Block], expressions: list[str]):
        self.lines = {_block_file(i): b.code.split("\n") for i, b in enumerate(blocks)}
        self.lines.update({_inline_file(j): [e] for j, e in enumerate(expressions)})
        self.parts = {_block_file(i): ("block", i) for i in range(len(blocks))}
        self.parts.update({_inline_file(j): ("inline", j) for j in range(len(expressions))})

    def error(self, exc: BaseException, part: tuple[str, int], what: str) -> CodeError:
        """``exc`` placed at the innermost frame in the post's code (which may be another block's
        function), else at ``part`` itself."""
        place = innermost(exc, lambda filename: filename in self.parts)
        message = f"{what} {_describe(exc)}"  # what: "figure code raised", ...
        if place is None:
            return CodeError(message, part)
        lines = self.lines[place.filename]
        text = lines[place.line - 1] if 0 < place.line <= len(lines) else ""
        col = _char_col(text, place.col - 1 if place.col else None)
        if not col:
            col = len(text) - len(text.lstrip())
        return CodeError(message, self.parts[place.filename], place.line, col)


def _syntax_error(exc: SyntaxError, part: tuple[str, int], what: str) -> CodeError:
    return CodeError(f"{what} is not valid Python: {exc.msg}", part, exc.lineno or 1, max((exc.offset or 1) - 1, 0))


def _names(namespace: dict) -> dict:
    return {k: v for k, v in namespace.items() if not k.startswith("__")}


def run_post(blocks: list[Block], expressions: list[str], seconds: float | None = None,
             folder: Path | None = None, reads: Reads | None = None) -> Results:
    """Run ``blocks`` in order in one namespace, then evaluate ``expressions`` in it.

    ``seconds``: the time limit of each block and value (None: none). ``folder``: the working
    folder while the code runs (None: leave it). ``reads``: record what the code opens and lists.
    """
    results = Results(figures=[None] * sum(b.kind == "figure" for b in blocks), values=[None] * len(expressions))
    compiled = []
    for index, block in enumerate(blocks):
        what = "figure code" if block.kind == "figure" else "run block"
        try:
            compiled.append(compile(block.code, _block_file(index), "exec"))
        except SyntaxError as exc:
            results.errors.append(_syntax_error(exc, ("block", index), what))
            return results  # nothing runs: a later block would depend on this one
    expressions_compiled = []
    for index, expression in enumerate(expressions):
        try:
            expressions_compiled.append(compile(expression.strip(), _inline_file(index), "eval"))
        except SyntaxError as exc:
            expressions_compiled.append(None)
            results.errors.append(_syntax_error(exc, ("inline", index), "the inline expression"))

    import random

    # Imported before the code runs, outside the working folder and the recording:
    # what importing reads is neither the author's input nor different per build.
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from labpress.figures.draw import NO_FIGURE, figure_left, save_svg, style_settings
    from labpress.kernel.widget import format_caption

    code = _Code(blocks, expressions)

    def guarded(interrupts: Interrupts, part, raised: str, limited: str, function, *args):
        """``function(*args)``, or the CodeError of what it raised (``raised`` starts the message) or
        of its running out of time (``limited`` names what did); a real Ctrl-C goes through."""
        try:
            return call_with_deadline(seconds, function, *args), None
        except TimeLimitError as exc:
            return None, CodeError(time_limit_message(limited, exc.seconds), part)
        except TimeLimitExceeded:
            raise
        except KeyboardInterrupt as exc:
            if interrupts.real:
                raise
            return None, code.error(exc, part, raised)
        except BaseException as exc:  # SystemExit and the like too: a post's code must not end the build
            return None, code.error(exc, part, raised)

    def draw(namespace: dict) -> bytes | str:
        figure = figure_left(namespace)
        if figure is None:
            return NO_FIGURE
        return save_svg(figure)

    plt.close("all")
    try:
        # Everything restored afterwards (styles, streams, folder, recording) is set up outside
        # the time limits, so a limit striking cannot leave any of it behind.
        with matplotlib.rc_context(style_settings()), warnings.catch_warnings(), \
                contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                Interrupts() as interrupts, in_folder(folder), recording(reads):
            warnings.simplefilter("ignore")
            np.random.seed(0)
            random.seed(0)
            namespace = {"__name__": "__labpress__", "__builtins__": builtins, "np": np, "plt": plt}
            figure_index = 0
            for index, (block, program) in enumerate(zip(blocks, compiled)):
                part = ("block", index)
                figure = block.kind == "figure"
                _, error = guarded(interrupts, part, "figure code raised" if figure else "run block raised",
                                   "figure block" if figure else "run block", exec, program, namespace)
                if error is not None:
                    results.errors.append(error)
                    return results
                if not figure:
                    continue
                svg, error = guarded(interrupts, part, "figure could not be drawn:", "figure block", draw, namespace)
                plt.close("all")
                if error is None and isinstance(svg, str):
                    error = CodeError(svg, part)
                if error is not None:
                    results.errors.append(error)
                    return results
                try:
                    caption = format_caption(block.caption, _names(namespace))
                except KeyError as exc:
                    caption = None
                    results.errors.append(CodeError(
                        f"the caption names {{{exc.args[0]}}}, which the post's code does not define"
                        " (write {{ and }} for a brace of its own)", part, in_caption=True))
                except (ValueError, TypeError, AttributeError, IndexError) as exc:
                    caption = None
                    results.errors.append(CodeError(f"the caption cannot be filled in: {_describe(exc)}"
                                                    " (write {{ and }} for a brace of its own)", part, in_caption=True))
                if caption is not None:
                    results.figures[figure_index] = (svg, caption)
                figure_index += 1
            for index, program in enumerate(expressions_compiled):
                if program is None:  # not valid Python: reported above
                    continue
                part = ("inline", index)
                value, error = guarded(interrupts, part, "the inline expression raised", "the inline expression",
                                       eval, program, namespace)
                if error is None:
                    text, error = guarded(interrupts, part, "the inline value's str() raised", "the inline value's str()",
                                          str, value)
                if error is None and len(text) > MAX_VALUE_CHARS:
                    error = CodeError(f"the inline value is {len(text)} characters long; the limit is "
                                      f"{MAX_VALUE_CHARS} (format it, as in f\"{{x:.3f}}\")", part)
                if error is not None:
                    results.errors.append(error)
                else:
                    results.values[index] = text
    finally:
        plt.close("all")
    return results

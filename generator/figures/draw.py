"""The figure a block left, saved as SVG: text kept as text, no date, no random ids.

The code runs (``compute/session.py``) in the drawing style of ``figures/style.py``;
afterwards the current figure, or the last matplotlib ``Figure`` the code named, is
saved here, so two builds of the same post give byte-identical SVG.
"""

from __future__ import annotations

import io

NO_FIGURE = ("figure code drew no figure: draw with matplotlib (plt.plot, plt.subplots, ...) "
             "and leave the figure open")


def style_settings() -> dict:
    """matplotlib's rc settings for figure code: the drawing style with its sentinel colour cycle."""
    import matplotlib

    from labpress.figures.style import CYCLE, STYLE

    return {**STYLE, "axes.prop_cycle": matplotlib.cycler(color=list(CYCLE))}


def figure_left(namespace: dict):
    """The figure the code drew: pyplot's current one, else the last ``Figure`` it named; None if none."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    if plt.get_fignums():
        return plt.gcf()
    drawn = [v for v in namespace.values() if isinstance(v, Figure)]
    return drawn[-1] if drawn else None


def save_svg(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", pad_inches=0.06,
                   metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return buffer.getvalue()

"""How figure code draws: matplotlib settings with sentinel colours, rewritten for the theme afterwards.

The figure is drawn with sentinel colours (:data:`INK`, :data:`MUTED`, …, and a
sentinel colour cycle), so that ``figures/svg.py`` can tell the theme's roles
apart in the SVG and point each at the theme's colours for both schemes.
"""

from __future__ import annotations

# Sentinel colours: unlikely in an author's own choices, near-black if ever left over.
INK = "#010203"
MUTED = "#010204"
RULE = "#010205"
PAPER = "#010206"
CYCLE = tuple(f"#0102{n:02x}" for n in range(0xA1, 0xA9))  # C0..C7

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


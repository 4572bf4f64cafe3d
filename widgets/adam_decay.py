"""Adam + L2 vs AdamW: how hard weight decay pulls on each weight.

With L2 regularisation inside Adam, the decay term λ·w is added to the gradient
and then divided, like the rest of the gradient, by the weight's √v̂ (its running
gradient RMS). The effective decay is λ/√v̂: weights with loud gradients are
barely decayed, quiet ones are decayed hard. AdamW decouples the decay from the
adaptive step, so every weight is decayed by the same λ. The ratio between the
quietest and the loudest weight, 4 / 0.15 ≈ 26.7, does not depend on λ.

Decays span almost three decades, so the y axis is logarithmic; the log10 is
computed with + − × ÷ and √ only (see log10 below).
"""

import math

from labpress.kernel import Figure, Slider, View, widget

# (name, √v̂): the running RMS of each weight's gradient.
WEIGHTS = [("quiet", 0.15), ("typical", 0.5), ("active", 1.4), ("LOUD", 4.0)]
DECADES = {-3: "0.001", -2: "0.01", -1: "0.1", 0: "1"}  # log10 of the y grid lines, and their labels
TOP = 0.35  # headroom above the top grid line, for the labels of the tallest bars
LN10 = 2.302585092994046


def log10(x):
    """log10 of a positive float from correctly rounded operations only.

    math.log10 comes from the platform's C library, whose last bit may differ
    between CPython here and Pyodide; + − × ÷ and sqrt are exact-rounded everywhere.
    Write x = m·10^k with 1 ≤ m < 10; three square roots bring m^(1/8) into
    [1, 1.34), where ln y = 2·atanh(z) = 2·(z + z³/3 + z⁵/5 + …), z = (y − 1)/(y + 1) < 0.15,
    converges to double precision in a dozen terms. Then ln m = 8·ln m^(1/8).
    """
    k = 0
    while x >= 10:
        x, k = x / 10, k + 1
    while x < 1:
        x, k = x * 10, k - 1
    y = math.sqrt(math.sqrt(math.sqrt(x)))
    z = (y - 1) / (y + 1)
    term, total = z, 0.0
    for n in range(1, 26, 2):
        total += term / n
        term *= z * z
    return k + 8 * 2 * total / LN10


@widget(
    title="Adam + L2 vs AdamW: effective weight decay",
    lam=Slider(0.005, 0.1, value=0.04, step=0.005, label="λ"),
    readouts={"ratio": "quiet vs LOUD decay (Adam+L2)", "quiet": "quiet: λ/√v̂", "loud": "LOUD: λ/√v̂"},
)
def adam_decay(lam):
    adam_l2 = [lam / rms for _, rms in WEIGHTS]  # decay divided by the adaptive denominator
    adamw = [lam for _ in WEIGHTS]                # decoupled: the same λ for every weight
    # How many times less the loudest weight is decayed than the quietest; λ cancels out.
    ratio = adam_l2[0] / adam_l2[-1]

    low = min(DECADES)
    fig = Figure(
        width=480, height=300, x=(-0.6, len(WEIGHTS) - 0.4), y=(low, TOP), margin=(16, 12, 44, 52),
        title="Effective weight decay per weight: Adam + L2 against AdamW, log scale",
        description=f"λ = {lam:g}. Adam + L2 decays the four weights by "
                    + ", ".join(f"{d:.4f}" for d in adam_l2) + f"; AdamW decays each by {lam:g}.",
    )
    x0, x1 = fig.x.domain

    # Log axis by hand: a grid line and a label at each power of ten.
    for decade, label in DECADES.items():
        fig.line(x0, decade, x1, decade, "lp-grid")
        fig.text(x0, decade, label, "lp-tick", "end", dx=-6, dy=4)
    fig.line(x0, low, x0, TOP, "lp-axis")
    fig.line(x0, low, x1, low, "lp-axis")
    fig.text(x0, TOP, "effective decay (log scale)", "lp-label", "start", dx=6, dy=10)

    # Grouped bars from the bottom of the axis: Adam + L2 (series 1) beside AdamW (series 2).
    for i, (name, rms) in enumerate(WEIGHTS):
        for offset, decay, cls in ((-0.18, adam_l2[i], "lp-s1"), (0.18, adamw[i], "lp-s2")):
            top = min(max(log10(decay), low), TOP)  # clip to the axis, never past it
            fig.bar(i + offset, top, 0.34, base=low, cls=cls)
        fig.text(i - 0.18, log10(adam_l2[i]), f"{adam_l2[i]:.3g}", "lp-tick", "middle", dy=-4)
        fig.text(i, low, name, "lp-label", "middle", dy=15)
        fig.text(i, low, f"√v̂ = {rms:g}", "lp-tick", "middle", dy=32)

    # Legend, top right: each key at the right edge, its text ending beside it, so that however large
    # the theme draws the text (11 px on a phone) it grows leftwards, inside the figure.
    for row, (cls, text) in enumerate((("lp-s1", "Adam + L2: λ/√v̂"), ("lp-s2", f"AdamW: λ = {lam:g}"))):
        x, y = fig.x.invert(fig.x(x1) - 10), fig.y.invert(fig.y(TOP) + 12 + 18 * row)
        fig.rect(x, y, fig.x.invert(fig.x(x) + 10), fig.y.invert(fig.y(y) + 10), cls)
        fig.text(x, y, text, "lp-label", "end", dx=-4, dy=9)

    return View(fig, {"ratio": f"{int(ratio)}×", "quiet": adam_l2[0], "loud": adam_l2[-1]})

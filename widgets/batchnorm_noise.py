"""Batch norm's incidental regularisation: mini-batch statistics are noisy.

Batch norm normalises with the mean of the current mini-batch, not the true
mean. For activations with standard deviation σ, a batch of n gives a mean
estimate with standard error σ/√n, so every step sees a slightly different
shift: noise that acts as a regulariser at small batches and fades as n grows.
Each dot is one mini-batch's mean estimate; the band is ±σ/√n around the true mean.
"""

import math
import random

from labpress.kernel import Figure, Seed, Slider, View, widget
from labpress.kernel.svg import fmt

SIGMA, MU = 1.0, 0.0  # the activations' true standard deviation and mean
BATCHES = 24          # mini-batches drawn per frame, one row each
SPAN = 2.0            # the number line shows MU ± SPAN; estimates beyond it sit on the edge


def batch_means(seed, n):
    """One mean estimate per mini-batch: the mean of n draws is N(μ, σ²/n).

    Drawn straight from that distribution with a fresh generator, so a given seed
    gives the same standard-normal sequence at every batch size, scaled by σ/√n:
    the dots close in on μ as the slider moves right.
    """
    rng = random.Random(seed)
    return [rng.gauss(MU, SIGMA / math.sqrt(n)) for _ in range(BATCHES)]


def verdict(noise):
    if noise > 0.2:
        return "strong incidental reg"
    if noise > 0.05:
        return "mild"
    return "negligible"


def dots_path(fig, points, cls):
    """Many dots as one <path>: each is a zero-length segment whose round cap paints a disc.

    This widget is pre-computed for all 512 states (128 batch sizes × 4 seeds), and 24
    <circle> elements would make each frame about 1 KB heavier than this single path.
    The theme's ``lp-dots`` class sets the round caps and their width: no inline
    style, so the figure also works under a strict Content-Security-Policy.
    """
    d = "".join(f"M{fmt(fig.x(x))} {fmt(fig.y(y))}h0" for x, y in points)
    return f'<path class="{cls} lp-dots" fill="none" d="{d}"/>'


@widget(
    title="Batch-norm noise: mini-batch mean estimates",
    batch=Slider(2, 256, value=8, step=2, label="Batch size"),
    seed=Seed(0, rolls=4),
    readouts={"noise": "noise σ/√n", "batch": "batch size", "verdict": "regularisation"},
)
def batchnorm_noise(batch, seed):
    n = int(batch)
    noise = SIGMA / math.sqrt(n)
    means = batch_means(seed, n)
    lo, hi = MU - SPAN, MU + SPAN

    # Rows 1..BATCHES, one per mini-batch, 7 px apart above the number line (y = 0).
    fig = Figure(
        width=480, height=(BATCHES + 1) * 7 + 40, x=(lo, hi), y=(0, BATCHES + 1),
        margin=(8, 16, 32, 16), title="Mean estimates of 24 mini-batches around the true mean",
        description=f"Batch size {n}: standard error σ/√n = {noise:.3f}.",
    )
    fig.rect(max(MU - noise, lo), 0, min(MU + noise, hi), BATCHES + 1, "lp-fill-1")  # the ±σ/√n band
    fig.line(lo, 0, hi, 0, "lp-axis")  # the number line
    for tick in range(-2, 3):
        fig.text(MU + tick * SIGMA, 0, f"{tick:+d}σ" if tick else "μ = 0", "lp-tick", dy=14)
    fig.text(hi, 0, "batch mean", "lp-label", "end", dy=-6)
    fig.line(MU, 0, MU, BATCHES + 1, "lp-accent")  # the true mean

    # The estimates, pinned to the edge of the plot if they fall outside it.
    points = [(min(max(m, lo), hi), row) for row, m in enumerate(means, start=1)]
    svg = fig.to_svg().replace("</svg>", dots_path(fig, points, "lp-s1") + "</svg>")
    return View(svg, {"noise": noise, "batch": n, "verdict": verdict(noise)})

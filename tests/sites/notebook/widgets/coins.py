"""Test widget with pre-computed frames: a slider, a toggle and a re-roll seed.

A row of coin flips drawn from a generator seeded only by the Seed control, the
share of heads so far as a line, and the coin's probability of heads as a
reference. 4 x 2 x 4 = 32 states, all pre-computed.
"""

import random

from labpress.kernel import Figure, Seed, Slider, Toggle, View, widget


def flips(seed, count, p_heads):
    rng = random.Random(seed)
    return [rng.random() < p_heads for _ in range(count)]


@widget(
    title="Coin flips and the running share of heads",
    count=Slider(4, 16, value=8, step=4, label="Flips"),
    weighted=Toggle(False, label="Weighted coin (70% heads)"),
    roll=Seed(0, rolls=4, label="Flip again"),
    readouts={"heads": "heads", "share": "share of heads", "even": "close to even?"},
)
def coins(count, weighted, roll):
    n = int(count)
    p_heads = 0.7 if weighted else 0.5
    row = flips(roll, n, p_heads)
    heads = sum(row)
    share = heads / n

    fig = Figure(width=420, height=220, x=(0, 16), y=(-0.45, 1.1),
                 title="Each flip, and the share of heads after it",
                 description=f"{heads} heads in {n} flips of a coin with p = {p_heads:g}, roll {roll + 1}.")
    fig.line(0, 0, 16, 0, "lp-axis")
    fig.line(0, p_heads, 16, p_heads, "lp-accent")
    fig.text(16, p_heads, f"p = {p_heads:g}", "lp-label", "end", dy=-4)
    running, seen = [], 0
    for i, is_heads in enumerate(row):
        seen += is_heads
        running.append((i + 0.5, seen / (i + 1)))
        fig.rect(i + 0.1, -0.4, i + 0.9, -0.1, "lp-s1 lp-fill-1" if is_heads else "lp-muted")
    fig.polyline(running, "lp-s2")
    fig.text(0, 1.1, f"roll {roll + 1}", "lp-tick", "start", dy=10)
    return View(fig, {"heads": f"{heads}/{n}", "share": share, "even": abs(share - 0.5) <= 0.125})

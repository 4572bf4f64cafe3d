"""Test widget with pre-computed frames and a single slider.

A stock loses the same share of itself at every step; each bar is what is left
after that many steps. Only + - * / are used, so CPython and Pyodide draw the
same bytes.
"""

from labpress.kernel import Figure, Slider, View, widget

STEPS = 8
FLOOR = 0.05  # the "nearly gone" line


@widget(
    title="What is left of a stock that loses a fixed share per step",
    rate=Slider(0.1, 0.9, value=0.3, step=0.1, label="Share lost per step"),
    readouts={"left": "left after 4 steps", "steps": "steps to fall under 5%"},
)
def decay(rate):
    left, value = [], 1.0
    for _ in range(STEPS):
        left.append(value)
        value *= 1 - rate
    steps, value = 0, 1.0
    while value >= FLOOR:
        value *= 1 - rate
        steps += 1

    fig = Figure(width=420, height=240, x=(-0.6, STEPS - 0.4), y=(0, 1.15),
                 title="Share left after each step",
                 description=f"Losing {rate:g} per step leaves {left[4]:.3f} after four steps.")
    fig.axes(y_label="share left")
    fig.line(-0.6, FLOOR, STEPS - 0.4, FLOOR, "lp-accent")
    for k, share in enumerate(left):
        fig.bar(k, share, 0.6, cls="lp-s1 lp-fill-1")
        fig.text(k, share, f"{share:.2f}", "lp-tick", "middle", dy=-4)
    return View(fig, {"left": left[4], "steps": steps})

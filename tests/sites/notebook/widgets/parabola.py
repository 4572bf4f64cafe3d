"""Test widget that runs live only because its state space is too big to pre-compute.

One slider with 1001 positions (more than [widgets] max_states) moves a marker
along a parabola; the marker's label shows the position to two decimals.
"""

from labpress.kernel import Figure, Slider, View, widget

WIDTH = 10.0


def height(x):
    return x * (WIDTH - x) / 25


@widget(
    title="A marker riding a parabola",
    x=Slider(0, WIDTH, value=2.5, step=0.01, label="Position"),
    readouts={"y": "height", "side": "side of the peak"},
)
def parabola(x):
    fig = Figure(width=420, height=220, x=(0, WIDTH), y=(0, 1.2),
                 title="The curve y = x (10 - x) / 25 and a marker on it",
                 description=f"At x = {x:.2f} the curve is {height(x):.3f} high.")
    fig.axes(x_label="x", y_label="y")
    fig.polyline([(k / 4, height(k / 4)) for k in range(41)], "lp-s1")
    fig.circle(x, height(x), r=6, cls="lp-s3")
    fig.text(x, height(x), f"x = {x:.2f}", "lp-label", "middle", dy=-10)
    side = "left" if x < WIDTH / 2 else ("peak" if x == WIDTH / 2 else "right")
    return View(fig, {"y": height(x), "side": side})

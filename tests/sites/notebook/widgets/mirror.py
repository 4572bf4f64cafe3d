"""Test widget that runs live only: a point handle (dragged or keyed) and a slider.

The point is reflected in the line through the origin with the chosen slope.
With d = (1, m) / |(1, m)|, the mirror image of p is 2 (p . d) d - p; only
+ - * / and a square root, so both runtimes agree to the last digit.
"""

import math

from labpress.kernel import Figure, Point, Slider, View, widget

EDGE = 1.6


def reflect(p, slope):
    norm = math.sqrt(1 + slope * slope)
    dx, dy = 1 / norm, slope / norm
    along = p[0] * dx + p[1] * dy
    return (2 * along * dx - p[0], 2 * along * dy - p[1])


@widget(
    title="A point and its mirror image",
    spot=Point(value=(0.6, 0.3), x=(-1, 1), y=(-1, 1), label="Point"),
    slope=Slider(-2, 2, value=1, step=0.1, label="Mirror slope"),
    readouts={"image": "mirror image", "gap": "distance to the image"},
)
def mirror(spot, slope):
    image = reflect(spot, slope)
    dx, dy = image[0] - spot[0], image[1] - spot[1]
    gap = math.sqrt(dx * dx + dy * dy)

    fig = Figure(width=320, height=320, x=(-EDGE, EDGE), y=(-EDGE, EDGE), margin=(12, 12, 12, 12),
                 title="The mirror line, the point and its image",
                 description=f"Slope {slope:g}: ({spot[0]:.2f}, {spot[1]:.2f}) maps to ({image[0]:.2f}, {image[1]:.2f}).")
    fig.axes(grid=True)
    reach = EDGE / max(1.0, abs(slope))
    fig.line(-reach, -reach * slope, reach, reach * slope, "lp-s2")
    fig.line(spot[0], spot[1], image[0], image[1], "lp-muted")
    fig.circle(image[0], image[1], r=6, cls="lp-s1", label=f"image ({image[0]:.2f}, {image[1]:.2f})")
    fig.handle("spot", spot[0], spot[1], "Point")
    return View(fig, {"image": image, "gap": gap})

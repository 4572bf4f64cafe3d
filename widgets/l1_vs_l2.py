"""L1 vs L2 regularisation seen as constraints: where does the solution land?

Training with a penalty, loss + λ·‖w‖, gives the same solution as minimising the
loss inside a ball ‖w‖ ≤ t, where a smaller budget t goes with a stronger λ. The
loss here is the squared distance to the unconstrained optimum w*, so its
contours are circles around w*, and the constrained solution is the point of the
ball closest to w* (its Euclidean projection). The L2 ball is round: the
projection only shrinks w* towards the origin. The L1 ball is a diamond with its
corners on the axes: the projection often lands on a corner, where one weight is
exactly zero — the solution is sparse.
"""

import math

from labpress.kernel import Figure, Point, Slider, View, widget

LIMIT = 2.2  # both axes show -LIMIT..LIMIT: room for the largest ball (t = 2)


def project_l2(v, t):
    """The point of the disc ‖w‖₂ ≤ t closest to v: v itself, or v scaled back to radius t."""
    norm = math.sqrt(v[0] * v[0] + v[1] * v[1])
    if norm <= t:
        return (v[0], v[1])
    return (v[0] * t / norm, v[1] * t / norm)


def project_l1(v, t):
    """The point of the diamond |w₁| + |w₂| ≤ t closest to v (Duchi et al., 2008).

    Outside the ball, the projection soft-thresholds every coordinate by one θ,
    w_i = sign(v_i)·max(|v_i| − θ, 0), with θ such that the result is on the
    boundary: Σ max(|v_i| − θ, 0) = t. With the magnitudes sorted, u₁ ≥ u₂ ≥ …,
    the coordinates that survive are the first ρ, where ρ is the largest j with
    u_j > (u₁ + … + u_j − t) / j, and then θ = (u₁ + … + u_ρ − t) / ρ.
    Every coordinate with |v_i| ≤ θ comes out as exactly 0.0.
    """
    if abs(v[0]) + abs(v[1]) <= t:
        return (v[0], v[1])
    total, theta = 0.0, 0.0
    for j, u in enumerate(sorted((abs(c) for c in v), reverse=True), start=1):
        total += u
        if u > (total - t) / j:  # true for a prefix of j: keep the θ of the last one
            theta = (total - t) / j
    return tuple(_shrink(c, theta) for c in v)


def _shrink(c, theta):
    """Soft-threshold one coordinate: move it θ towards zero, stopping at an exact 0.0."""
    magnitude = abs(c) - theta
    if magnitude <= 0.0:
        return 0.0  # not max(…, 0) * sign: that could give the int 0 or -0.0
    return magnitude if c > 0 else -magnitude


def circle_points(cx, cy, r, per_quarter=10):
    """Points on a circle without sin/cos, so CPython and Pyodide agree to the last bit.

    u ↦ ((1 − u²)/(1 + u²), 2u/(1 + u²)) walks the quarter circle from angle 0 to 90°
    as u goes from 0 to 1; the other three quarters are that arc turned by 90° steps.
    """
    quarter = []
    for k in range(per_quarter):
        u = k / per_quarter
        quarter.append(((1 - u * u) / (1 + u * u), 2 * u / (1 + u * u)))
    turns = [(c, s) for c, s in quarter] + [(-s, c) for c, s in quarter] \
        + [(-c, -s) for c, s in quarter] + [(s, -c) for c, s in quarter]
    points = [(cx + r * c, cy + r * s) for c, s in turns]
    return points + points[:1]


def pair(w):
    return f"({w[0]:.2f}, {w[1]:.2f})"


@widget(
    title="L1 vs L2: where the constrained optimum lands",
    optimum=Point(value=(0.9, 0.6), x=(-1.2, 1.2), y=(-1.2, 1.2), label="Unconstrained optimum"),
    strength=Slider(0.4, 2.0, value=1.0, step=0.05, label="Budget t"),
    readouts={"l1": "L1 →", "l2": "L2 →", "sparse": "L1 sparse?"},
)
def l1_vs_l2(optimum, strength):
    t = strength
    l1 = project_l1(optimum, t)
    l2 = project_l2(optimum, t)
    sparse = l1[0] == 0.0 or l1[1] == 0.0

    fig = Figure(
        width=360, height=360, x=(-LIMIT, LIMIT), y=(-LIMIT, LIMIT), margin=(12, 12, 12, 12),
        title="L1 diamond and L2 disc of radius t, with the optimum projected onto each",
        description=f"Budget t = {t:.2f}. Optimum {pair(optimum)}; L1 solution {pair(l1)}"
                    f"{' (sparse)' if sparse else ''}; L2 solution {pair(l2)}.",
    )
    fig.axes(x_label="w₁", y_label="w₂", grid=True)

    # The two constraint regions: L2 disc (series 2) and L1 diamond (series 1).
    fig.ellipse(0, 0, t, t, "lp-s2 lp-fill-2")
    fig.polygon([(t, 0), (0, t), (-t, 0), (0, -t)], "lp-s1 lp-fill-1")

    # Loss contours through each solution: the circle around w* that just touches the
    # ball touches it at the solution (a corner of the diamond when L1 is sparse).
    # Inside a ball the solution is w* itself and there is no contour to draw.
    radii = {math.sqrt((optimum[0] - w[0]) ** 2 + (optimum[1] - w[1]) ** 2) for w in (l1, l2)}
    for radius in sorted(r for r in radii if r > 1e-9):
        fig.polyline(circle_points(optimum[0], optimum[1], radius), "lp-muted")

    # From the optimum to each solution, then the solutions themselves.
    fig.line(optimum[0], optimum[1], l2[0], l2[1], "lp-s2")
    fig.line(optimum[0], optimum[1], l1[0], l1[1], "lp-s1")
    fig.circle(l2[0], l2[1], r=5, cls="lp-s2", label=f"L2 solution {pair(l2)}")
    fig.circle(l1[0], l1[1], r=5, cls="lp-s1", label=f"L1 solution {pair(l1)}")

    # Legend in the top-left corner: each ball's colour is also its solution's colour. Its first row
    # sits below the top tick, which it would meet on a narrow screen, where text is relatively larger.
    for row, (cls, text) in enumerate((("lp-s1", "L1: |w₁|+|w₂| ≤ t"), ("lp-s2", "L2: ‖w‖₂ ≤ t"))):
        x, y = fig.x.invert(fig.x(-LIMIT) + 14), fig.y.invert(fig.y(LIMIT) + 20 + 18 * row)
        fig.circle(x, y, r=5, cls=cls)
        fig.text(x, y, text, "lp-label", "start", dx=10, dy=4)

    fig.handle("optimum", optimum[0], optimum[1], "Unconstrained optimum")
    return View(fig, {"l1": l1, "l2": l2, "sparse": sparse})

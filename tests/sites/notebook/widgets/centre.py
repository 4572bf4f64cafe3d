"""Test widget with pre-computed frames: a choice (radio buttons) and a slider.

Five fixed measurements and one outlier the slider moves; the choice picks which
centre is marked: the mean, the median or the midrange. 3 x 9 = 27 states.
"""

from labpress.kernel import Choice, Figure, Slider, View, widget

FIXED = [2.0, 3.0, 3.5, 4.0, 5.0]


def centre_of(values, how):
    ordered = sorted(values)
    if how == "mean":
        return sum(ordered) / len(ordered)
    if how == "median":
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return (ordered[0] + ordered[-1]) / 2


@widget(
    title="Where the centre of six measurements lies",
    how=Choice({"mean": "Mean", "median": "Median", "midrange": "Midrange"}, value="mean", label="Centre"),
    outlier=Slider(6, 14, value=8, step=1, label="Outlier"),
    readouts={"how": "centre shown", "centre": "centre", "spread": "max - min"},
)
def centre(how, outlier):
    values = FIXED + [float(outlier)]
    mark = centre_of(values, how)

    fig = Figure(width=420, height=160, x=(0, 15), y=(0, 2),
                 title=f"Six measurements and their {how}",
                 description=f"The {how} of {', '.join(f'{v:g}' for v in values)} is {mark:.3f}.")
    fig.axes(x_label="value")
    for v in values:
        fig.circle(v, 0.6, r=5, cls="lp-s1" if v != outlier else "lp-s3")
    fig.line(mark, 0, mark, 1.6, "lp-accent")
    fig.text(mark, 1.6, f"{how} {mark:.2f}", "lp-label", "middle", dy=-4)
    return View(fig, {"how": how, "centre": mark, "spread": max(values) - min(values)})

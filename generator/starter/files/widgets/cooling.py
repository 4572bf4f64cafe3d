"""Newton's law of cooling for a rate k the reader chooses, drawn over the readings.

The example widget `labpress init` wrote; content/cooling-tea.md uses it with
`::: widget cooling`. A widget is one module in widgets/ with one @widget; its
name is the file's name. The build runs the kernel to draw the figure into the
page, and the same file runs in the reader's browser (under Pyodide) when they
move the slider, so it imports only the standard library and labpress.kernel.
The slider has 19 positions, few enough for the build to draw every frame
ahead of time: the page answers at once.
"""

import csv
import math

from labpress.kernel import Figure, Slider, View, widget

ROOM = 21.0  # °C, as in the post

# Read when the module is imported: at build time from the site folder, and in
# the browser from the copy of the file LabPress publishes beside the kernels.
with open("data/cooling.csv", newline="", encoding="utf-8") as handle:
    READINGS = [(float(row["minutes"]), float(row["celsius"])) for row in csv.DictReader(handle)]
START = READINGS[0][1]


def newton(k, minutes):
    return ROOM + (START - ROOM) * math.exp(-k * minutes)


@widget(
    title="Newton's law of cooling against the readings",
    k=Slider(0.01, 0.1, value=0.05, step=0.005, label="Cooling rate k", unit="per min"),
    readouts={"half": "excess halves in (min)", "miss": "worst reading off by (°C)"},
)
def cooling(k):
    fig = Figure(x=(0, 30), y=(0, 90), title="Temperature of the tea against time",
                 description=f"The readings, and Newton's law for k = {k:g} per minute starting from {START:g} °C")
    fig.axes(x_label="time (min)", y_label="°C", grid=True)
    fig.line(0, ROOM, 30, ROOM, "lp-muted")
    fig.text(0, ROOM, f"room, {ROOM:g} °C", "lp-label", "start", dx=6, dy=-6)
    fig.polyline([(t / 2, newton(k, t / 2)) for t in range(61)], "lp-s2")
    for minutes, celsius in READINGS:
        fig.circle(minutes, celsius, 3.5, "lp-s1", label=f"{minutes:g} min: {celsius:g} °C")
    miss = max(abs(celsius - newton(k, minutes)) for minutes, celsius in READINGS)
    # Readouts are shown under the figure (floats with three decimals) and fill the caption's {names}.
    return View(fig, {"half": math.log(2) / k, "miss": miss})

"""The widget API (labpress.kernel): controls, the SVG builder, and the kernel → frame protocol."""

import importlib.util
import json
import math
import textwrap
import xml.etree.ElementTree as ET

import pytest

from labpress.kernel import (
    Choice, ControlError, Figure, Frame, KernelError, LinearScale, Point, Seed, Slider, Toggle, View, Widget,
    render_frame, widget,
)
from labpress.kernel.svg import fmt
from labpress.kernel.widget import display, format_caption, render_json

SVG_NS = "{http://www.w3.org/2000/svg}"


# Slider ---------------------------------------------------------------------------------------------------------------

def test_slider_defaults():
    assert Slider(0, 1).default == 0.0  # no value: the minimum
    assert Slider(2, 256, value=8, step=2).default == 8.0
    assert isinstance(Slider(0, 10, value=3).default, float)
    s = Slider(0, 1, value=0.5, step=0.1, label="Rate", unit="s")
    assert s.describe() == {"kind": "slider", "label": "Rate", "min": 0.0, "max": 1.0, "step": 0.1, "unit": "s"}


def test_slider_coerce_snaps_to_the_step_grid():
    s = Slider(0, 1, step=0.25, label="k")
    assert s.coerce(0.3) == 0.25
    assert s.coerce(0.4) == 0.5
    assert s.coerce(1) == 1.0
    assert s.coerce(1 + 1e-12) == 1.0  # rounding slop at the ends is allowed
    assert Slider(0, 1, label="free").coerce(0.123456) == 0.123456  # no step: continuous


def test_slider_grid_is_float_tidy():
    s = Slider(0, 1, step=0.1)
    assert s.states() == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]  # not 0.30000000000000004
    assert s.coerce(0.1 + 0.2) == 0.3
    keep = Slider(0.5, 0.95, step=0.05)
    assert len(keep.states()) == 10 and keep.states()[-1] == 0.95  # 0.45 / 0.05 is 8.999… in floats
    assert all(keep.coerce(v) == v for v in keep.states())
    assert [keep.index_of(v) for v in keep.states()] == list(range(10))


def test_slider_max_off_the_step_grid():
    s = Slider(0, 1, step=0.6, label="k")
    assert s.states() == [0.0, 0.6]
    assert s.coerce(1.0) == 0.6  # the top state, not the off-grid max
    assert s.index_of(1.0) == 1


def test_slider_states_and_index_of():
    s = Slider(2, 256, value=8, step=2, label="Batch")
    states = s.states()
    assert len(states) == 128 and states[0] == 2.0 and states[-1] == 256.0
    assert s.index_of(8) == 3
    assert s.index_of(255.9) == 127
    assert Slider(0, 1).states() is None  # continuous


def test_slider_out_of_range_message():
    s = Slider(0, 1, step=0.5, label="Rate")
    s.name = "rate"
    with pytest.raises(ControlError, match=r"^'rate' must be between 0 and 1, not 1\.5$"):
        s.coerce(1.5)
    with pytest.raises(ControlError, match=r"must be between 0 and 1, not -0\.1"):
        s.coerce(-0.1)


def test_slider_unnamed_errors_use_the_label():
    with pytest.raises(ControlError, match=r"^'Rate' must be between 0 and 1, not 3$"):
        Slider(0, 1, value=3, label="Rate")


@pytest.mark.parametrize("bad", ["0.5", None, [0.5], True, False, float("nan"), float("inf")])
def test_slider_rejects_non_numbers_including_bool(bad):
    s = Slider(0, 1, label="Rate")
    with pytest.raises(ControlError, match=r"^'Rate' must be a number, not "):
        s.coerce(bad)


def test_slider_bad_definitions():
    with pytest.raises(ControlError, match=r"slider max \(1\) must be above its min \(1\)"):
        Slider(1, 1)
    with pytest.raises(ControlError, match="slider step must be positive"):
        Slider(0, 1, step=0)
    with pytest.raises(ControlError, match="slider min must be a number, not True"):
        Slider(True, 2)
    with pytest.raises(ControlError, match="slider step must be a number"):
        Slider(0, 1, step="big")


# Toggle ---------------------------------------------------------------------------------------------------------------

def test_toggle():
    t = Toggle(True, label="Scale")
    assert t.default is True
    assert Toggle().default is False
    assert t.states() == [False, True]
    assert t.index_of(True) == 1 and t.index_of(False) == 0
    assert t.describe() == {"kind": "toggle", "label": "Scale"}


@pytest.mark.parametrize("bad", [1, 0, "true", None])
def test_toggle_accepts_only_bool(bad):
    t = Toggle(label="Scale")
    with pytest.raises(ControlError, match=r"^'Scale' must be true or false, not "):
        t.coerce(bad)


# Choice ---------------------------------------------------------------------------------------------------------------

def test_choice_with_text_options():
    c = Choice({"sgd": "SGD", "adam": "Adam"}, value="adam", label="Optimiser")
    assert c.default == "adam"
    assert c.options == [("sgd", "SGD"), ("adam", "Adam")]
    assert c.states() == ["sgd", "adam"]
    assert c.index_of("adam") == 1
    assert Choice({"sgd": "SGD", "adam": "Adam"}).default == "sgd"  # first option by default
    with pytest.raises(ControlError, match=r"^'Optimiser' must be one of 'sgd', 'adam', not 'rmsprop'$"):
        c.coerce("rmsprop")


def test_choice_with_numeric_options():
    c = Choice([0.1, 0.01, 1], label="lr")
    assert c.options == [(0.1, "0.1"), (0.01, "0.01"), (1, "1")]
    assert c.default == 0.1
    assert c.coerce(0.01) == 0.01
    assert c.coerce(1.0) == 1  # JSON numbers come back as floats
    assert c.index_of(1) == 2
    with pytest.raises(ControlError, match="must be one of 0.1, 0.01, 1, not '0.1'"):
        c.coerce("0.1")  # text is not a number
    with pytest.raises(ControlError, match="not True"):
        c.coerce(True)  # True == 1, but a bool is not an option


def test_choice_text_option_is_not_a_number():
    c = Choice({"1": "one", "2": "two"}, label="n")
    assert c.coerce("1") == "1"
    with pytest.raises(ControlError):
        c.coerce(1)


def test_choice_bad_definitions():
    with pytest.raises(ControlError, match="a choice needs at least one option"):
        Choice({})
    with pytest.raises(ControlError, match="choice values must be text or numbers, not True"):
        Choice([True, False])
    with pytest.raises(ControlError, match=r"choice values must be text or numbers, not \(1, 2\)"):
        Choice([(1, 2)])
    with pytest.raises(ControlError, match="must be one of"):
        Choice(["a", "b"], value="c")


# Point ----------------------------------------------------------------------------------------------------------------

def test_point_defaults_and_bounds():
    p = Point(value=(0.9, 0.6), x=(-1.2, 1.2), y=(-1.2, 1.2), label="Optimum")
    assert p.default == (0.9, 0.6)
    assert p.states() is None  # continuous: no pre-computed frames
    assert p.coerce([1, -1]) == (1.0, -1.0)  # a JSON list becomes a tuple of floats
    assert p.coerce((1.2 + 1e-12, -1.2)) == (1.2, -1.2)  # slop at the edge is clamped
    assert p.coerce((-0.0, 0.0)) == (0.0, 0.0) and math.copysign(1, p.coerce((-0.0, 0))[0]) == 1
    assert p.describe() == {"kind": "point", "label": "Optimum", "x": [-1.2, 1.2], "y": [-1.2, 1.2], "step": 0.05}
    assert Point().default == (0.0, 0.0)


def test_point_errors():
    p = Point(x=(-1, 1), y=(0, 2), label="P")
    with pytest.raises(ControlError, match=r"^'P' must lie within x -1\.\.1 and y 0\.\.2, not \[1\.5, 1\]$"):
        p.coerce((1.5, 1))
    with pytest.raises(ControlError, match=r"^'P' must be a point \[x, y\], not 0\.5$"):
        p.coerce(0.5)
    with pytest.raises(ControlError, match=r"must be a point \[x, y\], not \[1, 2, 3\]"):
        p.coerce([1, 2, 3])
    with pytest.raises(ControlError, match=r"^'P' x must be a number, not True$"):
        p.coerce((True, 1))
    with pytest.raises(ControlError, match=r"^'P' y must be a number, not 'a'$"):
        p.coerce((0, "a"))
    with pytest.raises(ControlError, match="must lie within"):
        Point(value=(5, 5))


# Seed -----------------------------------------------------------------------------------------------------------------

def test_seed():
    s = Seed(0, rolls=4)
    assert s.default == 0 and s.label == "Re-roll"
    assert s.states() == [0, 1, 2, 3]
    assert s.coerce(2.0) == 2 and isinstance(s.coerce(2.0), int)
    assert s.index_of(3) == 3
    assert s.describe() == {"kind": "seed", "label": "Re-roll", "rolls": 4}
    assert Seed().rolls == 8


@pytest.mark.parametrize("bad", [4, -1, 1.5, True, "1", None, float("inf"), float("nan")])
def test_seed_rejects(bad):
    s = Seed(0, rolls=4, label="Roll")
    with pytest.raises(ControlError, match=r"^'Roll' must be a whole number from 0 to 3, not "):
        s.coerce(bad)


@pytest.mark.parametrize("rolls", [0, 2.0, True, "8"])
def test_seed_needs_whole_rolls(rolls):
    with pytest.raises(ControlError, match="a seed needs a whole number of rolls, at least 1"):
        Seed(0, rolls=rolls)


# SVG builder ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, text", [
    (3.14159, "3.14"), (2.5, "2.5"), (10, "10"), (100.0, "100"), (0, "0"), (-0.0, "0"), (-0.001, "0"),
    (0.004, "0"), (-1.239, "-1.24"), (1e-9, "0"), (-12.3, "-12.3"),
])
def test_fmt(value, text):
    assert fmt(value) == text


def test_linear_scale_call_and_invert():
    s = LinearScale((-1, 1), (44, 464))
    assert s(-1) == 44 and s(1) == 464 and s(0) == 254
    assert s.invert(254) == 0
    y = LinearScale((0, 10), (284, 16))  # pixels grow downwards
    assert y(10) == 16 and y(0) == 284
    for v in (-0.7, 0.0, 0.35, 0.999):
        assert s.invert(s(v)) == pytest.approx(v, abs=1e-12)
    with pytest.raises(ValueError, match="non-zero width"):
        LinearScale((1, 1), (0, 100))


def test_linear_scale_ticks():
    assert LinearScale((0, 1), (0, 1)).ticks() == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert LinearScale((-1.2, 1.2), (0, 1)).ticks() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert LinearScale((0, 0.3), (0, 1)).ticks(3) == [0.0, 0.1, 0.2, 0.3]  # tidy, not 0.30000000000000004
    assert LinearScale((2, 256), (0, 1)).ticks() == [100.0, 200.0]  # the first nice step ≥ span / count
    assert LinearScale((2, 256), (0, 1)).ticks(10) == [50.0, 100.0, 150.0, 200.0, 250.0]
    assert LinearScale((10, 0), (0, 1)).ticks() == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]  # reversed domain
    ticks = LinearScale((-2.2, 2.2), (0, 1)).ticks()
    assert ticks == [-2.0, -1.0, 0.0, 1.0, 2.0] and math.copysign(1, ticks[2]) == 1  # no negative zero


def test_scale_attribute_keeps_the_domain_exact():
    assert LinearScale((-1.2, 1.2), (44, 464)).attribute() == "-1.2 1.2 44 464"
    assert LinearScale((0, 0.005), (16, 284.5)).attribute() == "0 0.005 16 284.5"
    d0, d1, p0, p1 = map(float, LinearScale((1 / 3, 2 / 3), (0, 300)).attribute().split())
    assert abs(d0 - 1 / 3) < 1e-9 and abs(d1 - 2 / 3) < 1e-9 and (p0, p1) == (0, 300)


def figure():
    return Figure(width=200, height=100, x=(0, 10), y=(0, 5), margin=(0, 0, 0, 0), title="T")


def test_figure_shapes():
    f = figure()  # 20 px per x unit, 20 px per y unit, y upwards
    f.line(0, 0, 10, 5)
    f.polyline([(0, 0), (5, 2.5)], "lp-s2")
    f.polygon([(0, 0), (1, 1), (2, 0)], "lp-fill-1")
    f.circle(5, 2.5, r=3, cls="lp-s3", label="centre")
    f.circle(1, 1)
    f.ellipse(5, 2.5, 1, 2, "lp-muted")
    f.rect(2, 3, 1, 1, "lp-fill-2")  # corners in any order
    f.bar(5, 2, 1, cls="lp-s4")
    assert f._items == [
        '<line x1="0" y1="100" x2="200" y2="0" class="lp-s1"/>',
        '<polyline points="0,100 100,50" class="lp-s2" fill="none"/>',
        '<polygon points="0,100 20,80 40,100" class="lp-fill-1"/>',
        '<circle cx="100" cy="50" r="3" class="lp-s3"><title>centre</title></circle>',
        '<circle cx="20" cy="80" r="4" class="lp-s1"/>',
        '<ellipse cx="100" cy="50" rx="20" ry="40" class="lp-muted"/>',
        '<rect x="20" y="40" width="20" height="40" class="lp-fill-2"/>',
        '<rect x="90" y="60" width="20" height="40" class="lp-s4"/>',
    ]


def test_figure_text_and_escaping():
    f = figure()
    f.text(5, 0, "a < b & c > d", dy=14)
    f.text(0, 5, 'say "hi"', cls='lp-label" onload="x', anchor="start", dx=-6.123)
    assert f._items[0] == '<text x="100" y="114" class="lp-label" text-anchor="middle">a &lt; b &amp; c &gt; d</text>'
    assert f._items[1] == ('<text x="-6.12" y="0" class=\'lp-label" onload="x\' text-anchor="start">say "hi"</text>')
    f.circle(1, 1, label="<i>&")
    assert "<title>&lt;i&gt;&amp;</title>" in f._items[2]
    ET.fromstring(f.to_svg())  # still well-formed


def test_axes():
    f = Figure(x=(-2, 2), y=(-1, 1), title="Axes")
    f.axes("w₁", "w₂", grid=True)
    svg = f.to_svg()
    root = ET.fromstring(svg)
    classes = [el.get("class") for el in root.iter()]
    assert classes.count("lp-axis") == 2
    assert classes.count("lp-grid") == len(f.x.ticks()) + len(f.y.ticks())
    labels = [el.text for el in root.iter(SVG_NS + "text") if el.get("class") == "lp-label"]
    assert labels == ["w₁", "w₂"]
    ticks = [el.text for el in root.iter(SVG_NS + "text") if el.get("class") == "lp-tick"]
    assert ticks[:5] == ["-2", "-1", "0", "1", "2"] and "-0.5" in ticks
    # The x axis sits at y = 0, inside the domain.
    x_axis = next(el for el in root.iter(SVG_NS + "line") if el.get("class") == "lp-axis")
    assert x_axis.get("y1") == x_axis.get("y2") == fmt(f.y(0))


def test_axes_without_labels_or_grid():
    f = Figure(x=(1, 5), y=(2, 3))
    f.axes()
    classes = [item.split('class="')[1].split('"')[0] for item in f._items]
    assert "lp-grid" not in classes and "lp-label" not in classes
    assert classes.count("lp-axis") == 2  # clamped to the domain's lower edges


def test_handle_attributes():
    f = Figure(x=(-1, 1), y=(-1, 1), title="H")
    f.handle("optimum", 0.5, -0.5, 'The "best" point')
    el = ET.fromstring(f.to_svg()).find(SVG_NS + "circle")
    assert el.get("class") == "lp-handle"
    assert el.get("data-control") == "optimum"
    assert el.get("aria-label") == 'The "best" point'
    assert el.get("r") == "9"
    assert (el.get("cx"), el.get("cy")) == (fmt(f.x(0.5)), fmt(f.y(-0.5)))
    # The runtime turns the handle's pixels back into data with data-scale-x/y.
    root = ET.fromstring(f.to_svg())
    d0, d1, p0, p1 = map(float, root.get("data-scale-x").split())
    assert d0 + (float(el.get("cx")) - p0) * (d1 - d0) / (p1 - p0) == pytest.approx(0.5, abs=0.01)


def test_to_svg():
    f = Figure(width=300, height=200, x=(-1, 1), y=(0, 4), margin=(10, 20, 30, 40), title="Loss & friends",
               description="A <desc>")
    svg = f.to_svg()
    assert svg.startswith(
        '<svg xmlns="http://www.w3.org/2000/svg" class="lp-figure" viewBox="0 0 300 200"'
        ' data-scale-x="-1 1 40 280" data-scale-y="0 4 170 10" role="img" aria-label="Loss &amp; friends">'
        '<title>Loss &amp; friends</title><desc>A &lt;desc&gt;</desc>')
    assert svg.endswith("</svg>")
    root = ET.fromstring(svg)
    assert root.get("aria-label") == "Loss & friends"
    bare = Figure().to_svg()
    assert "aria-label" not in bare and "<title>" not in bare and "<desc>" not in bare
    assert bare.endswith('role="img"></svg>')


def test_a_figure_with_handles_is_a_group_whose_drawing_is_hidden():
    """An image's content is hidden from screen readers (axe: nested-interactive), so a figure with a
    draggable handle is a named group; its drawing, before and after the handle, is aria-hidden."""
    f = Figure(x=(0, 1), y=(0, 1), title="With a handle")
    f.axes("x", "y")
    f.handle("p", 0.5, 0.5, "P")
    f.circle(0.2, 0.2)
    root = ET.fromstring(f.to_svg())
    assert root.get("role") == "group" and root.get("aria-label") == "With a handle"
    kids = [(el.tag.removeprefix(SVG_NS), el.get("aria-hidden"), el.get("class")) for el in root]
    assert kids == [("title", None, None), ("g", "true", None), ("circle", None, "lp-handle"), ("g", "true", None)]
    assert len(root[1]) > 4  # the axes, their ticks and labels
    assert root[3][0].get("class") == "lp-s1"


# The widget protocol --------------------------------------------------------------------------------------------------

def make_demo():
    @widget(
        title="Demo",
        rate=Slider(0, 1, value=0.5, step=0.25, label="Rate"),
        on=Toggle(True, label="On"),
        seed=Seed(0, rolls=3),
        readouts={"value": "Value"},
    )
    def demo(rate, on, seed):
        f = Figure(x=(0, 1), y=(0, 1), title="Demo figure")
        f.circle(rate, 0.5)
        return View(f, {"value": rate * 2 if on else 0.0, "point": (rate, 0.0), "on": on, "seed": seed,
                        "note": "<ok>"})
    return demo


def test_widget_decorator():
    demo = make_demo()
    assert isinstance(demo, Widget)
    assert demo.name == "demo" and demo.title == "Demo"
    assert list(demo.controls) == ["rate", "on", "seed"]
    assert demo.controls["rate"].name == "rate"  # controls learn their names
    assert demo.readout_labels == {"value": "Value"}
    assert demo.controls["rate"].describe()["label"] == "Rate"

    @widget(k=Slider(0, 1))
    def my_widget(k):
        return View("<svg/>")

    assert my_widget.title == "my widget" and my_widget.readout_labels == {}
    assert my_widget.controls["k"].describe()["label"] == "k"  # no label: the name
    with pytest.raises(TypeError, match="control 'k' must be a Slider, Toggle, Choice, Point or Seed"):
        widget(k=3)


def test_widget_defaults_and_coerce():
    demo = make_demo()
    assert demo.defaults() == {"rate": 0.5, "on": True, "seed": 0}
    assert demo.coerce({"rate": 0.8, "seed": 2.0}) == {"rate": 0.75, "on": True, "seed": 2}
    with pytest.raises(ControlError, match=r"^widget 'demo' has no control 'speed'; its controls: rate, on, seed$"):
        demo.coerce({"speed": 1, "rate": 0.5})
    with pytest.raises(ControlError, match="'on' must be true or false"):
        demo.coerce({"on": "yes"})
    assert demo(rate=1).readouts["value"] == 2.0  # calling the widget runs the kernel on a full state


def test_state_space():
    demo = make_demo()
    assert demo.state_space() == [[0.0, 0.25, 0.5, 0.75, 1.0], [False, True], [0, 1, 2]]

    @widget(p=Point(), k=Slider(0, 1, step=0.5))
    def drag(p, k):
        return View("<svg/>")

    assert drag.state_space() is None


def test_render_frame():
    demo = make_demo()
    frame = render_frame(demo, {"rate": 0.25}, "value {value:.1f} at {point[0]:.2f}, on? {on}, seed {seed}")
    assert isinstance(frame, Frame)
    assert frame.svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and 'aria-label="Demo figure"' in frame.svg
    assert frame.readouts == {"value": "0.500", "point": "(0.25, 0.00)", "on": "yes", "seed": "0", "note": "<ok>"}
    assert frame.caption == "value 0.5 at 0.25, on? yes, seed 0"
    assert json.loads(frame.to_json()) == {"svg": frame.svg, "readouts": frame.readouts, "caption": frame.caption}
    assert frame.to_json().index('"caption"') < frame.to_json().index('"readouts"') < frame.to_json().index('"svg"')
    assert render_frame(demo, {}).caption == ""  # no template, no caption


def test_display():
    assert display(0.35355) == "0.354"
    assert display(2.0) == "2.000"
    assert display(8) == "8"
    assert display(True) == "yes" and display(False) == "no"
    assert display((0.6, 0.0)) == "(0.60, 0.00)"
    assert display([1, 0.5]) == "(1, 0.50)"
    assert display("26×") == "26×"


def test_caption_formatting():
    readouts = {"l1": (0.6, 0.0), "sparse": True, "noise": 0.35355, "ratio": "26×", "batch": 8}
    assert format_caption("L1 → ({l1[0]:.2f}, {l1[1]:.2f}), sparse? {sparse}", readouts) == "L1 → (0.60, 0.00), sparse? yes"
    assert format_caption("{l1}", readouts) == "(0.60, 0.00)"  # no format spec: shown as the readout is
    assert format_caption("noise {noise}, {noise:.2f}", readouts) == "noise 0.354, 0.35"
    assert format_caption("{ratio} less, batch {batch:.0f}", readouts) == "26× less, batch 8"
    assert format_caption("{sparse:d}", readouts) == "1"  # a format spec formats the raw value
    assert format_caption("", readouts) == ""
    with pytest.raises(KeyError):
        format_caption("{missing}", readouts)


def test_caption_errors_are_kernel_errors():
    demo = make_demo()
    with pytest.raises(KernelError, match=r"^the caption cannot be filled in: KeyError: 'nope'$"):
        render_frame(demo, {}, "{nope}")
    with pytest.raises(KernelError, match="the caption cannot be filled in: IndexError"):
        render_frame(demo, {}, "{point[5]}")
    with pytest.raises(KernelError, match="the caption cannot be filled in: ValueError"):
        render_frame(demo, {}, "{note:.2f}")


KERNEL_MODULE = '''\
from labpress.kernel import Figure, Slider, View, widget


def helper(k):
    return 1 / k


@widget(k=Slider(0, 1, value=0.5, step=0.5, label="k"))
def broken(k):
    f = Figure(title="Broken")
    return View(f, {"y": helper(k)})
'''


def load_module(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_kernel_error_names_the_kernel_file_and_line(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text(KERNEL_MODULE)
    broken = load_module(path).broken
    assert render_frame(broken, {}).readouts == {"y": "2.000"}
    with pytest.raises(KernelError) as info:
        render_frame(broken, {"k": 0})
    # "float division by zero" in CPython 3.11, "division by zero" from 3.12 on
    assert info.value.message.startswith("ZeroDivisionError: ") and info.value.message.endswith("division by zero")
    assert str(info.value) == info.value.message
    line = KERNEL_MODULE.splitlines().index("    return 1 / k") + 1
    assert info.value.where == f"{path}:{line}"  # the deepest line in the kernel's own file
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_kernel_error_outside_the_kernel_file_points_into_the_kernel(tmp_path):
    path = tmp_path / "badcall.py"
    path.write_text(textwrap.dedent('''\
        import math
        from labpress.kernel import Slider, View, widget

        @widget(k=Slider(-1, 1, value=0, step=1))
        def badcall(k):
            return View("<svg/>", {"r": math.sqrt(k)})
        '''))
    badcall = load_module(path).badcall
    with pytest.raises(KernelError, match="ValueError: math domain error") as info:
        render_frame(badcall, {"k": -1})
    assert info.value.where == f"{path}:6"


def test_kernel_must_return_a_view():
    @widget(k=Slider(0, 1))
    def sloppy(k):
        return {"y": k}

    with pytest.raises(KernelError, match=r"^the kernel returned dict, not a View$") as info:
        render_frame(sloppy, {})
    code = sloppy.kernel.__code__
    assert info.value.where == f"{code.co_filename}:{code.co_firstlineno}"
    assert info.value.where.startswith(__file__)

    @widget(k=Slider(0, 1))
    def bad_readouts(k):
        return View("<svg/>", [("y", k)])

    with pytest.raises(KernelError, match="View.readouts must be a dict"):
        render_frame(bad_readouts, {})


def test_view_svg_may_be_text():
    @widget(k=Slider(0, 1))
    def raw(k):
        return View('<svg xmlns="http://www.w3.org/2000/svg"/>')

    frame = render_frame(raw, {"k": 1})
    assert frame.svg == '<svg xmlns="http://www.w3.org/2000/svg"/>' and frame.readouts == {}


def test_render_json(tmp_path):
    demo = make_demo()
    out = json.loads(render_json(demo, '{"rate": 1, "on": false}', "value {value}"))
    assert out["readouts"]["value"] == "0.000" and out["caption"] == "value 0.000" and out["svg"].startswith("<svg")
    assert render_json(demo, "{}") == render_frame(demo, {}).to_json()

    bad_state = json.loads(render_json(demo, '{"rate": 7}'))
    assert bad_state == {"error": "'rate' must be between 0 and 1, not 7", "where": ""}
    unknown = json.loads(render_json(demo, '{"speed": 1}'))
    assert unknown["error"].startswith("widget 'demo' has no control 'speed'")

    path = tmp_path / "broken.py"
    path.write_text(KERNEL_MODULE)
    broken = load_module(path).broken
    failed = json.loads(render_json(broken, '{"k": 0}'))
    assert set(failed) == {"error", "where"}
    assert failed["error"].startswith("ZeroDivisionError: ") and failed["error"].endswith("division by zero")
    assert failed["where"] == f"{path}:{KERNEL_MODULE.splitlines().index('    return 1 / k') + 1}"
    caption = json.loads(render_json(demo, "{}", "{nope}"))
    assert caption["error"].startswith("the caption cannot be filled in") and caption["where"] == ""


def test_a_control_of_another_kind_is_refused_by_name():
    from labpress.kernel.controls import Control

    class Knob(Control):
        kind = "knob"

    with pytest.raises(TypeError, match="control 'k' must be a Slider, Toggle, Choice, Point or Seed"):
        widget(k=Knob(0))


def test_a_bad_default_names_the_control_kind_before_it_has_a_name():
    with pytest.raises(ControlError, match=r"^the slider's value must be between 0 and 1, not 2$"):
        Slider(0, 1, value=2)


def test_tick_labels_keep_the_digits_their_ticks_have():
    import re

    fig = Figure(x=(0, 0.01), y=(-1.2, 1.2))
    fig.axes()
    labels = re.findall(r"class=\"lp-tick\"[^>]*>([^<]*)<", fig.to_svg())
    assert labels[:6] == ["0", "0.002", "0.004", "0.006", "0.008", "0.01"]  # fmt's two decimals made them 0, 0, 0…
    assert {"-1", "-0.5", "0.5", "1"} <= set(labels[6:]) and "-0" not in labels


def test_numpy_scalars_read_as_the_python_values_they_hold():
    np = pytest.importorskip("numpy")
    assert display(np.bool_(True)) == "yes" and display(np.float32(0.5)) == "0.500" and display(np.int64(3)) == "3"
    assert display((np.float64(0.25), np.float64(1.0))) == "(0.25, 1.00)"

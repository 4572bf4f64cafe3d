"""The site's widgets (widgets/*.py): the numbers each one must show, and that every frame renders."""

import ast
import importlib.util
import itertools
import json
import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from labpress.kernel import View, Widget, render_frame

REPO = Path(__file__).resolve().parent.parent
WIDGETS = REPO / "widgets"
NAMES = ["l1_vs_l2", "adam_decay", "dropout", "batchnorm_noise"]
DISCRETE = ["adam_decay", "dropout", "batchnorm_noise"]
SVG_NS = "{http://www.w3.org/2000/svg}"
THEME_CLASSES = {"lp-figure", "lp-muted", "lp-accent", "lp-axis", "lp-grid", "lp-tick", "lp-label", "lp-handle", "lp-dots"} \
    | {f"lp-s{i}" for i in range(1, 5)} | {f"lp-fill-{i}" for i in range(1, 5)}
# Captions like the ones the posts use: they are part of every pre-computed frame.
CAPTIONS = {
    "l1_vs_l2": "L1 → ({l1[0]:.2f}, {l1[1]:.2f}) · L2 → ({l2[0]:.2f}, {l2[1]:.2f}) · L1 sparse? {sparse}",
    "adam_decay": "Under Adam + L2 the loudest weight is decayed {ratio} less than the quietest; AdamW decays all four alike.",
    "dropout": "train E[signal] = {train:.1f} · test signal = {test:.1f} · match? {match}",
    "batchnorm_noise": "batch {batch:.0f} · noise σ/√n = {noise:.3f} · {verdict}",
}
MAX_STATES, MAX_FRAME_BYTES = 512, 1_000_000  # the build's limits for pre-computed frames


def load(name):
    spec = importlib.util.spec_from_file_location(f"widget_under_test_{name}", WIDGETS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def modules():
    return {name: load(name) for name in NAMES}


def all_states(w):
    names = list(w.controls)
    for values in itertools.product(*w.state_space()):
        yield dict(zip(names, values))


def parse(svg):
    root = ET.fromstring(svg)
    assert root.tag == SVG_NS + "svg"
    return root


# Every widget ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_one_widget_named_like_its_module(modules, name):
    found = [v for v in vars(modules[name]).values() if isinstance(v, Widget)]
    assert len(found) == 1 and found[0].name == name and getattr(modules[name], name) is found[0]
    assert found[0].title and found[0].readout_labels


@pytest.mark.parametrize("name", NAMES)
def test_imports_only_the_standard_library_and_the_kernel_api(name):
    tree = ast.parse((WIDGETS / f"{name}.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0
            modules = [node.module]
        else:
            continue
        for module in modules:
            assert module.startswith("labpress.kernel") or module.split(".")[0] in sys.stdlib_module_names, module
            assert module.split(".")[0] not in {"numpy", "scipy"}


@pytest.mark.parametrize("name", NAMES)
def test_default_frame_is_titled_compact_and_themed(modules, name):
    w = getattr(modules[name], name)
    frame = render_frame(w, {}, CAPTIONS[name])
    root = parse(frame.svg)
    assert root.get("aria-label") and root.find(SVG_NS + "title").text == root.get("aria-label")
    assert len(frame.svg.encode()) < 5000
    classes = {c for el in root.iter() for c in (el.get("class") or "").split()}
    assert classes <= THEME_CLASSES, classes - THEME_CLASSES
    assert set(frame.readouts) == set(w.readout_labels)  # every readout shown has a label, and only those
    assert frame.caption and "{" not in frame.caption


@pytest.mark.parametrize("name", DISCRETE)
def test_every_state_renders_within_the_build_limits(modules, name):
    w = getattr(modules[name], name)
    spaces = w.state_space()
    assert spaces is not None
    assert math.prod(len(s) for s in spaces) <= MAX_STATES
    size, count = 0, 0
    for state in all_states(w):
        frame = render_frame(w, state, CAPTIONS[name])
        parse(frame.svg)
        # The frame key the build writes: each value's index in its control's states.
        assert [c.index_of(state[n]) for n, c in w.controls.items()] == [spaces[i].index(state[n]) for i, n in enumerate(w.controls)]
        size += len(frame.to_json().encode("utf-8"))
        count += 1
    assert count == math.prod(len(s) for s in spaces)
    assert size <= MAX_FRAME_BYTES, size


@pytest.mark.parametrize("name", NAMES)
def test_rendering_is_deterministic(modules, name):
    w = getattr(modules[name], name)
    states = [{}] if name == "l1_vs_l2" else list(all_states(w))[::7]
    for state in states:
        assert render_frame(w, state, CAPTIONS[name]) == render_frame(w, state, CAPTIONS[name])
    fresh = getattr(load(name), name)  # a second import draws the same, too
    assert render_frame(fresh, {}) == render_frame(w, {})


def test_frames_are_identical_in_another_process(modules):
    """No dependence on hash seeds or on anything left over in the process."""
    code = (
        "import importlib.util, json, sys\n"
        "from labpress.kernel import render_frame\n"
        "out = {}\n"
        f"for name in {NAMES!r}:\n"
        f"    spec = importlib.util.spec_from_file_location(name, {str(WIDGETS)!r} + '/' + name + '.py')\n"
        "    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "    out[name] = render_frame(getattr(m, name), {}).to_json()\n"
        "print(json.dumps(out))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"}, cwd=REPO)
    theirs = json.loads(result.stdout)
    for name in NAMES:
        assert theirs[name] == render_frame(getattr(modules[name], name), {}).to_json()


# l1_vs_l2 -------------------------------------------------------------------------------------------------------------

def l1_norm(w):
    return abs(w[0]) + abs(w[1])


def l2_norm(w):
    return math.sqrt(w[0] ** 2 + w[1] ** 2)


def test_l1_vs_l2_defaults(modules):
    w = modules["l1_vs_l2"].l1_vs_l2
    view = w()
    assert isinstance(view, View)
    l1, l2, sparse = view.readouts["l1"], view.readouts["l2"], view.readouts["sparse"]
    t = 1.0
    # The default optimum (0.9, 0.6) lies outside both balls: both solutions are on the boundary.
    assert l1_norm((0.9, 0.6)) > t and l2_norm((0.9, 0.6)) > t
    assert l2_norm(l2) == pytest.approx(t, abs=1e-12)
    assert l2[0] / l2[1] == pytest.approx(0.9 / 0.6)  # same direction as the optimum
    assert l1_norm(l1) == pytest.approx(t, abs=1e-12)
    assert l1 == pytest.approx((0.65, 0.35), abs=1e-12)  # both shrunk by θ = 0.25: not on a corner
    assert sparse is False
    frame = render_frame(w, {}, CAPTIONS["l1_vs_l2"])
    assert frame.readouts == {"l1": "(0.65, 0.35)", "l2": "(0.83, 0.55)", "sparse": "no"}
    assert frame.caption == "L1 → (0.65, 0.35) · L2 → (0.83, 0.55) · L1 sparse? no"


def test_l1_vs_l2_sparse_case_gives_an_exact_zero(modules):
    w = modules["l1_vs_l2"].l1_vs_l2
    readouts = w(optimum=(1.0, 0.2), strength=0.6).readouts
    l1 = readouts["l1"]
    assert l1[0] == pytest.approx(0.6, abs=1e-12)
    assert l1[1] == 0.0 and math.copysign(1.0, l1[1]) == 1.0  # exactly zero, and not -0.0
    assert readouts["sparse"] is True
    assert l2_norm(readouts["l2"]) == pytest.approx(0.6)
    frame = render_frame(w, {"optimum": [1.0, 0.2], "strength": 0.6}, CAPTIONS["l1_vs_l2"])
    assert frame.readouts["l1"] == "(0.60, 0.00)" and frame.readouts["sparse"] == "yes"
    # Mirrored into the third quadrant: the same, with signs.
    mirrored = w(optimum=(-1.0, -0.2), strength=0.6).readouts["l1"]
    assert mirrored[0] == pytest.approx(-0.6) and mirrored[1] == 0.0 and math.copysign(1.0, mirrored[1]) == 1.0
    # On the other axis.
    assert w(optimum=(0.1, -1.1), strength=0.5).readouts["l1"] == (0.0, pytest.approx(-0.5))


def test_l1_vs_l2_inside_the_balls_the_optimum_is_the_solution(modules):
    readouts = modules["l1_vs_l2"].l1_vs_l2(optimum=(0.3, -0.2), strength=1.0).readouts
    assert readouts["l1"] == (0.3, -0.2) and readouts["l2"] == (0.3, -0.2) and readouts["sparse"] is False
    assert modules["l1_vs_l2"].l1_vs_l2(optimum=(0.0, 0.3), strength=1.0).readouts["sparse"] is True


def test_l1_projection_is_the_nearest_point_of_the_diamond(modules):
    m = modules["l1_vs_l2"]
    grid = [round(-1.2 + 0.15 * k, 10) for k in range(17)]
    for v in itertools.product(grid, grid):
        for t in (0.4, 0.75, 1.3, 2.0):
            w1 = m.project_l1(v, t)
            w2 = m.project_l2(v, t)
            assert l1_norm(w1) <= t + 1e-12 and l2_norm(w2) <= t + 1e-12
            if l1_norm(v) > t:
                assert l1_norm(w1) == pytest.approx(t, abs=1e-12)
                # Against a brute-force search along the diamond's boundary.
                d = l2_norm((v[0] - w1[0], v[1] - w1[1]))
                best = min(l2_norm((v[0] - x, v[1] - y))
                           for s in range(400)
                           for x, y in [_diamond_point(t, s / 400)])
                assert d <= best + 1e-9
                # Soft-thresholding keeps signs and never makes a coordinate larger.
                assert all(abs(a) <= abs(b) + 1e-12 and a * b >= 0 for a, b in zip(w1, v))
            else:
                assert w1 == tuple(v)
            if l2_norm(v) > t:
                assert l2_norm(w2) == pytest.approx(t, abs=1e-12)
            else:
                assert w2 == tuple(v)


def _diamond_point(t, s):
    """The point a fraction s of the way round the diamond |x| + |y| = t, from (t, 0) anticlockwise."""
    corners = [(t, 0), (0, t), (-t, 0), (0, -t), (t, 0)]
    k, f = int(s * 4), s * 4 - int(s * 4)
    (x0, y0), (x1, y1) = corners[k], corners[k + 1]
    return x0 + f * (x1 - x0), y0 + f * (y1 - y0)


def test_l1_vs_l2_figure(modules):
    w = modules["l1_vs_l2"].l1_vs_l2
    assert w.state_space() is None  # a Point: rendered live, never pre-computed
    for optimum in itertools.product((-1.2, -0.45, 0.0, 0.3, 1.2), repeat=2):
        for t in (0.4, 1.0, 2.0):
            root = parse(render_frame(w, {"optimum": list(optimum), "strength": t}).svg)
            handles = [el for el in root.iter(SVG_NS + "circle") if el.get("class") == "lp-handle"]
            assert len(handles) == 1 and handles[0].get("data-control") == "optimum"
            assert handles[0].get("aria-label") == "Unconstrained optimum"
            # The runtime maps the handle's pixels back to data with data-scale-x/y.
            for axis, attr, value in (("x", "cx", optimum[0]), ("y", "cy", optimum[1])):
                d0, d1, p0, p1 = map(float, root.get(f"data-scale-{axis}").split())
                assert d0 + (float(handles[0].get(attr)) - p0) * (d1 - d0) / (p1 - p0) == pytest.approx(value, abs=0.01)
    root = parse(render_frame(w, {}).svg)
    assert next(root.iter(SVG_NS + "polygon")).get("class") == "lp-s1 lp-fill-1"  # the L1 diamond
    assert next(root.iter(SVG_NS + "ellipse")).get("class") == "lp-s2 lp-fill-2"  # the L2 disc
    texts = [el.text for el in root.iter(SVG_NS + "text")]
    assert "w₁" in texts and "w₂" in texts


# adam_decay -----------------------------------------------------------------------------------------------------------

def test_adam_decay_ratio_is_26_for_every_lambda(modules):
    w = modules["adam_decay"].adam_decay
    (lams,) = w.state_space()
    assert len(lams) == 20 and lams[0] == 0.005 and lams[-1] == 0.1
    for lam in lams:
        readouts = w(lam=lam).readouts
        assert readouts["ratio"] == "26×"
        assert readouts["quiet"] == pytest.approx(lam / 0.15)
        assert readouts["loud"] == pytest.approx(lam / 4)
        assert isinstance(readouts["quiet"], float) and isinstance(readouts["loud"], float)
    frame = render_frame(w, {}, CAPTIONS["adam_decay"])
    assert frame.readouts == {"ratio": "26×", "quiet": "0.267", "loud": "0.010"}
    assert "decayed 26× less" in frame.caption


def bars(root, cls):
    return [el for el in root.iter(SVG_NS + "rect") if el.get("class") == cls]


def test_adam_decay_bars(modules):
    w = modules["adam_decay"].adam_decay
    for lam in (0.005, 0.04, 0.1):
        root = parse(render_frame(w, {"lam": lam}).svg)
        adam_l2, adamw = bars(root, "lp-s1")[:4], bars(root, "lp-s2")[:4]  # the last of each is the legend's key
        assert len(bars(root, "lp-s1")) == len(bars(root, "lp-s2")) == 5
        heights = [float(r.get("height")) for r in adam_l2]
        assert heights == sorted(heights, reverse=True)  # quiet weights are decayed hardest
        assert len({r.get("height") for r in adamw}) == 1  # AdamW: the same λ for every weight
        # On a log axis the gap between quiet and LOUD is log10(4 / 0.15) decades whatever λ is.
        assert heights[0] - heights[-1] == pytest.approx(math.log10(4 / 0.15) * _pixels_per_decade(root), abs=0.02)
        assert "effective decay (log scale)" in [el.text for el in root.iter(SVG_NS + "text")]


def _pixels_per_decade(root):
    d0, d1, p0, p1 = map(float, root.get("data-scale-y").split())
    return abs((p1 - p0) / (d1 - d0))


def test_adam_decay_log10_is_accurate(modules):
    log10 = modules["adam_decay"].log10
    for x in (0.00125, 0.001, 0.0333, 0.04, 0.15, 0.5, 0.6667, 1.0, 4.0, 9.99, 10.0, 123.4):
        assert log10(x) == pytest.approx(math.log10(x), abs=1e-13)


# dropout --------------------------------------------------------------------------------------------------------------

def test_dropout_scaling_matches_train_and_test_at_every_keep(modules):
    w = modules["dropout"].dropout
    keeps, toggles, seeds = w.state_space()
    assert len(keeps) == 10 and toggles == [False, True] and seeds == list(range(8))
    for keep, seed in itertools.product(keeps, seeds):
        on = w(keep=keep, scaling=True, seed=seed).readouts
        assert on["train"] == 12.0 and on["test"] == 12.0 and on["match"] is True
        assert isinstance(on["train"], float)
        off = w(keep=keep, scaling=False, seed=seed).readouts
        assert off["train"] == pytest.approx(12 * keep, abs=1e-9) and off["test"] == 12.0
        assert off["match"] is False
        assert on["kept"] == off["kept"]  # the toggle does not change the mask
    frame = render_frame(w, {}, CAPTIONS["dropout"])
    assert frame.readouts == {"kept": "8/12", "train": "12.000", "test": "12.000", "match": "yes"}
    assert frame.caption == "train E[signal] = 12.0 · test signal = 12.0 · match? yes"
    off = render_frame(w, {"scaling": False, "keep": 0.5}, CAPTIONS["dropout"])
    assert off.readouts["train"] == "6.000" and off.readouts["match"] == "no"


def test_dropout_mask(modules):
    w = modules["dropout"].dropout
    keeps, _, seeds = w.state_space()
    for seed in seeds:
        kept = [int(w(keep=k, scaling=True, seed=seed).readouts["kept"].split("/")[0]) for k in keeps]
        assert kept == sorted(kept)  # a higher keep_prob only brings units back
        assert all(0 <= k <= 12 for k in kept)
        assert w(keep=0.7, scaling=True, seed=seed).readouts["kept"] == f"{kept[4]}/12"
    masks = {w(keep=0.7, scaling=True, seed=s).readouts["kept"] for s in seeds}
    assert len(masks) > 1  # re-rolling changes the mask


def test_dropout_figure(modules):
    w = modules["dropout"].dropout
    for state in ({}, {"scaling": False}, {"keep": 0.5, "seed": 3}):
        readouts = w(**state).readouts
        kept = int(readouts["kept"].split("/")[0])
        root = parse(render_frame(w, state).svg)
        train, test = bars(root, "lp-s1"), bars(root, "lp-s2")
        assert len(train) == kept + 1 and len(test) == 12 + 1  # unit bars and one total bar per row
        crosses = [el for el in root.iter(SVG_NS + "line") if el.get("class") == "lp-muted"]
        assert len(crosses) == 2 * (12 - kept)  # a cross for each dropped unit
        unit_heights = {r.get("height") for r in train[:-1]}
        assert len(unit_heights) <= 1  # every kept unit passes on the same value
    scaled = float(bars(parse(render_frame(w, {"keep": 0.5}).svg), "lp-s1")[0].get("height"))
    plain = float(bars(parse(render_frame(w, {"keep": 0.5, "scaling": False}).svg), "lp-s1")[0].get("height"))
    assert scaled == pytest.approx(2 * plain, abs=0.02)  # kept units × 1/p


# batchnorm_noise ------------------------------------------------------------------------------------------------------

def test_batchnorm_noise_at_batch_8(modules):
    w = modules["batchnorm_noise"].batchnorm_noise
    readouts = w().readouts
    assert readouts["noise"] == pytest.approx(1 / math.sqrt(8)) and readouts["batch"] == 8
    frame = render_frame(w, {}, CAPTIONS["batchnorm_noise"])
    assert frame.readouts == {"noise": "0.354", "batch": "8", "verdict": "strong incidental reg"}
    assert frame.caption == "batch 8 · noise σ/√n = 0.354 · strong incidental reg"


@pytest.mark.parametrize("batch, verdict", [(2, "strong incidental reg"), (24, "strong incidental reg"),
                                            (26, "mild"), (256, "mild")])
def test_batchnorm_verdict(modules, batch, verdict):
    assert modules["batchnorm_noise"].batchnorm_noise(batch=batch).readouts["verdict"] == verdict
    assert modules["batchnorm_noise"].verdict(0.05) == "negligible" and modules["batchnorm_noise"].verdict(0.0501) == "mild"


def dot_xs(svg):
    path = next(el for el in parse(svg).iter(SVG_NS + "path"))
    return [float(x) for x, _ in re.findall(r"M([-\d.]+) ([-\d.]+)h0", path.get("d"))]


def test_batchnorm_state_space_and_dots(modules):
    w = modules["batchnorm_noise"].batchnorm_noise
    batches, seeds = w.state_space()
    assert len(batches) * len(seeds) == 512 and batches[0] == 2 and batches[-1] == 256
    root = parse(render_frame(w, {}).svg)
    d0, d1, p0, p1 = map(float, root.get("data-scale-x").split())
    centre = p0 + (0 - d0) * (p1 - p0) / (d1 - d0)
    spreads = []
    for batch in (2, 8, 32, 128):
        xs = dot_xs(render_frame(w, {"batch": batch, "seed": 1}).svg)
        assert len(xs) == 24
        spreads.append(math.sqrt(sum((x - centre) ** 2 for x in xs) / len(xs)))
    assert spreads == sorted(spreads, reverse=True)  # the estimates close in on the true mean
    assert spreads[1] / spreads[3] == pytest.approx(4, rel=0.01)  # σ/√n: 16× the batch, a quarter the spread
    # The ±σ/√n band is as wide as two standard errors.
    band = next(el for el in root.iter(SVG_NS + "rect") if el.get("class") == "lp-fill-1")
    assert float(band.get("width")) == pytest.approx(2 / math.sqrt(8) * abs(p1 - p0) / (d1 - d0), abs=0.02)
    assert dot_xs(render_frame(w, {"seed": 0}).svg) != dot_xs(render_frame(w, {"seed": 1}).svg)

"""Widgets at build time: the first frame in the page, pre-computed frames, assets, and every error path."""

import json
import re

import pytest

HEAD = "---\ntitle: W\ndate: 2026-01-01\n---\n\n## Live\n\n"

TOY = '''
from labpress.kernel import Figure, Point, Slider, Toggle, View, widget

@widget(title="Toy", k=Slider(0, 2, value=1, step=0.5, label="k"), on=Toggle(True, label="On"),
        readouts={"y": "y value"})
def toy(k, on):
    f = Figure(x=(0, 2), y=(0, 4), title="Toy figure")
    f.axes("x", "y")
    f.polyline([(x / 10, k * (x / 10)) for x in range(21)])
    return View(f, {"y": k * 4 if on else 0.0, "on": on})
'''

DRAG = '''
from labpress.kernel import Figure, Point, View, widget

@widget(p=Point(value=(0.5, 0.5), x=(0, 1), y=(0, 1), label="P"))
def drag(p):
    f = Figure(x=(0, 1), y=(0, 1), title="Drag")
    f.handle("p", p[0], p[1], "P")
    return View(f, {"p": p})
'''


@pytest.fixture
def wsite(site):
    site.widget("toy", TOY)
    return site


def build_page(site, body: str):
    return site.build_post(HEAD + body)


def test_first_frame_controls_and_readouts_in_the_page(wsite):
    result, html = build_page(wsite, '::: widget toy\nk: 1.5\ncaption: "y is {y:.1f}, on? {on}"\n:::\n')
    assert result.returncode == 0, result.stderr
    assert '<figure class="widget" id="widget-toy-1" data-widget="toy"' in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="lp-figure"' in html
    assert '<output data-readout="y">6.000</output>' in html
    assert '<figcaption class="widget-caption">y is 6.0, on? yes</figcaption>' in html
    assert re.search(r'<label for="widget-toy-1-k">k</label><input type="range" id="widget-toy-1-k"[^>]* min="0" max="2" step="0.5" value="1.5">', html)
    assert '<input type="checkbox" role="switch" id="widget-toy-1-on" name="on" data-control="on" checked><label for="widget-toy-1-on">On</label>' in html
    assert '<span class="section-tag">interactive</span>' in html
    assert '<script type="module" src="/assets/runtime-' in html
    assert "<script>" not in html and " on" + "click=" not in html  # nothing inline: strict CSP works


def test_precomputed_frames_cover_the_state_space(wsite):
    result, html = build_page(wsite, "::: widget toy\n:::\n")
    assert result.returncode == 0, result.stderr
    url = re.search(r'data-frames="(/assets/frames/toy\.[0-9a-f]{10}\.json)"', html).group(1)
    frames = json.loads((wsite.out / url.lstrip("/")).read_text())["frames"]
    assert sorted(frames) == [f"{i}-{j}" for i in range(5) for j in range(2)]
    assert frames["3-1"]["readouts"]["y"] == "6.000" and frames["3-0"]["readouts"]["y"] == "0.000"


def test_no_frames_for_continuous_or_large_state_spaces(wsite):
    wsite.widget("drag", DRAG)
    result, html = build_page(wsite, "::: widget drag\n:::\n")
    assert result.returncode == 0, result.stderr
    assert "data-frames" not in html
    assert 'class="lp-handle" data-control="p"' in html
    wsite.config('title = "T"\n[widgets]\nmax_states = 4\n')
    result, html = build_page(wsite, "::: widget toy\n:::\n")
    assert result.returncode == 0 and "data-frames" not in html


def test_runtime_assets_written_once_per_site(wsite):
    wsite.post("q.md", HEAD + "::: widget toy\n:::\n")
    result, _ = build_page(wsite, "::: widget toy\n:::\n\n::: widget toy\nk: 2\n:::\n")
    assert result.returncode == 0, result.stderr
    assets = wsite.out / "assets"
    pyodide = [p.name for p in assets.glob("pyodide-*")]
    assert len(pyodide) == 1
    shipped = sorted(p.name for p in (assets / pyodide[0]).iterdir())
    snapshots = [name for name in shipped if re.fullmatch(r"snapshot-[0-9a-f]{16}\.bin\.gz", name)]
    assert len(snapshots) == 1, shipped  # the memory snapshot `make setup` made (test_pyodide_snapshot.py)
    assert [name for name in shipped if name not in snapshots] == sorted(
        ["pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"])
    python = next(assets.glob("python-*"))
    assert (python / "widgets" / "toy.py").is_file() and (python / "labpress" / "kernel" / "widget.py").is_file()
    config = json.loads(re.search(r'<script type="application/json" id="labpress-runtime">(.*?)</script>',
                                  (wsite.out / "p" / "index.html").read_text()).group(1))
    assert config["packages"] == "local" and "widgets/toy.py" in config["files"]
    assert config["pyodide"] == f"/assets/{pyodide[0]}/"
    assert config["snapshot"] == f"/assets/{pyodide[0]}/{snapshots[0]}" and len(config["kernel"]) == 64
    runtime = next(assets.glob("runtime-*"))
    assert sorted(p.name for p in runtime.iterdir()) == ["bootstrap.py", "contract.js", "controls.js", "frames.js", "loader.js",
                                                         "main.js", "patch.js", "share.js", "snapshot.js", "urlstate.js", "widget.js",
                                                         "worker-client.js", "worker.js"]
    assert f'<link rel="modulepreload" href="/assets/{runtime.name}/frames.js">' in (wsite.out / "p" / "index.html").read_text()
    page = (wsite.out / "p" / "index.html").read_text()
    assert 'id="widget-toy-1"' in page and 'id="widget-toy-2"' in page


def test_pages_without_widgets_load_no_runtime(wsite):
    result, html = build_page(wsite, "Plain text.\n")
    assert result.returncode == 0, result.stderr
    assert "labpress-runtime" not in html and not list(wsite.out.glob("assets/pyodide-*"))


@pytest.mark.parametrize(
    "body, expected",
    [
        ("::: widget toi\n:::\n", "content/p.md:8:11: error: unknown widget 'toi' (did you mean 'toy'?); widgets in widgets/: toy"),
        ("::: widget toy\nk: 7\n:::\n", "content/p.md:9:4: error: widget 'toy': 'k' must be between 0 and 2, not 7"),
        ("::: widget toy\non: maybe\n:::\n", "content/p.md:9:5: error: widget 'toy': 'on' must be true or false, not 'maybe'"),
        ("::: widget toy\nkk: 1\n:::\n", "content/p.md:9:1: error: widget 'toy' has no control 'kk'; its controls: k, on"),
        ("::: widget toy\ncaption: \"{nope}\"\n:::\n", "content/p.md:8:1: error: widget 'toy': kernel error: the caption cannot be filled in: KeyError: 'nope'"),
        ("::: widget toy\nk: [1\n:::\n", "content/p.md:9:6: error: widget settings are not valid YAML: expected ',' or ']', but got '<stream end>'"),
        ("::: widget\n:::\n", "content/p.md:8:1: error: a widget block names one widget: '::: widget NAME'"),
    ],
)
def test_widget_block_errors(wsite, body, expected):
    result, _ = build_page(wsite, body)
    assert result.returncode == 1
    assert result.errors == [expected], result.stderr


def test_kernel_exception_names_the_kernel_file_and_line(wsite):
    wsite.widget("boom", '''
    from labpress.kernel import Slider, View, widget

    @widget(x=Slider(0, 1, value=0, step=0.5))
    def boom(x):
        return View("<svg/>", {"r": 1 / x})
    ''')
    result, _ = build_page(wsite, "::: widget boom\n:::\n")
    assert result.errors == ["content/p.md:8:1: error: widget 'boom': kernel error: ZeroDivisionError: float division by zero"
                             " (at widgets/boom.py:6)"]


def test_kernel_returning_no_view(wsite):
    wsite.widget("bad", '''
    from labpress.kernel import Toggle, widget

    @widget(t=Toggle())
    def bad(t):
        return "<svg/>"
    ''')
    result, _ = build_page(wsite, "::: widget bad\n:::\n")
    assert result.returncode == 1
    assert "widget 'bad': kernel error: the kernel returned str, not a View" in result.errors[0]


def test_numpy_kernel_is_refused_with_the_fix(wsite):
    wsite.widget("heavy", '''
    import math
    import numpy as np
    from labpress.kernel import Toggle, View, widget

    @widget(t=Toggle())
    def heavy(t):
        return View("<svg/>", {"x": float(np.pi)})
    ''')
    result, _ = build_page(wsite, "::: widget heavy\n:::\n")
    assert result.returncode == 1
    assert result.errors == [
        "content/p.md:8:1: error: kernel imports 'numpy', which the self-hosted Pyodide cannot load: write the kernel in"
        " pure Python (standard library and labpress.kernel), or set `packages = \"cdn\"` under [pyodide] in"
        " labpress.toml to load Pyodide's packages from its CDN when a reader opens the page (widgets/heavy.py:3:1)"]
    pytest.importorskip("numpy")
    wsite.config('title = "T"\n[pyodide]\npackages = "cdn"\n')
    result, html = build_page(wsite, "::: widget heavy\n:::\n")
    assert result.returncode == 0, result.stderr
    assert '"packages": "cdn"' in html and "cdn.jsdelivr.net/pyodide/v" in html


def test_kernel_may_not_import_the_build(wsite):
    wsite.widget("sneaky", "from labpress.site.pipeline import build_site\n")
    result, _ = build_page(wsite, "::: widget sneaky\n:::\n")
    assert "a kernel may import only labpress.kernel from LabPress, not 'labpress.site.pipeline' (widgets/sneaky.py:1:1)" in result.errors[0]


def test_helper_modules_are_shipped(wsite):
    wsite.widget("shapes", "def square(x):\n    return x * x\n")
    wsite.widget("user", '''
    from labpress.kernel import Toggle, View, widget
    from shapes import square

    @widget(t=Toggle())
    def user(t):
        return View("<svg/>", {"v": square(3)})
    ''')
    result, html = build_page(wsite, "::: widget user\n:::\n")
    assert result.returncode == 0, result.stderr
    assert next(wsite.out.glob("assets/python-*/widgets/shapes.py")).is_file()
    assert '<output data-readout="v">9</output>' in html


@pytest.mark.parametrize("indent", ["", "   ", "> "])
def test_block_yaml_in_a_widget_body_keeps_its_indentation(site, indent):
    from support import DIAL

    site.widget("dial", DIAL)
    body = ["::: widget dial", "caption: >", "  folded over", "  two lines", "k: 1", ":::"]
    text = "---\ntitle: Dial\ndate: 2026-02-02\n---\n\n" + "\n".join(indent + line for line in body) + "\n"
    result, html = site.build_post(text)
    assert result.returncode == 0, result.stderr
    assert '<figcaption class="widget-caption">folded over two lines\n</figcaption>' in html

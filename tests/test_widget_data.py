"""Widget kernels that read data files: tracked at build, shipped once per site, read at the same path in Pyodide."""

from __future__ import annotations

import json
import re

import pytest

from labpress.site.pipeline import build_site
from support import StaticServer, tree

POINTS = "x,y\n1,4.0\n2,8.1\n3,12.0\n"

KERNEL = '''
import csv
from labpress.kernel import Figure, Slider, View, widget

with open("data/points.csv", newline="") as handle:
    ROWS = [(float(x), float(y)) for x, y in list(csv.reader(handle))[1:]]


def limits():
    with open("data/limits.txt") as handle:  # read again for every frame
        return float(handle.read())


@widget(scale=Slider(0.5, 2, value=1, step=0.5, label="scale"))
def spring(scale):
    top = limits()
    fig = Figure(x=(0, 4), y=(0, top), title="Points")
    for x, y in ROWS:
        fig.circle(x, min(y * scale, top))
    return View(fig, {"n": len(ROWS), "top": max(y for _, y in ROWS) * scale})
'''

POST = """---
title: Spring data
date: 2026-02-02
---

::: widget spring
caption: "{n} points, highest {top:.1f}"
:::
"""


def make(site, points: str = POINTS) -> None:
    (site.root / "data").mkdir(exist_ok=True)
    (site.root / "data" / "points.csv").write_text(points)
    (site.root / "data" / "limits.txt").write_text("30\n")
    (site.root / "data" / "unused.csv").write_text("not read by anything\n")
    site.widget("spring", KERNEL)
    site.post("p.md", POST)


def shipped(site) -> dict[str, bytes]:
    [python] = (site.out / "assets").glob("python-*")
    return {p.relative_to(python).as_posix(): p.read_bytes() for p in python.rglob("*") if p.is_file()}


def test_kernel_data_files_ship_beside_the_kernels(site):
    make(site)
    result = site.build()
    assert result.returncode == 0, result.stderr
    files = shipped(site)
    assert files["data/points.csv"] == POINTS.encode() and files["data/limits.txt"] == b"30\n"
    assert "data/unused.csv" not in files  # only what a kernel read
    page = (site.out / "p" / "index.html").read_text()
    settings = json.loads(re.search(r'<script type="application/json" id="labpress-runtime">(.*?)</script>',
                                    page, re.S).group(1))
    assert {"data/limits.txt", "data/points.csv", "widgets/spring.py"} <= set(settings["files"])
    assert "3 points, highest 12.0" in page


def test_editing_a_kernels_data_file_renders_its_posts_again(site, tmp_path):
    make(site)
    site.post("other.md", POST.replace("Spring data", "Unrelated").split(":::")[0] + "No widget.\n")
    assert sorted(build_site(site.root).rendered_posts) == ["content/other.md", "content/p.md"]
    assert build_site(site.root).rendered_posts == []
    (site.root / "data" / "points.csv").write_text(POINTS + "4,20.0\n")
    assert build_site(site.root).rendered_posts == ["content/p.md"]
    page = (site.out / "p" / "index.html").read_text()
    assert "4 points, highest 20.0" in page
    assert shipped(site)["data/points.csv"].endswith(b"4,20.0\n")
    (site.root / "data" / "limits.txt").write_text("25\n")  # read while drawing, not while importing
    assert build_site(site.root).rendered_posts == ["content/p.md"]
    clean = tmp_path / "clean"
    assert site.build("--no-cache", "--out", str(clean)).returncode == 0
    assert tree(site.out) == tree(clean)


def test_a_kernel_reading_a_missing_data_file_is_an_error_at_its_line(site):
    make(site)
    (site.root / "data" / "points.csv").unlink()
    result = site.build()
    assert result.returncode == 1
    assert len(result.errors) == 1 and "FileNotFoundError" in result.errors[0]
    assert "(widgets/spring.py:5)" in result.errors[0], result.errors


@pytest.mark.browser
def test_pyodide_reads_the_same_data_files(site, browser):
    make(site)
    assert site.build().returncode == 0, "build"
    frames_url = re.search(r'data-frames="([^"]+)"', (site.out / "p" / "index.html").read_text()).group(1)
    frames = json.loads((site.out / frames_url.lstrip("/")).read_text())["frames"]
    server = StaticServer(site.out)
    try:
        context = browser.new_context()
        page = context.new_page()
        errors = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(server.url + "p/?labpress-force-pyodide=1", wait_until="load")
        page.evaluate("() => window.labpress.ready")
        assert page.evaluate("() => window.labpress.pyodideReady()") is True, "Pyodide did not start"
        for key, scale in (("0", 0.5), ("3", 2.0)):
            result = page.evaluate("([id, state]) => window.labpress.widgets.get(id).render(state)",
                                   ["widget-spring-1", {"scale": scale}])
            assert "error" not in result, result
            assert result["svg"] == frames[key]["svg"] and result["caption"] == frames[key]["caption"]
        assert errors == []
        context.close()
    finally:
        server.close()

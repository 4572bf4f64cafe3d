"""A wheel carries the theme, the widget API and runtime, KaTeX and Pyodide: installed into a
fresh virtual environment, with no node_modules anywhere, `labpress new` + `labpress build` work."""

import os
import subprocess
import sys
import zipfile

import pytest

from conftest import REPO
from support import DIAL

@pytest.mark.skipif(not (REPO / "node_modules" / "katex").is_dir(), reason="a wheel is built after `npm ci`")
def test_wheel_builds_a_site_without_node_modules(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)],
                   check=True, capture_output=True, text=True)
    wheel = next(dist.glob("labpress-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("labpress/_themes/default/templates/base.html", "labpress/kernel/widget.py",
                   "labpress/browser/runtime/main.js", "labpress/browser/runtime/worker.js",
                   "labpress/browser/runtime/loader.js", "labpress/browser/runtime/bootstrap.py", "labpress/browser/reload.js",
                   "labpress/_vendor/katex/dist/katex.min.js", "labpress/_vendor/katex/dist/contrib/mhchem.js",
                   "labpress/_vendor/pyodide/pyodide.asm.wasm"):
        assert needed in names, needed
    assert not [n for n in names if n.endswith((".woff", ".ttf"))]

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
                   check=True, capture_output=True, text=True)

    site = tmp_path / "notebook"
    (site / "widgets").mkdir(parents=True)
    (site / "labpress.toml").write_text('title = "My notebook"\n[series.first]\ntitle = "First steps"\n')
    (site / "widgets" / "dial.py").write_text(DIAL)
    env = {k: v for k, v in os.environ.items() if k != "LABPRESS_NODE_MODULES"}
    labpress = str(venv / "bin" / "labpress")
    made = subprocess.run([labpress, "new", "First light", "--series", "first"], cwd=site, env=env,
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    post = site / "content" / "first-light.md"
    post.write_text(post.read_text().replace("## Method\n", "## Method\n\nEnergy $E = mc^2$ from $\\ce{2H2 + O2 -> 2H2O}$.\n\n::: widget dial\n:::\n"))
    built = subprocess.run([labpress, "build", "--drafts"], cwd=site, env=env, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    assert not any(p.name == "node_modules" for p in tmp_path.rglob("node_modules"))
    page = (site / "build" / "first-light" / "index.html").read_text()
    assert '<span class="katex">' in page and 'id="widget-dial-1"' in page
    assert "\\ce{2H2 + O2 -&gt; 2H2O}</annotation>" in page  # mhchem, from the wheel
    out = site / "build" / "assets"
    assert list(out.glob("katex/fonts/*.woff2")) and list(out.glob("pyodide-*/pyodide.asm.wasm"))
    assert list(out.glob("python-*/labpress/kernel/widget.py")) and list(out.glob("runtime-*/worker.js"))

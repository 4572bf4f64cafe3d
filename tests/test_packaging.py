"""A wheel carries the theme, the widget API and runtime, KaTeX and Pyodide, and the notebook `labpress init`
writes: installed into a fresh virtual environment, with no node_modules anywhere, `labpress init` starts a
notebook that `labpress build`, `labpress new`, `labpress check` and `labpress serve` all work on.

The wheel is built here from the checkout (after `npm ci`), or is the one $LABPRESS_WHEEL names (the release
workflow tests the wheel it is about to publish)."""

import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
import zipfile
from pathlib import Path

import pytest

from conftest import REPO
from support import wait_until
from test_init import WRITTEN, listed

GIVEN_WHEEL = os.environ.get("LABPRESS_WHEEL")


def serve_and_fetch(labpress: str, site: Path, env: dict, *paths: str) -> dict[str, str]:
    """Start `labpress serve SITE --port 0`, read the URL it prints, fetch each path, stop it with Ctrl-C."""
    process = subprocess.Popen([labpress, "serve", str(site), "--port", "0"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8")
    lines: list[str] = []
    errors: list[str] = []
    readers = [threading.Thread(target=lambda s=s, out=out: out.extend(s), daemon=True)
               for s, out in ((process.stdout, lines), (process.stderr, errors))]
    for reader in readers:
        reader.start()
    try:
        def url():
            assert process.poll() is None, f"labpress serve exited with {process.returncode}:\n{''.join(errors)}"
            found = re.search(r"http://127\.0\.0\.1:\d+/", "".join(lines))
            return found and found.group(0)

        base = wait_until(url, "labpress serve to print its URL", timeout=60)
        pages = {}
        for path in paths:
            with urllib.request.urlopen(base + path, timeout=30) as response:
                assert response.status == 200, path
                pages[path] = response.read().decode("utf-8")
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0, "".join(errors)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        for reader in readers:
            reader.join(10)
    assert "Traceback" not in "".join(errors), "".join(errors)
    return pages


@pytest.mark.skipif(not GIVEN_WHEEL and not (REPO / "node_modules" / "katex").is_dir(),
                    reason="a wheel is built after `npm ci`")
def test_wheel_starts_builds_checks_and_serves_a_notebook_without_node_modules(tmp_path):
    if GIVEN_WHEEL:
        wheel = Path(GIVEN_WHEEL)
    else:
        dist = tmp_path / "dist"
        subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)],
                       check=True, capture_output=True, text=True)
        wheel = next(dist.glob("labpress-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("labpress/_themes/default/templates/base.html", "labpress/kernel/widget.py",
                   "labpress/browser/runtime/main.js", "labpress/browser/runtime/worker.js",
                   "labpress/browser/runtime/loader.js", "labpress/browser/runtime/bootstrap.py", "labpress/browser/reload.js",
                   "labpress/_vendor/katex/dist/katex.min.js", "labpress/_vendor/katex/dist/contrib/mhchem.js",
                   "labpress/_vendor/pyodide/pyodide.asm.wasm",
                   "labpress/_vendor/pyodide/labpress-snapshot/manifest.json",
                   "labpress/_vendor/pyodide/labpress-snapshot/snapshot.bin.gz",
                   "labpress/starter/files/labpress.toml", "labpress/starter/files/dot-github/workflows/pages.yml"):
        assert needed in names, needed
    assert not [n for n in names if n.endswith((".woff", ".ttf"))]

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
                   check=True, capture_output=True, text=True)
    env = {k: v for k, v in os.environ.items() if k not in ("LABPRESS_NODE_MODULES", "PYTHONPATH")}
    labpress = str(venv / "bin" / "labpress")

    def run(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess:
        done = subprocess.run([labpress, *args], cwd=cwd, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"labpress {' '.join(args)}:\n{done.stderr}"
        return done

    # Start a notebook: the same files as from a checkout, and it builds at once.
    made = run("init", "site")
    assert listed(made.stdout) == WRITTEN
    site = tmp_path / "site"
    assert 'LABPRESS_VERSION: "' in (site / ".github" / "workflows" / "pages.yml").read_text()
    run("build", "site")
    page = (site / "build" / "cooling-tea" / "index.html").read_text()
    assert '<span class="katex">' in page and 'id="widget-cooling-1"' in page
    assert '<figure class="data-table"' in page and '<figure class="py-figure">' in page
    assert "= 0.045 per minute" in page

    # The next post of its series, with chemistry (mhchem comes from the wheel), then a check.
    run("new", "Does a lid keep tea warm?", "--series", "kitchen-physics", cwd=site)
    post = site / "content" / "does-a-lid-keep-tea-warm.md"
    text = post.read_text()
    assert "exp: 2\n" in text and "step: 2\n" in text
    post.write_text(text.replace("## Method\n", "## Method\n\nTea is mostly $\\ce{H2O}$, and $E = mc^2$.\n"))
    checked = run("check", "site")
    assert "No problems found" in checked.stdout
    run("build", "site", "--drafts")
    draft = (site / "build" / "does-a-lid-keep-tea-warm" / "index.html").read_text()
    assert "\\ce{H2O}</annotation>" in draft
    assert not any(p.name == "node_modules" for p in tmp_path.rglob("node_modules"))
    out = site / "build" / "assets"
    assert list(out.glob("katex/fonts/*.woff2")) and list(out.glob("pyodide-*/pyodide.asm.wasm"))
    assert list(out.glob("pyodide-*/snapshot-*.bin.gz"))  # the wheel's snapshot holds the wheel's kernel
    assert list(out.glob("python-*/labpress/kernel/widget.py")) and list(out.glob("runtime-*/worker.js"))
    assert list(out.glob("python-*/data/cooling.csv"))  # the data file the widget reads, for the browser

    # Serve it: the dev server builds it, serves the pages, and stops on Ctrl-C.
    served = serve_and_fetch(labpress, site, env, "", "cooling-tea/")
    assert "Does a mug of tea cool the way Newton said?" in served[""]
    assert 'id="widget-cooling-1"' in served["cooling-tea/"]

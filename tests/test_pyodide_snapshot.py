"""The Pyodide memory snapshot (widgets/snapshot.py, make_snapshot.mjs, worker.js): made at set-up,
shipped only when it fits, restored by the worker, and a plain start whenever it cannot be used."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from labpress.widgets.snapshot import FOLDER, KERNEL_DIR, find_snapshot, kernel_digest, kernel_sources
from support import StaticServer, open_context

REPO = Path(__file__).resolve().parent.parent
PYODIDE = REPO / "node_modules" / "pyodide"
needs_snapshot = pytest.mark.skipif(not (PYODIDE / FOLDER / "manifest.json").is_file(),
                                    reason="no Pyodide snapshot: `make setup` makes it after `npm ci`")


def unpack(data: bytes) -> bytes:
    """The memory a snapshot file holds (its format: make_snapshot.mjs packPages)."""
    body = gzip.decompress(data)
    assert body[:8] == b"LPSNAP\0\x01"
    size, page_size, count = struct.unpack_from("<3I", body, 8)
    pages = struct.unpack_from(f"<{count}I", body, 20)
    memory = bytearray(size)
    for i, page in enumerate(pages):
        chunk = body[20 + 4 * count + i * page_size:][:page_size]
        memory[page * page_size:page * page_size + page_size] = chunk[:size - page * page_size]
    return bytes(memory)


def pack(memory: bytes, page_size: int = 4096) -> bytes:
    pages = [n for n in range((len(memory) + page_size - 1) // page_size) if memory[n * page_size:(n + 1) * page_size].strip(b"\0")]
    head = b"LPSNAP\0\x01" + struct.pack(f"<3I{len(pages)}I", len(memory), page_size, len(pages), *pages)
    return gzip.compress(head + b"".join(memory[n * page_size:(n + 1) * page_size].ljust(page_size, b"\0") for n in pages),
                         compresslevel=1)


def pyodide_version() -> str:
    return json.loads((PYODIDE / "package.json").read_text())["version"]


def runtime_config(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="labpress-runtime">(.*?)</script>', html).group(1))


# --- made at set-up, checked by the build ------------------------------------------------------


@needs_snapshot
def test_the_checkouts_snapshot_holds_todays_kernel_and_pyodide():
    manifest = json.loads((PYODIDE / FOLDER / "manifest.json").read_text())
    assert manifest["kernel"] == kernel_digest(kernel_sources()), "the kernel changed since `make setup` made the snapshot"
    assert manifest["pyodide"] == pyodide_version()
    assert manifest["build_id"] in (PYODIDE / "pyodide.mjs").read_text()
    data = (PYODIDE / FOLDER / manifest["file"]).read_bytes()
    assert len(data) == manifest["bytes"] and hashlib.sha256(data).hexdigest() == manifest["sha256"]
    raw = unpack(data)
    assert len(raw) == manifest["raw_bytes"] and raw[:4] != bytes(4)  # Pyodide's magic number first
    found, why = find_snapshot(PYODIDE, pyodide_version(), manifest["kernel"])
    assert found is not None and why == "" and found.data == data


@pytest.mark.skipif(shutil.which("node") is None, reason="node computes the digest in make_snapshot.mjs")
def test_node_and_python_compute_the_same_kernel_digest(tmp_path):
    (tmp_path / "a.py").write_bytes(b"x = 1\n")
    (tmp_path / "b_c.py").write_bytes("é = 'ü'\n".encode())
    (tmp_path / "B.py").write_bytes(b"")
    script = ("import fs from 'node:fs'; import path from 'node:path';"
              f"import {{ kernelDigest }} from {json.dumps((REPO / 'generator/widgets/make_snapshot.mjs').as_uri())};"
              "const dir = process.argv[1];"
              "const files = fs.readdirSync(dir).filter(n => n.endsWith('.py')).map(n => [n, fs.readFileSync(path.join(dir, n))]);"
              "process.stdout.write(kernelDigest(files));")
    for folder in (tmp_path, KERNEL_DIR):
        done = subprocess.run(["node", "--input-type=module", "-e", script, str(folder)],
                              capture_output=True, text=True, check=True)
        assert done.stdout == kernel_digest(kernel_sources(folder))


def fake_pyodide(tmp_path: Path, **manifest_changes) -> tuple[Path, dict]:
    """A Pyodide folder with a snapshot of its own: (folder, manifest as written)."""
    folder = tmp_path / "pyodide"
    (folder / FOLDER).mkdir(parents=True)
    data = gzip.compress(b"\0" * 4096, mtime=0)
    (folder / FOLDER / "snapshot.bin.gz").write_bytes(data)
    manifest = {"format": 1, "pyodide": "1.2.3", "build_id": "b", "kernel": "k" * 64, "file": "snapshot.bin.gz",
                "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "raw_bytes": 4096, **manifest_changes}
    (folder / FOLDER / "manifest.json").write_text(json.dumps(manifest))
    return folder, manifest


def test_a_snapshot_is_used_only_when_it_fits(tmp_path):
    folder, manifest = fake_pyodide(tmp_path)
    found, why = find_snapshot(folder, "1.2.3", "k" * 64)
    assert found is not None and found.raw_bytes == 4096 and why == ""

    assert find_snapshot(folder, "1.2.4", "k" * 64) == (None, "it was made for Pyodide 1.2.3, the site ships 1.2.4")
    found, why = find_snapshot(folder, "1.2.3", "j" * 64)
    assert found is None and "older labpress.kernel" in why

    (folder / FOLDER / "snapshot.bin.gz").write_bytes(b"\x1f\x8b damaged")
    found, why = find_snapshot(folder, "1.2.3", "k" * 64)
    assert found is None and "is damaged" in why

    (folder / FOLDER / "snapshot.bin.gz").unlink()
    found, why = find_snapshot(folder, "1.2.3", "k" * 64)
    assert found is None and "cannot be read" in why

    (folder / FOLDER / "manifest.json").write_text("{not json")
    found, why = find_snapshot(folder, "1.2.3", "k" * 64)
    assert found is None and "cannot be read" in why

    folder, _ = fake_pyodide(tmp_path / "escape", file="../../etc/passwd")
    found, why = find_snapshot(folder, "1.2.3", "k" * 64)
    assert found is None and "not a snapshot manifest" in why

    empty = tmp_path / "none"
    empty.mkdir()
    assert find_snapshot(empty, "1.2.3", "k" * 64) == (None, "")  # none at all: nothing to say


def node_modules_with(tmp_path: Path, snapshot_manifest: dict | None) -> Path:
    """A node_modules folder of links to the checkout's, whose Pyodide has the given snapshot manifest
    (or none at all)."""
    modules = tmp_path / "node_modules"
    modules.mkdir(parents=True)
    for package in (REPO / "node_modules").iterdir():
        if package.name != "pyodide":
            (modules / package.name).symlink_to(package)
    (modules / "pyodide").mkdir()
    for item in PYODIDE.iterdir():
        if item.name != FOLDER:
            (modules / "pyodide" / item.name).symlink_to(item)
    if snapshot_manifest is not None:
        (modules / "pyodide" / FOLDER).mkdir()
        shutil.copyfile(PYODIDE / FOLDER / "snapshot.bin.gz", modules / "pyodide" / FOLDER / "snapshot.bin.gz")
        (modules / "pyodide" / FOLDER / "manifest.json").write_text(json.dumps(snapshot_manifest))
    return modules


WIDGET = '''from labpress.kernel import Figure, Slider, View, widget


@widget(k=Slider(0.0, 1.0, value=0.5, step=0.5, label="k"))
def toy(k):
    return View(svg=Figure(width=100, height=60).to_svg(), readouts={"k": k})
'''


@needs_snapshot
def test_a_build_ships_the_snapshot_that_fits_and_says_once_why_not_another(site, tmp_path_factory):
    site.widget("toy", WIDGET)
    site.post("p.md", "---\ntitle: P\ndate: 2026-01-01\n---\n\n::: widget toy\n:::\n")
    result = site.build()
    assert result.returncode == 0, result.stderr
    config = runtime_config((site.out / "p" / "index.html").read_text())
    shipped = site.out / config["snapshot"].lstrip("/")
    assert shipped.read_bytes() == (PYODIDE / FOLDER / "snapshot.bin.gz").read_bytes()
    assert config["kernel"] == kernel_digest(kernel_sources())
    assert "snapshot" not in result.stderr

    manifest = json.loads((PYODIDE / FOLDER / "manifest.json").read_text())
    stale = node_modules_with(tmp_path_factory.mktemp("stale"), {**manifest, "kernel": "0" * 64})
    env = {**os.environ, "LABPRESS_NODE_MODULES": str(stale)}
    done = subprocess.run([sys.executable, "-m", "labpress", "build", str(site.root)], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("the Pyodide snapshot is not shipped") == 1, done.stderr
    assert "older labpress.kernel" in done.stderr and "make setup" in done.stderr
    config = runtime_config((site.out / "p" / "index.html").read_text())
    assert config["snapshot"] == "" and not list(site.out.glob("assets/pyodide-*/snapshot-*"))

    none = node_modules_with(tmp_path_factory.mktemp("none"), None)  # a site's own node_modules without a snapshot: quietly none
    done = subprocess.run([sys.executable, "-m", "labpress", "build", str(site.root)],
                          env={**os.environ, "LABPRESS_NODE_MODULES": str(none)}, capture_output=True, text=True)
    assert done.returncode == 0 and "snapshot" not in done.stderr, done.stderr
    assert runtime_config((site.out / "p" / "index.html").read_text())["snapshot"] == ""


# --- restored in the browser ---------------------------------------------------------------------

POST = "dials-and-handles/"
LIVE = "widget-mirror-1"  # a point handle: never pre-computed, always Pyodide
STATES = [{"slope": 0.5, "spot": [0.3, 0.2]}, {"slope": -1.25, "spot": [-0.9, 0.7]}, {}]


def start_and_render(browser, out: Path, block_snapshot: bool = False, route=None) -> tuple[dict, list[dict]]:
    """Pyodide started on the fixture's widget page: (how the worker started, the frames for STATES)."""
    server = StaticServer(out)
    try:
        with open_context(browser) as context:
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            if block_snapshot:
                page.route("**/snapshot-*.bin.gz", lambda route: route.abort())
            elif route is not None:
                page.route("**/snapshot-*.bin.gz", route)
            page.goto(server.url + POST + "?labpress-force-pyodide=1", wait_until="load")
            page.evaluate("() => window.labpress.ready")
            assert page.evaluate("() => window.labpress.pyodideReady()") is True, "Pyodide did not start"
            workers = [w for w in page.workers if w.url.endswith("/worker.js")]
            assert len(workers) == 1, [w.url for w in page.workers]
            started = workers[0].evaluate("() => self.labpressStart")
            frames = [page.evaluate("([id, state]) => window.labpress.widgets.get(id).render(state)", [LIVE, state])
                      for state in STATES]
            assert errors == [], errors
            return started, frames
    finally:
        server.close()


def copy_build(source: Path, dest: Path) -> tuple[Path, Path]:
    """A copy of a build to break: (the copy, its snapshot file)."""
    shutil.copytree(source, dest)
    config = runtime_config((dest / POST / "index.html").read_text())
    return dest, dest / config["snapshot"].lstrip("/")


@pytest.fixture(scope="module")
def plain_frames(browser, notebook_build, tmp_path_factory):
    """The frames of a plain start, which a truncated snapshot forces (gzip's check fails): each plain start
    costs seconds, so this one is also the truncated case of the broken snapshots below."""
    out, snapshot = copy_build(notebook_build, tmp_path_factory.mktemp("truncated") / "out")
    snapshot.write_bytes(snapshot.read_bytes()[: snapshot.stat().st_size // 2])
    started, frames = start_and_render(browser, out)
    assert started["start"] == "plain" and started["fallback"], started
    for frame in frames:
        assert "error" not in frame and frame["svg"].startswith("<svg"), frame
    return frames


@needs_snapshot
@pytest.mark.browser
def test_a_worker_restored_from_the_snapshot_renders_what_a_plain_start_does(browser, notebook_build, plain_frames):
    started, frames = start_and_render(browser, notebook_build)
    assert started["start"] == "snapshot" and started["fallback"] == "", started
    assert frames == plain_frames


@needs_snapshot
@pytest.mark.browser
def test_a_snapshot_the_host_sent_with_content_encoding_is_restored_too(browser, notebook_build, plain_frames):
    """Some hosts send any .gz with `Content-Encoding: gzip`: the browser then hands the worker the file inflated."""
    config = runtime_config((notebook_build / POST / "index.html").read_text())
    inflated = gzip.decompress((notebook_build / config["snapshot"].lstrip("/")).read_bytes())
    started, frames = start_and_render(browser, notebook_build, route=lambda route: route.fulfill(
        status=200, body=inflated, headers={"Content-Type": "application/octet-stream"}))
    assert started["start"] == "snapshot" and "snapshot inflated" not in started["phases"], started
    assert frames == plain_frames


@needs_snapshot
@pytest.mark.browser
@pytest.mark.parametrize("damage", ["unreachable", "another build"])
def test_a_broken_snapshot_falls_back_to_a_plain_start(browser, notebook_build, plain_frames, tmp_path, damage):
    """Besides the truncated snapshot plain_frames starts from: a request that fails, and a snapshot of another
    Pyodide build, which Pyodide refuses."""
    if damage == "unreachable":
        started, frames = start_and_render(browser, notebook_build, block_snapshot=True)
        expected = ""
    else:
        out, snapshot = copy_build(notebook_build, tmp_path / "out")
        raw = bytearray(unpack(snapshot.read_bytes()))
        raw[16] ^= 0xFF  # the build id Pyodide checks
        snapshot.write_bytes(pack(bytes(raw)))
        started, frames = start_and_render(browser, out)
        expected = "build id mismatch"
    assert started["start"] == "plain" and started["fallback"], started
    assert expected in started["fallback"], started
    assert frames == plain_frames


@needs_snapshot
@pytest.mark.browser
def test_a_snapshot_of_another_kernel_gives_way_to_the_kernel_the_site_ships(browser, notebook_build, plain_frames, tmp_path):
    out, _ = copy_build(notebook_build, tmp_path / "out")
    widget_py = next(out.glob("assets/python-*/labpress/kernel/widget.py"))
    widget_py.write_text(widget_py.read_text() + (
        "\n\n_shipped_render_json = render_json\n\n\n"
        "def render_json(*args, **kwargs):\n"
        "    return _shipped_render_json(*args, **kwargs).replace('lp-figure', 'lp-figure lp-shipped-kernel', 1)\n"))
    page = out / POST / "index.html"
    config = runtime_config(page.read_text())
    page.write_text(page.read_text().replace(config["kernel"], "f" * 64))  # the digest of what this site ships
    started, frames = start_and_render(browser, out)
    assert started["start"] == "snapshot", started
    for frame, plain in zip(frames, plain_frames):
        assert frame["svg"] == plain["svg"].replace("lp-figure", "lp-figure lp-shipped-kernel", 1)

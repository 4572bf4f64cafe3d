"""What a site with widgets ships: the browser runtime, Pyodide's core, the Python
the worker imports (the widget API and the kernels), and pre-computed frames.

Everything is written once per site, under content-hashed or versioned folders,
so a browser may cache it for good.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from labpress.theme.lookup import find_node_package, package_version
from labpress.errors import ConfigError, warn
from labpress.widgets.library import KERNEL_DIR
from labpress.widgets.snapshot import find_snapshot, kernel_digest

RUNTIME_DIR = Path(__file__).resolve().parent.parent / "browser" / "runtime"
PYODIDE_CORE = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
PYODIDE_CDN = "https://cdn.jsdelivr.net/pyodide/v{version}/full/"
_BROWSER_PACKAGE_INIT = '"""LabPress\'s widget API, as shipped to the browser (labpress.kernel only)."""\n'


RUNTIME_FILES = ("loader.js", "main.js", "worker.js", "bootstrap.py")  # and the modules they import
WORKER_ONLY = ("snapshot.js",)  # imported by worker.js alone: the page does not preload it


@dataclass(frozen=True)
class WidgetRuntime:
    script: str  # URL path of main.js, relative to the site root (preloaded; loader.js imports it)
    config_json: Markup  # the #labpress-runtime JSON, safe inside <script type="application/json">
    modules: tuple[str, ...] = ()  # the modules main.js imports (preloaded beside it)
    loader: str = ""  # URL path of loader.js, the page's one module script: it starts main.js after the first paint
    python: str = ""  # URL path of the folder of Python the worker imports (the kernels are in its widgets/)

    def kernel_file(self, name: str) -> str:
        """URL path of a kernel module (``dial.py``, or a helper) as shipped to the browser."""
        return f"{self.python}widgets/{name}"


def _digest(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + files[name] + b"\0")
    return h.hexdigest()[:10]


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    """Once per process: ``labpress serve`` builds again at every edit."""
    if message not in _warned:
        _warned.add(message)
        warn(message)


def write_widget_assets(site, config, tree) -> WidgetRuntime | None:
    instances = [w for post in site.posts for w in post.body.widgets]
    if not instances:
        return None
    for instance in instances:
        if instance.frames_path:
            tree.write(instance.frames_path, instance.frames_json)

    # The page's modules and the worker's Python half (bootstrap.py, fetched by worker.js).
    runtime_files = {p.name: p.read_bytes() for p in sorted([*RUNTIME_DIR.glob("*.js"), *RUNTIME_DIR.glob("*.py")])}
    if not set(RUNTIME_FILES) <= set(runtime_files):
        raise ConfigError(f"error: LabPress's widget runtime is missing from {RUNTIME_DIR}: reinstall LabPress")
    runtime_dir = f"assets/runtime-{_digest(runtime_files)}/"
    for name, data in runtime_files.items():
        tree.write(runtime_dir + name, data)

    python: dict[str, bytes] = {"labpress/__init__.py": _BROWSER_PACKAGE_INIT.encode()}
    kernel = {source.name: source.read_bytes() for source in sorted(KERNEL_DIR.glob("*.py"))}
    for name, data in kernel.items():
        python[f"labpress/kernel/{name}"] = data
    uses = {use.name: use for use in instances}
    used = sorted(uses)
    for name in used:
        for source in uses[name].source_files():
            python[f"widgets/{source.name}"] = source.read_bytes()
    # Files the kernels read at build (data/x.csv), once per site, at the same path under the folder
    # the worker runs the kernels in: the same relative path works in the browser.
    for relative in sorted({f for use in instances for f in use.data_files}):
        if (config.root / relative).is_file():  # gone since the post was rendered: as absent as at build
            python[relative] = (config.root / relative).read_bytes()
    python_dir = f"assets/python-{_digest(python)}/"
    for name, data in python.items():
        tree.write(python_dir + name, data)

    pyodide = find_node_package("pyodide", config.root)
    version = package_version(pyodide)
    pyodide_dir = f"assets/pyodide-{version}/"
    for name in PYODIDE_CORE:
        tree.write(pyodide_dir + name, (pyodide / name).read_bytes())
    # The interpreter already started, with the widget API imported (widgets/snapshot.py): named by
    # its digest, so a browser may keep it for good; without one the worker starts Pyodide itself.
    kernel_id = kernel_digest(kernel)
    snapshot, why_not = find_snapshot(pyodide, version, kernel_id)
    snapshot_url = ""
    if snapshot is not None:
        snapshot_file = f"{pyodide_dir}snapshot-{snapshot.sha256[:16]}.bin.gz"
        tree.write(snapshot_file, snapshot.data)
        snapshot_url = config.url(snapshot_file)
    elif why_not:
        _warn_once(f"warning: the Pyodide snapshot is not shipped, so live widgets start Python the slow way: {why_not}"
                   " (run `make setup` in the LabPress checkout to make it again)")

    settings = {
        "pyodide": config.url(pyodide_dir),
        "python": config.url(python_dir),
        "files": sorted(python),
        "widgets": used,
        "packages": config.pyodide_packages,
        "cdn": PYODIDE_CDN.format(version=version) if config.pyodide_packages == "cdn" else "",
        "snapshot": snapshot_url,
        "kernel": kernel_id,
    }
    text = json.dumps(settings, ensure_ascii=False, sort_keys=True).replace("<", "\\u003c")
    modules = tuple(runtime_dir + name for name in sorted(runtime_files)
                    if name.endswith(".js") and name not in RUNTIME_FILES + WORKER_ONLY)
    return WidgetRuntime(script=runtime_dir + "main.js", config_json=Markup(text), modules=modules,
                         loader=runtime_dir + "loader.js", python=python_dir)

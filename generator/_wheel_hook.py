"""The wheel's build hook (named in pyproject.toml as the ``build_py`` command).

Besides the Python package, a wheel carries what a site needs at build time
without node: the default theme and the pinned KaTeX and Pyodide files, copied
from ``themes/`` and ``node_modules`` (installed by ``npm ci``) into the wheel.
None of them is in git. Only the standard library and setuptools are imported:
this module runs inside the build backend, never in a site build."""

import shutil
import subprocess
import sys
from pathlib import Path

from setuptools.command.build import build
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent.parent
VENDORED = {
    # dist/contrib/mhchem.js: the extension math/katex.py loads (\ce, \pu)
    "katex": ["package.json", "dist/katex.min.js", "dist/contrib/mhchem.js", "dist/katex.min.css", "dist/fonts/*.woff2"],
    # labpress-snapshot/: the memory snapshot live widgets restore (widgets/snapshot.py), made by node
    "pyodide": ["package.json", "pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json",
                "labpress-snapshot/manifest.json", "labpress-snapshot/snapshot.bin.gz"],
}


def make_snapshot_if_stale(pyodide: Path) -> None:
    """The Pyodide snapshot beside ``pyodide``, made again (with node) unless it holds today's kernel.
    widgets/snapshot.py only needs the standard library, so it runs before LabPress is installed."""
    maker = ROOT / "generator" / "widgets" / "snapshot.py"
    done = subprocess.run([sys.executable, str(maker), "make", str(pyodide)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the Pyodide snapshot could not be made (node is needed to build a wheel):\n{done.stderr}")


class BuildElsewhere(build):
    """setuptools' scratch folder is ``.wheel-build/``: ``build/`` is the demo site's output, and a
    LabPress build refuses to replace a folder holding anything but a LabPress build."""

    def initialize_options(self):
        super().initialize_options()
        self.build_base = ".wheel-build"


class BuildPyWithAssets(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return  # an editable install reads themes/ and node_modules/ from the checkout
        package = Path(self.build_lib) / "labpress"
        shutil.copytree(ROOT / "themes", package / "_themes", dirs_exist_ok=True)
        for name, patterns in VENDORED.items():
            source = ROOT / "node_modules" / name
            if not (source / "package.json").is_file():
                raise SystemExit(f"node_modules/{name} is missing: run `npm ci` before building a wheel")
            if name == "pyodide":
                make_snapshot_if_stale(source)
            for pattern in patterns:
                for path in sorted(source.glob(pattern)):
                    target = package / "_vendor" / name / path.relative_to(source)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)


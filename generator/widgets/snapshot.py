"""The Pyodide memory snapshot a site's widget worker restores instead of starting Python.

A worker that restores a snapshot of an interpreter which has already started and imported the
widget API is ready in a fraction of the time a plain start takes. The snapshot is made at set-up
time by node (``make_snapshot.mjs``, run by ``make setup`` and by the wheel's build hook) and kept
beside the pinned Pyodide: ``node_modules/pyodide/labpress-snapshot/`` in a checkout,
``_vendor/pyodide/labpress-snapshot/`` in a wheel. The build never runs node: it ships the snapshot
when one is there and fits, and a site without one starts Pyodide the plain way, as before.

A snapshot fits when its manifest names the Pyodide version the site ships and the digest of the
kernel sources the site ships (a snapshot holds the widget API already imported; one made before the
kernel was edited would run the old code), and its file has the digest and size the manifest
records. Anything else is not trusted: the site ships no snapshot and the build says why, once.

Standard library only, so the wheel's build hook can run it from the checkout (``python
generator/widgets/snapshot.py make``) before LabPress is installed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

FOLDER = "labpress-snapshot"  # inside the Pyodide package folder
MAKER = Path(__file__).resolve().parent / "make_snapshot.mjs"
KERNEL_DIR = Path(__file__).resolve().parent.parent / "kernel"


def kernel_sources(kernel_dir: Path = KERNEL_DIR) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(kernel_dir.glob("*.py"))}


def kernel_digest(files: dict[str, bytes]) -> str:
    """sha256 over the kernel's files by name, as make_snapshot.mjs computes it."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + files[name] + b"\0")
    return h.hexdigest()


@dataclass(frozen=True)
class Snapshot:
    data: bytes  # the gzip-compressed snapshot, as shipped
    sha256: str
    raw_bytes: int  # its size once inflated: the memory the worker restores


def find_snapshot(pyodide_dir: Path, version: str, kernel: str) -> tuple[Snapshot | None, str]:
    """The snapshot kept beside ``pyodide_dir`` if it fits Pyodide ``version`` and kernel digest
    ``kernel``: (snapshot, "") or (None, why not; "" when there is none at all)."""
    folder = Path(pyodide_dir) / FOLDER
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        return None, ""
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        name = manifest["file"]
        if manifest.get("format") != 1 or not isinstance(name, str) or "/" in name or name.startswith("."):
            return None, f"{manifest_path} is not a snapshot manifest LabPress knows"
        if manifest["pyodide"] != version:
            return None, f"it was made for Pyodide {manifest['pyodide']}, the site ships {version}"
        if manifest["kernel"] != kernel:
            return None, "it holds an older labpress.kernel than the one the site ships"
        data = (folder / name).read_bytes()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return None, f"{folder} cannot be read ({exc})"
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != manifest.get("bytes") or digest != manifest.get("sha256"):
        return None, f"{folder / name} is damaged (its size or digest is not the manifest's)"
    return Snapshot(data=data, sha256=digest, raw_bytes=int(manifest.get("raw_bytes", 0))), ""


def make_snapshot(pyodide_dir: Path, out_dir: Path | None = None, kernel_dir: Path = KERNEL_DIR,
                  node: str = "node") -> Path:
    """Run make_snapshot.mjs (node) for the Pyodide in ``pyodide_dir``; the folder it wrote."""
    out = Path(out_dir) if out_dir else Path(pyodide_dir) / FOLDER
    if shutil.which(node) is None:
        raise RuntimeError(f"node is needed to make the Pyodide snapshot ({node!r} is not on PATH)")
    subprocess.run([node, str(MAKER), str(pyodide_dir), str(kernel_dir), str(out)], check=True)
    return out


def snapshot_is_current(pyodide_dir: Path, kernel_dir: Path = KERNEL_DIR) -> bool:
    version = json.loads((Path(pyodide_dir) / "package.json").read_text(encoding="utf-8"))["version"]
    found, _ = find_snapshot(pyodide_dir, version, kernel_digest(kernel_sources(kernel_dir)))
    return found is not None


def main(argv: list[str]) -> int:
    """``snapshot.py make PYODIDE_DIR [OUT_DIR]``: make the snapshot unless the one there is current."""
    if len(argv) not in (2, 3) or argv[0] != "make":
        print("usage: snapshot.py make PYODIDE_DIR [OUT_DIR]", file=sys.stderr)
        return 2
    pyodide_dir = Path(argv[1])
    out = Path(argv[2]) if len(argv) == 3 else pyodide_dir / FOLDER
    if len(argv) == 2 and snapshot_is_current(pyodide_dir):
        return 0
    make_snapshot(pyodide_dir, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

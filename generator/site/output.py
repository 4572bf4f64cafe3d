"""Writing a build: everything goes to a staging directory, swapped in only on success.

A failed build removes its staging directory and leaves the previous output
exactly as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path


class OutputTree:
    """A staging directory that pages and assets are written into."""

    def __init__(self, root: Path):
        self.root = root
        self.written: list[str] = []

    def write(self, relative: str, data: str | bytes) -> None:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode("utf-8")
        target.write_bytes(data)
        self.written.append(relative)

    def page(self, path: str, html: str) -> None:
        """A page at ``path`` ("" for the root, "slug/" for a folder page)."""
        self.write(path + "index.html" if path == "" or path.endswith("/") else path, html)


@contextmanager
def staged_output(out_dir: Path):
    """Yield an OutputTree; on a clean exit it replaces ``out_dir`` atomically."""
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
    try:
        tree = OutputTree(staging)
        yield tree
        os.chmod(staging, 0o755)  # mkdtemp makes it private; a web server must read it
        _swap_into_place(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_into_place(staging: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    retired.rmdir()
    os.replace(out_dir, retired)
    try:
        os.replace(staging, out_dir)
    except OSError:
        os.replace(retired, out_dir)  # put the old build back before giving up
        raise
    shutil.rmtree(retired, ignore_errors=True)

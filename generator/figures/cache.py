"""The cache of drawn figures: matplotlib's raw SVG per block, with the inputs it read, checked when read.

Results are cached by source, caption, alt and library versions in
``env["cache_dir"]/figures/`` (no cache when it is None), together with the
digests of the files the block read: a lookup checks them and the entry's own
digest, and draws the figure again when either differs. Only the raw SVG is
stored; theming it (``figures/svg.py``) is cheap and runs on every build.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

from labpress.cache.store import seal, unseal
from labpress.cache.inputs import input_digest
from labpress.cache.reads import Reads, site_inputs
from labpress.figures.run import draw_figure

# Bump when the drawing style (figures/style.py) changes: cached SVGs are then redrawn.
FORMAT_VERSION = "1"
CACHE_SUBDIR = "figures"


def _version(package: str) -> str:
    from importlib import metadata  # here: slow to import, and only figure blocks need it

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:  # pragma: no cover - both are dependencies
        return "?"


def cache_key(code: str, caption: str, alt: str) -> str:
    """The block itself; the files it reads are checked against the entry found under this key."""
    payload = {"format": FORMAT_VERSION, "matplotlib": _version("matplotlib"), "numpy": _version("numpy"),
               "source": code, "caption": caption, "alt": alt}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()



# --- The cache of drawn figures ----------------------------------------------
#
# One file per block, ``figures/<key>.figure``:
#
#     labpress-figure-3 sha256=<digest of everything after this line>\n   (cache/store.py's seal)
#     {"key": ..., "inputs": [[kind, path relative to the site, digest or null], ...]}\n
#     <the SVG as matplotlib wrote it>
#
# An entry whose digest does not match (a damaged or truncated file), whose
# header is not understood, or that was stored under another key is dropped and
# the figure drawn again. Entries are written to a temporary file and renamed
# into place, so a reader never sees half of one.

_KIND = "figure-3"  # a new number when the entry's layout changes
_SUFFIX = ".figure"


def _cache_file(cache_dir, key: str) -> Path | None:
    return Path(cache_dir) / CACHE_SUBDIR / f"{key}{_SUFFIX}" if cache_dir else None


def _encode_entry(key: str, svg: bytes, inputs: list) -> bytes:
    header = json.dumps({"key": key, "inputs": [list(i) for i in inputs]}, separators=(",", ":"),
                        ensure_ascii=True).encode("ascii")
    return seal(_KIND, header + b"\n" + svg)


def _decode_entry(data: bytes, key: str) -> tuple[bytes, list[tuple[str, str, str | None]]] | None:
    rest = unseal(_KIND, data)
    if rest is None:
        return None
    header, _, svg = rest.partition(b"\n")
    try:
        meta = json.loads(header)
        inputs = [(kind, path, digest) for kind, path, digest in meta["inputs"]]
    except (ValueError, TypeError, KeyError):
        return None
    if meta.get("key") != key or not svg.rstrip().endswith(b"</svg>"):
        return None
    if not all(kind in ("file", "folder") and isinstance(path, str) and (digest is None or isinstance(digest, str))
               for kind, path, digest in inputs):
        return None
    return svg, inputs


def _read_entry(path: Path, key: str):
    """(svg, inputs) of a sound entry, or None; a damaged one is removed."""
    try:
        data = path.read_bytes()
    except OSError:  # absent, or figures/ is not a folder
        return None
    entry = _decode_entry(data, key)
    if entry is None:
        with contextlib.suppress(OSError):
            path.unlink()
    return entry


def _write_entry(path: Path, data: bytes) -> None:
    """Atomically, or not at all: a cache that cannot be written only costs time."""
    folder = path.parent
    try:
        if not folder.is_dir():
            if folder.is_symlink() or folder.exists():  # a file (or a dangling link) where the folder goes
                folder.unlink()
            folder.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    legacy = path.with_suffix(".svg")  # the unchecked layout of older versions
    with contextlib.suppress(OSError):
        legacy.unlink()


def cached_figure(code: str, caption: str, alt: str, cache_dir, root: Path | None = None,
                  seconds: float | None = None) -> tuple[bytes, list[tuple[str, str, str | None]]]:
    """The figure's raw SVG and its inputs (kind, path relative to ``root``, digest).

    From the cache when the same block was drawn before and every file it read then
    is unchanged; else drawn now, in ``root`` (the site folder), within ``seconds``.
    """
    key = cache_key(code, caption, alt)
    path = _cache_file(cache_dir, key)
    base = Path(root) if root is not None else Path.cwd()
    if path is not None:
        entry = _read_entry(path, key)
        if entry is not None:
            svg, inputs = entry
            if all(input_digest(kind, base / relative) == stored for kind, relative, stored in inputs):
                return svg, inputs
    reads = Reads()
    svg = draw_figure(code, seconds, root, reads)
    inputs = [(kind, relative, input_digest(kind, base / relative))
              for kind, relative in site_inputs(reads, base, cache_dir)]
    if path is not None:
        _write_entry(path, _encode_entry(key, svg, inputs))
    return svg, inputs


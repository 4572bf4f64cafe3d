"""The cache of a post's code results, with the inputs the code read, checked when read.

A post's results (each figure's raw SVG and caption, each inline value's text) are
kept in ``env["cache_dir"]/compute/`` (no cache when it is None) under a key made of
its blocks and expressions in order and the versions of Python, numpy and matplotlib,
together with the digests of the files the code read: a lookup checks them and the
entry's own digest, and runs the code again when either differs. A prose edit costs
nothing; an edit of any block runs the post's code again, since every block sees the
namespace the ones before it left. Theming a figure (``figures/svg.py``) is cheap and
runs on every build.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import platform
from pathlib import Path

from labpress.cache.inputs import input_digest
from labpress.cache.reads import Reads, site_inputs
from labpress.cache.store import seal, unseal, write_atomically
from labpress.compute.session import Block, Results, run_post

# Bump when what a run produces changes (the drawing style in figures/style.py, the namespace):
# cached results are then made again.
FORMAT_VERSION = "2"
CACHE_SUBDIR = "compute"


def _version(package: str) -> str:
    from importlib import metadata  # here: slow to import, and only posts with code need it

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:  # pragma: no cover - both are dependencies
        return "?"


def cache_key(blocks: list[Block], expressions: list[str]) -> str:
    """The post's code; the files it reads are checked against the entry found under this key."""
    payload = {"format": FORMAT_VERSION, "python": platform.python_version(), "matplotlib": _version("matplotlib"),
               "numpy": _version("numpy"), "blocks": [[b.kind, b.code, b.caption, b.alt] for b in blocks],
               "expressions": expressions}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


# --- The entries ---------------------------------------------------------------
#
# One file per post's code, ``compute/<key>.run``:
#
#     labpress-compute-1 sha256=<digest of everything after this line>\n   (cache/store.py's seal)
#     {"key": ..., "inputs": [[kind, path relative to the site, digest or null], ...]}\n
#     {"figures": [[svg, caption], ...], "values": [text, ...]}
#
# An entry whose digest does not match (a damaged or truncated file), whose header is
# not understood, or that was stored under another key is dropped and the code run
# again. Entries are written to a temporary file and renamed into place, so a reader
# never sees half of one. Only runs without errors are kept.

_KIND = "compute-1"  # a new number when the entry's layout changes
_SUFFIX = ".run"
Inputs = list[tuple[str, str, "str | None"]]


def _cache_file(cache_dir, key: str) -> Path | None:
    return Path(cache_dir) / CACHE_SUBDIR / f"{key}{_SUFFIX}" if cache_dir else None


def encode_entry(key: str, results: Results, inputs: Inputs) -> bytes:
    header = json.dumps({"key": key, "inputs": [list(i) for i in inputs]}, separators=(",", ":"), ensure_ascii=True)
    body = json.dumps({"figures": [[svg.decode("utf-8"), caption] for svg, caption in results.figures],
                       "values": results.values}, separators=(",", ":"), ensure_ascii=True)
    return seal(_KIND, (header + "\n" + body).encode("ascii"))


def decode_entry(data: bytes, key: str) -> tuple[Results, Inputs] | None:
    rest = unseal(_KIND, data)
    if rest is None:
        return None
    header, _, body = rest.partition(b"\n")
    try:
        meta, stored = json.loads(header), json.loads(body)
        inputs = [(kind, path, digest) for kind, path, digest in meta["inputs"]]
        figures = [(svg.encode("utf-8"), caption) for svg, caption in stored["figures"]]
        values = list(stored["values"])
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if meta.get("key") != key:
        return None
    if not all(kind in ("file", "folder") and isinstance(path, str) and (digest is None or isinstance(digest, str))
               for kind, path, digest in inputs):
        return None
    if not all(isinstance(c, str) and s.rstrip().endswith(b"</svg>") for s, c in figures) \
            or not all(isinstance(v, str) for v in values):
        return None
    return Results(figures=figures, values=values), inputs


def _read_entry(path: Path, key: str):
    """(results, inputs) of a sound entry, or None; a damaged one is removed."""
    try:
        data = path.read_bytes()
    except OSError:  # absent, or compute/ is not a folder
        return None
    entry = decode_entry(data, key)
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
        write_atomically(path, data)
    except OSError:
        pass


def cached_run(blocks: list[Block], expressions: list[str], cache_dir, root: Path | None = None,
               seconds: float | None = None) -> tuple[Results, Inputs]:
    """The post's results and their inputs (kind, path relative to ``root``, digest).

    From the cache when the same code ran before and every file it read then is
    unchanged; else run now, in ``root`` (the site folder), each part within ``seconds``.
    """
    key = cache_key(blocks, expressions)
    path = _cache_file(cache_dir, key)
    base = Path(root) if root is not None else Path.cwd()
    if path is not None:
        entry = _read_entry(path, key)
        if entry is not None:
            results, inputs = entry
            if all(input_digest(kind, base / relative) == stored for kind, relative, stored in inputs):
                return results, inputs
    reads = Reads()
    results = run_post(blocks, expressions, seconds, root, reads)
    inputs = [(kind, relative, input_digest(kind, base / relative))
              for kind, relative in site_inputs(reads, base, cache_dir)]
    if path is not None and not results.errors:
        _write_entry(path, encode_entry(key, results, inputs))
    return results, inputs

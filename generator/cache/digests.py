"""Digests: the one way LabPress names content by what it was made from.

``digest(*parts)`` hashes a sequence of parts without ambiguity: each part is typed (text, bytes,
or anything else by its repr) and length-prefixed, so ("ab", "c") and ("a", "bc") differ, and text
read back as bytes does not pass for the text. Cache keys, rows' integrity digests and page sources
all use it.
"""

from __future__ import annotations

import hashlib
import os
import time
from functools import lru_cache
from pathlib import Path

_CODE_ROOT = Path(__file__).resolve().parent.parent


class Repr:
    """A part given by its ``repr()``, made already (kept between builds): ``digest`` gives the same
    digest as of the object itself."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def digest(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, bytes):
            data = b"b" + part
        elif isinstance(part, str):  # the common case, and the big one (page bodies): no repr()
            data = b"s" + part.encode("utf-8")
        elif isinstance(part, Repr):
            data = b"r" + part.text.encode("utf-8")
        else:
            data = b"r" + repr(part).encode("utf-8")
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


def tree_digest(root: Path) -> str:
    """Digest of every file below ``root`` (names and contents)."""
    if not root.is_dir():
        return digest("absent")
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return digest(*[(p.relative_to(root).as_posix(), p.read_bytes()) for p in files])


def names_digest(names) -> str:
    """The sha256 of a folder's listing, as a build's inputs know it: its sorted names but
    ``__pycache__``, Python's own bytecode folder, which appears when a module is first imported
    (by this process or any other) and is never what a build reads."""
    kept = sorted(name for name in names if name != "__pycache__")
    return hashlib.sha256("\0".join(kept).encode("utf-8", "surrogateescape")).hexdigest()


@lru_cache(maxsize=1)
def code_digest() -> str:
    """LabPress's own code: a new version (or a local edit) invalidates everything."""
    return code_tree()[0]


def code_root() -> Path:
    return _CODE_ROOT


@lru_cache(maxsize=1)
def code_tree() -> tuple[str, tuple, int]:
    """LabPress's own code as this process read it, once: (its ``tree_digest``; for each file and
    folder of it, ("file" or "folder", path, its stat when read, the sha256 of its bytes or of its
    sorted names); when it was read, ``time.time_ns()``), so a build can say which code made it."""
    read_ns = time.time_ns()
    seen, parts = [], []
    for folder, dirs, names in os.walk(_CODE_ROOT):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        st = os.stat(folder)  # before its names: a name added after this is seen by the stat too
        seen.append(("folder", folder, st, names_digest(os.listdir(folder))))
        for name in sorted(names):
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                st = os.fstat(handle.fileno())
                data = handle.read()
            if not os.path.isfile(path):
                continue
            parts.append((Path(path).relative_to(_CODE_ROOT).as_posix(), data))
            seen.append(("file", path, st, hashlib.sha256(data).hexdigest()))
    parts.sort(key=lambda part: part[0].split("/"))  # as tree_digest orders its paths
    return digest(*parts), tuple(seen), read_ns

"""Digests: the one way LabPress names content by what it was made from.

``digest(*parts)`` hashes a sequence of parts without ambiguity: each part is typed (text, bytes,
or anything else by its repr) and length-prefixed, so ("ab", "c") and ("a", "bc") differ, and text
read back as bytes does not pass for the text. Cache keys, rows' integrity digests and page sources
all use it.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

_CODE_ROOT = Path(__file__).resolve().parent.parent


def digest(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, bytes):
            data = b"b" + part
        elif isinstance(part, str):  # the common case, and the big one (page bodies): no repr()
            data = b"s" + part.encode("utf-8")
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


@lru_cache(maxsize=1)
def code_digest() -> str:
    """LabPress's own code: a new version (or a local edit) invalidates everything."""
    return tree_digest(_CODE_ROOT)

"""Inputs of build-time code: the files and folders it read, each with a digest, checked on every
later lookup so that an edit of any of them makes the result again."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from labpress.cache.digests import names_digest


def input_digest(kind: str, path: Path | str) -> str | None:
    """Digest of a file's bytes, or of the names in a folder (digests.names_digest: ``__pycache__``
    is not one of them); None when it is absent or unreadable."""
    try:
        if kind == "folder":
            return names_digest(os.listdir(path))
        h = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    except (OSError, ValueError):
        return None


def inputs_unchanged(inputs) -> bool:
    """Whether every (kind, absolute path, digest) still has that digest: for the rendered-post cache."""
    return all(input_digest(kind, Path(path)) == stored for kind, path, stored in inputs)


# --- Running the code --------------------------------------------------------

"""One post's provenance record, and its JSON as written to ``<slug>/provenance.json``.

The record (``FORMAT`` 1), its keys always in this order, every list sorted::

    {
      "format": 1,
      "page": "p/",                               # the page, relative to the site root
      "source": {"path": "content/p.md", "sha256": "..."},
      "data": [                                   # what build-time code read in the site folder
        {"path": "data/x.csv", "kind": "file", "sha256": "..."},    # null: looked for, absent
        {"path": "data", "kind": "folder", "sha256": "..."}         # a folder it listed
      ],
      "theme": {"name": "default", "files": [     # what figures were themed from, relative
        {"path": "static/style.css", "sha256": "..."}               # to the theme's folder
      ]},
      "kernels": [{"path": "widgets/dial.py", "sha256": "..."}],   # widget modules and helpers
      "code_blocks": [{"line": 8, "kind": "figure", "sha256": "..."}],  # sha256 of the code
      "versions": {"labpress": "0.1.0", "python": "3.11.2", "numpy": "2.4.6",
                   "matplotlib": "3.11.2", "katex": "0.16.22", "pyodide": "0.29.0"},
      "git": {"commit": "<40 hex>", "clean": true, "work_tree_clean": true,
              "changed": [{"path": "content/p.md", "state": "modified"}]}   # or null: no git
    }

Paths are relative to the site folder, with '/', except the theme's (relative to the theme's
folder, which may be LabPress's own). A folder's digest is the sha256 of its sorted names
joined by NUL (``cache/inputs.py``): a name added or removed changes it, an edit of a file in it
does not. ``git.clean`` is this post's own files (source, data, theme files, kernels) against the
commit: false when any of them is modified or not committed (``changed`` names them);
``work_tree_clean`` is the whole work tree, apart from the output and cache folders. No build
time is recorded, so a build of the same files writes the same bytes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from labpress.cache.inputs import input_digest
from labpress.content.posts import Post
from labpress.theme.lookup import theme_layers

FORMAT = 1
RECORD_NAME = "provenance.json"


@dataclass(frozen=True)
class Provenance:
    record: dict
    text: str  # the JSON, as written

    @property
    def clean(self) -> bool | None:
        """Whether the post's own files are committed as they are; None outside a git work tree."""
        git = self.record["git"]
        return None if git is None else git["clean"]


def post_provenance(post: Post, site_dir: Path, theme_dir: Path, versions: dict, git=None,
                    source_sha256: str | None = None) -> Provenance:
    """``post``'s record. ``git``: the build's ``GitState`` (or None); ``source_sha256``: the digest of
    the bytes the build read (by default the file's now)."""
    site_dir, theme_dir = Path(site_dir), Path(theme_dir).resolve()
    layers = [layer.resolve() for layer in theme_layers(theme_dir)]  # a site's own theme files, the packaged ones
    body = post.body
    data, theme = [], []
    looked_at = []  # (kind, absolute path, path as shown) of each file, for git
    for kind, path, sha256 in body.inputs:
        path = Path(path)
        layer = next((layer for layer in layers if _inside(path.resolve(), layer)), None)
        if layer is not None:
            theme.append({"path": path.resolve().relative_to(layer).as_posix(), "sha256": sha256})
        else:
            data.append({"path": _shown(path, site_dir), "kind": kind, "sha256": sha256})
        looked_at.append((kind, path, _shown(path, site_dir)))
    kernels = {}
    for use in body.widgets:
        for path in use.source_files():
            kernels.setdefault(_shown(path, site_dir), (path, input_digest("file", path)))
    looked_at += [("file", path, shown) for shown, (path, _) in kernels.items()]
    source = {"path": post.shown_path, "sha256": source_sha256 or input_digest("file", post.source)}
    looked_at.append(("file", post.source, post.shown_path))
    record = {
        "format": FORMAT,
        "page": post.path,
        "source": source,
        "data": sorted(_unique(data), key=lambda d: (d["path"], d["kind"])),
        "theme": {"name": theme_dir.name, "files": sorted(_unique(theme), key=lambda d: d["path"])},
        "kernels": [{"path": shown, "sha256": sha256} for shown, (_, sha256) in sorted(kernels.items())],
        "code_blocks": sorted(({"line": line, "kind": kind, "sha256": sha256} for kind, line, sha256 in body.code_blocks),
                              key=lambda c: (c["line"], c["kind"], c["sha256"])),
        "versions": dict(versions),
        "git": _git_part(git, looked_at),
    }
    return Provenance(record, record_json(record))


def record_json(record: dict) -> str:
    return json.dumps(record, indent=2, ensure_ascii=False) + "\n"


def _git_part(git, looked_at) -> dict | None:
    if git is None:
        return None
    changed = {}
    for kind, path, shown in looked_at:
        absolute = Path(os.path.abspath(path))
        if not _inside(absolute, git.top):
            continue  # not in the repository (a theme LabPress ships): git has nothing to say of it
        state = git.state_of_folder(absolute) if kind == "folder" else git.state_of(absolute)
        if state is not None:
            changed.setdefault(shown, state)
    return {
        "commit": git.commit,
        "clean": not changed,
        "work_tree_clean": git.clean,
        "changed": [{"path": shown, "state": state} for shown, state in sorted(changed.items())],
    }


def _shown(path: Path, site_dir: Path) -> str:
    path = Path(os.path.abspath(path))
    try:
        return path.relative_to(site_dir).as_posix()
    except ValueError:
        return Path(os.path.relpath(path, site_dir)).as_posix()


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _unique(entries: list[dict]) -> list[dict]:
    seen, kept = set(), []
    for entry in entries:
        key = tuple(entry.values())
        if key not in seen:
            seen.add(key)
            kept.append(entry)
    return kept

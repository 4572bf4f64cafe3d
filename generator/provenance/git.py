"""The git state of the site folder, asked once per build: the commit checked out, whether the
work tree is clean, and which paths differ from that commit.

Two git commands per build (``rev-parse`` for the work tree's top folder and the commit,
``status`` for what differs), never one per post. Git runs in the site folder with a time
limit, without a pager or a terminal prompt, and without taking the index lock
(``GIT_OPTIONAL_LOCKS=0``), so a build never waits on an editor's git and never changes
the repository. No git, a folder that is not in a work tree, a repository without a commit,
git failing or too slow: no state (the record's ``git`` is null), never an error.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

GIT_SECONDS = 10.0
MODIFIED = "modified"  # in the commit, but different (edited, deleted, staged or not)
UNTRACKED = "untracked"  # not in the commit: new, ignored, or only staged

# Variables that would point git at another repository than the one holding the site folder.
_REPOSITORY_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
                         "GIT_COMMON_DIR", "GIT_NAMESPACE")


@dataclass(frozen=True)
class GitState:
    commit: str
    top: Path  # the work tree's top folder
    clean: bool  # the whole work tree, apart from the ignored folders (the output, the cache)
    paths: dict[Path, str] = field(default_factory=dict)  # path that differs -> MODIFIED or UNTRACKED
    folders: dict[Path, str] = field(default_factory=dict)  # untracked or ignored folders git reported whole
    renamed_in: frozenset[Path] = frozenset()  # folders a name was added to or removed from

    def state_of(self, path: Path) -> str | None:
        """MODIFIED or UNTRACKED for a file that differs from the commit; None when it is committed as it is."""
        if path in self.paths:
            return self.paths[path]
        for parent in path.parents:
            if parent in self.folders:
                return self.folders[parent]
        return None

    def state_of_folder(self, path: Path) -> str | None:
        """A folder's listing (its names) against the commit's: UNTRACKED when the folder is not in the
        commit, MODIFIED when a name in it was added or removed; None when it lists as committed."""
        for folder in (path, *path.parents):
            if folder in self.folders:
                return self.folders[folder]
        return MODIFIED if path in self.renamed_in else None


def git_state(site_dir: Path, ignored: tuple[Path, ...] = ()) -> GitState | None:
    """The state of the work tree holding ``site_dir``; ``ignored``: folders whose changes do not make
    the work tree unclean (the output folder, the cache). None when there is none to be had."""
    found = _git(site_dir, "rev-parse", "--show-toplevel", "HEAD")
    if found is None:
        return None
    lines = os.fsdecode(found).splitlines()
    if len(lines) != 2 or not lines[0] or len(lines[1]) < 40:
        return None
    top, commit = Path(lines[0]), lines[1].strip()
    status = _git(site_dir, "status", "--porcelain=v2", "-z", "--untracked-files=normal", "--ignored=matching")
    if status is None:
        return None
    return _parse_status(status, top, commit, tuple(Path(p) for p in ignored))


def _git(site_dir: Path, *args: str) -> bytes | None:
    env = {name: value for name, value in os.environ.items() if name not in _REPOSITORY_VARIABLES}
    env.update(GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0", GIT_PAGER="cat", PAGER="cat", LC_ALL="C")
    try:
        done = subprocess.run(["git", "--no-pager", "-c", "core.fsmonitor=false", "-C", str(site_dir), *args],
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=GIT_SECONDS, env=env,
                              check=False)
    except (OSError, subprocess.SubprocessError, ValueError):  # no git, too slow, an unusable folder name
        return None
    return done.stdout if done.returncode == 0 else None


def _parse_status(output: bytes, top: Path, commit: str, ignored: tuple[Path, ...]) -> GitState:
    """``git status --porcelain=v2 -z``: ``1``/``2``/``u`` entries are tracked paths that differ (``2``,
    a rename or copy, is followed by its original path), ``?`` untracked and ``!`` ignored paths (a
    folder, ending in '/', when git did not look inside it)."""
    paths: dict[Path, str] = {}
    folders: dict[Path, str] = {}
    renamed_in: set[Path] = set()
    clean = True
    records = output.split(b"\0")
    index = 0
    while index < len(records):
        record = os.fsdecode(records[index])
        index += 1
        kind = record[:1]
        if kind == "1":
            fields = record.split(" ", 8)
            xy, name = fields[1], fields[-1]
            state = UNTRACKED if xy[0] == "A" else MODIFIED
            if "A" in xy or "D" in xy:
                renamed_in.add((top / name).parent)
        elif kind == "2":
            fields = record.split(" ", 9)
            xy, name = fields[1], fields[-1]
            original = os.fsdecode(records[index]) if index < len(records) else ""
            index += 1
            state = UNTRACKED
            renamed_in.add((top / name).parent)
            if original and xy[0] == "R":
                paths[top / original] = MODIFIED
                renamed_in.add((top / original).parent)
        elif kind == "u":
            name, state = record.split(" ", 10)[-1], MODIFIED
        elif kind in ("?", "!"):
            name, state = record[2:], UNTRACKED
            renamed_in.add((top / name.rstrip("/")).parent)
        else:  # headers, the empty string after the last NUL
            continue
        if not name:
            continue
        path = top / name.rstrip("/")
        (folders if name.endswith("/") else paths)[path] = state
        if kind != "!" and not any(path == folder or folder in path.parents for folder in ignored):
            clean = False
    return GitState(commit, top, clean, paths, folders, frozenset(renamed_in))

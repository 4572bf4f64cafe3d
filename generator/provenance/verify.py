"""Checking a built folder's provenance against the site as it is now (``labpress check --provenance``).

Every ``provenance.json`` in the built folder names the files its page was made from with their
digests; each is computed again from the site folder (theme files from the theme's folder). A file
whose digest differs, that is gone, or that was absent at build time and is there now, is a
mismatch, named with its page. Versions and the git state are what the build saw, not files, and
are not compared; nor are code blocks (their code is in the source, whose digest is).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from labpress.cache.inputs import input_digest
from labpress.config.schema import load_config
from labpress.provenance.record import FORMAT, RECORD_NAME
from labpress.theme.lookup import find_theme, theme_file


class ProvenanceError(Exception):
    """A built folder that cannot be verified at all (missing, or without records)."""


@dataclass(frozen=True)
class Mismatch:
    page: str  # the page's folder in the build ("p/")
    path: str  # the file as the record names it
    reason: str

    def __str__(self) -> str:
        return f"{self.page}: {self.path}: {self.reason}"


@dataclass
class Verification:
    records: int = 0
    files: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def pages(self) -> list[str]:
        """The pages with a mismatch."""
        return sorted({m.page for m in self.mismatches})


def verify_build(build_dir: Path, site_dir: Path) -> Verification:
    """Every recorded file of every page in ``build_dir`` against ``site_dir`` now."""
    build_dir, site_dir = Path(build_dir), Path(site_dir).resolve()
    load_config(site_dir)  # a site folder (ConfigError otherwise), before its files are looked for
    if not build_dir.is_dir():
        raise ProvenanceError(f"error: {build_dir} is not a folder: give the output folder of a build")
    found = sorted(build_dir.rglob(RECORD_NAME))
    if not found:
        raise ProvenanceError(f"error: {build_dir} has no provenance records ({RECORD_NAME} beside each post's"
                              " page): is it the output folder of a LabPress build?")
    result = Verification()
    for file in found:
        page = file.parent.relative_to(build_dir).as_posix() + "/"
        result.records += 1
        try:
            record = json.loads(file.read_text(encoding="utf-8"))
            if not isinstance(record, dict) or record.get("format") != FORMAT:
                raise ValueError(f"not a provenance record of format {FORMAT}")
            checks = list(_recorded_files(record, site_dir))
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            reason = str(exc) if isinstance(exc, ValueError) and not isinstance(exc, json.JSONDecodeError) else "damaged"
            result.mismatches.append(Mismatch(page, RECORD_NAME, f"the record cannot be read ({reason})"))
            continue
        for kind, path, shown, recorded in checks:
            result.files += 1
            now = input_digest(kind, path)
            if now == recorded:
                continue
            if recorded is None:
                reason = "appeared since the build (it was absent)"
            elif now is None:
                reason = "missing (the build read it)"
            elif kind == "folder":
                reason = "its list of files changed since the build"
            else:
                reason = "changed since the build"
            result.mismatches.append(Mismatch(page, shown, reason))
    return result


def _recorded_files(record: dict, site_dir: Path):
    """(kind, path now, path as shown, recorded digest) of each file a record names."""
    source = record["source"]
    yield "file", site_dir / source["path"], source["path"], source["sha256"]
    for entry in record["data"]:
        if entry["kind"] not in ("file", "folder"):
            raise ValueError(f"unknown kind of input {entry['kind']!r}")
        yield entry["kind"], site_dir / entry["path"], entry["path"], entry["sha256"]
    theme = record["theme"]
    theme_dir = find_theme(theme["name"], site_dir)
    for entry in theme["files"]:
        yield "file", theme_file(theme_dir, entry["path"]), f"{entry['path']} (theme {theme['name']})", entry["sha256"]
    for entry in record["kernels"]:
        yield "file", site_dir / entry["path"], entry["path"], entry["sha256"]

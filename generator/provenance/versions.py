"""The versions of what made a site: LabPress, Python, numpy and matplotlib (from their installed
metadata, without importing them), KaTeX and Pyodide (the pinned npm packages' package.json)."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

from labpress.errors import ConfigError
from labpress.theme.lookup import find_node_package, package_version


def tool_versions(site_dir: Path) -> dict[str, str | None]:
    """Each tool's version, in a fixed order; None for one that is not installed."""
    return {
        "labpress": _distribution("labpress"),
        "python": platform.python_version(),
        "numpy": _distribution("numpy"),
        "matplotlib": _distribution("matplotlib"),
        "katex": _npm("katex", site_dir),
        "pyodide": _npm("pyodide", site_dir),
    }


def _distribution(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _npm(name: str, site_dir: Path) -> str | None:
    try:
        return package_version(find_node_package(name, site_dir))
    except (ConfigError, OSError, ValueError, KeyError):  # not installed, or an unreadable package.json
        return None

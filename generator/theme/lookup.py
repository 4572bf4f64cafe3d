"""Where the pinned front-end packages live, and copying what a site needs of them.

KaTeX and Pyodide come from npm through ``package-lock.json``; ``npm ci`` puts
them in ``node_modules``. Node itself is never run by the build.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from labpress.errors import ConfigError

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def find_node_package(name: str, site_dir: Path) -> Path:
    """The installed npm package ``name``: ``$LABPRESS_NODE_MODULES``, the site, its parents, or LabPress's checkout."""
    candidates: list[Path] = []
    if os.environ.get("LABPRESS_NODE_MODULES"):
        candidates.append(Path(os.environ["LABPRESS_NODE_MODULES"]))
    site = site_dir.resolve()
    candidates += [d / "node_modules" for d in (site, *site.parents)]
    candidates.append(_PACKAGE_ROOT.parent / "node_modules")  # a checkout of LabPress
    candidates.append(_PACKAGE_ROOT / "_vendor")  # an installed wheel
    for base in candidates:
        package = base / name
        if (package / "package.json").is_file():
            return package
    raise ConfigError(
        f"error: the npm package '{name}' is not installed: run `npm ci` in the LabPress checkout"
        " (or `make site`), or point LABPRESS_NODE_MODULES at a node_modules folder that has it"
    )


def find_theme(name: str, site_dir: Path) -> Path:
    """A theme folder: the site's own ``themes/NAME``, else the one LabPress ships."""
    for base in (site_dir / "themes", _PACKAGE_ROOT.parent / "themes", _PACKAGE_ROOT / "_themes"):
        if (base / name / "templates").is_dir():
            return base / name
    return site_dir / "themes" / name


def package_version(package_dir: Path) -> str:
    return json.loads((package_dir / "package.json").read_text(encoding="utf-8"))["version"]


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:10]


_FONT_SRC = re.compile(r"src:\s*([^;}]*)")


def woff2_only(css: str) -> str:
    """Keep only the woff2 source of each ``@font-face``: every browser we target reads it."""

    def keep_woff2(match: re.Match) -> str:
        sources = [s.strip() for s in re.split(r",(?=\s*url\()", match.group(1))]
        woff2 = [s for s in sources if 'format("woff2")' in s or "format('woff2')" in s]
        return "src:" + ",".join(woff2 or sources)

    return _FONT_SRC.sub(keep_woff2, css)


def write_katex_files(katex_dir: Path, tree) -> str:
    """Write KaTeX's CSS (woff2 sources only) and its woff2 fonts into the output tree; return the CSS path."""
    css = woff2_only((katex_dir / "dist" / "katex.min.css").read_text(encoding="utf-8"))
    data = css.encode("utf-8")
    name = f"assets/katex/katex.{fingerprint(data)}.css"
    tree.write(name, data)
    for font in sorted((katex_dir / "dist" / "fonts").glob("*.woff2")):
        tree.write(f"assets/katex/fonts/{font.name}", font.read_bytes())
    return name

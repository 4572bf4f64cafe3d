"""Where the pinned front-end packages live, and copying what a site needs of them.

KaTeX and Pyodide come from npm through ``package-lock.json``; ``npm ci`` puts
them in ``node_modules``. Node itself is never run by the build.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import lru_cache
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


THEMES_DIR = "themes"
# What a theme must have, its own files and the packaged theme's together: the pages LabPress renders
# (site/pages.py) and the static files every page links.
REQUIRED_FILES = tuple(f"templates/{name}.html" for name in
                       ("index", "post", "series", "series_list", "tag", "tags", "404")) + (
    "static/style.css", "static/scheme.js", "static/favicon.svg")


def packaged_theme(name: str) -> Path | None:
    """The theme ``name`` LabPress ships (in a checkout, or in the wheel), or None."""
    for base in (_PACKAGE_ROOT.parent / THEMES_DIR, _PACKAGE_ROOT / "_themes"):
        if (base / name / "templates").is_dir():
            return base / name
    return None


def find_theme(name: str, site_dir: Path) -> Path:
    """A theme's own folder: the site's ``themes/NAME`` when it has one (a whole theme, or only the files
    it overrides: see ``theme_layers``), else the one LabPress ships."""
    own = site_dir / THEMES_DIR / name
    if own.is_dir():
        return own
    return packaged_theme(name) or own


def theme_layers(theme_dir: Path) -> list[Path]:
    """Where the files of the theme in ``theme_dir`` are looked up, the first that has a file winning:
    ``theme_dir`` itself, then the theme of the same name that LabPress ships (as Hugo's layouts and
    MkDocs' ``custom_dir``). A theme LabPress does not ship is one folder, complete on its own."""
    theme_dir = Path(theme_dir)
    return [theme_dir, *_shipped_layer(str(theme_dir))]


@lru_cache(maxsize=16)
def _shipped_layer(theme_dir: str) -> tuple[Path, ...]:
    """The packaged theme a theme folder falls back on (none: itself, or a theme LabPress does not
    ship), found once per folder per process: a build asks for each post's provenance record."""
    shipped = packaged_theme(Path(theme_dir).name)
    if shipped is not None and shipped.resolve() != Path(theme_dir).resolve():
        return (shipped,)
    return ()


def theme_file(theme_dir: Path, relative: str) -> Path:
    """The file at ``relative`` (such as ``static/style.css``) of the first layer that has it; the path in
    ``theme_dir`` when none has it."""
    for layer in theme_layers(theme_dir):
        if (layer / relative).is_file():
            return layer / relative
    return Path(theme_dir) / relative


def theme_files(theme_dir: Path, folder: str) -> dict[str, Path]:
    """Every file under ``folder`` (``static``) of the theme, by its path relative to ``folder``, each from
    the first layer that has it."""
    found: dict[str, Path] = {}
    for layer in theme_layers(theme_dir):
        base = layer / folder
        if base.is_dir():
            for path in base.rglob("*"):
                if path.is_file() and "__pycache__" not in path.parts:
                    found.setdefault(path.relative_to(base).as_posix(), path)
    return dict(sorted(found.items()))


def theme_problem(name: str, theme_dir: Path, site_dir: Path) -> str | None:
    """What is wrong with the theme ``name`` as a whole (not found, files missing), or None."""
    from labpress.errors import display_path

    layers = theme_layers(theme_dir)
    shown = display_path(Path(theme_dir), site_dir) + "/"
    if not any(layer.is_dir() for layer in layers):
        return f"theme '{name}' not found at {shown}"
    missing = [f for f in REQUIRED_FILES if not any((layer / f).is_file() for layer in layers)]
    if not missing:
        return None
    if len(layers) == 1:
        return (f"theme '{name}' ({shown}) lacks {', '.join(missing)}: LabPress ships no theme '{name}' to"
                " take them from, so the theme must have every file (copy them from the default theme)")
    return f"theme '{name}' lacks {', '.join(missing)}"


def theme_digest(theme_dir: Path) -> str:
    """Digest of the theme as a site sees it: every file's path and the bytes of the file that wins."""
    from labpress.cache.digests import digest

    files = {}
    for layer in theme_layers(theme_dir):
        if layer.is_dir():
            for path in layer.rglob("*"):
                if path.is_file() and "__pycache__" not in path.parts:
                    files.setdefault(path.relative_to(layer).as_posix(), path)
    return digest("theme", *[(relative, files[relative].read_bytes()) for relative in sorted(files)])


def template_loader(theme_dir: Path, site_dir: Path):
    """A Jinja2 loader for the theme's ``templates/``, layer by layer (a site's own template first).
    A template is named in errors by its path as the author knows it (``themes/default/templates/base.html``,
    relative to the site) when it is the site's own."""
    import os

    import jinja2

    from labpress.errors import display_path

    class LayeredLoader(jinja2.FileSystemLoader):
        def get_source(self, environment, template):
            source, filename, uptodate = super().get_source(environment, template)
            if filename and Path(filename).resolve().is_relative_to(Path(site_dir).resolve()):
                filename = display_path(Path(filename), site_dir)
            return source, filename, uptodate

    folders = [layer / "templates" for layer in theme_layers(theme_dir)]
    return LayeredLoader([os.fspath(folder) for folder in folders if folder.is_dir()])


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

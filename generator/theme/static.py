"""The theme's static files as a site publishes them: its stylesheet with the code colours filled
in (and the site's custom.css after it), its scripts and other files, each stylesheet and script
under a name that changes with its content, and KaTeX's stylesheet and fonts. Each file comes from
the first layer of the theme that has it (theme/lookup.py): a site's own file, else the packaged one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from labpress.errors import ConfigError
from labpress.theme.code_colours import published_stylesheet
from labpress.theme.lookup import fingerprint, theme_files, write_katex_files


@dataclass(frozen=True)
class ThemeStatic:
    """Fingerprinted URLs (relative to the site root) of the stylesheets and scripts."""

    style: str
    katex: str
    scheme: str
    icon: str
    widgets: str | None = None  # the widget stylesheet, when the theme has one


def write_theme_static(config, katex_dir: Path, tree) -> ThemeStatic:
    """The theme's static files into the output tree (stylesheets and scripts fingerprinted), and KaTeX's."""

    urls: dict[str, str] = {}
    for relative, source in theme_files(config.theme_dir, "static").items():
        if relative == "custom.css":
            continue  # published inside style.css, after the theme's rules
        # The stylesheet as the theme publishes it: its @labpress rules filled in (code colours).
        data = published_stylesheet(config.theme_dir) if relative == "style.css" else source.read_bytes()
        if source.suffix in (".css", ".js"):
            stem, dot, suffix = relative.rpartition(".")
            target = f"assets/{stem}.{fingerprint(data)}.{suffix}"
        else:
            target = f"assets/{relative}"
        tree.write(target, data)
        urls[relative] = target
    katex_css = write_katex_files(katex_dir, tree)
    missing = [name for name in ("style.css", "scheme.js", "favicon.svg") if name not in urls]
    if missing:
        raise ConfigError(f"error: theme '{config.theme}' lacks static/{', static/'.join(missing)}")
    return ThemeStatic(style=urls["style.css"], katex=katex_css, scheme=urls["scheme.js"], icon=urls["favicon.svg"],
                       widgets=urls.get("widgets.css"))

"""The theme's static files as a site publishes them: its stylesheet with the code colours filled
in (and the site's custom.css after it), its scripts and other files, each stylesheet and script
under a name that changes with its content, and KaTeX's stylesheet and fonts. Each file comes from
the first layer of the theme that has it (theme/lookup.py): a site's own file, else the packaged one.

KaTeX's fonts load when text in them is first laid out, and a post lays out its blocks only as they
come near the screen: a page printed as soon as it is opened would show blanks for every glyph
in a face not yet loaded. A page with formulas preloads the faces its formulas use, which the build
reads from their class names and KaTeX's stylesheet (``ThemeStatic.katex_fonts_for``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
    # Which KaTeX font a formula's classes call for, from KaTeX's stylesheet: (the selector's compounds,
    # each the classes one element must have, font URL); the base face (no compounds) first.
    katex_fonts: tuple[tuple[tuple[tuple[str, ...], ...], str], ...] = ()
    # The class sets of HTML looked at elsewhere (``class_sets``, by the HTML): see ``know_classes``.
    _known: dict = field(default_factory=dict, repr=False, compare=False, hash=False)

    def know_classes(self, known: dict[str, frozenset]) -> None:
        """``class_sets`` of some HTML, made already (where a post was rendered), by the HTML; the ones
        known before are forgotten."""
        self._known.clear()
        self._known.update(known)

    def katex_fonts_for(self, html: str) -> list[str]:
        """The URLs of the KaTeX fonts the formulas in ``html`` use: the base face and the italic of
        variables (which nearly every formula uses) first, then the others in KaTeX's order."""
        elements = self._known.get(html) if self._known else None
        if elements is None:
            elements = class_sets(html)
        having: dict[str, list[frozenset]] = {}
        for classes in elements:
            for name in classes:
                having.setdefault(name, []).append(classes)
        if "katex" not in having:
            return []
        found: dict[tuple[str, ...], bool] = {}

        def present(compound: tuple[str, ...]) -> bool:
            """Whether one element has every class of ``compound``."""
            if compound not in found:
                candidates = min((having.get(name, ()) for name in compound), key=len, default=elements)
                found[compound] = any(classes.issuperset(compound) for classes in candidates)
            return found[compound]

        def used(compounds) -> bool:
            return all(present(compound) for compound in compounds)

        fonts = list(dict.fromkeys(url for compounds, url in self.katex_fonts if used(compounds)))
        return sorted(fonts, key=lambda url: (url != self.katex_fonts[0][1], not url.endswith("/KaTeX_Math-Italic.woff2")))


def class_sets(html: str) -> frozenset[frozenset[str]]:
    """The classes of each element of ``html`` that has a class attribute, once per distinct set (a
    post repeats a few hundred of them thousands of times)."""
    values = _SPACE_CLASS.findall(html)  # a literal start: much faster than any whitespace before it
    if html.count('class="') != len(values):  # one not after a plain space (or not closed): look again
        values = _CLASS_VALUE.findall(html)
    return frozenset(frozenset(value.split()) for value in set(values))


_CLASS_VALUE = re.compile(r'\sclass="([^"]*)"')
_SPACE_CLASS = re.compile(r' class="([^"]*)"')
_FONT_FACE = re.compile(r"@font-face\s*\{([^{}]*)\}")
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_WOFF2 = re.compile(r"url\(['\"]?([^'\")]*\.woff2)['\"]?\)")
_BASE_FACE = ("KaTeX_Main", "400", "normal")


def _declarations(body: str) -> dict[str, str]:
    pairs = (d.split(":", 1) for d in body.split(";") if ":" in d)
    return {name.strip().lower(): value.strip() for name, value in pairs}


def _weight(value: str | None) -> str:
    return {"bold": "700", "normal": "400"}.get(value or "400", value or "400")


def katex_font_table(css: str, fonts_url: str) -> tuple[tuple[tuple[tuple[str, ...], ...], str], ...]:
    """(compounds, font URL) for each rule of KaTeX's stylesheet that picks a face: the base face
    (KaTeX_Main), each ``font-family: KaTeX_…`` rule with its weight and style, and the rules that
    only make the text bold or italic (``\\textbf``, ``\\textit``), which stay in KaTeX_Main."""
    faces: dict[tuple[str, str, str], str] = {}
    for body in _FONT_FACE.findall(css):
        found = _declarations(body)
        woff2 = _WOFF2.search(found.get("src", ""))
        if woff2 and "font-family" in found:
            key = (found["font-family"].strip("'\""), _weight(found.get("font-weight")), found.get("font-style", "normal"))
            faces[key] = fonts_url + woff2.group(1).rpartition("/")[2]
    table = [((), faces[_BASE_FACE])] if _BASE_FACE in faces else []
    main_variants: dict[tuple[tuple[str, ...], ...], tuple[str, str]] = {}
    for selectors, body in _RULE.findall(_FONT_FACE.sub("", css)):
        found = _declarations(body)
        family = found.get("font-family", "").strip("'\"")
        if family and not family.startswith("KaTeX_"):
            continue
        if not family and not {"font-weight", "font-style"} & found.keys():
            continue
        for selector in selectors.split(","):
            # ".katex .delimsizing.mult .delim-size1>span": (("delimsizing", "mult"), ("delim-size1",))
            compounds = (tuple(sorted(set(re.findall(r"\.([\w-]+)", part)) - {"katex"}))
                         for part in re.split(r"[\s>+~]+", selector.strip()))
            needed = tuple(c for c in compounds if c)
            if not needed:
                continue
            if family:
                key = (family, _weight(found.get("font-weight")), found.get("font-style", "normal"))
            else:
                main_variants[needed] = (_weight(found.get("font-weight")), found.get("font-style", "normal"))
                key = ("KaTeX_Main", *main_variants[needed])
            if key in faces:
                table.append((needed, faces[key]))
    bold = [n for n, (weight, _style) in main_variants.items() if weight == "700"]
    italic = [n for n, (_weight_, style) in main_variants.items() if style == "italic"]
    if ("KaTeX_Main", "700", "italic") in faces:  # \textbf{\textit{…}}: both, on one element or nested
        table += [(b + i, faces[("KaTeX_Main", "700", "italic")]) for b in bold for i in italic]
    return tuple(table)


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
    css = (katex_dir / "dist" / "katex.min.css").read_text(encoding="utf-8")  # as write_katex_files publishes it
    katex_fonts = katex_font_table(css, katex_css.rpartition("/")[0] + "/fonts/")
    return ThemeStatic(style=urls["style.css"], katex=katex_css, scheme=urls["scheme.js"], icon=urls["favicon.svg"],
                       widgets=urls.get("widgets.css"), katex_fonts=katex_fonts)

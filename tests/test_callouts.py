"""Callouts: note, tip, important, warning and caution, each with an optional title of its own; the
theme colours each in both schemes, with AA contrast."""

import re

import pytest

from conftest import REPO
from labpress.theme.code_colours import contrast

HEAD = "---\ntitle: Callouts\ndate: 2026-02-02\n---\n"
KINDS = {"note": "Note", "tip": "Tip", "important": "Important", "warning": "Warning", "caution": "Caution"}


def test_every_kind_renders_as_an_aside_labelled_with_its_kind(site):
    body = "".join(f"::: {name}\nText of the {name}.\n:::\n\n" for name in KINDS)
    result, html = site.build_post(HEAD + body)
    assert result.returncode == 0, result.stderr
    for name, label in KINDS.items():
        assert (f'<aside class="callout callout--{name}" aria-label="{label}">\n'
                f'<p class="callout-label">{label}</p>\n<p>Text of the {name}.</p>\n</aside>') in html
    order = [m.group(1) for m in re.finditer(r'class="callout callout--(\w+)"', html)]
    assert order == list(KINDS)


@pytest.mark.parametrize("name", list(KINDS))
def test_a_title_overrides_the_label_and_keeps_the_kind(site, name):
    result, html = site.build_post(HEAD + f'::: {name} "Rule of thumb"\nBody.\n:::\n')
    assert result.returncode == 0, result.stderr
    label = KINDS[name]
    assert (f'<aside class="callout callout--{name}" aria-label="{label}: Rule of thumb">\n'
            f'<p class="callout-label"><span class="callout-kind">{label}</span>'
            ' <span class="callout-title">Rule of thumb</span></p>') in html


def test_a_title_is_text_escaped_with_quotes_and_markup_kept_as_written(site):
    result, html = site.build_post(HEAD + '::: Tip   "A \\"quoted\\" <b>bold</b> & \\\\ title"  \nBody.\n:::\n')
    assert result.returncode == 0, result.stderr
    title = 'A &quot;quoted&quot; &lt;b&gt;bold&lt;/b&gt; &amp; \\ title'
    assert f'aria-label="Tip: {title}"' in html
    assert f'<span class="callout-title">{title}</span>' in html


def test_callouts_nest_in_quotes_lists_and_other_blocks(site):
    body = (':::: important "Outer"\n::: caution\ninner\n:::\n::::\n\n> ::: tip "In a quote"\n> quoted\n> :::\n\n'
            '- item\n\n  ::: warning\n  listed\n  :::\n')
    result, html = site.build_post(HEAD + body)
    assert result.returncode == 0, result.stderr
    assert html.index("callout--important") < html.index("callout--caution")
    assert 'aria-label="Tip: In a quote"' in html and "callout--warning" in html


@pytest.mark.parametrize("line, error", [
    pytest.param('::: tip "Rule of thumb', "5:9: error: the title of block 'tip' is never closed: end it with '\"', as in"
                 " '::: tip \"Rule of thumb\"'", id="unclosed-quote"),
    pytest.param('::: caution Rule of thumb', "5:13: error: the title of block 'caution' goes in double quotes, as in"
                 " '::: caution \"Rule of thumb\"'; found 'Rule of thumb'", id="no-quotes"),
    pytest.param('::: note “Curly”', "5:10: error: the title of block 'note' goes in double quotes, as in"
                 " '::: note \"Rule of thumb\"'; found '“Curly”'", id="curly-quotes"),
    pytest.param('::: note "A" and more', "5:14: error: block 'note' takes one title in double quotes; found 'and more'"
                 " after it", id="text-after-title"),
    pytest.param('::: warning ""', "5:13: error: the title of block 'warning' is empty: leave the quotes out for"
                 " 'Warning'", id="empty-title"),
    pytest.param('::: important "\\"', "5:15: error: the title of block 'important' is never closed: end it with"
                 " '\"', as in '::: important \"Rule of thumb\"'", id="escaped-closing-quote"),
    pytest.param('> ::::  tip  "x', "5:14: error: the title of block 'tip' is never closed: end it with '\"', as in"
                 " '::: tip \"Rule of thumb\"'", id="in-a-quote"),
    pytest.param('::: cautoin "x"', "5:5: error: unknown block 'cautoin' (did you mean 'caution'?); known blocks: hypothesis,"
                 " conclusion, note, tip, important, warning, caution, widget, table", id="unknown-kind"),
])
def test_a_bad_title_is_an_error_at_its_column(site, line, error):
    closing = ":::" if "::::" not in line else "::::"
    prefix = "> " if line.startswith("> ") else ""
    result, _ = site.build_post(HEAD + f"{line}\n{prefix}Body.\n{prefix}{closing}\n")
    assert result.returncode == 1
    assert result.errors == [f"content/p.md:{error}"]
    assert "Traceback" not in result.stderr


PALETTE = re.compile(r"--([\w-]+): light-dark\((#[0-9a-f]{6}), (#[0-9a-f]{6})\)")
# Each callout's custom properties (its tone and its background), from the stylesheet's rules.
TONE = re.compile(r"\.callout(?:--(\w+))? \{[^}]*?--tone: var\(--([\w-]+)\); --tone-soft: var\(--([\w-]+)\);")


def test_every_kind_has_its_own_tone_with_aa_contrast_in_both_schemes():
    css = (REPO / "themes" / "default" / "static" / "style.css").read_text()
    palette = {name: (light, dark) for name, light, dark in PALETTE.findall(css)}
    tones = {kind or "note": (tone, soft) for kind, tone, soft in TONE.findall(css)}
    assert set(tones) == set(KINDS)
    assert len({tone for tone, _ in tones.values()}) == len(KINDS)  # told apart by colour too, not only by word
    for kind, (tone, soft) in tones.items():
        for scheme in (0, 1):
            background = palette[soft][scheme]
            for text in (tone, "ink", "link", "muted"):
                ratio = contrast(palette[text][scheme], background)
                assert ratio >= 4.5, (kind, text, ("light", "dark")[scheme], round(ratio, 2))

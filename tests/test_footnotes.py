"""Footnotes: [^1] and [^long-name] with their definitions, numbered per post in the order of first
reference, with links back, in a "Notes" section at the end of the post body; undefined and unused
footnotes are errors at their position."""

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import REPO

HEAD = "---\ntitle: Notes\ndate: 2026-02-02\n---\n"


def body_of(html: str) -> str:
    return html[html.index('<div class="post-body">'):html.index('<footer class="post-footer">')]


def ref(number: int, use: int = 1) -> str:
    ident = f"fnref_{number}" if use == 1 else f"fnref_{number}_{use}"
    return (f'<sup class="footnote-ref"><a href="#fn_{number}" id="{ident}" role="doc-noteref"'
            f' aria-describedby="notes">{number}</a></sup>')


def test_numbered_in_order_of_first_reference_with_links_back(site):
    text = HEAD + ("Titrant[^long-name] and indicator[^1], the titrant again[^long-name].\n\n"
                   "## Method\n\nBurette[^b].\n\n"
                   "[^1]: Phenolphthalein.\n[^b]: Read to 0.05 mL.\n[^long-name]: Sodium hydroxide, 0.1 M.\n")
    result, html = site.build_post(text)
    assert result.returncode == 0, result.stderr
    body = body_of(html)
    assert f"Titrant{ref(1)} and indicator{ref(2)}, the titrant again{ref(1, 2)}." in body
    assert f"Burette{ref(3)}." in body
    notes = body[body.index('<section class="footnotes"'):]
    assert notes.startswith('<section class="footnotes" role="doc-endnotes" aria-labelledby="notes">\n'
                            '<h2 id="notes" class="footnotes-title">Notes</h2>\n<ol class="footnotes-list">\n')
    assert ('<li id="fn_1" class="footnote-item">\n<p>Sodium hydroxide, 0.1 M. '
            '<a href="#fnref_1" class="footnote-backref" role="doc-backlink" aria-label="Back to reference 1-1">↩\ufe0e</a> '
            '<a href="#fnref_1_2" class="footnote-backref" role="doc-backlink" aria-label="Back to reference 1-2">'
            '↩\ufe0e<sup>2</sup></a></p>\n</li>') in notes
    assert ('<li id="fn_2" class="footnote-item">\n<p>Phenolphthalein. <a href="#fnref_2" class="footnote-backref"'
            ' role="doc-backlink" aria-label="Back to reference 2">↩\ufe0e</a></p>\n</li>') in notes
    assert notes.index('id="fn_2"') < notes.index('id="fn_3"') and "Read to 0.05 mL." in notes
    # The notes come after every section, outside them; the definitions are not left where they stood.
    assert body.rindex("</section>\n<section class=\"footnotes\"") > body.index('aria-labelledby="method"')
    assert body.count("Phenolphthalein") == 1


def test_neither_reference_nor_definition_is_left_as_text_or_a_link(site):
    result, html = site.build_post(HEAD + "A claim[^1].\n\n[^1]: note\n")
    assert result.returncode == 0, result.stderr
    body = body_of(html)
    assert "[^1]" not in body and 'href="note"' not in body
    assert "<p>note <a href=\"#fnref_1\"" in body


def test_ids_are_unique_and_the_heading_steps_aside_for_a_section_called_notes(site):
    text = HEAD + "## Notes\n\nSee[^a] and[^a] and[^b].\n\n## Notes\n\n[^a]: A.\n[^b]: B.\n"
    result, html = site.build_post(text)
    assert result.returncode == 0, result.stderr
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), ids
    assert '<h2 id="notes-3" class="footnotes-title">Notes</h2>' in html
    assert 'aria-labelledby="notes-3"' in html and 'aria-describedby="notes-3"' in html


def test_notes_may_hold_blocks_maths_links_and_references_to_other_notes(site):
    text = HEAD + ("Text[^long].\n\n"
                   "[^long]: First paragraph with $x^2$ and a [link](/other/#method)[^inner].\n\n"
                   "    Second paragraph.\n\n"
                   "    ```python\n    print(1)\n    ```\n\n"
                   "[^inner]: Referenced only from a note, so numbered after it.\n")
    result, html = site.build_post(text, "--base-url", "https://someone.github.io/nb/")
    assert result.returncode == 0, result.stderr
    notes = body_of(html)[body_of(html).index('class="footnotes"'):]
    first = notes[notes.index('id="fn_1"'):notes.index('id="fn_2"')]
    assert '<span class="katex">' in first and 'href="/nb/other/#method"' in first
    assert ref(2) in first
    assert "<p>Second paragraph.</p>" in first and '<pre class="highlight"' in first
    # The link back follows the last block when it is not a paragraph.
    assert re.search(r"</pre>\s*<a href=\"#fnref_1\" class=\"footnote-backref\"", first)
    assert "Referenced only from a note" in notes[notes.index('id="fn_2"'):]


def test_a_post_without_footnotes_has_no_notes_section(site):
    result, html = site.build_post(HEAD + "Plain [link](https://example.org/) and [^ not a note].\n")
    assert result.returncode == 0, result.stderr
    assert "footnotes" not in html and "[^ not a note]" in html


@pytest.mark.parametrize("body, errors", [
    pytest.param("A claim[^nope].\n", ["6:8: error: footnote '[^nope]' is never defined: add a line"
                                       " '[^nope]: text of the note'"], id="undefined"),
    pytest.param("A `[^note]` code span, then [^nte].\n\n[^note]: Y.\n",
                 ["6:29: error: footnote '[^nte]' is never defined (did you mean 'note'?): add a line"
                  " '[^nte]: text of the note'",
                  "8:1: error: footnote '[^note]' is never referenced: refer to it with '[^note]' in the text, or"
                  " delete it"],
                 id="undefined-after-a-code-span-and-unused"),
    pytest.param("- item\n- item with [^gone] in it\n", ["7:13: error: footnote '[^gone]' is never defined: add a line"
                                                         " '[^gone]: text of the note'"], id="in-a-list"),
    pytest.param("| a | b |\n|---|---|\n| 1 | x[^t] |\n", ["8:8: error: footnote '[^t]' is never defined: add a line"
                                                          " '[^t]: text of the note'"], id="in-a-table"),
    pytest.param("## Heading[^h]\n", ["6:11: error: footnote '[^h]' is never defined: add a line"
                                      " '[^h]: text of the note'"], id="in-a-heading"),
    pytest.param("Used[^a].\n\n> [^a]: A.\n>\n> [^unused]: never.\n",
                 ["10:3: error: footnote '[^unused]' is never referenced: refer to it with '[^unused]' in the text,"
                  " or delete it"], id="unused-in-a-quote"),
    pytest.param("Used[^a].\n\n[^a]: First.\n[^a]: Second.\n",
                 ["9:1: error: footnote '[^a]' is defined twice; the first definition is at line 8"], id="twice"),
    pytest.param("Used[^a].\n\n[^a]:\n", ["8:1: error: footnote '[^a]' is empty: write its text after the ':'"],
                 id="empty"),
    pytest.param("Used[^a].\n\n[^a]: See [^a] and [^b].\n",
                 ["8:20: error: footnote '[^b]' is never defined: add a line '[^b]: text of the note'"],
                 id="undefined-inside-a-note"),
    pytest.param("Only from itself.\n\n[^a]: See [^a].\n",
                 ["8:1: error: footnote '[^a]' is never referenced: refer to it with '[^a]' in the text, or delete it"],
                 id="referenced-only-by-itself"),
])
def test_errors_at_their_position(site, body, errors):
    result, _ = site.build_post(HEAD + "\n" + body)
    assert result.returncode == 1, result.stderr
    assert result.errors == [f"content/p.md:{error}" for error in errors]
    assert "Traceback" not in result.stderr


def test_the_feed_carries_the_notes(site):
    result, _ = site.build_post(HEAD + "A claim[^1].\n\n[^1]: The note, with $x$.\n")
    assert result.returncode == 0, result.stderr
    feed = ET.parse(site.out / "atom.xml").getroot()
    content = feed.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}content").text
    assert ref(1) in content and '<li id="fn_1" class="footnote-item">' in content and "The note, with" in content


def test_two_builds_are_byte_identical(site):
    site.post("p.md", HEAD + "One[^b], two[^a], one again[^b].\n\n[^a]: A.\n[^b]: B.\n")
    assert site.build().returncode == 0
    first = {p.relative_to(site.out): p.read_bytes() for p in site.out.rglob("*") if p.is_file()}
    shutil.rmtree(site.root / ".labpress-cache")
    shutil.rmtree(site.out)
    assert site.build().returncode == 0
    second = {p.relative_to(site.out): p.read_bytes() for p in site.out.rglob("*") if p.is_file()}
    assert second == first


HTML_VALIDATE = REPO / "node_modules" / ".bin" / "html-validate"


@pytest.mark.skipif(not HTML_VALIDATE.exists(), reason="npm ci installs html-validate")
def test_the_page_is_valid_html(site):
    text = HEAD + ("## Method\n\nA[^1] b[^x] a[^1].\n\n| a | b |\n|---|---|\n| 1 | c[^x] |\n\n"
                   "[^1]: One.\n\n    Two.\n\n[^x]: - a list\n    - in a note\n")
    result, _ = site.build_post(text)
    assert result.returncode == 0, result.stderr
    checked = subprocess.run([str(HTML_VALIDATE), "--config", str(REPO / ".htmlvalidate.json"),
                              str(site.out / "p" / "index.html")], capture_output=True, text=True, cwd=REPO)
    assert checked.returncode == 0, checked.stdout + checked.stderr

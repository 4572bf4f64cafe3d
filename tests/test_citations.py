"""Citations (issue 12): ``[@key]``, ``[@key, p. 12]``, ``[@a; @b]``, ``@key`` and ``[-@key]`` formatted
by citeproc-py from BibTeX or CSL-JSON, site-wide or per post, in an author-date or a numeric
style, with the list of works cited at the end of the post; every mistake at its place (in the
post, and in the .bib file); the bibliography an input of the post."""

import json
import re

import pytest

from labpress.bibliography.bibtex import parse_bibtex

HEAD = "---\ntitle: P\ndate: 2026-02-02\nbibliography: refs.bib\n---\n\n"  # the body starts on line 7
BARE = "---\ntitle: P\ndate: 2026-02-02\n---\n\n"  # no bibliography; the body starts on line 6

BIB = """\
% Entries for the tests; write to lab@example.org with corrections.
@string{jchem = "Journal of Solution Chemistry"}

@article{curie1898,
  author = {Curie, Marie and Curie, Pierre},
  title = {On a new radioactive substance contained in {pitchblende}},
  journal = jchem,
  year = {1898},
  volume = {127},
  pages = {175--178},
  doi = {10.1000/curie.1898},
}

@book{galileo1638,
  author = {Galilei, Galileo},
  title = {Two New Sciences},
  publisher = {Elzevir},
  year = 1638,
  url = {https://example.org/galileo?part=2&lang=en},
}
"""

CSL = [
    {"id": "hooke1678", "type": "book", "title": "Lectures de Potentia Restitutiva",
     "author": [{"family": "Hooke", "given": "Robert"}], "issued": {"date-parts": [[1678]]},
     "publisher": "John Martyn", "URL": "https://example.org/hooke"},
]


def bib(site, text: str = BIB, name: str = "content/refs.bib"):
    path = site.root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def built(site, body: str, head: str = HEAD, *args: str) -> str:
    result, html = site.build_post(head + body, *args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # citeproc-py's warnings never reach the author
    return html


def refused(site, body: str, head: str = HEAD) -> list[str]:
    result, html = site.build_post(head + body)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output and "internal error" not in output, output
    return result.errors


def citations(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c) for c in re.findall(r'<(?:a|span) class="citation"[^>]*>(.*?)</(?:a|span)>', html)]


def references(html: str) -> list[tuple[str, str]]:
    section = re.search(r'<section class="references" aria-labelledby="references">\n'
                        r'<h2 id="references" class="references-heading">References</h2>\n'
                        r'<ol class="references-list">\n(.*?)</ol>\n</section>', html, re.S)
    assert section, html
    return re.findall(r'<li id="([^"]+)">(.*?)</li>', section.group(1))


def error(line: int, col: int, message: str) -> str:
    return f"content/p.md:{line}:{col}: error: {message}"


BODY = ("Radioactivity [@curie1898, p. 176] and falling bodies [@galileo1638; @curie1898].\n\n"
        "@galileo1638 timed them; the Curies measured it [-@curie1898]. Write to lab@example.org.\n")


def test_author_date_by_default(site):
    bib(site)
    html = built(site, BODY)
    assert citations(html) == ["(Curie and Curie 1898, 176)", "(Curie and Curie 1898; Galilei 1638)",  # sorted
                               "Galilei (1638)", "(1898)"]
    # A citation of one work links to its entry; a group of works does not.
    assert '<a class="citation" href="#ref-curie1898">(Curie and Curie 1898, 176)</a>' in html
    assert "lab@example.org" in html
    entries = references(html)
    assert [anchor for anchor, _ in entries] == ["ref-curie1898", "ref-galileo1638"]  # the style's order
    curie, galileo = (text for _, text in entries)
    assert curie.startswith("Curie, M., and P. Curie. 1898. “On a New Radioactive Substance Contained in pitchblende”.")
    assert '<i>Journal of Solution Chemistry</i> 127: 175–78' in curie  # Chicago shortens page ranges
    assert '<a href="https://doi.org/10.1000/curie.1898">https://doi.org/10.1000/curie.1898</a>' in curie
    assert ('<a href="https://example.org/galileo?part=2&amp;lang=en">https://example.org/galileo?part=2&amp;lang=en</a>'
            in galileo)


def test_a_numeric_style(site):
    bib(site)
    site.config('title = "T"\nbase_url = "https://notes.example/"\n[bibliography]\nstyle = "ieee"\n')
    html = built(site, BODY)
    assert citations(html) == ["[1, p. 176]", "[1], [2]", "Galilei [2]", "[1]"]
    entries = references(html)
    assert [anchor for anchor, _ in entries] == ["ref-curie1898", "ref-galileo1638"]  # in the order first cited
    assert entries[0][1].startswith('<span class="csl-label">[1]</span> M. Curie and P. Curie, “On a new radioactive')
    assert 'doi: <a href="https://doi.org/10.1000/curie.1898">10.1000/curie.1898</a>' in entries[0][1]


def test_apa_and_locators(site):
    bib(site)
    site.config('title = "T"\nbase_url = "https://notes.example/"\n[bibliography]\nstyle = "apa"\n')
    html = built(site, "[see @curie1898, pp. 175-177, for the method] and [@galileo1638 12].\n")
    assert citations(html) == ["(see Curie &amp; Curie, 1898, pp. 175–177, for the method)", "(Galilei, 1638, p. 12)"]


def test_site_wide_csl_json_bibliography(site):
    bib(site, json.dumps(CSL, indent=2), "refs.json")
    site.config('title = "T"\nbase_url = "https://notes.example/"\n[bibliography]\nfiles = ["refs.json"]\n')
    html = built(site, "Springs: @hooke1678.\n", BARE)
    assert citations(html) == ["Hooke (1678)"]
    [(anchor, entry)] = references(html)
    assert anchor == "ref-hooke1678"
    assert '<a href="https://example.org/hooke">https://example.org/hooke</a>' in entry
    # Another post that cites nothing has no list, and does not depend on the file.
    site.post("q.md", BARE.replace("title: P", "title: Q") + "Nothing cited.\n")
    assert site.build().returncode == 0
    assert "references" not in (site.out / "q" / "index.html").read_text()


def test_without_a_bibliography_at_is_text_and_brackets_are_errors(site):
    html = built(site, "Ask @someone on the forum.\n", BARE)
    assert "Ask @someone on the forum." in html
    assert refused(site, "Cited [@curie1898].\n", BARE) == [
        error(6, 7, "'[@curie1898]' is a citation, and this post has no bibliography: add 'bibliography: refs.bib'"
                    " to its front matter, or '[bibliography] files = [\"refs.bib\"]' to labpress.toml")]


def test_the_feed_carries_the_citations_and_the_list(site):
    bib(site)
    built(site, BODY)
    feed = (site.out / "atom.xml").read_text()
    assert "(Curie and Curie 1898, 176)" in feed and "references-list" in feed


def test_base_url(site):
    bib(site)
    html = built(site, "[@curie1898]\n", HEAD, "--base-url", "https://x.example/sub/")
    assert '<a class="citation" href="#ref-curie1898">' in html  # in-page anchors need no base


def test_incremental_build_after_editing_the_bib_file_equals_a_clean_build(site, tmp_path):
    path = bib(site)
    built(site, BODY)
    path.write_text(BIB.replace("year = {1898}", "year = {1899}"), encoding="utf-8")
    result = site.build()
    assert result.returncode == 0, result.stderr
    html = (site.out / "p" / "index.html").read_text()
    assert "(Curie and Curie 1899, 176)" in html
    assert "content/refs.bib" in (site.out / "p" / "provenance.json").read_text()
    assert site.build("--out", str(tmp_path / "clean"), "--no-cache").returncode == 0
    files = lambda root: {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}  # noqa: E731
    assert files(site.out) == files(tmp_path / "clean")


def test_two_builds_are_byte_identical(site, tmp_path):
    bib(site)
    site.post("p.md", HEAD + BODY)
    outputs = []
    for name in ("one", "two"):
        assert site.build("--out", str(tmp_path / name), "--no-cache").returncode == 0
        outputs.append({p.relative_to(tmp_path / name): p.read_bytes() for p in (tmp_path / name).rglob("*") if p.is_file()})
    assert outputs[0] == outputs[1]


# --- Mistakes ---------------------------------------------------------------------


def test_unknown_keys_at_their_position(site):
    bib(site)
    assert refused(site, "As [@galileo1638; @curie1989] and @nobody showed.\n") == [
        error(7, 19, "unknown citation key 'curie1989' (did you mean 'curie1898'?): no entry of the bibliography has it"),
        error(7, 35, "unknown citation key 'nobody': no entry of the bibliography has it"),
    ]


@pytest.mark.parametrize("entry, line, message", [
    pytest.param("@article{broken,\n  title = {Never closed,\n  year = {2001},\n}\n", 22,
                 "the entry 'broken' is never closed (its braces do not balance)", id="unbalanced"),
    pytest.param("@article{nofields\n  title = {x},\n}\n", 23,
                 "expected ',' or '}' after the key or a field of 'nofields', found 't'", id="no-comma"),
    pytest.param("@article{bad,\n  title = {x},\n  year = {in press},\n}\n", 24,
                 "the year of 'bad' is not a year: 'in press' (write year = {2020})", id="year"),
    pytest.param("@artcle{typo, title = {x}}\n", 22, "unknown entry type '@artcle' (did you mean 'article'?)",
                 id="type"),
    pytest.param("@book{curie1898, title = {Again}}\n", 22, "the key 'curie1898' is already the entry at line 4",
                 id="duplicate-key"),
    pytest.param("@misc{m, journal = nosuch}\n", 22,
                 "'nosuch' is not a @string defined above it; write text values in braces: {...}", id="unknown-string"),
])
def test_a_malformed_bib_entry_is_an_error_at_its_line(site, entry, line, message):
    bib(site, BIB + "\n" + entry)
    # The post's position is its front matter's 'bibliography:'; the message names the .bib file's line.
    assert refused(site, "[@curie1898]\n") == [error(4, 15, f"content/refs.bib:{line}: {message}")]


def test_a_missing_file_and_a_bad_json(site):
    assert refused(site, "Text.\n") == [
        error(4, 15, "there is no bibliography file 'content/refs.bib' (the path is relative to the post's folder)")]
    bib(site, '[{"id": "a", "type": "book", "author": "Somebody"}]', "content/refs.json")
    assert refused(site, "[@a]\n", HEAD.replace("refs.bib", "refs.json")) == [
        error(4, 15, "content/refs.json:1: the item 'a' \"author\" must be a list of names such as"
                     " {\"family\": \"Curie\", \"given\": \"Marie\"}")]


def test_configuration_mistakes_exit_2(site):
    site.config('title = "T"\n[bibliography]\nstyle = "chicago-autor-date"\n')
    result = site.build()
    assert result.returncode == 2
    assert "labpress.toml:3: error: 'bibliography.style': unknown citation style 'chicago-autor-date'" \
           " (did you mean 'chicago-author-date'?)" in result.stderr
    site.config('title = "T"\n[bibliography]\nfiles = ["missing.bib"]\n')
    assert "there is no file 'missing.bib' in the site folder" in site.build().stderr
    site.config('title = "T"\n[bibliography]\nfile = ["refs.bib"]\n')
    assert "unknown key 'bibliography.file' (did you mean 'files'?)" in site.build().stderr


def test_the_bibtex_reader_keeps_lines_and_reads_what_bibtex_reads():
    entries, problems, _ = parse_bibtex(BIB + '@comment{ignored @article{x}}\n@misc(paren, note = "a" # {b})\n')
    assert problems == []
    assert [(e.key, e.line) for e in entries] == [("curie1898", 4), ("galileo1638", 14), ("paren", 22)]
    assert entries[0].fields["journal"] == "Journal of Solution Chemistry"
    assert entries[0].lines["doi"] == 11
    assert entries[2].fields["note"] == "ab"

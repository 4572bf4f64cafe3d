"""Bad input an author can write: each is a content error at its position (exit 1), never an
internal error, a traceback, a hang or a silent success, and the previous output stays as it was."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest

GOOD = "---\ntitle: Good\ndate: 2026-03-01\n---\n\nBody.\n"
FM = "---\ntitle: T\ndate: 2026-03-01\n---\n"


class TookTooLong(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float):
    """Fail (rather than hang) when the block runs past ``seconds``."""

    def expire(signum, frame):
        raise TookTooLong(f"ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def built(site):
    """A site built once with a good post: (site, snapshot of its output)."""
    site.post("good.md", GOOD)
    result = site.build()
    assert result.returncode == 0, result.stderr
    return site, snapshot(site.out)


def write_bytes(site, name: str | bytes, data: bytes) -> None:
    if isinstance(name, bytes):
        path = os.fsencode(site.root / "content") + b"/" + name
    else:
        path = site.root / "content" / name
    with open(path, "wb") as f:
        f.write(data)


def refused(site, before: dict[str, bytes] | None, expected: str, seconds: float = 10) -> list[str]:
    """Build; check exit 1 with the ``expected`` error line, short messages, no internal error, and
    (with ``before``) the previous output unchanged. Returns the error lines."""
    started = time.perf_counter()
    with time_limit(seconds):
        result = site.build()
    elapsed = time.perf_counter() - started
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[:2000]
    assert "internal error" not in output and "Traceback" not in output, output[:2000]
    assert expected in result.errors, output[:2000]
    assert all(len(line) < 500 for line in result.errors), max(result.errors, key=len)[:600]
    assert len(output) < 20_000
    if before is not None:
        assert snapshot(site.out) == before
    assert elapsed < seconds
    return result.errors


# --- 1, 6: front matter YAML that would crash, hang or flood ---------------------------------------

def laughs(levels: int = 9, key: str = "i") -> str:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    names = "abcdefghijklmnop"
    for previous, name in zip(names, names[1:levels]):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    lines[-1] = lines[-1].replace(f"{names[levels - 1]}: ", f"{key}: ", 1)
    return "---\n" + "\n".join(lines) + "\ntitle: t\ndate: 2026-03-01\n---\n"


@pytest.mark.parametrize("text, expected", [
    pytest.param("---\ntitle: a\0b\ndate: 2026-03-01\n---\nBody\n",
                 "content/p.md:2:9: error: front matter cannot hold the control character U+0000", id="nul"),
    pytest.param("---\ntitle: a\x1bb\ndate: 2026-03-01\n---\nBody\n",
                 "content/p.md:2:9: error: front matter cannot hold the control character U+001B", id="escape"),
    pytest.param("---\n- a\n- b\n---\n",
                 "content/p.md:2:1: error: front matter must be a mapping of fields such as 'title: ...'", id="list"),
    pytest.param("---\njust words\n---\n",
                 "content/p.md:2:1: error: front matter must be a mapping of fields such as 'title: ...'", id="scalar"),
    pytest.param("---\n? [a, b]\n: 1\ntitle: t\ndate: 2026-03-01\n---\n",
                 "content/p.md:2:3: error: front matter is not valid YAML: found unhashable key", id="list-key"),
    pytest.param("---\n1: x\ntitle: t\ndate: 2026-03-01\n---\n",
                 "content/p.md:2:1: error: unknown front matter field '1'", id="number-key"),
    pytest.param("---\ntitle: {a: 1}\ndate: 2026-03-01\n---\n",
                 "content/p.md:2:8: error: 'title' must be text", id="title-mapping"),
    pytest.param("---\ntitle: !!binary aGk=\ndate: 2026-03-01\n---\n",
                 "content/p.md:2:8: error: 'title' must be text", id="title-bytes"),
    pytest.param("---\ntitle: t\ndate: 2026-03-01\ntags: [ok, [b]]\n---\n",
                 "content/p.md:4:7: error: tag '['b']' must be a short word or phrase", id="tag-list"),
    pytest.param("---\ntitle: t\ndate: 0000-01-01\n---\n",
                 "content/p.md:3:7: error: front matter value is not valid: year 0 is out of range", id="year-0"),
    pytest.param("---\ntitle: t\ndate: 99999-01-01\n---\n",
                 "content/p.md:3:7: error: 'date' must be a date written YYYY-MM-DD, not '99999-01-01'", id="year-99999"),
    pytest.param("---\ntitle: t\ndate: 2026-03-01 25:00:00\n---\n",
                 "content/p.md:3:7: error: front matter value is not valid: hour must be in 0..23", id="hour-25"),
    pytest.param("---\ntitle: t\ndate: !!timestamp soon\n---\n",
                 "content/p.md:3:7: error: front matter value is not valid: it cannot be read as timestamp",
                 id="bad-timestamp"),
    pytest.param("---\ntitle: t\ndate: 2026-03-01\nexp: " + "9" * 5000 + "\n---\n",
                 "content/p.md:4:6: error: front matter value is not valid: Exceeds the limit (4300 digits) for"
                 " integer string conversion: value has 5000 d…", id="huge-int"),
    pytest.param(laughs(), "content/p.md:6:1: error: front matter holds more than 10,000 values, counting each use"
                 " of an alias (*name) in full; a post's fields need a few", id="billion-laughs"),
    pytest.param(laughs(key="tags"), "content/p.md:6:1: error: front matter holds more than 10,000 values, counting"
                 " each use of an alias (*name) in full; a post's fields need a few", id="billion-laughs-in-tags"),
    pytest.param("---\na: &a [*a]\ntitle: t\ndate: 2026-03-01\n---\n",
                 "content/p.md:2:4: error: front matter nests lists or mappings more than 50 deep", id="alias-cycle"),
    pytest.param("---\ntitle: t\ndate: 2026-03-01\nsummary: " + "[" * 60 + "]" * 60 + "\n---\n",
                 "content/p.md:4:60: error: front matter nests lists or mappings more than 50 deep", id="nested-60"),
    pytest.param("---\ntitle: t\ndate: 2026-03-01\nsummary: " + "[" * 10_000 + "]" * 10_000 + "\n---\n",
                 "content/p.md:4:1009: error: front matter is not valid YAML: exceeded maximum nesting depth",
                 id="nested-10000"),
    pytest.param("---\ntitle: t\ndate: 2026-03-01\nsummary: [" + ", ".join(["1"] * 20_000) + "]\n---\n",
                 "content/p.md:4:1: error: front matter holds more than 10,000 values, counting each use of an"
                 " alias (*name) in full; a post's fields need a few", id="many-values"),
    pytest.param("---\ntitle: " + "x" * 70_000 + "\ndate: 2026-03-01\n---\n",
                 "content/p.md:1:1: error: front matter is longer than 64 KiB: keep long text in the post's body",
                 id="huge-front-matter"),
    pytest.param("---\ntitle: t\ndate: 2026-03-01\nstatus: " + "x" * 5000 + "\n---\n",
                 "content/p.md:4:9: error: 'status' must be one of draft, running, complete, not '" + "x" * 79 + "…'",
                 id="long-value-quoted-short"),
    pytest.param("---\n? " + "k" * 3000 + "\n: 1\ntitle: t\ndate: 2026-03-01\n---\n",
                 "content/p.md:2:3: error: unknown front matter field '" + "k" * 79 + "…'", id="long-key-quoted-short"),
    pytest.param("---\ntitle: t\ndate: 2026-03-01\n",
                 "content/p.md:1:1: error: front matter is never closed: end it with a line '---'", id="never-closed"),
    pytest.param("---", "content/p.md:1:1: error: front matter is never closed: end it with a line '---'",
                 id="only-dashes"),
    pytest.param("", "content/p.md:1:1: error: the post is empty: it starts with front matter between '---' lines,"
                 " with at least 'title' and 'date'", id="empty"),
])
def test_front_matter_is_a_content_error(built, text, expected):
    site, before = built
    write_bytes(site, "p.md", text.encode("utf-8"))
    refused(site, before, expected, seconds=5)


def test_billion_laughs_is_refused_quickly(built):
    site, before = built
    write_bytes(site, "p.md", laughs().encode())
    started = time.perf_counter()
    errors = refused(site, before, "content/p.md:6:1: error: front matter holds more than 10,000 values, counting"
                     " each use of an alias (*name) in full; a post's fields need a few", seconds=2)
    assert time.perf_counter() - started < 1.5
    assert len(errors) == 1


def test_pure_python_yaml_parser_has_the_same_bounds(built, monkeypatch):
    """Without libyaml, PyYAML's own parser recurses once per nesting level: no RecursionError escapes."""
    import yaml

    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    site, before = built
    write_bytes(site, "p.md", ("---\ntitle: t\ndate: 2026-03-01\nsummary: " + "[" * 10_000 + "]" * 10_000
                               + "\n---\n").encode())
    refused(site, before, "content/p.md:1:1: error: front matter is not valid YAML: nests too deeply")
    write_bytes(site, "p.md", laughs().encode())
    refused(site, before, "content/p.md:6:1: error: front matter holds more than 10,000 values, counting"
            " each use of an alias (*name) in full; a post's fields need a few", seconds=3)


def test_many_errors_in_one_file_are_capped(built):
    site, before = built
    fields = "".join(f"unknown{i}: 1\n" for i in range(200))
    write_bytes(site, "p.md", f"---\ntitle: t\ndate: 2026-03-01\n{fields}---\n".encode())
    errors = refused(site, before, "content/p.md:54:1: error: 150 more errors in this file are not shown")
    assert len(errors) == 51


# --- 2: a block inside a blockquote -----------------------------------------------------------------

def test_block_inside_a_quote_renders_as_a_block(site):
    result, html = site.build_post(FM + "\n> Before\n>\n> ::: note\n> inside *it*\n> :::\n>\n> After\n\n"
                                   "> > ::: warning\n> > deeper\n> > :::\n")
    assert result.returncode == 0, result.stderr
    assert ('<blockquote>\n<p>Before</p>\n<aside class="callout callout--note" aria-label="Note">\n'
            '<p class="callout-label">Note</p>\n<p>inside <em>it</em></p>\n</aside>\n<p>After</p>\n</blockquote>') in html
    assert '<p class="callout-label">Warning</p>\n<p>deeper</p>\n</aside>\n</blockquote>\n</blockquote>' in html


@pytest.mark.parametrize("body, expected", [
    pytest.param("> ::: note\n> never closed\n", "content/p.md:5:3: error: block 'note' is never closed: end it with a line ':::'",
                 id="unclosed-in-quote"),
    pytest.param("> ::: hypothesis\n> x\n> :::\n", "content/p.md:5:3: error: block 'hypothesis' must stand at the top"
                 " level of the post, not inside a list, quote or other block", id="section-block-in-quote"),
    pytest.param("> ::: zzz\n> x\n> :::\n", "content/p.md:5:7: error: unknown block 'zzz'; known blocks: hypothesis,"
                 " conclusion, note, tip, important, warning, caution, widget, table", id="unknown-in-quote"),
    pytest.param("::: " + "n" * 3000 + "\nx\n:::\n", "content/p.md:5:5: error: unknown block '" + "n" * 79 + "…'; known"
                 " blocks: hypothesis, conclusion, note, tip, important, warning, caution, widget, table", id="long-name-quoted-short"),
])
def test_block_errors_inside_a_quote(built, body, expected):
    site, before = built
    write_bytes(site, "p.md", (FM + body).encode())
    refused(site, before, expected)


# --- 3: bytes that are not UTF-8 ----------------------------------------------------------------------

@pytest.mark.parametrize("data, expected", [
    pytest.param(FM.encode() + b"line\nab\xffcd\n\xfe more\n",
                 "content/p.md:6:3: error: the file is not UTF-8 text: byte 0xFF here cannot be read (save the file as UTF-8)",
                 id="body"),
    pytest.param("---\ntitle: caf\u00e9 ".encode() + b"\xe9\ndate: 2026-03-01\n---\n",
                 "content/p.md:2:13: error: the file is not UTF-8 text: byte 0xE9 here cannot be read (save the file as UTF-8)",
                 id="front-matter-after-a-wide-character"),
    pytest.param(FM.encode("utf-16"), "content/p.md:1:1: error: the file is UTF-16 text: save it as UTF-8", id="utf-16"),
])
def test_not_utf8_is_one_error_at_the_byte(built, data, expected):
    site, before = built
    write_bytes(site, "p.md", data)
    assert refused(site, before, expected) == [expected]


# --- 4: post files that cannot be read or named -------------------------------------------------------

def test_file_name_not_utf8(built):
    site, before = built
    write_bytes(site, b"caf\xe9.md", FM.encode())
    refused(site, before, "content/caf\\xe9.md:1:1: error: the file name is not UTF-8 text: rename the file"
            " (a post's name becomes its address)")


def test_dangling_symlink(built):
    site, before = built
    (site.root / "content" / "gone.md").symlink_to(site.root / "nowhere.md")
    errors = refused(site, before, f"content/gone.md:1:1: error: the file is a link to '{site.root / 'nowhere.md'}',"
                     " which does not exist")
    assert len(errors) == 1


def test_fifo_is_not_read(built):
    site, before = built
    os.mkfifo(site.root / "content" / "pipe.md")
    refused(site, before, "content/pipe.md:1:1: error: not a regular file: a post is a Markdown text file", seconds=5)


def test_folder_named_like_a_post_is_an_error(built):
    """content/x.md/ is a folder, not a post: an error naming it (never a build that quietly has no x)."""
    site, before = built
    (site.root / "content" / "x.md").mkdir()
    refused(site, before, "content/x.md:1:1: error: a folder named like a post: a post is a Markdown text file;"
                          " rename the folder (its name must not end in .md)")


# --- 5: addresses that clash --------------------------------------------------------------------------

@pytest.mark.parametrize("name, clash", [
    ("tags.md", "/tags/ would clash with the tag pages (/tags/)"),
    ("series.md", "/series/ would clash with the series pages (/series/)"),
    ("404.md", "/404/ would clash with the page-not-found page (/404.html)"),
    ("atom.md", "/atom/ would clash with the Atom feed (/atom.xml)"),
    ("sitemap.md", "/sitemap/ would clash with the sitemap (/sitemap.xml)"),
    ("assets.md", "/assets/ would clash with the stylesheets, scripts and widget files (/assets/)"),
    ("index.md", "/index/ would clash with the home page (/index.html)"),
    ("Tags.md", "/tags/ would clash with the tag pages (/tags/)"),
    ("sub/series.md", "/series/ would clash with the series pages (/series/)"),
])
def test_post_address_taken_by_a_generated_page(built, name, clash):
    site, before = built
    (site.root / "content" / name).parent.mkdir(parents=True, exist_ok=True)
    site.post(name, FM)
    refused(site, before, f"content/{name}:1:1: error: the page {clash}: rename the file")


@pytest.mark.parametrize("static_file", ["about.html", "about/index.html", "about"])
def test_post_address_taken_by_a_static_file(built, static_file):
    site, before = built
    path = site.root / "static" / static_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("<p>static</p>")
    site.post("about.md", FM)
    refused(site, before, f"content/about.md:1:1: error: the page /about/ would clash with the file"
            f" static/{static_file}, copied to /{static_file}: rename the file")


@pytest.mark.parametrize("first, second", [("A.md", "a.md"), ("a b.md", "a-b.md"), ("a_b.md", "sub/a-b.md")])
def test_two_posts_with_one_address(built, first, second):
    site, before = built
    for name in (first, second):
        (site.root / "content" / name).parent.mkdir(parents=True, exist_ok=True)
        site.post(name, FM)
    later = sorted([f"content/{first}", f"content/{second}"])
    slug = "a" if first == "A.md" else "a-b"
    refused(site, before, f"{later[1]}:1:1: error: page /{slug}/ is also made from {later[0]}: rename one file")


# --- 7: odd but valid files build ---------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    pytest.param(b"\xef\xbb\xbf" + FM.encode() + b"Body.\n", id="bom"),
    pytest.param(FM.replace("\n", "\r\n").encode() + b"::: note\r\nhi\r\n:::\r\n", id="crlf"),
    pytest.param(FM.replace("\n", "\r").encode() + b"::: note\rhi\r:::\r", id="cr"),
    pytest.param(FM.encode() + b"x" * 10_000_000 + b"\n", id="10-MB-line"),
    pytest.param(FM.encode() + b"a\0b\n", id="nul-in-body"),
])
def test_odd_but_valid_posts_build(site, data):
    write_bytes(site, "p.md", data)
    with time_limit(20):
        result = site.build()
    assert result.returncode == 0, result.stderr[:2000]
    assert (site.out / "p" / "index.html").is_file()


def test_positions_after_cr_line_endings(built):
    site, before = built
    write_bytes(site, "p.md", FM.replace("\n", "\r").encode() + b"\r::: zzz\rx\r:::\r")
    refused(site, before, "content/p.md:6:5: error: unknown block 'zzz'; known blocks: hypothesis, conclusion, note,"
            " tip, important, warning, caution, widget, table")


def test_many_headings_with_one_title_take_linear_time(site):
    """Each repeated heading gets the next free id (results, results-2, …) without rescanning them all."""
    write_bytes(site, "p.md", (FM + "## Results\n" * 20_000).encode())
    with time_limit(15):
        result = site.build()
    assert result.returncode == 0, result.stderr[:2000]
    html = (site.out / "p" / "index.html").read_text()
    assert 'id="results"' in html and 'id="results-2"' in html and 'id="results-20000"' in html


# --- `labpress new` reads the other posts' front matter as the build does ---------------------------

def labpress_new(site, title: str, *args: str, seconds: float = 10):
    import contextlib
    import io

    from labpress.cli import main

    out, err = io.StringIO(), io.StringIO()
    with time_limit(seconds), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["new", title, "--site", str(site.root), "--date", "2026-03-02", *args])
    return code, out.getvalue() + err.getvalue()


@pytest.mark.parametrize("hostile", [
    pytest.param(laughs(), id="billion-laughs"),
    pytest.param(laughs(key="exp"), id="billion-laughs-in-exp"),
    pytest.param("---\na: &a [*a]\nexp: 40\n---\n", id="alias-cycle"),
    pytest.param("---\nexp: 40\nsummary: " + "[" * 10_000 + "]" * 10_000 + "\n---\n", id="nested-10000"),
    pytest.param("---\nexp: 40\nsummary: [" + ", ".join(["1"] * 20_000) + "]\n---\n", id="many-values"),
    pytest.param("---\nexp: 40\nsummary: " + "x" * 70_000 + "\n---\n", id="huge"),
    pytest.param("---\nexp: 40\ntitle: a\0b\n---\n", id="nul"),
    pytest.param("---\nexp: 40\ndate: 2026-13-01\n---\n", id="unbuildable-date"),
    pytest.param("---\nexp: " + "9" * 5000 + "\n---\n", id="huge-int"),
    pytest.param("---\nexp: " + "9" * 4000 + "\n---\n", id="int-whose-successor-cannot-be-written"),
    pytest.param("---\nexp: !!python/object:os.system x\n---\n", id="python-tag"),
    pytest.param("---\n? [a, b]\n: 1\nexp: 40\n---\n", id="unhashable-key"),
    pytest.param("---\n[unclosed\n---\n", id="not-yaml"),
])
def test_new_is_not_hurt_by_hostile_front_matter(site, hostile):
    """A post that the build refuses is skipped when numbering the new post: no hang, no crash."""
    site.post("ok.md", "---\ntitle: Ok\ndate: 2026-03-01\nexp: 3\nseries: basics\nstep: 2\n---\n")
    write_bytes(site, "hostile.md", hostile.encode())
    started = time.perf_counter()
    code, output = labpress_new(site, "Next one", "--series", "basics")
    assert code == 0, output
    assert time.perf_counter() - started < 5
    text = (site.root / "content" / "next-one.md").read_text()
    assert "\nexp: 4\n" in text and "\nstep: 3\n" in text


def test_new_reads_front_matter_with_cr_lines_and_a_bom(site):
    """The same lines as the build: a lone CR ends a line, a BOM is not part of the first one."""
    write_bytes(site, "cr.md", b"\xef\xbb\xbf---\rtitle: Cr\rdate: 2026-03-01\rexp: 7\r---\r")
    code, output = labpress_new(site, "After cr")
    assert code == 0, output
    assert "\nexp: 8\n" in (site.root / "content" / "after-cr.md").read_text()


@pytest.mark.parametrize("title, clash", [("Tags", "the tag pages (/tags/)"), ("404", "the page-not-found page (/404.html)"),
                                          ("Index!", "the home page (/index.html)")])
def test_new_refuses_a_title_whose_page_the_build_would_refuse(site, title, clash):
    code, output = labpress_new(site, title)
    slug = title.lower().strip("!")
    assert code == 2 and f"error: the page /{slug}/ would clash with {clash}: choose another title" in output, output
    assert not list((site.root / "content").iterdir())


def test_new_refuses_a_title_that_is_not_utf8(site):
    code, output = labpress_new(site, "caf\udce9")
    assert code == 2 and "error: the title is not UTF-8 text" in output, output

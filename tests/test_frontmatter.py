"""Front matter: every field's validation error names the field, the line and the column."""

import pytest

GOOD = """
---
title: Good post
date: 2026-03-01
exp: 4
code: Q-07
series: basics
step: 2
status: running
mood: learning
summary: A short dek.
tags: [optimisation, maths]
verdict: mixed
verdict_label: Half right
---

Body.
"""


def only_error(result) -> str:
    assert result.returncode == 1, result.stderr
    assert len(result.errors) == 1, result.stderr
    return result.errors[0]


def test_all_fields_accepted(site):
    site.post("good.md", GOOD)
    result = site.build()
    assert result.returncode == 0, result.stderr
    html = (site.out / "good" / "index.html").read_text()
    for shown in ("EXP #004", "Q-07", "Basics", "step 2", "Learning", "A short dek.", "Running"):
        assert shown in html
    assert "Half right" in (site.out / "index.html").read_text()


@pytest.mark.parametrize(
    "line, replacement, expected",
    [
        ("title: Good post", "titel: Good post", "content/p.md:2:1: error: unknown front matter field 'titel' (did you mean 'title'?)"),
        ("date: 2026-03-01", "date: next tuesday", "content/p.md:3:7: error: 'date' must be a date written YYYY-MM-DD, not 'next tuesday'"),
        ("exp: 4", "exp: four", "content/p.md:4:6: error: 'exp' must be a whole number of at least 0, not 'four'"),
        ("step: 2", "step: 0", "content/p.md:7:7: error: 'step' must be a whole number of at least 1, not '0'"),
        ("status: running", "status: runing", "content/p.md:8:9: error: 'status' must be one of draft, running, complete, not 'runing' (did you mean 'running'?)"),
        ("verdict: mixed", "verdict: refutted", "content/p.md:12:10: error: 'verdict' must be one of confirmed, refuted, mixed, inconclusive, not 'refutted' (did you mean 'refuted'?)"),
        ("series: basics", "series: basic", "content/p.md:6:9: error: unknown series 'basic' (did you mean 'basics'?); known series: basics"),
        ("tags: [optimisation, maths]", "tags: {a: 1}", "content/p.md:11:7: error: 'tags' must be a list such as [optimisation, regularisation]"),
        ("summary: A short dek.", "summary: [a, b]", "content/p.md:10:10: error: 'summary' must be text"),
        ("mood: learning", "moood: learning", "content/p.md:9:1: error: unknown front matter field 'moood' (did you mean 'mood'?)"),
    ],
)
def test_field_errors(site, line, replacement, expected):
    assert line in GOOD
    site.post("p.md", GOOD.replace(line, replacement))
    result = site.build()
    assert result.returncode == 1
    assert expected in result.errors, result.stderr


def test_missing_required_fields_reported_together(site):
    site.post("p.md", "---\nmood: curious\n---\nText\n")
    result = site.build()
    assert result.returncode == 1
    assert result.errors == [
        "content/p.md:1:1: error: front matter is missing the required field 'date'",
        "content/p.md:1:1: error: front matter is missing the required field 'title'",
    ]


def test_no_front_matter(site):
    site.post("p.md", "# Just a heading\n")
    assert only_error(site.build()) == (
        "content/p.md:1:1: error: a post starts with front matter between '---' lines, with at least 'title' and 'date'"
    )


def test_yaml_syntax_error_has_position(site):
    site.post("p.md", "---\ntitle: [unclosed\ndate: 2026-01-01\n---\n")
    error = only_error(site.build())
    assert error.startswith("content/p.md:3:")
    assert "front matter is not valid YAML" in error


def test_step_needs_series_and_label_needs_verdict(site):
    site.post("p.md", "---\ntitle: T\ndate: 2026-01-01\nstep: 2\nverdict_label: Nope\n---\n")
    result = site.build()
    assert result.errors == [
        "content/p.md:4:7: error: 'step' needs a 'series'",
        "content/p.md:5:16: error: 'verdict_label' needs a 'verdict' (one of confirmed, refuted, mixed, inconclusive)",
    ]


def test_duplicate_step_and_experiment_number(site):
    site.post("a.md", "---\ntitle: A\ndate: 2026-01-01\nexp: 1\nseries: basics\nstep: 1\n---\n")
    site.post("b.md", "---\ntitle: B\ndate: 2026-01-02\nexp: 1\nseries: basics\nstep: 1\n---\n")
    result = site.build()
    assert result.errors == [
        "content/b.md:4:6: error: EXP #001 is already used by content/a.md",
        "content/b.md:6:7: error: step 1 of series 'basics' is already content/a.md",
    ]


def test_front_matter_cannot_inject_markup(site):
    site.post("x.md", '---\ntitle: "<script>alert(1)</script> & co"\ndate: 2026-01-01\nsummary: "<img src=x onerror=alert(1)>"\n---\n')
    assert site.build().returncode == 0
    html = (site.out / "x" / "index.html").read_text()
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html


def test_drafts_left_out_unless_asked(site):
    site.post("d.md", "---\ntitle: Draft one\ndate: 2026-01-01\nstatus: draft\n---\nBody $\\broken$\n")
    site.post("p.md", "---\ntitle: Published\ndate: 2026-01-02\n---\n")
    result = site.build()
    assert result.returncode == 0, result.stderr  # a broken draft does not block publishing
    assert not (site.out / "d").exists()
    assert "Draft one" not in (site.out / "index.html").read_text()
    result = site.build("--drafts")
    assert result.returncode == 1
    assert result.errors == ["content/d.md:6:7: error: KaTeX: Undefined control sequence: \\broken"]
    site.post("d.md", "---\ntitle: Draft one\ndate: 2026-01-01\nstatus: draft\n---\nBody\n")
    assert site.build("--drafts").returncode == 0
    assert (site.out / "d" / "index.html").is_file()


def test_a_date_yaml_cannot_build_is_a_content_error(site):
    outcome, _ = site.build_post("---\ntitle: X\ndate: 2026-13-01\n---\n\nBody.\n")
    assert outcome.returncode == 1 and "content/p.md:3:7: error: front matter value is not valid" in outcome.stderr

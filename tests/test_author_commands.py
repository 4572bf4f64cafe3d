"""`labpress new` and `labpress check`."""

import datetime as dt

from conftest import run_labpress


def test_new_fills_in_identity_and_refuses_to_overwrite(site):
    site.post("a.md", "---\ntitle: A\ndate: 2026-01-01\nexp: 7\nseries: basics\nstep: 2\n---\n")
    made = run_labpress("new", "Why Adam? A first look", "--series", "basics", "--site", str(site.root), "--date", "2026-03-04")
    assert made.returncode == 0, made.stderr
    path = site.root / "content" / "why-adam-a-first-look.md"
    text = path.read_text()
    assert text.startswith("---\ntitle: Why Adam? A first look\ndate: 2026-03-04\nexp: 8\nseries: basics\nstep: 3\nstatus: draft\n")
    assert "::: hypothesis" in text and "## Method" in text and "::: conclusion" in text
    assert site.build("--drafts").returncode == 0  # the new post builds as it is
    assert (site.out / "why-adam-a-first-look" / "index.html").is_file()
    again = run_labpress("new", "Why Adam? A first look", "--site", str(site.root))
    assert again.returncode == 1 and "already exists" in again.stderr
    assert path.read_text() == text


def test_new_defaults_and_unknown_series(site):
    made = run_labpress("new", "First", "--site", str(site.root))
    assert made.returncode == 0, made.stderr
    text = (site.root / "content" / "first.md").read_text()
    assert f"date: {dt.date.today().isoformat()}\nexp: 1\nstatus: draft" in text
    bad = run_labpress("new", "Second", "--series", "basic", "--site", str(site.root))
    assert bad.returncode == 2 and "unknown series 'basic'" in bad.stderr


def test_check_reports_everything_at_once(site):
    (site.root / "widgets").mkdir()
    (site.root / "widgets" / "heavy.py").write_text("import numpy\n")
    (site.root / "static" / "img").mkdir(parents=True)
    (site.root / "static" / "img" / "ok.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    site.post("a.md", "---\ntitle: A\ndate: 2026-01-01\n---\n\n## Method\n\nSee [b](/b/#results) and [gone](/nowhere/).\n\n"
                      "![fine](/img/ok.svg) ![missing](/img/missing.png)\n")
    site.post("b.md", "---\ntitle: B\ndate: 2026-01-02\n---\n\n## Method\n\nText.\n")
    before = sorted(p.name for p in site.root.iterdir())
    result = run_labpress("check", str(site.root))
    assert result.returncode == 1
    assert result.stderr.splitlines()[:-1] == [
        "content/a.md:8:9: error: broken link /b/#results: no element with id 'results'",
        "content/a.md:8:33: error: broken link /nowhere/: no such file in the build",
        "content/a.md:10:33: error: broken image /img/missing.png: no such file in the build",
        "widgets/heavy.py:1:1: error: kernel imports 'numpy', which the self-hosted Pyodide cannot load: write the kernel in"
        " pure Python (standard library and labpress.kernel), or set `packages = \"cdn\"` under [pyodide] in labpress.toml"
        " to load Pyodide's packages from its CDN when a reader opens the page",
    ]
    assert sorted(p.name for p in site.root.iterdir() if p.name != ".labpress-cache") == [n for n in before if n != ".labpress-cache"]
    assert not (site.root / "build").exists()


def test_check_passes_a_clean_site_and_reports_content_errors(site):
    site.post("a.md", "---\ntitle: A\ndate: 2026-01-01\n---\n\nFine $x$.\n")
    ok = run_labpress("check", str(site.root))
    assert ok.returncode == 0 and "No problems found (5 pages checked, no drafts)" in ok.stdout
    site.post("b.md", "---\ntitle: B\ndate: 2026-01-01\nmoood: x\n---\n\n$\\oops$\n")
    bad = run_labpress("check", str(site.root))
    assert bad.returncode == 1
    assert "content/b.md:4:1: error: unknown front matter field 'moood' (did you mean 'mood'?)" in bad.stderr
    assert "content/b.md:7:2: error: KaTeX: Undefined control sequence: \\oops" in bad.stderr


def test_quiet_verbose_and_plain_progress(site):
    site.post("a.md", "---\ntitle: A\ndate: 2026-01-01\n---\n")
    quiet = run_labpress("build", str(site.root), "--quiet")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    verbose = run_labpress("build", str(site.root), "--verbose")
    assert verbose.stdout.splitlines()[0] == "[1/1] content/a.md"  # plain lines when not on a terminal
    assert verbose.stdout.splitlines()[-1].startswith("Built 5 pages")


def test_internal_errors_are_reported_without_traceback_unless_verbose(site, monkeypatch):
    from labpress.cli import main

    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("labpress.site.pipeline.build_site", broken)  # looked up when the verb runs
    import contextlib
    import io
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["build", str(site.root)]) == 3
    assert "internal error: RuntimeError: simulated bug" in err.getvalue() and "Traceback" not in err.getvalue()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["build", str(site.root), "--verbose"]) == 3
    assert "Traceback" in err.getvalue()


NO_BASE_URL = ("warning: labpress.toml sets no base_url, so the feed, the sitemap and the canonical links say"
               " http://localhost/: add base_url = \"https://you.github.io/notebook/\" (the address the site is"
               " published at) to labpress.toml, or build with --base-url URL")


def test_a_build_without_a_base_url_warns_once(site):
    site.config('title = "T"\n')
    for n in range(3):
        site.post(f"p{n}.md", f"---\ntitle: P{n}\ndate: 2026-01-0{n + 1}\n---\n\nText.\n")
    built = run_labpress("build", str(site.root))
    assert built.returncode == 0, built.stderr
    assert built.stderr.splitlines() == [NO_BASE_URL]
    assert "<id>http://localhost/p0/</id>" in (site.out / "atom.xml").read_text()  # what it warned of
    given = run_labpress("build", str(site.root), "--base-url", "https://lab.example/notes/")
    assert given.returncode == 0 and given.stderr == ""
    site.config('title = "T"\nbase_url = "https://lab.example/"\n')
    configured = run_labpress("build", str(site.root))
    assert configured.returncode == 0 and configured.stderr == ""


def test_serving_does_not_warn_of_the_base_url(site):
    """labpress serve builds with --base-url / (the site at the server's root): no warning, however
    many times it rebuilds."""
    from labpress.devserver.session import DEV_BASE_URL
    from labpress.site.pipeline import build_site

    site.config('title = "T"\n')
    site.post("p.md", "---\ntitle: P\ndate: 2026-01-01\n---\n\nText.\n")
    said = []
    for _ in range(2):
        build_site(site.root, base_url=DEV_BASE_URL, notify=said.append)
    assert said == []
    build_site(site.root, notify=said.append)
    assert said == [NO_BASE_URL]


def test_new_with_a_series_labpress_toml_lacks_says_which_lines_to_add(site):
    bad = run_labpress("new", "First", "--series", "warm-up", "--site", str(site.root))
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.splitlines() == [
        "error: unknown series 'warm-up'; known series: basics",
        "To start the series 'warm-up', add these lines to labpress.toml (the title is yours to choose) and run the"
        " command again:",
        "",
        "[series.warm-up]",
        'title = "Warm up"',
    ]
    assert not (site.root / "content" / "first.md").exists()
    # The lines as given make the command work.
    config = site.root / "labpress.toml"
    config.write_text(config.read_text() + "\n" + "\n".join(bad.stderr.splitlines()[3:]) + "\n")
    made = run_labpress("new", "First", "--series", "warm-up", "--site", str(site.root))
    assert made.returncode == 0, made.stderr
    assert "series: warm-up\nstep: 1\n" in (site.root / "content" / "first.md").read_text()
    typo = run_labpress("new", "Second", "--series", "basic", "--site", str(site.root))
    assert typo.stderr.startswith("error: unknown series 'basic' (did you mean 'basics'?); known series: basics, warm-up\n")
    upper = run_labpress("new", "Third", "--series", "Warm Up", "--site", str(site.root))
    assert upper.returncode == 2 and upper.stderr.splitlines() == [
        "error: unknown series 'Warm Up'; known series: basics, warm-up",
        "(a series key is lower-case letters, digits and dashes, such as 'warm-up')"]


def test_check_covers_drafts_and_says_how_many(site):
    site.post("a.md", "---\ntitle: A\ndate: 2026-01-01\n---\n\n## Method\n\nSee [the draft](/d/) soon.\n")
    site.post("d.md", "---\ntitle: D\ndate: 2026-01-02\nstatus: draft\n---\n\n## Method\n\n$\\oops$ and"
                      " [gone](/nowhere/).\n")
    site.post("e.md", "---\ntitle: E\ndate: 2026-01-03\nstatus: Draft\n---\n\nFine, and [A](/a/).\n")
    result = run_labpress("check", str(site.root))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        # A published post's link to a draft is broken in the site `labpress build` publishes.
        "content/a.md:8:17: error: broken link /d/: no such file in the build",
        "content/d.md:9:2: error: KaTeX: Undefined control sequence: \\oops",
        "check failed: 2 problems (2 drafts checked)",
    ]
    (site.root / "content" / "d.md").write_text("---\ntitle: D\ndate: 2026-01-02\nstatus: draft\n---\n\n"
                                                "[gone](/nowhere/).\n")
    result = run_labpress("check", str(site.root))
    assert result.stderr.splitlines() == [
        "content/a.md:8:17: error: broken link /d/: no such file in the build",
        "content/d.md:7:8: error: broken link /nowhere/: no such file in the build",
        "check failed: 2 problems (2 drafts checked)",
    ]
    (site.root / "content" / "a.md").write_text("---\ntitle: A\ndate: 2026-01-01\n---\n\nNo links.\n")
    (site.root / "content" / "d.md").write_text("---\ntitle: D\ndate: 2026-01-02\nstatus: draft\n---\n\nText.\n")
    ok = run_labpress("check", str(site.root))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "No problems found (7 pages checked, 2 drafts checked)"
    (site.root / "content" / "d.md").write_text("---\ntitle: D\ndate: 2026-01-02\nstatus: draft\n---\n\n$\\oops$\n")
    published = run_labpress("check", str(site.root), "--no-drafts")
    assert published.returncode == 0, published.stderr
    assert published.stdout.strip() == "No problems found (5 pages checked, 2 drafts left out)"
    assert not list((site.root / ".labpress-cache").glob("output-*.json"))  # the scratch builds leave nothing

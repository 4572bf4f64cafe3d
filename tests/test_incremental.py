"""Incremental builds: an edit re-renders only what depends on it, and the output equals a clean build."""

import hashlib
import shutil
import textwrap
from pathlib import Path

from labpress.site.pipeline import build_site

WIDGET = '''
from labpress.kernel import Figure, Slider, View, widget

@widget(k=Slider(0, 1, value=0.5, step=0.5, label="k"))
def dial(k):
    fig = Figure(x=(0, 1), y=(0, 1), title="Dial")
    fig.circle(k, k)
    return View(fig, {"k": k * SCALE})

SCALE = 1
'''


def files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def make(site):
    (site.root / "widgets").mkdir()
    (site.root / "widgets" / "dial.py").write_text(textwrap.dedent(WIDGET))
    for n, name in enumerate(("one", "two", "three"), 1):
        extra = "\n::: widget dial\n:::\n" if name == "two" else ""
        site.post(f"{name}.md", f"---\ntitle: Post {name}\ndate: 2026-01-0{n}\nseries: basics\nstep: {n}\ntags: [t]\n---\n\n"
                                f"## Method\n\nBody of {name} with $x_{n}$.\n{extra}")


def same_as_clean_build(site, tmp_path) -> None:
    clean = build_site(site.root, out_dir=tmp_path / "clean", use_cache=False)
    assert files(site.out) == files(clean.out_dir)


def test_no_change_rebuild_renders_nothing(site, tmp_path):
    make(site)
    first = build_site(site.root)
    assert len(first.rendered_posts) == 3 and len(first.rendered_pages) == first.pages
    again = build_site(site.root)
    assert again.rendered_posts == [] and again.rendered_pages == []
    same_as_clean_build(site, tmp_path)


def test_body_edit_renders_that_post_only(site, tmp_path):
    make(site)
    build_site(site.root)
    path = site.root / "content" / "one.md"
    path.write_text(path.read_text().replace("Body of one", "New words for one"))
    result = build_site(site.root)
    assert result.rendered_posts == ["content/one.md"]
    assert result.rendered_pages == ["one/index.html"]
    assert "New words for one" in (site.out / "one" / "index.html").read_text()
    assert "New words for one" in (site.out / "atom.xml").read_text()  # the feed carries bodies
    same_as_clean_build(site, tmp_path)


def test_title_edit_renders_the_pages_that_list_it(site, tmp_path):
    make(site)
    build_site(site.root)
    path = site.root / "content" / "two.md"
    path.write_text(path.read_text().replace("title: Post two", "title: Post number two"))
    result = build_site(site.root)
    assert result.rendered_posts == ["content/two.md"]
    for page in ("index.html", "series/basics/index.html", "tags/t/index.html", "one/index.html", "two/index.html"):
        assert page in result.rendered_pages  # lists and neighbours show the title
    assert "Post number two" in (site.out / "one" / "index.html").read_text()
    same_as_clean_build(site, tmp_path)


def test_widget_edit_renders_the_posts_that_use_it(site, tmp_path):
    make(site)
    build_site(site.root)
    (site.root / "widgets" / "dial.py").write_text(textwrap.dedent(WIDGET).replace("SCALE = 1", "SCALE = 2"))
    result = build_site(site.root)
    assert result.rendered_posts == ["content/two.md"]
    assert result.rendered_pages == ["two/index.html"]
    same_as_clean_build(site, tmp_path)


def test_theme_or_config_edit_renders_everything(site, tmp_path):
    make(site)
    first = build_site(site.root)
    template = site.root / "themes" / "default" / "templates" / "_footer.html"
    template.write_text(template.read_text().replace("Built with LabPress", "Made with LabPress"))
    result = build_site(site.root)
    assert result.rendered_posts == [] and len(result.rendered_pages) == first.pages
    config = site.root / "labpress.toml"
    config.write_text(config.read_text().replace('title = "Test Notebook"', 'title = "Renamed"'))
    result = build_site(site.root)
    assert len(result.rendered_posts) == 3 and len(result.rendered_pages) == first.pages
    same_as_clean_build(site, tmp_path)


def test_damaged_cache_is_only_slower(site, tmp_path):
    make(site)
    build_site(site.root)
    cache = site.root / ".labpress-cache"
    (cache / "posts.sqlite").write_bytes(b"not a database" * 100)
    (cache / "katex.sqlite").write_bytes(b"not a database either" * 100)
    for manifest in cache.glob("output-*.json"):
        manifest.write_text("{not json")
    result = build_site(site.root)
    assert len(result.rendered_posts) == 3 and len(result.rendered_pages) == result.pages
    same_as_clean_build(site, tmp_path)
    assert build_site(site.root).rendered_posts == []  # the cache was made again


def test_posts_that_rendered_are_kept_when_another_fails(site, tmp_path):
    make(site)
    site.post("broken.md", "---\ntitle: Broken\ndate: 2026-02-01\n---\n\nBad maths $\\frac{1}{$ here.\n")
    from labpress.errors import ContentErrors

    try:
        build_site(site.root)
    except ContentErrors:
        pass
    (site.root / "content" / "broken.md").unlink()
    assert build_site(site.root).rendered_posts == []
    same_as_clean_build(site, tmp_path)


def test_output_edited_by_hand_is_put_right(site, tmp_path):
    make(site)
    build_site(site.root)
    (site.out / "one" / "index.html").write_text("edited by hand")
    (site.out / "two" / "index.html").unlink()
    (site.out / "stray.txt").write_text("not part of the site")
    (site.out / "old-page").mkdir()
    (site.out / "old-page" / "index.html").write_text("a page from long ago")
    result = build_site(site.root)
    assert result.rendered_posts == [] and result.rendered_pages == ["one/index.html", "two/index.html"]
    assert not (site.out / "stray.txt").exists() and not (site.out / "old-page").exists()
    same_as_clean_build(site, tmp_path)


def test_a_removed_post_leaves_no_page_behind(site, tmp_path):
    make(site)
    build_site(site.root)
    (site.root / "content" / "three.md").unlink()
    build_site(site.root)
    assert not (site.out / "three").exists()
    same_as_clean_build(site, tmp_path)


def test_new_maths_styles_move_the_stylesheet_of_pages_not_rendered_again(site, tmp_path):
    make(site)
    build_site(site.root)
    before = {p.name for p in (site.out / "assets").glob("inline.*.css")}
    path = site.root / "content" / "three.md"
    path.write_text(path.read_text() + "\n$$\\sum_{i=1}^{n} \\frac{a_i^{2}}{\\sqrt{b_i}}$$\n")
    result = build_site(site.root)
    assert result.rendered_posts == ["content/three.md"] and result.rendered_pages == ["three/index.html"]
    after = {p.name for p in (site.out / "assets").glob("inline.*.css")}
    assert before != after and len(after) == 1  # the site stylesheet changed name, the old one is gone
    css = after.pop()
    assert f"/assets/{css}" in (site.out / "one" / "index.html").read_text()  # a kept page links the new one
    same_as_clean_build(site, tmp_path)


def test_output_elsewhere_is_built_in_full(site, tmp_path, monkeypatch):
    monkeypatch.setattr("labpress.site.fresh.RACY_SECONDS", 0.0)  # with stamps (see below)
    make(site)
    build_site(site.root)
    other = build_site(site.root, out_dir=tmp_path / "elsewhere")
    assert other.rendered_posts == [] and len(other.rendered_pages) == other.pages
    assert files(site.out) == files(tmp_path / "elsewhere")
    manifests = lambda: sorted((site.root / ".labpress-cache").glob("output-*.json"))  # noqa: E731
    assert len(manifests()) == 2
    shutil.rmtree(tmp_path / "elsewhere")  # as `labpress check` deletes its scratch output
    build_site(site.root)
    assert len(manifests()) == 1  # the manifest of a folder that is gone is dropped
    assert len(list((site.root / ".labpress-cache").glob("fresh-*.json"))) == 1  # and its stamp


def test_worker_processes_build_the_same_site(site, tmp_path):
    make(site)
    site.post("broken.md", "---\ntitle: Broken\ndate: 2026-02-01\n---\n\nBad maths $\\frac{1}{$ here.\n")
    from labpress.errors import ContentErrors

    try:
        build_site(site.root, jobs=2)
    except ContentErrors as exc:  # an error found in a worker reaches the author like any other
        assert [(e.path, e.line) for e in exc.errors] == [("content/broken.md", 6)]
    else:
        raise AssertionError("the broken post did not fail the build")
    (site.root / "content" / "broken.md").unlink()
    result = build_site(site.root, jobs=2, use_cache=False)
    assert sorted(result.rendered_posts) == ["content/one.md", "content/three.md", "content/two.md"]
    assert result.formulas_typeset == 3
    same_as_clean_build(site, tmp_path)
    shutil.rmtree(site.root / ".labpress-cache")
    parallel_with_cache = build_site(site.root, out_dir=tmp_path / "cached", jobs=2)
    assert len(parallel_with_cache.rendered_posts) == 3
    assert build_site(site.root, out_dir=tmp_path / "cached").rendered_posts == []  # the workers filled the cache
    assert files(tmp_path / "cached") == files(site.out)


# --------------------------------------------------------------------------- nothing to do, found early


def fresh_stamps(site) -> list[Path]:
    return sorted((site.root / ".labpress-cache").glob("fresh-*.json"))


def build_counting(site, monkeypatch, **options):
    """A build, and whether it ran in full (False: it found the output already made, site/fresh.py)."""
    import labpress.site.pipeline as pipeline

    ran = []
    real = pipeline.render_context
    monkeypatch.setattr(pipeline, "render_context", lambda *a, **k: ran.append(1) or real(*a, **k))
    result = build_site(site.root, **options)
    monkeypatch.setattr(pipeline, "render_context", real)
    return result, bool(ran)


def output_state(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}


def test_a_build_with_nothing_to_do_reads_no_post_and_touches_nothing(site, tmp_path, monkeypatch):
    monkeypatch.setattr("labpress.site.fresh.RACY_SECONDS", 0.0)  # files made a moment ago count as settled
    make(site)
    first = build_site(site.root)
    assert fresh_stamps(site)
    before = output_state(site.out)
    manifest = sorted((site.root / ".labpress-cache").glob("output-*.json"))[0].read_bytes()
    from labpress.cache import posts

    seen = []
    with monkeypatch.context() as patched:
        patched.setattr(posts.BuildCache, "load_body", lambda *a: (_ for _ in ()).throw(AssertionError("read a post")))
        again = build_site(site.root, progress=lambda done, total, path: seen.append((done, total, path)))
    assert again.rendered_posts == [] and again.rendered_pages == []
    assert (again.pages, again.files) == (first.pages, first.files) and first.files == len(files(site.out))
    assert seen == [(n, 3, f"content/{name}.md") for n, name in enumerate(("one", "three", "two"), 1)]
    assert output_state(site.out) == before
    assert sorted((site.root / ".labpress-cache").glob("output-*.json"))[0].read_bytes() == manifest
    same_as_clean_build(site, tmp_path)


def test_python_bytecode_folders_appearing_leave_a_build_with_nothing_to_do(site, tmp_path, monkeypatch):
    """``__pycache__`` appears in a folder when a module in it is first imported, by this process or
    by any other (a test run on several cores, `labpress serve` beside `labpress build`); it is not
    an input, in the site's folders nor in LabPress's own code."""
    from labpress.cache import digests
    from labpress.site import fresh

    monkeypatch.setattr("labpress.site.fresh.RACY_SECONDS", 0.0)
    make(site)
    build_site(site.root)
    for folder in ("content", "widgets"):
        (site.root / folder / "__pycache__").mkdir(exist_ok=True)
        (site.root / folder / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    assert build_counting(site, monkeypatch)[1] is False

    # LabPress's code as a build records it (a copy of two of its packages standing in for it).
    code = tmp_path / "code"
    for package in ("cache", "site"):
        shutil.copytree(digests.code_root() / package, code / package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(digests, "_CODE_ROOT", code)
    entries = [[kind, path, fresh.signature(st), value, False] for kind, path, st, value in digests.code_tree.__wrapped__()[1]]
    (code / "site" / "__pycache__").mkdir()
    (code / "__pycache__").mkdir()
    assert all(fresh.unchanged(entry) for entry in entries)
    (code / "site" / "new.py").write_text("")  # a module added is a change
    assert not all(fresh.unchanged(entry) for entry in entries)


def test_every_kind_of_change_makes_the_build_run_in_full(site, tmp_path, monkeypatch):
    """After each change (one byte of the same length, or a file that appears or goes), the build
    runs in full and equals a clean build; with nothing changed after it, it does not."""
    monkeypatch.setattr("labpress.site.fresh.RACY_SECONDS", 0.0)
    make(site)
    (site.root / "data").mkdir()
    (site.root / "data" / "runs.csv").write_text("run,loss\n1,0.50\n")
    site.post("table.md", "---\ntitle: Table\ndate: 2026-01-09\n---\n\n::: table data/runs.csv\n:::\n")
    build_site(site.root)
    assert build_counting(site, monkeypatch)[1] is False

    def same_size(path: Path, old: str, new: str) -> None:
        assert len(old) == len(new)
        path.write_text(path.read_text().replace(old, new))

    theme = site.root / "themes" / "default"
    changes = [
        lambda: same_size(site.root / "content" / "one.md", "Body of one", "Body of 1ne"),
        lambda: same_size(site.root / "data" / "runs.csv", "0.50", "0.25"),
        lambda: same_size(site.root / "widgets" / "dial.py", "SCALE = 1", "SCALE = 3"),
        lambda: same_size(theme / "templates" / "_footer.html", "Built with", "Built With"),
        lambda: (theme / "static" / "custom.css").write_text(".post { margin: 0 }\n"),
        lambda: same_size(site.root / "labpress.toml", "Test Notebook", "Test Notebooc"),
        lambda: (site.root / "static").mkdir() or (site.root / "static" / "robots.txt").write_text("User-agent: *\n"),
        lambda: site.post("four.md", "---\ntitle: Post four\ndate: 2026-01-05\n---\n\nFour.\n"),
        lambda: (site.root / "content" / "four.md").unlink(),
        lambda: same_size(site.out / "one" / "index.html", "Post one", "Post 0ne"),
        lambda: (site.out / "one" / "stray.html").write_text("stray"),
        lambda: (site.out / "two" / "index.html").unlink(),
        lambda: (site.out / "assets" / "extra").mkdir(),
        lambda: (site.root / ".labpress-cache" / "posts.sqlite").write_bytes(b"not a database" * 10),
    ]
    for n, change in enumerate(changes):
        change()
        result, ran = build_counting(site, monkeypatch)
        assert ran, n
        same_as_clean_build(site, tmp_path / f"clean-{n}")
        assert build_counting(site, monkeypatch)[1] is False, n
    for options in ({"drafts": True}, {"base_url": "/sub/"}, {"out_dir": tmp_path / "elsewhere"}):
        assert build_counting(site, monkeypatch, **options)[1], options
    monkeypatch.setenv("LABPRESS_NODE_MODULES", str(tmp_path / "nowhere"))
    assert build_counting(site, monkeypatch)[1]


def test_an_input_that_changes_while_it_is_read_is_checked_by_its_digest(tmp_path):
    from labpress.site import fresh

    path = tmp_path / "post.md"
    path.write_text("one")
    now = fresh.stat_of(str(path))
    old = hashlib.sha256(b"one").hexdigest()
    entry = ["file", str(path), fresh.signature(now), old, True]  # read within RACY_SECONDS of its change
    path.write_text("two")
    entry[2] = fresh.signature(fresh.stat_of(str(path)))  # as if the change did not show in its stat
    assert not fresh.unchanged(entry)  # a racy entry is checked by its digest
    entry[3] = hashlib.sha256(b"two").hexdigest()
    assert fresh.unchanged(entry)
    entry[3], entry[4] = old, False
    assert fresh.unchanged(entry)  # a settled one is known by its stat


def test_no_stamp_when_an_input_changed_while_the_build_ran(site, tmp_path, monkeypatch):
    monkeypatch.setattr("labpress.site.fresh.RACY_SECONDS", 0.0)
    make(site)
    build_site(site.root)
    import labpress.site.pipeline as pipeline

    style = site.root / "themes" / "default" / "static" / "favicon.svg"
    real = pipeline.write_site_static

    def meanwhile(*args):  # after the theme's files were read: an edit the build did not see
        style.write_text(style.read_text().replace("<svg", "<svg data-x=\"1\"", 1))
        return real(*args)

    monkeypatch.setattr(pipeline, "write_site_static", meanwhile)
    (site.root / "content" / "one.md").write_text((site.root / "content" / "one.md").read_text() + "\nMore.\n")
    build_site(site.root)
    monkeypatch.setattr(pipeline, "write_site_static", real)
    assert fresh_stamps(site) == []
    result, ran = build_counting(site, monkeypatch)
    assert ran
    same_as_clean_build(site, tmp_path)


# --------------------------------------------------------------------------- a long-running process (labpress serve)


def serve_build(site, memory, **options):
    """A build as `labpress serve` makes it: pages first, then what it left (caches, manifest, stamp,
    the search index from Pagefind's thread)."""
    from labpress.site.pipeline import finish, finish_search

    result = build_site(site.root, base_url="/", memory=memory, **options)
    finish(memory, site.root)
    if memory.pending is not None and memory.pending.search is not None:
        memory.pending.search.wait()
        assert finish_search(memory, site.root)
    assert memory.pending is None
    return result


def same_as_clean_served(site, tmp_path, n) -> None:
    clean = build_site(site.root, out_dir=tmp_path / f"clean-{n}", base_url="/", use_cache=False)
    assert files(site.out) == files(clean.out_dir), n


def test_a_process_that_keeps_its_builds_in_memory_makes_what_a_clean_build_makes(site, tmp_path, monkeypatch):
    """Edits of every kind, each built by a process that keeps what it built (site/memory.py): the
    pages are published before the search index is made; once it is, the output equals a clean build,
    and only what the edit calls for was rendered."""
    from labpress.errors import ContentErrors
    from labpress.site.memory import BuildMemory

    make(site)
    site.post("four.md", "---\ntitle: Post four\ndate: 2026-01-04\nseries: basics\nstep: 4\ntags: [t, u]\n---\n\n"
                         "## Method {#sec-m}\n\nSee @post-one.\n\n$$\ny = x\n$$ {#eq-y}\n")
    (site.root / "data").mkdir()
    (site.root / "data" / "runs.csv").write_text("run,loss\n1,0.50\n")
    site.post("table.md", "---\ntitle: Table\ndate: 2025-12-09\n---\n\nSee @post-four#eq-y.\n\n::: table data/runs.csv\n:::\n")
    memory = BuildMemory()
    first = serve_build(site, memory)
    assert len(first.rendered_posts) == 5
    same_as_clean_served(site, tmp_path, "first")
    assert serve_build(site, memory).rendered_pages == []
    shadow = memory.shadow.path
    assert shadow.is_dir()  # the second tree a rebuild publishes through

    def edit(name: str, old: str, new: str) -> None:
        path = site.root / "content" / name if not name.startswith(("widgets/", "data/", "themes/", "labpress")) \
            else site.root / name
        path.write_text(path.read_text().replace(old, new))

    theme = "themes/default/templates/_footer.html"
    steps = [
        (lambda: edit("one.md", "Body of one", "Body of 1ne"), ["one/index.html"]),  # same size
        (lambda: edit("one.md", "Body of 1ne", "A longer body for post one"), ["one/index.html"]),
        (lambda: edit("two.md", "title: Post two", "title: Post number two"), None),  # listings, neighbours
        (lambda: edit("three.md", "$x_3$", "$\\sqrt{x_3^{2}} + \\frac{a}{b}$"), None),  # new style rules
        (lambda: edit("widgets/dial.py", "SCALE = 1", "SCALE = 2"), ["two/index.html"]),
        (lambda: edit("data/runs.csv", "0.50", "0.75"), ["table/index.html"]),
        (lambda: edit("four.md", "{#eq-y}", "{#eq-z}") or edit("table.md", "#eq-y", "#eq-z"), None),
        (lambda: edit(theme, "Built with", "Made with"), None),
        (lambda: edit("labpress.toml", "Test Notebook", "Renamed Notebook"), None),
        (lambda: (site.root / "static").mkdir() or (site.root / "static" / "robots.txt").write_text("x\n"), []),
        (lambda: site.post("five.md", "---\ntitle: Five\ndate: 2026-01-05\ntags: [u]\n---\n\nFive.\n"), None),
        (lambda: edit("five.md", "title: Five", "title: Five\nstatus: draft"), None),
        (lambda: (site.root / "content" / "five.md").unlink(), None),
        (lambda: edit("one.md", "step: 1", "step: 5"), None),  # a series' order
    ]
    for n, (change, pages) in enumerate(steps):
        change()
        result = serve_build(site, memory)
        if pages is not None:
            assert result.rendered_pages == pages, n
        same_as_clean_served(site, tmp_path, n)
    # A content error, and its fix: the last good output stays meanwhile.
    before = files(site.out)
    edit("one.md", "A longer body", "Bad maths $\\frac{1}{$ and a longer body")
    try:
        serve_build(site, memory)
    except ContentErrors:
        pass
    else:
        raise AssertionError("the broken post did not fail the build")
    assert files(site.out) == before
    edit("one.md", "Bad maths $\\frac{1}{$ and a longer body", "A longer body")
    serve_build(site, memory)
    same_as_clean_served(site, tmp_path, "fixed")
    # Another build of the site meanwhile (its own output, caches and stamp): the memory notices.
    edit("two.md", "Body of two", "Body of 2wo")
    build_site(site.root, base_url="/")
    edit("three.md", "Body of three", "Body of 3hree")
    serve_build(site, memory)
    same_as_clean_served(site, tmp_path, "other build")
    assert not [p for p in site.root.iterdir() if p.name.startswith(".build.") and p != shadow]
    # A build from the disk afterwards has nothing to do: the stamp the memory wrote holds.
    monkeypatch.setattr("labpress.site.fresh.RACY_SECONDS", 0.0)
    serve_build(site, memory)
    result, ran = build_counting(site, monkeypatch, base_url="/")
    assert not ran and result.files == len(files(site.out))


def test_the_pages_are_published_before_the_search_index_is_made(site, tmp_path):
    from labpress.site.memory import BuildMemory
    from labpress.site.pipeline import finish, finish_search

    make(site)
    memory = BuildMemory()
    serve_build(site, memory)
    index = {p: d for p, d in files(site.out).items() if p.startswith("assets/pagefind/")}
    path = site.root / "content" / "one.md"
    path.write_text(path.read_text().replace("Body of one", "Words nobody searched for"))
    build_site(site.root, base_url="/", memory=memory)
    assert "Words nobody searched for" in (site.out / "one" / "index.html").read_text()
    assert {p: d for p, d in files(site.out).items() if p.startswith("assets/pagefind/")} == index  # not yet
    stamp = list((site.root / ".labpress-cache").glob("fresh-*.json"))
    finish(memory, site.root)
    assert list((site.root / ".labpress-cache").glob("fresh-*.json")) == stamp or not stamp  # no stamp until indexed
    memory.pending.search.wait()
    assert finish_search(memory, site.root)
    assert {p: d for p, d in files(site.out).items() if p.startswith("assets/pagefind/")} != index
    same_as_clean_served(site, tmp_path, "indexed")

"""One mistake, one message: an error is not followed by the errors that only repeat it (a front
matter that cannot be read, a refused field, a kernel that does not load), and the problems of one
widget block are all reported in one run."""

from conftest import run_labpress

IMPORT_ERROR = ("kernel imports 'numpy', which the self-hosted Pyodide cannot load: write the kernel in pure Python"
                " (standard library and labpress.kernel), or set `packages = \"cdn\"` under [pyodide] in labpress.toml"
                " to load Pyodide's packages from its CDN when a reader opens the page")

DIAL = '''
from labpress.kernel import Figure, Slider, Toggle, View, widget

@widget(scale=Slider(0, 2, value=1, step=0.5), on=Toggle(True))
def dial(scale, on):
    return View(Figure(x=(0, 1), y=(0, 1)), {})
'''


def errors(site) -> list[str]:
    result = site.build()
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.errors


# Front matter -----------------------------------------------------------------------------------------------------

def test_front_matter_that_is_not_yaml_is_the_only_error(site):
    site.post("p.md", """
        ---
        title: "Never closed
        date: 2026-01-01
        tags: [a
        ---

        ::: hypothesis
        A claim [@knuth1984].
        :::

        ::: conclusion
        It held, see [@knuth1984, p. 3].
        :::
        """)
    assert errors(site) == ["content/p.md:5:1: error: front matter is not valid YAML: found unexpected end of stream"]


def test_a_refused_verdict_does_not_also_ask_for_a_verdict(site):
    site.post("p.md", "---\ntitle: P\ndate: 2026-01-01\nverdict: confrimed\n---\n\n::: conclusion\nIt held.\n:::\n")
    assert errors(site) == [
        "content/p.md:4:10: error: 'verdict' must be one of confirmed, refuted, mixed, inconclusive, not 'confrimed'"
        " (did you mean 'confirmed'?)"]
    # Without any verdict, the conclusion still says what it needs.
    site.post("p.md", "---\ntitle: P\ndate: 2026-01-01\n---\n\n::: conclusion\nIt held.\n:::\n")
    assert errors(site) == [
        "content/p.md:6:1: error: the 'conclusion' block shows the verdict: add 'verdict:' to the front matter"]


def test_a_refused_bibliography_does_not_also_make_each_citation_an_error(site):
    site.post("p.md", "---\ntitle: P\ndate: 2026-01-01\nbibliography: 3\n---\n\nAs shown [@a] and [@b].\n")
    assert errors(site) == [
        "content/p.md:4:15: error: 'bibliography' names a BibTeX (.bib) or CSL-JSON (.json) file, or a list of them,"
        " relative to the post's folder: 'bibliography: refs.bib'"]
    site.post("p.md", "---\ntitle: P\ndate: 2026-01-01\n---\n\nAs shown [@a].\n")
    assert errors(site) == [
        "content/p.md:6:10: error: '[@a]' is a citation, and this post has no bibliography: add 'bibliography:"
        " refs.bib' to its front matter, or '[bibliography] files = [\"refs.bib\"]' to labpress.toml"]


# A widget block's problems, all at once -----------------------------------------------------------------------------

def test_every_problem_of_a_widget_block_in_one_run(site):
    site.widget("dial", DIAL)
    site.post("p.md", """
        ---
        title: P
        date: 2026-01-01
        ---

        ::: widget dial
        nope: 1
        scale: 99
        alsonope: 2
        :::
        """)
    assert errors(site) == [
        "content/p.md:7:1: error: widget 'dial' has no control 'nope'; its controls: scale, on",
        "content/p.md:8:8: error: widget 'dial': 'scale' must be between 0 and 2, not 99",
        "content/p.md:9:1: error: widget 'dial' has no control 'alsonope'; its controls: scale, on",
    ]


def test_settings_that_cannot_be_read_do_not_hide_the_others(site):
    site.widget("dial", DIAL)
    site.post("p.md", """
        ---
        title: P
        date: 2026-01-01
        ---

        ::: widget dial
        on: maybe
        caption: 3
        scale: 2026-13-01
        scale: 1
        speed: 2
        label: figure-x
        figure-label: fig-x
        :::
        """)
    assert errors(site) == [
        "content/p.md:7:5: error: widget 'dial': 'on' must be true or false, not 'maybe'",
        "content/p.md:8:10: error: the widget caption must be text",
        "content/p.md:9:8: error: the value of 'scale' cannot be read: month must be in 1..12",
        "content/p.md:10:1: error: 'scale' is set twice in this widget block",
        "content/p.md:11:1: error: widget 'dial' has no control 'speed'; its controls: scale, on",
        "content/p.md:12:1: error: a widget has one figure label: 'figure-label' or 'label', not both",
    ]


# A kernel that does not load, used by several posts -----------------------------------------------------------------

def heavy_posts(site, names=("a", "b", "c")) -> None:
    site.widget("heavy", "import numpy\n")
    for n, name in enumerate(names, 1):
        site.post(f"{name}.md", f"---\ntitle: {name}\ndate: 2026-01-0{n}\n---\n\n::: widget heavy\n:::\n\n"
                                "::: widget heavy\n:::\n")


def test_a_bad_import_is_reported_once_at_its_first_use(site):
    heavy_posts(site)
    assert errors(site) == [f"content/a.md:6:1: error: {IMPORT_ERROR} (widgets/heavy.py:1:1, used by 3 posts)"]
    heavy_posts(site, ("a",))
    (site.root / "content" / "b.md").unlink()
    (site.root / "content" / "c.md").unlink()
    assert errors(site) == [f"content/a.md:6:1: error: {IMPORT_ERROR} (widgets/heavy.py:1:1)"]  # one post: no count


def test_a_kernel_that_raises_on_import_is_reported_once(site, tmp_path):
    site.widget("boom", "from labpress.kernel import View, widget\n\nx = 1 / 0\n")
    for name in ("a", "b"):
        site.post(f"{name}.md", f"---\ntitle: {name}\ndate: 2026-01-01\n---\n\n::: widget boom\n:::\n")
    assert errors(site) == ["content/a.md:6:1: error: widget module 'boom' failed to load: ZeroDivisionError: division by"
                            " zero (widgets/boom.py:3, used by 2 posts)"]


def test_check_reports_a_bad_import_once_too(site):
    heavy_posts(site, ("a", "b"))
    (site.root / "content" / "b.md").write_text("---\ntitle: b\ndate: 2026-01-02\nstatus: draft\n---\n\n"
                                                "::: widget heavy\n:::\n")
    site.widget("unused", "import numpy\n")  # used by no post: reported at the kernel
    result = run_labpress("check", str(site.root))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"content/a.md:6:1: error: {IMPORT_ERROR} (widgets/heavy.py:1:1, used by 2 posts)",
        f"widgets/unused.py:1:1: error: {IMPORT_ERROR}",
        "check failed: 2 problems (1 draft checked)",
    ]

    # The first use is a draft: the published build's first use is another post, and still one message.
    (site.root / "content" / "a.md").write_text("---\ntitle: a\ndate: 2026-01-01\nstatus: draft\n---\n\n"
                                                "::: widget heavy\n:::\n")
    (site.root / "content" / "b.md").write_text("---\ntitle: b\ndate: 2026-01-02\n---\n\n::: widget heavy\n:::\n")
    result = run_labpress("check", str(site.root))
    assert result.stderr.splitlines() == [
        f"content/a.md:7:1: error: {IMPORT_ERROR} (widgets/heavy.py:1:1, used by 2 posts)",
        f"widgets/unused.py:1:1: error: {IMPORT_ERROR}",
        "check failed: 2 problems (1 draft checked)",
    ]

"""A post's code at build time: run blocks, figure blocks and inline `{python}` values in one namespace."""

from __future__ import annotations

import hashlib
import re

import pytest

from labpress.site.pipeline import build_site
from support import tree

HEAD = "---\ntitle: Spring\ndate: 2026-02-02\n---\n\n"  # the first body line is line 6
CSV = "volume,force\n1,4.0\n2,8.1\n3,12.0\n"
FIT = ('x, y = np.loadtxt("data/k.csv", delimiter=",", skiprows=1, unpack=True)\n'
       "k = float(np.polyfit(x, y, 1)[0])\n")


def run(code: str) -> str:
    return f"```python {{run}}\n{code}```\n"


def figure(code: str, info: str = 'alt="A line"') -> str:
    return f"```python {{figure}} {info}\n{code}```\n"


def data(site, text: str = CSV) -> None:
    (site.root / "data").mkdir(exist_ok=True)
    (site.root / "data" / "k.csv").write_text(text)


def prose(html: str) -> list[str]:
    """The paragraphs of the post's body."""
    body = html.split('<div class="post-body">', 1)[1].split('<footer class="post-footer">', 1)[0]
    return [re.sub(r"<[^>]+>", "", p) for p in re.findall(r"<p>(.*?)</p>", body, re.S)]


def captions(html: str) -> list[str]:
    return re.findall(r'<figure class="py-figure">.*?<figcaption>(.*?)</figcaption>', html, re.S)


def same_as_clean_build(site, tmp_path, name: str = "clean") -> None:
    clean = tmp_path / name
    result = site.build("--no-cache", "--out", str(clean))
    assert result.returncode == 0, result.stderr
    assert tree(site.out) == tree(clean)


# --- Values in the prose -----------------------------------------------------------

def test_inline_values_come_from_the_run_blocks(site):
    data(site)
    body = ("The fitted constant is `{python} f\"{k:.3f}\"` N/m from `{python} len(x)` points.\n\n"
            + run(FIT) + "\n| quantity | value |\n|---|---|\n| k | `{python} round(k, 1)` |\n")
    result, html = site.build_post(HEAD + body)
    assert result.returncode == 0, result.stderr
    assert prose(html)[0] == "The fitted constant is 4.000 N/m from 3 points."
    assert "<td>4.0</td>" in html
    assert "{python}" not in html and "np.loadtxt" not in html  # a run block shows nothing


def test_inline_values_are_text_escaped_and_quarto_escapes_work(site):
    body = run('tag = "<b>&</b>"\n') + "\nShown `{python} tag`; written out `{{python}} tag`.\n"
    result, html = site.build_post(HEAD + body)
    assert result.returncode == 0, result.stderr
    assert "Shown &lt;b&gt;&amp;&lt;/b&gt;; written out <code>{python} tag</code>." in html


def test_blocks_run_top_to_bottom_and_values_see_the_final_namespace(site):
    body = ("Summary first: n = `{python} n`.\n\n" + run("n = 1\n")
            + figure("n += 1\nplt.plot([0, n])\n", 'caption="drawn with n = {n}" alt="a line"')
            + "\n" + run("n *= 10\n") + "\nAt the end n = `{python} n`.\n")
    result, html = site.build_post(HEAD + body)
    assert result.returncode == 0, result.stderr
    assert prose(html) == ["Summary first: n = 20.", "At the end n = 20."]
    assert captions(html) == ["drawn with n = 2"]  # a caption is filled in when its figure is drawn


def test_figure_caption_formats_values_like_widget_captions(site):
    data(site)
    body = run(FIT) + "\n" + figure("plt.plot(x, y)\n", 'caption="k = {k:.2f} N/m; raw {k}; braces {{k}}" alt="fit"')
    result, html = site.build_post(HEAD + body)
    assert result.returncode == 0, result.stderr
    assert captions(html) == ["k = 4.00 N/m; raw 4.000; braces {k}"]


def test_code_blocks_are_recorded_with_their_digests(site):
    site.post("p.md", HEAD + run("a = 1\n") + "\n" + figure("plt.plot([a])\n"))
    from labpress.config.schema import load_config
    from labpress.errors import ErrorSink
    from labpress.markdown import render_body
    from labpress.math.katex import KatexRenderer
    from labpress.theme.lookup import find_node_package

    config = load_config(site.root)
    body = render_body((site.root / "content" / "p.md").read_text(), ErrorSink("content/p.md"), config,
                       KatexRenderer(find_node_package("katex", site.root), {}))
    sha = lambda code: hashlib.sha256(code.encode()).hexdigest()  # noqa: E731
    assert body.code_blocks == (("run", 6, sha("a = 1\n")), ("figure", 10, sha("plt.plot([a])\n")))


# --- Errors at their place -------------------------------------------------------

@pytest.mark.parametrize("body, expected", [
    # An undefined name: at the expression's column on its line.
    (run("k = 1\n") + "\nThe value is `{python} kk`.\n",
     "content/p.md:10:24: error: the inline expression raised NameError: name 'kk' is not defined"),
    (run("k = 1\n") + "\nSee `{python} 1 / 0` here.\n",
     "content/p.md:10:15: error: the inline expression raised ZeroDivisionError: division by zero"),
    (run("k = 1\n") + "\n> Quoted `{python} (`\n",
     "content/p.md:10:20: error: the inline expression is not valid Python: '(' was never closed"),
    # With no code in the post.
    ("Alone `{python} 1 + 1`.\n",
     "content/p.md:6:17: error: an inline `{python} ...` value needs the post's code: add a ```python {run} "
     "block that computes it"),
    # In a run block: the exception's own line, also when it was raised in a function another block defined.
    (run("def f():\n    return 1 / 0\n") + "\n" + run("y = f()\n"),
     "content/p.md:8:12: error: run block raised ZeroDivisionError: division by zero"),
    (run("a = 1\nb = a +\n"),
     "content/p.md:8:8: error: run block is not valid Python: invalid syntax"),
    (run('open("data/missing.csv")\n'),
     "content/p.md:7:1: error: run block raised FileNotFoundError: [Errno 2] No such file or directory: "
     "'data/missing.csv'"),
    ("```python {run} echo=true\nx = 1\n```\n",
     "content/p.md:6:17: error: a run block takes no options: it runs and shows nothing (write ```python {run})"),
    ("```r {run}\nx <- 1\n```\n",
     "content/p.md:6:4: error: a run block runs Python, not 'r': write ```python {run}"),
    (run("k = 1\n") + "\n" + figure("plt.plot([k])\n", 'caption="k is {kk}" alt="x"'),
     "content/p.md:10:11: error: the caption names {kk}, which the post's code does not define"
     " (write {{ and }} for a brace of its own)"),
    (run("s = 'x' * 20000\n") + "\nLong `{python} s`.\n",
     "content/p.md:10:16: error: the inline value is 20000 characters long; the limit is 10000"
     " (format it, as in f\"{x:.3f}\")"),
])
def test_errors_are_placed_in_the_post(site, body, expected):
    result, _ = site.build_post(HEAD + body)
    assert result.returncode == 1, result.stderr
    assert result.errors == [expected]
    assert "Traceback" not in result.stderr


def test_every_failing_inline_value_is_reported_at_once(site):
    body = run("k = 1\n") + "\n`{python} a` and `{python} b` and `{python} k`.\n"
    result, _ = site.build_post(HEAD + body)
    assert result.errors == ["content/p.md:10:11: error: the inline expression raised NameError: name 'a' is not defined",
                             "content/p.md:10:28: error: the inline expression raised NameError: name 'b' is not defined"]


@pytest.mark.parametrize("body, where", [
    (run("while True:\n    pass\n"), "content/p.md:6:11: error: run block ran for more than 1 s"),
    (run("def spin():\n    while True:\n        pass\n") + "\nNever `{python} spin()`.\n",
     "content/p.md:12:17: error: the inline expression ran for more than 1 s"),
])
def test_time_limits_name_the_limit(site, body, where):
    site.config('title = "T"\nbase_url = "https://x.example/"\n[limits]\nseconds_per_block = 1\n')
    result, _ = site.build_post(HEAD + body)
    assert result.returncode == 1
    assert result.errors == [where + " (the limit is [limits] seconds_per_block in labpress.toml)"]


# --- Data and the cache ------------------------------------------------------------

def test_editing_the_data_file_changes_table_figure_and_prose(site, tmp_path):
    data(site)
    body = ("k = `{python} f\"{k:.2f}\"` N/m.\n\n" + run(FIT)
            + figure("plt.plot(x, y, 'o')\n", 'caption="fit with k = {k:.2f}" alt="points"')
            + "\n::: table data/k.csv\nformat: {force: \".1f\"}\n:::\n")
    site.post("p.md", HEAD + body)
    site.post("q.md", HEAD.replace("Spring", "Other") + "No code here.\n")
    first = build_site(site.root)
    assert sorted(first.rendered_posts) == ["content/p.md", "content/q.md"]
    before = (site.out / "p" / "index.html").read_text()
    assert "k = 4.00 N/m." in before and captions(before) == ["fit with k = 4.00"]
    assert "</span> n=3</figcaption>" in before and ">12.0</td>" in before

    assert build_site(site.root).rendered_posts == []  # nothing changed: nothing runs
    data(site, CSV.replace("12.0", "18.0"))
    assert build_site(site.root).rendered_posts == ["content/p.md"]  # exactly what read the file
    after = (site.out / "p" / "index.html").read_text()
    assert "k = 7.00 N/m." in after and captions(after) == ["fit with k = 7.00"]
    assert ">18.0</td>" in after and ">12.0</td>" not in after
    assert re.findall(r"<svg.*?</svg>", after, re.S) != re.findall(r"<svg.*?</svg>", before, re.S)
    same_as_clean_build(site, tmp_path)


def test_unchanged_code_is_not_run_again(site, tmp_path):
    counter = tmp_path / "runs.txt"
    code = f"with open({str(counter)!r}, 'a') as f:\n    f.write('x')\nk = 3\n"
    assert site.build_post(HEAD + "One `{python} k`.\n\n" + run(code))[0].returncode == 0
    assert site.build_post(HEAD + "Two `{python} k`.\n\n" + run(code))[0].returncode == 0  # prose edit: cached
    assert counter.read_text() == "x"
    assert site.build_post(HEAD + "Two `{python} k + 1`.\n\n" + run(code))[0].returncode == 0  # a new expression
    assert counter.read_text() == "xx"
    assert site.build_post(HEAD + "Two `{python} k + 1`.\n\n" + run(code), "--no-cache")[0].returncode == 0
    assert counter.read_text() == "xxx"


def test_two_builds_are_byte_identical(site, tmp_path):
    data(site)
    site.post("p.md", HEAD + "k = `{python} k`.\n\n" + run(FIT) + figure("plt.plot(x, y)\n"))
    assert site.build("--no-cache").returncode == 0
    first = tree(site.out)
    assert site.build("--no-cache").returncode == 0
    assert tree(site.out) == first

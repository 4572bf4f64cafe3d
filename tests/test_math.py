"""Math: dollars parsed like Pandoc, typeset by KaTeX in quickjs-ng, errors at the formula."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from labpress.theme.lookup import find_node_package
from labpress.math.katex import KatexRenderer, TexError

REPO = Path(__file__).resolve().parent.parent
HEAD = "---\ntitle: Math\ndate: 2026-02-02\n---\n"


def body_of(site, text: str) -> str:
    site.post("m.md", HEAD + text)
    result = site.build()
    assert result.returncode == 0, result.stderr
    html = (site.out / "m" / "index.html").read_text()
    return html[html.index('<div class="post-body">'):html.index('<footer class="post-footer">')]


def test_inline_and_display(site):
    html = body_of(site, "Inline $a^2$ here.\n\n$$\n\\frac{1}{m}\n$$\n\nAnd $$x$$ inline display.\n")
    assert html.count('<span class="katex">') == 3
    # A display formula scrolls in its own focusable, named box (a phone is narrower than many formulas).
    assert ('<div class="math-display math-scroll" tabindex="0" role="group" aria-label="Equation">'
            '<span class="katex-display">') in html
    assert 'display="block"' in html


def _formulas_as_tex(html: str) -> str:
    """The body with each formula's markup replaced by [its TeX], to read what surrounds it."""
    import re

    out, done = [], 0
    for start in [m.start() for m in re.finditer('<span class="katex">', html)]:
        if start < done:
            continue
        depth = 0
        for tag in re.finditer(r"<span\b|</span>", html[start:]):
            depth += 1 if tag.group() == "<span" else -1
            if depth == 0:
                end = start + tag.end()
                break
        tex = re.search(r'<annotation encoding="application/x-tex">(.*?)</annotation>', html[start:end], re.S).group(1)
        out += [html[done:start], f"[{tex}]"]
        done = end
    return "".join(out) + html[done:]


def test_punctuation_touching_a_formula_wraps_with_it(site):
    """No line starts with the comma that followed a formula (nor ends with the bracket before one):
    the formula and the punctuation touching it are one no-wrap span (style.css lets the formula
    itself still break inside)."""
    html = _formulas_as_tex(body_of(
        site, "See ($a$), then $b$. Also \u201c$c$\u201d and $d$: $e$ and $f$ alone; $g$\u2026 $h$!?\n\n"
              "A [link $k$]. And [$m$](https://example.org/), `$n$`.\n"))
    assert ('<p>See <span class="math-nowrap">([a]),</span> then <span class="math-nowrap">[b].</span>'
            ' Also <span class="math-nowrap">\u201c[c]\u201d</span> and <span class="math-nowrap">[d]:</span> [e] and [f] alone;'
            ' <span class="math-nowrap">[g]\u2026</span> <span class="math-nowrap">[h]!?</span></p>') in html
    assert 'A [link <span class="math-nowrap">[k]].</span>' in html  # "[link " ends with a space: not held
    assert '<a href="https://example.org/">[m]</a>, <code>$n$</code>.' in html  # outside the link: a token apart
    assert html.count("math-nowrap") == 7


def test_only_the_boxes_at_a_formulas_ends_are_held_to_its_punctuation(site):
    """A line may still break inside a long formula (between KaTeX's boxes, after = or +), but not after
    the box next to a comma, nor before the one after an opening bracket: those are in math-end spans."""
    import re

    html = body_of(site, "Long ($a = b + c$), short $d$, bare $e = f$ here.\n")
    boxes = lambda part: re.findall(r'<span class="(math-end|katex-base)">', part)
    first, second, third = html.split('<span class="katex-html" aria-hidden="true">')[1:]
    assert boxes(first) == ["math-end", "katex-base", "katex-base", "math-end", "katex-base"]  # a=, b+, c
    assert boxes(second) == ["math-end", "katex-base"]
    assert boxes(third) == ["katex-base", "katex-base"]  # nothing touches it: left as KaTeX wrote it


def test_a_header_cell_of_only_maths_is_read_as_its_formula(site):
    """A header is announced at every cell, and some tools (axe) read no text inside <math>: a header that
    is only maths holds its MathML's text, visually hidden, and its MathML is hidden from screen readers."""
    html = body_of(site, "| $\\Delta T / T$ | Length $L$ (m) | $x$, $y$ |\n|---|---|---|\n| $z$ | 2 | 3 |\n")
    assert ('<th><span class="math-spoken">\u0394 T / T</span><span class="katex">'
            '<span class="katex-mathml" aria-hidden="true"><math') in html
    assert '<th>Length <span class="katex"><span class="katex-mathml"><math' in html  # it has text of its own
    # With the punctuation it holds; each formula's MathML is hidden, the text is said once.
    assert '<th><span class="math-nowrap"><span class="math-spoken">x, y</span><span class="katex"><span class="katex-mathml" aria-hidden' in html
    assert html.count("math-spoken") == 2 and html.count('<span class="katex-mathml" aria-hidden="true">') == 3
    assert '<td><span class="katex"><span class="katex-mathml"><math' in html  # a cell is left as it is


def test_currency_and_escaped_dollars_stay_text(site):
    html = body_of(site, "It costs $5 and $10. Also \\$3 and $4.50 each, $7/$8 total.\n")
    assert "katex" not in html
    assert "It costs $5 and $10. Also $3 and $4.50 each, $7/$8 total." in html


def test_dollars_in_code_stay_code(site):
    html = body_of(site, "Run `echo $HOME $PATH` then $10, `$x$`.\n\n```sh\nprice=$5 $x$\n```\n")
    assert "katex" not in html
    assert "<code>echo $HOME $PATH</code>" in html and "<code>$x$</code>" in html


def test_math_next_to_code_span(site):
    html = body_of(site, "`code` and $y$ and `$z$`\n")
    assert html.count('<span class="katex">') == 1
    assert "<code>$z$</code>" in html


def test_site_macros(site):
    site.config('title = "T"\n[math.macros]\n"\\\\R" = "\\\\mathbb{R}"\n')
    html = body_of(site, "$x \\in \\R$\n")
    assert '<span class="mord mathbb">R</span>' in html


def test_tex_error_points_at_the_formula(site):
    site.post("m.md", HEAD + "Some text, then $a + \\foo{b}$ here.\n\n$$\nx = 1 \\\\\n  \\bar{y} + \\nope\n$$\n")
    result = site.build()
    assert result.returncode == 1
    assert result.errors == [
        "content/m.md:5:22: error: KaTeX: Undefined control sequence: \\foo",
        "content/m.md:9:13: error: KaTeX: Undefined control sequence: \\nope",
    ]


def test_unbalanced_brace_error(site):
    site.post("m.md", HEAD + "\nOK $x$ then $\\frac{1}{2$\n")
    result = site.build()
    assert result.returncode == 1
    assert len(result.errors) == 1 and result.errors[0].startswith("content/m.md:6:")
    assert "error: KaTeX: Unexpected end of input in a macro argument, expected '}'" in result.errors[0]


def test_cache_survives_builds_and_skips_typesetting(site):
    site.post("m.md", HEAD + "$a$ $b$ $a$\n")
    first = site.build()
    assert "2 formulas typeset, 1 from cache" in first.stdout
    site.post("m.md", HEAD + "Edited prose. $a$ $b$ $a$\n")  # the post renders again; its formulas do not
    second = site.build()
    assert "0 formulas typeset, 3 from cache" in second.stdout
    assert (site.root / ".labpress-cache" / "katex.sqlite").is_file()


def test_cache_key_includes_macros_and_display(tmp_path):
    katex_dir = find_node_package("katex", REPO)
    plain = KatexRenderer(katex_dir, {}, tmp_path / "k.json")
    assert plain.render("x", False) != plain.render("x", True)
    plain.save()
    with_macro = KatexRenderer(katex_dir, {"\\x": "y"}, tmp_path / "k.json")
    assert with_macro._key("x", False) != plain._key("x", False)
    reread = KatexRenderer(katex_dir, {}, tmp_path / "k.json")
    reread.render("x", False)
    assert reread.hits == 1 and reread.misses == 0


def test_tex_error_raises_with_position():
    renderer = KatexRenderer(find_node_package("katex", REPO), {}, None)
    with pytest.raises(TexError) as caught:
        renderer.render("a+\\foo", False)
    assert caught.value.message == "Undefined control sequence: \\foo"
    assert caught.value.position == 2


CORPUS = [
    r"J = \frac{1}{m}\sum L \;+\; \frac{\lambda}{2m}\sum_l \lVert W^{[l]}\rVert_F^2",
    r"W := \Big(1 - \frac{\alpha\lambda}{m}\Big)W - \alpha\,\partial L",
    r"\text{L1: } \frac{\lambda}{m}\sum |w| \quad\Longrightarrow\quad \operatorname{sign}(w)",
    r"g = \partial L + \lambda w, \qquad W := W - \alpha\,\frac{\hat m}{\sqrt{\hat v} + \varepsilon}",
    r"\textbf{train:}\quad a = \frac{a \odot \text{mask}}{p}",
    r"\hat z = \frac{z - \mu_B}{\sqrt{\sigma_B^2 + \varepsilon}}, \qquad \tilde z = \gamma\,\hat z + \beta",
    r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}\begin{aligned} x &= 1 \\ y &= 2 \end{aligned}",
    r"\underbrace{(\E[\hat f] - f)^2}_{\text{bias}^2} + \mathcal{N}(0, \sigma^2) + \R^n",
    r"\int_0^\infty e^{-x^2}\,dx = \frac{\sqrt\pi}{2} \text{ — “quoted” ünïcödé}",
]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is a set-up tool; without it there is nothing to compare to")
def test_output_identical_to_node_katex():
    katex_dir = find_node_package("katex", REPO)
    macros = {"\\R": "\\mathbb{R}", "\\E": "\\mathbb{E}"}
    cases = [(tex, display) for tex in CORPUS for display in (False, True)]
    script = (
        "const katex = require(process.argv[1]); const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(cases.map(([t, d, m]) => katex.renderToString(t, {displayMode: d, throwOnError: true, macros: m}))));"
    )
    payload = json.dumps([[tex, display, macros] for tex, display in cases])
    node = subprocess.run(["node", "-e", script, str(katex_dir)], input=payload, capture_output=True, text=True, check=True)
    expected = json.loads(node.stdout)
    renderer = KatexRenderer(katex_dir, macros, None)
    for (tex, display), want in zip(cases, expected):
        assert renderer.render(tex, display) == want, tex

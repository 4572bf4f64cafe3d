"""axe-core (npm, pinned in package.json) on every page type of the fixture notebook (a post of each
kind, the index, the series list, a series, the tag list, a tag, the 404 page) and on two posts of
the demo notebook (its data post and the post with widgets and the most maths), in both colour
schemes, 1280 and 375 px wide: no violations. And the author's words keep their case wherever the
theme styles them as labels.

Every page is checked as a reader meets it: scripts on, widgets enhanced, and every block laid out
(blocks far from the screen are drawn lazily, and axe cannot judge the contrast of text not drawn).
"""

from __future__ import annotations

import json

import pytest

from conftest import REPO
from support import StaticServer, open_context

pytestmark = pytest.mark.browser

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"

# Every page type of the fixture notebook (tests/sites/notebook/): its three posts (widgets, maths and
# a verdict; code, callouts, a figure and a table with maths in its headers; a post with no verdict).
NOTEBOOK_PAGES = ["", "dials-and-handles/", "code-and-callouts/", "open-questions/", "series/", "series/bench-basics/",
                  "tags/", "tags/maths/", "404.html"]
# The demo notebook's data post, and the post the reader reports came from (widgets, many formulas).
DEMO_PAGES = ["data-scaling-floor/", "regularisation-four-knobs/"]
VIEWS = [(scheme, width) for scheme in ("light", "dark") for width in (1280, 375)]

READY_JS = """() => new Promise((resolve) => {
  // Scripts have run (the widgets are enhanced), then every block is laid out, as the theme does
  // before a jump to an anchor (style.css: data-anchor-jump).
  const ready = () => [...document.querySelectorAll('figure.widget')].every((f) => f.classList.contains('is-enhanced'));
  const go = () => {
    if (!ready()) return setTimeout(go, 50);
    document.documentElement.dataset.anchorJump = '1';
    requestAnimationFrame(() => requestAnimationFrame(() => document.fonts.ready.then(() => resolve(true))));
  };
  go();
})"""


def axe_violations(page) -> list[str]:
    page.evaluate(READY_JS)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']}; " + "; ".join(
                f"{json.dumps(node['target'])} {node['failureSummary'].splitlines()[-1].strip()}" for node in v["nodes"][:5])
            for v in result["violations"]]


@pytest.mark.parametrize(("scheme", "width"), VIEWS, ids=[f"{s}-{w}" for s, w in VIEWS])
def test_axe_finds_no_violations(browser, notebook_server, demo_server, scheme, width):
    assert AXE.is_file(), "axe-core is not installed: run npm ci"
    found = []
    with open_context(browser, color_scheme=scheme, viewport={"width": width, "height": 900}) as context:
        page = context.new_page()
        for server, paths in ((notebook_server, NOTEBOOK_PAGES), (demo_server, DEMO_PAGES)):
            for path in paths:
                response = page.goto(server.url + path, wait_until="load")
                assert response is not None and response.status == 200, path
                found += [f"/{path} ({'demo' if server is demo_server else 'notebook'}): {v}" for v in axe_violations(page)]
    assert not found, f"axe-core at {width} px, {scheme} scheme:\n" + "\n".join(found)


def test_axe_checks_what_it_should(browser, notebook_server):
    """The run above would pass on a page axe could not read: the same run finds a violation planted
    on the widget post (a handle back inside an image, as the build wrote it before)."""
    with open_context(browser, viewport={"width": 1280, "height": 900}) as context:
        page = context.new_page()
        page.goto(notebook_server.url + "dials-and-handles/", wait_until="load")
        page.evaluate(READY_JS)
        page.evaluate("() => document.querySelector('circle.lp-handle').closest('svg').setAttribute('role', 'img')")
        found = axe_violations(page)
    assert any(v.startswith("nested-interactive") for v in found), found


# A post whose author wrote mixed case into every label the theme styles: units in a table's headers,
# a section title, a callout title, captions, a widget's labels, the verdict's label, the code and
# series on the experiment line.
CASE_POST = """\
---
title: Titration in mL
date: 2026-01-02
exp: 3
code: pH-7b
series: basics
step: 1
mood: curious
status: complete
verdict: confirmed
verdict_label: "Confirmed at pH 7 (mL scale)"
---

## Volume (mL) against pH

| Volume (mL) | Time (s) | pH |
|---|---|---|
| 1.0 | 2.0 | 7.1 |

: Readings in mL and s, kept as written {#tbl-readings}

::: tip "Check the mL mark"
Read the meniscus.
:::

::: widget dial
caption: "k is {k} (mL per s)"
label: fig-dial
:::

## Conclusion (pH)

::: conclusion
It held in mL.
:::
"""

# What the theme shows of the author's words, by selector, each as the author wrote it.
AUTHOR_TEXT = {
    ".section-title": "Volume (mL) against pH", ".exp-code": "pH-7b", ".exp-series": "Basics",
    ".data-table th": "Volume (mL)", ".data-table-caption": "Readings in mL and s, kept as written",
    ".callout-title": "Check the mL mark", ".widget-controls .control--slider > label": "k",
    ".widget-caption": "k is 0.500 (mL per s)", ".verdict-label": "Confirmed at pH 7 (mL scale)",
    ".series-nav-title": "Basics",
}


def test_labels_keep_the_authors_case(browser, site):
    """"(mL)" must not become "(ML)": no label showing the author's text is upper- (or lower-) cased by
    the theme (the text a reader sees, innerText, is what the author wrote). Its own words (Contents,
    Data table, step 1, a status) may be."""
    from support import DIAL

    site.widget("dial", DIAL)
    site.post("titration.md", CASE_POST)
    result = site.build()
    assert result.returncode == 0, result.stderr
    server = StaticServer(site.out)
    seen = {}
    try:
        with open_context(browser, viewport={"width": 1280, "height": 900}) as context:
            page = context.new_page()
            page.goto(server.url + "titration/", wait_until="load")
            page.evaluate(READY_JS)
            for selector in AUTHOR_TEXT:
                seen[selector] = page.eval_on_selector_all(selector, "els => els.map(el => el.innerText.trim())")
            page.goto(server.url, wait_until="load")
            seen[".post-row-facts"] = page.eval_on_selector_all(".post-row-facts", "els => els.map(el => el.innerText)")
    finally:
        server.close()
    wrong = [f"{selector}: {seen[selector]} (the author wrote {text!r})" for selector, text in AUTHOR_TEXT.items()
             if not any(text in shown for shown in seen[selector])]
    assert not wrong, "\n".join(wrong)
    # A listing row: the series name and the verdict as written, the theme's status word in capitals.
    assert any("Basics" in row and "Confirmed at pH 7 (mL scale)" in row and "COMPLETE" in row
               for row in seen[".post-row-facts"]), seen[".post-row-facts"]

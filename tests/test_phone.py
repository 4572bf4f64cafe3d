"""A phone, 375 px wide: wide maths and tables scroll in their own box, which a keyboard can focus and
scroll and whose overflowing side shows a shade; nothing is clipped; widget text is at least 11 px and
the demo's figures hold no overlapping text; no line starts with the punctuation that followed a formula.

Pages: the fixture notebook's widget post (a formula and a table wider than a phone, five widgets) and
the demo post with the most maths and four widgets (tests/conftest.py: notebook_server, demo_build).
"""

from __future__ import annotations

import io

import pytest

from support import StaticServer, open_context

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}
POST = "dials-and-handles/"
DEMO_POST = "regularisation-four-knobs/"


@pytest.fixture(params=["notebook", "demo"])
def phone_page(request, browser, notebook_server):
    """The widget post of the fixture notebook, or the demo post, at 375 px, scripts on."""
    if request.param == "notebook":
        server, path = notebook_server, POST
    else:
        server, path = request.getfixturevalue("demo_server"), DEMO_POST
    with open_context(browser, viewport=PHONE) as context:
        page = context.new_page()
        page.goto(server.url + path, wait_until="load")
        page.evaluate("() => document.fonts.ready.then(() => undefined)")
        yield page


BOXES_JS = """async () => {
  const frames = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  const out = [];
  for (const el of document.querySelectorAll('.math-scroll, .table-scroll')) {
    el.scrollIntoView({block: 'center', behavior: 'instant'});
    await frames();
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    out.push({kind: el.classList.contains('math-scroll') ? 'formula' : 'table', html: el.outerHTML.slice(0, 100),
              left: box.left, right: box.right, viewport: innerWidth,
              overflows: el.scrollWidth > el.clientWidth + 1, clipped: el.scrollHeight > el.clientHeight + 1,
              overflowX: style.overflowX, tabindex: el.getAttribute('tabindex'), role: el.getAttribute('role'),
              name: el.getAttribute('aria-label')
                    || (document.getElementById(el.getAttribute('aria-labelledby') || '')?.textContent ?? '')});
  }
  return out;
}"""


def test_wide_maths_and_tables_scroll_in_a_box_a_keyboard_reaches(phone_page):
    boxes = phone_page.evaluate(BOXES_JS)
    formulas = [b for b in boxes if b["kind"] == "formula"]
    assert formulas and any(b["overflows"] for b in formulas), "no formula is wider than a phone: the test proves nothing"
    problems = []
    for b in boxes:
        if b["left"] < -0.5 or b["right"] > b["viewport"] + 0.5:
            problems.append(f"{b['html']} sticks out of the screen: {b['left']:.0f}..{b['right']:.0f}")
        if b["clipped"]:
            problems.append(f"{b['html']} is clipped at its top or bottom")
        if b["overflows"] and b["overflowX"] not in ("auto", "scroll"):
            problems.append(f"{b['html']} is wider than its box but does not scroll")
        if b["tabindex"] != "0" or not b["name"].strip():
            problems.append(f"{b['html']} cannot be reached by the keyboard, or has no name")
        if b["kind"] == "formula" and b["role"] != "group":
            problems.append(f"{b['html']}: a named box needs a role (group)")
    assert not problems, "\n".join(problems)


# Which display formulas are wider than their box, every block laid out first, as the theme does before
# a jump to an anchor (blocks far from the screen are not laid out, and have no width).
WIDE_JS = """async () => {
  document.documentElement.dataset.anchorJump = '1';
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  return [...document.querySelectorAll('.math-scroll')].map((el) => el.scrollWidth > el.clientWidth + 1);
}"""

EDGES_JS = """async ([index, where]) => {
  const el = document.querySelectorAll('.math-scroll')[index];
  el.scrollLeft = where === 'start' ? 0 : el.scrollWidth;
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  return getComputedStyle(el).backgroundColor;
}"""


def _edge_shaded(image, x: int, background: tuple) -> float:
    """The share of the middle half of column ``x`` not painted in the box's own background colour."""
    rows = range(image.height // 4, 3 * image.height // 4)
    return sum(1 for y in rows if max(abs(a - b) for a, b in zip(image.getpixel((x, y)), background)) > 6) / len(rows)


def test_a_formula_wider_than_the_screen_shows_a_shade_where_it_continues(phone_page):
    """Pixels, not styles: at the start the right edge is shaded and the left is not; scrolled to the
    end, the other way round. A formula that fits shows neither."""
    from PIL import Image

    overflowing = phone_page.evaluate(WIDE_JS)
    assert any(overflowing)
    for index, wide in enumerate(overflowing):
        box = phone_page.locator(".math-scroll").nth(index)
        box.scroll_into_view_if_needed()
        shots = {}
        for where in ("start", "end"):
            colour = phone_page.evaluate(EDGES_JS, [index, where])
            background = tuple(int(c) for c in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3])
            image = Image.open(io.BytesIO(box.screenshot())).convert("RGB")
            shots[where] = (_edge_shaded(image, 1, background), _edge_shaded(image, image.width - 2, background))
        (start_left, start_right), (end_left, end_right) = shots["start"], shots["end"]
        if wide:  # (a glyph may touch an edge: the shade's side is the one painted over its whole height)
            assert start_right > 0.8 and start_left < 0.3, f"formula {index} at its start: edges {shots['start']}"
            assert end_left > 0.8 and end_right < 0.3, f"formula {index} at its end: edges {shots['end']}"
        else:
            assert max(start_left, start_right) < 0.3, f"formula {index} fits, yet shows a shade: {shots['start']}"


def test_a_keyboard_scrolls_a_wide_formula(phone_page):
    index = phone_page.evaluate(WIDE_JS).index(True)
    assert index >= 0
    box = phone_page.locator(".math-scroll").nth(index)
    box.scroll_into_view_if_needed()
    box.focus()
    ring = box.evaluate("el => [el.matches(':focus-visible'), getComputedStyle(el).outlineStyle,"
                        " parseFloat(getComputedStyle(el).outlineWidth)]")
    assert ring[0] and ring[1] == "solid" and ring[2] >= 2, f"no visible focus ring: {ring}"
    before = box.evaluate("el => el.scrollLeft")
    phone_page.keyboard.press("ArrowRight")
    phone_page.keyboard.press("End")
    phone_page.wait_for_function("([i, x]) => document.querySelectorAll('.math-scroll')[i].scrollLeft > x",
                                 arg=[index, before])


SIZES_JS = """() => {
  document.documentElement.dataset.anchorJump = '1';  // every block laid out
  return [...document.querySelectorAll('figure.widget')].flatMap((w) => {
    const svg = w.querySelector('.widget-stage svg');
    const scale = svg.getScreenCTM().a;  // screen px per viewBox unit
    return [...svg.querySelectorAll('text')].map((t) => ({widget: w.id, text: t.textContent,
      px: parseFloat(getComputedStyle(t).fontSize) * scale}));
  });
}"""


def test_widget_text_is_at_least_11px(phone_page):
    sizes = phone_page.evaluate(SIZES_JS)
    assert len({s["widget"] for s in sizes}) >= 4, sizes[:3]
    small = [f"{s['widget']}: {s['text']!r} at {s['px']:.1f} px" for s in sizes if s["px"] < 10.95]
    assert not small, "\n".join(small)


OVERLAPS_JS = """() => {
  document.documentElement.dataset.anchorJump = '1';
  const out = [];
  for (const w of document.querySelectorAll('figure.widget')) {
    const texts = [...w.querySelectorAll('.widget-stage svg text')].map((t) => [t.textContent, t.getBoundingClientRect()]);
    const card = w.getBoundingClientRect();
    for (let i = 0; i < texts.length; i++) {
      const [a, ra] = texts[i];
      if (ra.left < Math.max(card.left, 0) - 0.5 || ra.right > Math.min(card.right, innerWidth) + 0.5) {
        out.push(`${w.id}: ${a} reaches past the card or the screen (${ra.left.toFixed(0)}..${ra.right.toFixed(0)})`);
      }
      for (let j = i + 1; j < texts.length; j++) {
        const [b, rb] = texts[j];
        // A text's box is its line, ascent to descent: boxes of stacked lines may touch by a pixel or two.
        const x = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
        const y = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
        if (x > 1 && y > 2) out.push(`${w.id}: ${a} overlaps ${b} (${x.toFixed(1)} x ${y.toFixed(1)} px)`);
      }
    }
  }
  return out;
}"""


def test_the_demo_figures_hold_no_overlapping_text(browser, demo_server):
    """The demo post's figures with their text at 11 px: nothing overlaps, nothing leaves the card."""
    with open_context(browser, viewport=PHONE) as context:
        page = context.new_page()
        page.goto(demo_server.url + DEMO_POST, wait_until="load")
        page.evaluate("() => document.fonts.ready.then(() => undefined)")
        problems = page.evaluate(OVERLAPS_JS)
    assert not problems, "\n".join(problems)


# Many formulas with punctuation touching them, at varied places in a paragraph: across a range of
# phone widths, some mark would land at a line's start (or a bracket at a line's end) if it could.
PUNCTUATION_POST = "---\ntitle: Commas\ndate: 2026-01-01\n---\n\n" + " ".join(
    f"{'word ' * (i % 5)}term " + (f"($x_{{{i}}} = y$)," if i % 7 == 0 else f"$x_{{{i}}}${',.;:)'[i % 5]}")
    for i in range(120)) + "\n"

LINE_BREAKS_JS = """() => {
  // Each punctuation mark touching a formula: on the line of the formula's glyph next to it, or not.
  const box = (node, from) => {
    const range = document.createRange();
    range.setStart(node, from);
    range.setEnd(node, from + 1);
    return range.getBoundingClientRect();
  };
  const glyphs = (katex) => {  // the formula's text drawn (not the zero-width spaces of KaTeX's tables)
    const walker = document.createTreeWalker(katex.querySelector('.katex-html'), NodeFilter.SHOW_TEXT);
    const out = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent;
      for (let i = 0; i < text.length; i++) if (!/[\\u200b\\s]/.test(text[i])) out.push([node, i]);
    }
    return out;
  };
  const out = [];
  for (const span of document.querySelectorAll('.math-nowrap')) {
    const katex = span.querySelector(':scope > .katex');
    const drawn = glyphs(katex);
    const [first, last] = [box(...drawn[0]), box(...drawn[drawn.length - 1])];
    const after = span.lastChild, before = span.firstChild;
    if (after.nodeType === Node.TEXT_NODE) {
      // On the same line the mark follows the glyph; on the next, it is to its left and below.
      const at = box(after, 0);
      out.push({mark: after.textContent, wrapped: at.left < last.right - 1 && at.top > last.top});
    }
    if (before.nodeType === Node.TEXT_NODE) {
      const at = box(before, before.textContent.length - 1);
      out.push({mark: before.textContent, wrapped: first.left < at.right - 1 && first.top > at.top});
    }
  }
  return out;
}"""


def test_no_line_starts_with_the_punctuation_after_a_formula(browser, site):
    result, _html = site.build_post(PUNCTUATION_POST)
    assert result.returncode == 0, result.stderr
    server = StaticServer(site.out)
    widths = range(330, 431, 4)
    try:
        with open_context(browser, viewport=PHONE) as context:
            page = context.new_page()
            page.goto(server.url + "p/", wait_until="load")
            page.evaluate("() => document.fonts.ready.then(() => undefined)")
            assert len(page.evaluate(LINE_BREAKS_JS)) == 120 + 120 // 7 + 1  # a mark after each, a bracket before some
            wrapped = {}
            for width in widths:
                page.set_viewport_size({"width": width, "height": 740})
                wrapped[width] = [m["mark"] for m in page.evaluate(LINE_BREAKS_JS) if m["wrapped"]]
            assert not any(wrapped.values()), {w: marks for w, marks in wrapped.items() if marks}
            # Without the theme's rules the same page parts marks from their formulas: the check sees it.
            page.add_style_tag(content=".math-nowrap, .math-end { white-space: normal !important; }")
            parted = 0
            for width in widths:
                page.set_viewport_size({"width": width, "height": 740})
                parted += sum(m["wrapped"] for m in page.evaluate(LINE_BREAKS_JS))
            assert parted, "no mark would ever start a line: the test proves nothing"
    finally:
        server.close()

"""Browser tests for the default theme: the fixture notebook (tests/sites/notebook/) built and
driven through headless Chromium.

Every test here is marked ``browser``; they use the ``browser``, ``notebook_build``,
``notebook_build_subpath`` and ``notebook_server`` fixtures from conftest.py.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import REPO
from support import StaticServer, open_context

pytestmark = pytest.mark.browser

# The fixture notebook's posts: this one has the verdict, sections, inline and display maths, a wide
# table and a wide formula, and the widgets; CODE_POST has the code block, callouts, a figure block
# and maths in the (upper-cased) table headers.
POST = "dials-and-handles/"
CODE_POST = "code-and-callouts/"
SUBPATH = "/my-notebook/"
ARTIFACTS = REPO / "tests" / "artifacts"
THEME_KEY = "labpress-scheme"


# --------------------------------------------------------------------------- helpers: pages and contexts


def site_pages(build: Path) -> list[str]:
    """Every page of a build as a path relative to the site root: "" for the home page, "x/" or "404.html"."""
    pages = []
    for index in sorted(build.rglob("index.html")):
        rel = index.parent.relative_to(build).as_posix()
        pages.append("" if rel == "." else rel + "/")
    if (build / "404.html").exists():
        pages.append("404.html")
    return pages


def wait_for_fonts(page) -> None:
    page.evaluate("() => document.fonts.ready.then(() => undefined)")


class PageWatch:
    """Records everything that went wrong while a page loaded: console errors, uncaught exceptions,
    failed requests, HTTP errors, and requests that left ``allowed_prefix`` (the local server)."""

    def __init__(self, page, allowed_prefix: str, ignore_status_for: tuple[str, ...] = ()):
        self.allowed_prefix = allowed_prefix
        self.ignore_status_for = ignore_status_for
        self.problems: list[str] = []
        self.requests: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught exception: {error}"))
        page.on("request", self._on_request)
        page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} ({r.failure})"))
        page.on("response", self._on_response)

    def _on_console(self, message) -> None:
        where = message.location.get("url")
        if message.type == "error" and where not in self.ignore_status_for:
            self.problems.append(f"console {message.type}: {message.text} @ {where}")

    def _on_request(self, request) -> None:
        url = request.url
        self.requests.append(url)
        if urlsplit(url).scheme in ("data", "blob", "about"):
            return
        if urlsplit(url).hostname != "127.0.0.1":
            self.problems.append(f"request left 127.0.0.1: {url}")
        elif not url.startswith(self.allowed_prefix):
            self.problems.append(f"request outside {self.allowed_prefix}: {url}")

    def _on_response(self, response) -> None:
        if response.status >= 400 and response.url not in self.ignore_status_for:
            self.problems.append(f"HTTP {response.status}: {response.url}")


def load_and_watch(browser, base_url: str, path: str, **context_options) -> list[str]:
    """Load one page in a fresh context, wait until its fonts settle, return the problems seen."""
    with open_context(browser, **context_options) as context:
        page = context.new_page()
        watch = PageWatch(page, base_url)
        response = page.goto(base_url + path, wait_until="load")
        wait_for_fonts(page)
        problems = list(watch.problems)
        if response is None or response.status != 200:
            problems.append(f"page status {response.status if response else 'none'}")
        return [f"{path or '/'}: {problem}" for problem in problems]


# --------------------------------------------------------------------------- helpers: colour maths in the page

# Colour parsing, alpha compositing and WCAG 2.x relative luminance / contrast, evaluated inside the page.
COLOUR_JS = r"""
const parseColour = (text) => {
  const m = text.match(/^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)$/);
  if (m) {
    let a = m[4] === undefined ? 1 : parseFloat(m[4]);
    if (m[4] && m[4].endsWith('%')) a /= 100;
    return [+m[1], +m[2], +m[3], a];
  }
  // Anything else (color(), oklab(), ...): let a canvas convert it to sRGB.
  const ctx = document.createElement('canvas').getContext('2d', {willReadFrequently: true});
  ctx.clearRect(0, 0, 1, 1);
  ctx.fillStyle = text;
  ctx.fillRect(0, 0, 1, 1);
  const d = ctx.getImageData(0, 0, 1, 1).data;
  return [d[0], d[1], d[2], d[3] / 255];
};
const over = (top, below) => {  // composite colour `top` (with alpha) over an opaque `below`
  const a = top[3];
  return [0, 1, 2].map(i => top[i] * a + below[i] * (1 - a)).concat([1]);
};
const canvasColour = () =>
  getComputedStyle(document.documentElement).colorScheme.includes('dark') ? [18, 18, 18, 1] : [255, 255, 255, 1];
const effectiveBackground = (el) => {
  // Walk up to the first opaque background, then composite the translucent layers on top of it.
  const layers = [];
  for (let node = el; node; node = node.parentElement) {
    const bg = parseColour(getComputedStyle(node).backgroundColor);
    if (bg[3] > 0) layers.push(bg);
    if (bg[3] >= 1) break;
  }
  let colour = layers.length && layers[layers.length - 1][3] >= 1 ? layers.pop() : canvasColour();
  while (layers.length) colour = over(layers.pop(), colour);
  return colour;
};
const channel = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
const luminance = (c) => 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
const contrast = (a, b) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};
const hex = (c) => '#' + c.slice(0, 3).map(v => Math.round(v).toString(16).padStart(2, '0')).join('');
"""

BODY_BACKGROUND_JS = "() => {" + COLOUR_JS + """
  const bg = effectiveBackground(document.body);
  return {hex: hex(bg), luminance: luminance(bg), raw: getComputedStyle(document.body).backgroundColor};
}"""

# For every element matched by a selector, check it and every descendant that owns visible text
# (KaTeX internals are skipped: they inherit the colour of the paragraph around them).
CONTRAST_JS = "(targets) => {" + COLOUR_JS + r"""
  const ownText = (el) => [...el.childNodes]
    .filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.textContent).join('').replace(/\s+/g, ' ').trim();
  const visible = (el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return style.visibility === 'visible' && style.display !== 'none' && box.width > 1 && box.height > 1
      && !el.closest('[hidden], .katex, .skip-link');
  };
  const seen = new Set();
  const results = [];
  for (const [label, selector] of targets) {
    for (const root of document.querySelectorAll(selector)) {
      for (const el of [root, ...root.querySelectorAll('*')]) {
        const text = ownText(el);
        if (!text || seen.has(el) || !visible(el)) continue;
        seen.add(el);
        const direct = targets.find(([, s]) => el.matches(s));  // name it after its own selector if it has one
        const name = direct ? direct[0] : label;
        const style = getComputedStyle(el);
        const bg = effectiveBackground(el);
        const fg = over(parseColour(style.color), bg);
        const size = parseFloat(style.fontSize);
        const large = size >= 24 || (size >= 18.66 && parseInt(style.fontWeight, 10) >= 700);
        const tag = el.tagName.toLowerCase() + (el.className && typeof el.className === 'string'
          ? '.' + el.className.trim().split(/\s+/).join('.') : '');
        results.push({label: name, tag, text: text.slice(0, 40), fg: hex(fg), bg: hex(bg),
                      ratio: contrast(fg, bg), required: large ? 3 : 4.5, size});
      }
    }
  }
  return results;
}"""

# Each text element is reported under the first selector it matches itself (else the one whose
# subtree holds it); the broad ones at the end ("main p", "a", "main") sweep up whatever the rest miss.
CONTRAST_TARGETS = [
    ("post dek", ".post-dek"),
    ("experiment line", ".exp-line"),
    ("section number", ".section-num"),
    ("section title", ".section-title"),
    ("post facts", ".post-facts"),
    ("status", ".status"),
    ("verdict label", ".verdict-label"),
    ("verdict phrase", ".verdict-phrase"),
    ("table header", ".data-table th"),
    ("table cell", ".data-table td"),
    ("table caption", ".data-table figcaption"),
    ("callout label", ".callout-label"),
    ("code token", ".highlight span"),
    ("site nav link", ".site-nav a"),
    ("masthead kicker", ".masthead-kicker"),
    ("scheme toggle", "#theme-toggle"),
    ("site footer", ".site-footer"),
    ("verdict badge", ".verdict-badge"),
    ("tag", ".tag"),
    ("series nav", ".series-nav"),
    ("index row", ".post-row"),
    ("heading", "h1, h2, h3, h4"),
    ("body text p", "main p"),
    ("link", "a"),
    ("any text in main", "main"),
]


def body_background(page) -> dict:
    return page.evaluate(BODY_BACKGROUND_JS)


def scheme_state(page) -> tuple[str | None, str | None]:
    """(data-scheme on <html>, aria-pressed on the toggle)."""
    return (
        page.evaluate("() => document.documentElement.getAttribute('data-scheme')"),
        page.get_attribute("#theme-toggle", "aria-pressed"),
    )


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def subpath_server(notebook_build_subpath):
    server = StaticServer(notebook_build_subpath, SUBPATH)
    yield server
    server.close()


# --------------------------------------------------------------------------- 1-2. every page loads cleanly


def test_site_pages_are_found(notebook_build):
    pages = site_pages(notebook_build)
    assert {"", POST, CODE_POST, "series/", "tags/", "404.html"} <= set(pages), pages


def test_every_page_loads_cleanly(browser, notebook_build, notebook_server):
    problems = []
    for path in site_pages(notebook_build):
        problems += load_and_watch(browser, notebook_server.url, path)
    assert not problems, "\n".join(problems)


def test_every_page_loads_cleanly_under_subpath(browser, notebook_build_subpath, subpath_server):
    assert subpath_server.url.endswith(SUBPATH)
    problems = []
    for path in site_pages(notebook_build_subpath):
        problems += load_and_watch(browser, subpath_server.url, path)
    assert not problems, "\n".join(problems)


def test_subpath_styles_apply(browser, subpath_server):
    with open_context(browser, color_scheme="light") as context:
        page = context.new_page()
        page.goto(subpath_server.url + POST)
        background = body_background(page)
        assert background["raw"] not in ("rgba(0, 0, 0, 0)", "transparent", "rgb(255, 255, 255)"), background
        assert page.evaluate("() => getComputedStyle(document.querySelector('.katex')).fontFamily").startswith("KaTeX")
        assert page.locator("#theme-toggle").is_visible(), "scheme.js did not run under the sub-path"


def test_subpath_katex_fonts_load(browser, subpath_server):
    with open_context(browser) as context:
        page = context.new_page()
        watch = PageWatch(page, subpath_server.url)
        page.goto(subpath_server.url + POST)
        # Blocks are laid out as they come near the screen, and a font loads once text using it is
        # laid out: bring the first displayed formula on screen, as a reader would.
        page.evaluate("""() => new Promise((resolve) => {
            document.querySelector('.math-display').scrollIntoView({block: 'center', behavior: 'instant'});
            requestAnimationFrame(() => requestAnimationFrame(resolve));
        })""")
        fonts = page.evaluate(
            "() => document.fonts.ready.then(() => [...document.fonts].map(f => [f.family, f.status]))"
        )
        loaded = sorted({family.strip('"') for family, status in fonts if "KaTeX" in family and status == "loaded"})
        assert loaded, f"no KaTeX font loaded; fonts: {fonts}"
        assert "KaTeX_Main" in loaded, loaded
        font_requests = [url for url in watch.requests if url.endswith(".woff2")]
        assert font_requests and all(url.startswith(subpath_server.url) for url in font_requests), font_requests
        assert not watch.problems, "\n".join(watch.problems)


def test_404_page_works_at_any_depth_under_subpath(browser, notebook_build_subpath, subpath_server):
    """GitHub Pages serves 404.html for any missing URL, however deep: its assets must still resolve."""
    missing = subpath_server.url + "no/such/experiment/"
    body = (notebook_build_subpath / "404.html").read_text(encoding="utf-8")
    with open_context(browser) as context:
        page = context.new_page()
        page.route(missing, lambda route: route.fulfill(status=404, body=body, content_type="text/html"))
        watch = PageWatch(page, subpath_server.url, ignore_status_for=(missing,))
        page.goto(missing)
        wait_for_fonts(page)
        assert not watch.problems, "\n".join(watch.problems)
        assert body_background(page)["raw"] != "rgba(0, 0, 0, 0)", "stylesheet did not apply"
        home = page.get_by_role("link", name="Back to all experiments").get_attribute("href")
        assert home == SUBPATH, home


# --------------------------------------------------------------------------- 3. math without JavaScript


def test_math_renders_without_javascript(browser, notebook_server):
    with open_context(browser, java_script_enabled=False) as context:
        page = context.new_page()
        page.goto(notebook_server.url + POST)
        wait_for_fonts(page)
        rendered = page.locator(".katex-html")
        assert rendered.count() > 0
        hidden = [i for i in range(rendered.count()) if not rendered.nth(i).is_visible()]
        assert not hidden, f"{len(hidden)} of {rendered.count()} .katex-html elements are not visible"
        mathml = page.evaluate("""() => {
            const s = getComputedStyle(document.querySelector('.katex-mathml'));
            return {position: s.position, clip: s.clip, clipPath: s.clipPath,
                    width: s.width, height: s.height};
        }""")
        assert mathml["position"] == "absolute" or mathml["clipPath"] != "none" or mathml["clip"] != "auto", mathml
        family = page.evaluate("() => getComputedStyle(document.querySelector('.katex')).fontFamily")
        assert "KaTeX" in family, family
        display = page.locator(".math-display .katex-display").first
        assert display.is_visible() and display.bounding_box()["height"] > 20


# --------------------------------------------------------------------------- 4. colour scheme and toggle


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_system_scheme_sets_background(browser, notebook_server, scheme):
    with open_context(browser, color_scheme=scheme) as context:
        page = context.new_page()
        page.goto(notebook_server.url + POST)
        background = body_background(page)
        if scheme == "dark":
            assert background["luminance"] < 0.2, background
        else:
            assert background["luminance"] > 0.8, background
        assert scheme_state(page)[1] == ("true" if scheme == "dark" else "false")


def test_toggle_hidden_without_javascript(browser, notebook_server):
    with open_context(browser, java_script_enabled=False, color_scheme="dark") as context:
        page = context.new_page()
        page.goto(notebook_server.url + POST)
        assert page.locator("#theme-toggle").count() == 1
        assert not page.locator("#theme-toggle").is_visible()
        # The system preference still applies through CSS alone.
        assert body_background(page)["luminance"] < 0.2


@pytest.mark.parametrize("path", ["", POST, "404.html"])
def test_toggle_visible_with_javascript(browser, notebook_server, path):
    with open_context(browser) as context:
        page = context.new_page()
        page.goto(notebook_server.url + path)
        toggle = page.locator("#theme-toggle")
        assert toggle.is_visible()
        assert toggle.get_attribute("aria-pressed") in ("true", "false")


def test_toggle_is_keyboard_operable(browser, notebook_server):
    with open_context(browser, color_scheme="light", viewport={"width": 1280, "height": 800}) as context:
        page = context.new_page()
        page.goto(notebook_server.url + POST)
        focused = "() => { const e = document.activeElement; return (e.id ? '#' + e.id : '') + '.' + e.className; }"

        page.keyboard.press("Tab")
        assert "skip-link" in page.evaluate(focused), "the first Tab stop is not the skip link"
        stops = [page.evaluate(focused)]
        for _ in range(30):
            if stops[-1].startswith("#theme-toggle"):
                break
            page.keyboard.press("Tab")
            stops.append(page.evaluate(focused))
        assert stops[-1].startswith("#theme-toggle"), f"toggle not reached by Tab; stops: {stops}"

        assert scheme_state(page) == (None, "false")
        page.keyboard.press("Enter")
        assert scheme_state(page) == ("dark", "true")
        assert body_background(page)["luminance"] < 0.2
        page.keyboard.press("Space")
        assert scheme_state(page) == ("light", "false")
        assert body_background(page)["luminance"] > 0.8


@pytest.mark.parametrize(("system", "chosen"), [("light", "dark"), ("dark", "light")])
def test_toggle_choice_persists_across_reload(browser, notebook_server, system, chosen):
    with open_context(browser, color_scheme=system) as context:
        page = context.new_page()
        page.goto(notebook_server.url + POST)
        page.click("#theme-toggle")
        assert scheme_state(page)[0] == chosen
        assert page.evaluate(f"() => localStorage.getItem('{THEME_KEY}')") == chosen

        page.reload()
        assert scheme_state(page) == (chosen, "true" if chosen == "dark" else "false")
        luminance = body_background(page)["luminance"]
        assert luminance < 0.2 if chosen == "dark" else luminance > 0.8, luminance

        page.goto(notebook_server.url)  # and on another page of the site
        assert scheme_state(page)[0] == chosen


@pytest.mark.parametrize(("system", "stored", "dark"), [
    ("light", None, False), ("dark", None, True), ("light", "dark", True), ("dark", "light", False),
])
def test_toggle_icon_follows_the_scheme(browser, notebook_server, system, stored, dark):
    """The icon is CSS's (from the scheme in effect), so it is right in the first frame; aria-pressed agrees."""
    with open_context(browser, color_scheme=system) as context:
        if stored:
            context.add_init_script(f"localStorage.setItem('{THEME_KEY}', '{stored}')")
        page = context.new_page()
        page.goto(notebook_server.url + POST)
        icon = page.evaluate(
            "() => getComputedStyle(document.querySelector('.scheme-toggle-icon'), '::before').content")
        assert icon == ('"☀"' if dark else '"☾"'), icon
        assert scheme_state(page)[1] == ("true" if dark else "false")


# --------------------------------------------------------------------------- 5. WCAG AA contrast


# How the scheme is reached: (system preference, choice stored by the toggle). The CSS takes a
# different path for each (media query, or data-scheme set by scheme.js), so all four are checked.
SCHEME_MODES = {
    "light": ("light", None),
    "dark": ("dark", None),
    "toggled-dark": ("light", "dark"),
    "toggled-light": ("dark", "light"),
}


@pytest.mark.parametrize("mode", list(SCHEME_MODES))
@pytest.mark.parametrize("path", ["", POST, CODE_POST])
def test_text_contrast_meets_wcag_aa(browser, notebook_server, mode, path):
    system, chosen = SCHEME_MODES[mode]
    with open_context(browser, color_scheme=system, viewport={"width": 1280, "height": 900}) as context:
        if chosen:
            context.add_init_script(f"localStorage.setItem('{THEME_KEY}', '{chosen}')")
        page = context.new_page()
        page.goto(notebook_server.url + path)
        assert scheme_state(page)[0] == chosen
        results = page.evaluate(CONTRAST_JS, CONTRAST_TARGETS)
    assert len(results) > 20, f"too few text elements checked: {results}"
    labels = {r["label"] for r in results}
    if path == POST:
        assert {"verdict label", "table cell", "section number", "post dek"} <= labels, labels
    if path == CODE_POST:
        assert {"code token", "callout label"} <= labels, labels
    failures = [r for r in results if r["ratio"] < r["required"]]
    report = "\n".join(
        f"  [{r['label']}] {r['tag']} {r['text']!r}: {r['fg']} on {r['bg']} = {r['ratio']:.2f}"
        f" (needs {r['required']}, {r['size']:.1f}px)"
        for r in failures
    )
    assert not failures, f"{len(failures)} of {len(results)} text elements fail WCAG AA ({mode}, /{path}):\n{report}"


# --------------------------------------------------------------------------- 6. responsive layout


def test_no_horizontal_overflow_at_375px(browser, notebook_build, notebook_server):
    overflowing = []
    with open_context(browser, viewport={"width": 375, "height": 740}) as context:
        page = context.new_page()
        for path in site_pages(notebook_build):
            page.goto(notebook_server.url + path)
            wait_for_fonts(page)
            widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            if widths[0] > widths[1]:
                overflowing.append(f"/{path}: scrollWidth {widths[0]} > innerWidth {widths[1]}")
    assert not overflowing, "\n".join(overflowing)


# Each block is brought on screen first, as a reader scrolling to it would: the theme lays out
# blocks of a post only near the screen (content-visibility), so one never seen has no width yet.
WIDE_CONTENT_JS = """async () => {
  const frames = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  const out = [];
  for (const el of document.querySelectorAll('.math-display, .table-scroll, pre')) {
    el.scrollIntoView({block: 'center', behavior: 'instant'});
    await frames();
    const box = el.getBoundingClientRect();
    const before = el.scrollLeft;
    el.scrollLeft = 40;
    const scrolled = el.scrollLeft > before;
    el.scrollLeft = before;
    const group = el.matches('.math-display') ? 'math-display' : el.matches('.table-scroll') ? 'table-scroll' : 'pre';
    out.push({kind: el.className || el.tagName, group, left: box.left, right: box.right,
              overflows: el.scrollWidth > el.clientWidth, overflowX: getComputedStyle(el).overflowX,
              scrolled, viewport: window.innerWidth});
  }
  return out;
}"""


# What each post holds that is wider than a 375 px screen: the fixture notebook puts a wide table
# and a wide display formula in POST, and a long line of code in CODE_POST.
WIDE_ON = {POST: {"math-display", "table-scroll"}, CODE_POST: {"pre"}}


@pytest.mark.parametrize("path", [POST, CODE_POST])
def test_wide_content_scrolls_in_its_own_container(browser, notebook_server, path):
    with open_context(browser, viewport={"width": 375, "height": 740}) as context:
        page = context.new_page()
        page.goto(notebook_server.url + path)
        wait_for_fonts(page)
        boxes = page.evaluate(WIDE_CONTENT_JS)
    assert boxes, "no display math, table or code block found"
    assert any(b["overflows"] for b in boxes), f"nothing is wider than 375px, the test proves nothing: {boxes}"
    wide = {b["group"] for b in boxes if b["overflows"]}
    assert WIDE_ON[path] <= wide, f"expected a {sorted(WIDE_ON[path])} wider than 375px, found {sorted(wide)}: {boxes}"
    problems = []
    for b in boxes:
        if b["left"] < -0.5 or b["right"] > b["viewport"] + 0.5:
            problems.append(f"{b['kind']} sticks out of the viewport: {b['left']:.0f}..{b['right']:.0f}")
        if b["overflows"] and (b["overflowX"] not in ("auto", "scroll") or not b["scrolled"]):
            problems.append(f"{b['kind']} is wider than its box but does not scroll (overflow-x {b['overflowX']})")
    assert not problems, "\n".join(problems)


SETTLED_SCROLL_JS = """async (id) => {
  // Until the (smooth) scroll has stopped for half a second, then where the target is.
  let last = -1, still = 0;
  for (let i = 0; i < 100 && still < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    still = scrollY === last ? still + 1 : 0;
    last = scrollY;
  }
  return document.getElementById(id).getBoundingClientRect().top;
}"""


@pytest.mark.parametrize("how", ["opened at the anchor", "in-page link"])
def test_anchor_jumps_land_on_their_target(browser, notebook_server, how):
    """Blocks far from the screen are laid out lazily with guessed heights; a smooth jump to an anchor
    must still end with its target at the top (a warming-up widget passed on the way may add a line)."""
    target = "conclusion"
    with open_context(browser, viewport={"width": 1280, "height": 720}, reduced_motion="no-preference") as context:
        page = context.new_page()
        if how == "opened at the anchor":
            page.goto(f"{notebook_server.url}{POST}#{target}")
        else:
            page.goto(notebook_server.url + POST)
            page.evaluate("""(id) => {
                const link = document.createElement('a');
                link.href = '#' + id;
                link.textContent = 'jump';
                document.querySelector('.post-header').append(link);
                link.click();
            }""", target)
        top = page.evaluate(SETTLED_SCROLL_JS, target)
        assert -2 <= top <= 60, f"#{target} ended {top:.0f} px from the top of the viewport"


# --------------------------------------------------------------------------- 7. landmarks and headings

HEADINGS_JS = """() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6, [role=heading]')].map(h => [
    parseInt(h.getAttribute('aria-level') || h.tagName.slice(1), 10),
    h.textContent.replace(/\\s+/g, ' ').trim().slice(0, 50),
])"""


def test_landmarks_and_heading_outline(browser, notebook_build, notebook_server):
    problems = []
    with open_context(browser) as context:
        page = context.new_page()
        for path in site_pages(notebook_build):
            page.goto(notebook_server.url + path)
            where = f"/{path}"
            for role in ("banner", "main", "contentinfo"):
                count = page.get_by_role(role).count()
                if count != 1:
                    problems.append(f"{where}: {count} '{role}' landmarks")
            h1_count = page.locator("h1").count()
            if h1_count != 1:
                problems.append(f"{where}: {h1_count} h1 elements")
            previous = 0
            for level, text in page.evaluate(HEADINGS_JS):
                if level > previous + 1:
                    problems.append(f"{where}: h{level} {text!r} follows h{previous or '-'} (skips a level)")
                previous = level
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- 8. screenshots


def _luminance(pixel) -> float:
    r, g, b = (channel / 255 for channel in pixel[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _ink(image, box: dict, background: float) -> float:
    """The share of pixels inside ``box`` (CSS pixels of a full-page shot) that stand out from the page."""
    left, top = int(box["x"]), int(box["y"])
    region = image.crop((left, top, left + max(1, int(box["width"])), top + max(1, int(box["height"]))))
    data = region.tobytes()  # RGB
    pixels = [data[i:i + 3] for i in range(0, len(data), 3)]
    return sum(abs(_luminance(p) - background) > 0.35 for p in pixels) / max(1, len(pixels))


@pytest.mark.parametrize(
    ("name", "path", "scheme", "width", "title", "last"),
    [
        ("post-light-1280", POST, "light", 1280, ".post-title", ".section-heading >> nth=-1"),
        ("post-dark-1280", POST, "dark", 1280, ".post-title", ".section-heading >> nth=-1"),
        ("post-dark-375", POST, "dark", 375, ".post-title", ".section-heading >> nth=-1"),
        ("index-light-375", "", "light", 375, ".page-title", ".post-row-title >> nth=-1"),
    ],
)
def test_screenshot_shows_the_page_in_its_scheme(browser, notebook_server, name, path, scheme, width, title, last):
    """What a reader sees in a full-page shot: the scheme's background, the title drawn in ink that
    stands out from it, and the last heading of the page drawn too (blocks far from the screen are
    laid out lazily, so an empty shot of them would pass a PNG check)."""
    from PIL import Image

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    with open_context(browser, color_scheme=scheme, viewport={"width": width, "height": 900}) as context:
        page = context.new_page()
        page.goto(notebook_server.url + path)
        # Blocks of a post are drawn only near the screen (content-visibility: auto), so a capture of
        # the whole page would show the ones far from it blank: draw them all, as a reader scrolling sees them.
        page.add_style_tag(content=".post-body * { content-visibility: visible !important; }")
        wait_for_fonts(page)
        boxes = {what: page.locator(selector).bounding_box() for what, selector in (("title", title), ("last", last))}
        paper = body_background(page)["hex"]  # the scheme's page colour, as the stylesheet computes it
        page.screenshot(path=str(target), full_page=True)
    image = Image.open(target).convert("RGB")
    assert image.width == width
    background = _luminance(image.getpixel((2, image.height // 2)))
    assert background > 0.8 if scheme == "light" else background < 0.2, f"{name}: page background {background:.2f}"
    # The colour most of the page's left edge is painted in, from the PNG's own pixels, is the scheme's
    # page colour (within rounding): the shot shows this scheme, not merely some light or dark page.
    edge = Counter(image.getpixel((2, y)) for y in range(0, image.height, 4)).most_common(1)[0][0]
    want = tuple(int(paper[i:i + 2], 16) for i in (1, 3, 5))
    assert max(abs(a - b) for a, b in zip(edge, want)) <= 2, f"{name}: the page is painted {edge}, the scheme's paper is {paper}"
    for what, box in boxes.items():
        assert box and box["width"] > 20 and box["height"] > 8, f"{name}: no {what} on the page"
        assert _ink(image, box, background) > 0.004, f"{name}: the {what} is not drawn (no ink in its box)"


@pytest.mark.browser
def test_maths_in_uppercase_labels_keeps_its_case(browser, notebook_server):
    """Table headers are upper-cased by the theme; the α inside them must stay α."""
    with open_context(browser) as context:
        page = context.new_page()
        page.goto(notebook_server.url + CODE_POST)
        transforms = page.eval_on_selector_all(
            ".data-table th .katex", "els => els.map(e => getComputedStyle(e).textTransform)")
    assert transforms and set(transforms) == {"none"}

"""Browser tests for links to a widget's state and for starting Pyodide only on the reader's intent:
the fixture notebook's widget post (tests/sites/notebook/, post dials-and-handles) driven through
headless Chromium.

Moving a widget's controls writes its state into the page's URL (one ``w.<figure id>`` parameter
per widget, see generator/browser/runtime/urlstate.js); opening that URL shows the same state, from
the pre-computed frames or from Pyodide; a state the controls refuse is ignored. "Copy link to this
view" puts the link on the clipboard, or shows it selected. Scrolling never downloads Pyodide; a
press, the focus or a resting pointer on a live widget does. A missing core file and a package the
CDN does not give say so at once, neither as a kernel error.

The helpers that drive and read a widget are test_widgets_browser.py's; every frame shown is checked
against the CPython kernel there (wait_settled).
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest

from support import StaticServer
from test_widgets_browser import (
    FRAMED, LIVE, POST, WAIT_MS, WIDGETS, canonical_svg, control_locator, handle_locator, load_widget, open_context,
    open_page, press_on, snapshot, wait_settled,
)

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 900}
PARABOLA = "widget-parabola-1"  # the other live widget: one slider, too fine to pre-compute
URL_WAIT_MS = 10_000  # the URL is written 300 ms after the controls stop: this is only a bound
FAST_FAIL_S = 20  # a missing core file must fail in seconds, not at the 120 s start-up timeout


def wait_for_param(page, name: str, value: str | None):
    """Wait until the page's URL has ``name=value`` (``None``: no ``name`` at all); the URL then."""
    page.wait_for_function(
        """([name, value]) => {
            const found = location.search.slice(1).split('&').find((s) => s.split('=')[0] === name);
            return value === null ? found === undefined : found === `${name}=${value}`;
        }""", arg=[name, value], timeout=URL_WAIT_MS)
    return page.url


def wasm_requests(recorder) -> list[str]:
    return [url for url in recorder.requests if urlsplit(url).path.endswith(".wasm")]


def pyodide_requests(recorder) -> list[str]:
    return [url for url in recorder.requests if "/assets/pyodide-" in urlsplit(url).path]


def settle_all(page, expected: dict[str, dict]):
    """Every figure in ``expected`` (id -> state) showing the kernel's frame for that state."""
    return {fig_id: wait_settled(page, fig_id, load_widget(WIDGETS[fig_id]), expect_state=state)[0]
            for fig_id, state in expected.items()}


def at_top(page, element_id: str):
    """Wait until the element ``element_id`` is at the top of the window (the theme scrolls smoothly)."""
    page.wait_for_function("(id) => Math.abs(document.getElementById(id).getBoundingClientRect().top) < 60",
                           arg=element_id, timeout=URL_WAIT_MS)


def assert_clean(recorder, allowed: tuple[str, ...] = ()):
    assert not recorder.errors, recorder.errors
    errors = [e for e in recorder.console_errors() if not any(a in e for a in allowed)]
    assert not errors, errors


# --------------------------------------------------------------------------- 1. round trips


def test_frames_widget_state_round_trip(browser, notebook_server):
    fig_id = "widget-coins-1"
    widget = load_widget(WIDGETS[fig_id])
    with open_context(browser, viewport=VIEWPORT) as context:
        page, recorder, _ = open_page(context, notebook_server.url + POST)
        start, _ = wait_settled(page, fig_id, widget)
        assert start["state"] == {"count": 8.0, "weighted": False, "roll": 0}
        assert "w." not in urlsplit(page.url).query, "the URL holds a state before any control moved"

        press_on(page, control_locator(page, fig_id, "count"), "End")
        control_locator(page, fig_id, "weighted").click()
        control_locator(page, fig_id, "roll").click()
        moved, _ = wait_settled(page, fig_id, widget, expect_state={"count": 16.0, "weighted": True, "roll": 1})
        url = wait_for_param(page, f"w.{fig_id}", "count:16,weighted:on,roll:1")
        assert urlsplit(url).path == "/" + POST

        opened, opened_recorder, _ = open_page(context, url)
        again, _ = wait_settled(opened, fig_id, widget, expect_state=moved["state"])
        assert again["source"] == "frames", again["source"]
        assert canonical_svg(again["svg"], again["state"]) == canonical_svg(moved["svg"], moved["state"])
        assert (again["readouts"], again["caption"]) == (moved["readouts"], moved["caption"])
        assert again["runtimeState"] == moved["state"]
        for other in FRAMED:  # the other widgets start as built
            other_id = next(i for i, n in WIDGETS.items() if n == other)
            if other_id != fig_id:
                assert snapshot(opened, other_id)["state"] == snapshot(page, other_id)["state"]
        opened.wait_for_timeout(1000)
        assert not wasm_requests(opened_recorder), "a state with a pre-computed frame started Pyodide"
        assert_clean(recorder)
        assert_clean(opened_recorder)


def test_live_widget_state_round_trip(browser, notebook_server):
    fig_id, widget = LIVE, load_widget(WIDGETS[LIVE])
    with open_context(browser, viewport=VIEWPORT) as context:
        page, recorder, _ = open_page(context, notebook_server.url + POST)
        handle = handle_locator(page, fig_id, "spot")
        handle.scroll_into_view_if_needed()
        handle.focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowUp")
        press_on(page, control_locator(page, fig_id, "slope"), "ArrowRight")
        moved, _ = wait_settled(page, fig_id, widget, expect_state={"spot": [0.65, 0.35], "slope": 1.1})
        assert moved["source"] == "pyodide"
        url = wait_for_param(page, f"w.{fig_id}", "spot:0.65~0.35,slope:1.1")

        # Opened without touching anything: the URL's state needs the live widget, so Python starts.
        opened, opened_recorder, _ = open_page(context, url)
        again, _ = wait_settled(opened, fig_id, widget, expect_state=moved["state"])
        assert again["source"] == "pyodide", again["source"]
        assert canonical_svg(again["svg"], again["state"]) == canonical_svg(moved["svg"], moved["state"])
        assert (again["readouts"], again["caption"]) == (moved["readouts"], moved["caption"])
        assert again["runtimeState"] == moved["state"] and again["status"] == ""
        handle_again = handle_locator(opened, fig_id, "spot")
        assert handle_again.get_attribute("aria-label") == "Point: x 0.65, y 0.35"
        assert opened.evaluate("() => document.activeElement === document.body"), "opening the link moved the focus"
        assert wasm_requests(opened_recorder)
        assert_clean(recorder)
        assert_clean(opened_recorder)


# --------------------------------------------------------------------------- 2. several widgets, anchors, other parameters


def test_two_widgets_keep_separate_states_and_the_anchor(browser, notebook_server):
    decay, centre = "widget-decay-1", "widget-centre-1"
    with open_context(browser, viewport=VIEWPORT) as context:
        page, recorder, _ = open_page(context, notebook_server.url + POST + "?from=feed#a-slider-with-frames")
        at_top(page, "a-slider-with-frames")  # the page opens at its anchor (scrolling smoothly)

        press_on(page, control_locator(page, decay, "rate"), "ArrowRight")
        page.locator(f"#{centre} .widget-controls [data-control='how'][value='1']").click()
        settle_all(page, {decay: {"rate": 0.4}, centre: {"how": "median", "outlier": 8.0}})
        wait_for_param(page, f"w.{decay}", "rate:0.4")
        url = wait_for_param(page, f"w.{centre}", "how:median")
        parts = urlsplit(url)
        assert parts.query == f"from=feed&w.{decay}=rate:0.4&w.{centre}=how:median", parts.query
        assert parts.fragment == "a-slider-with-frames"

        # An anchor still navigates, and the URL keeps it while the controls move.
        page.evaluate("() => { location.hash = '#measurements'; }")
        at_top(page, "measurements")
        press_on(page, control_locator(page, centre, "outlier"), "ArrowRight")
        settle_all(page, {centre: {"how": "median", "outlier": 9.0}})
        url = wait_for_param(page, f"w.{centre}", "how:median,outlier:9")
        assert urlsplit(url).fragment == "measurements"

        # Back at its starting state, a widget's parameter goes; the other keeps its own.
        press_on(page, control_locator(page, decay, "rate"), "ArrowLeft")
        settle_all(page, {decay: {"rate": 0.3}})
        url = wait_for_param(page, f"w.{decay}", None)
        assert urlsplit(url).query == f"from=feed&w.{centre}=how:median,outlier:9"

        opened, opened_recorder, _ = open_page(context, url)
        settle_all(opened, {decay: {"rate": 0.3}, centre: {"how": "median", "outlier": 9.0}})
        assert_clean(recorder)
        assert_clean(opened_recorder)


# --------------------------------------------------------------------------- 3. a state the controls refuse


def test_invalid_or_stale_states_are_ignored(browser, notebook_server):
    query = "&".join([
        "w.widget-decay-1=rate:7",                 # out of range (a stale link, or a typed one)
        "w.widget-coins-1=count:8,nope:1",         # a control the widget does not have
        "w.widget-mirror-1=spot:zz",               # not a point
        "w.widget-parabola-1=x:%E0%A4%A",           # a broken escape
        "w.widget-centre-1=how:midrange",          # valid: this one applies
        "w.widget-gone-1=k:1",                     # no such figure on the page
    ])
    with open_context(browser, viewport=VIEWPORT) as context:
        page, recorder, _ = open_page(context, notebook_server.url + POST + "?" + query)
        for fig_id, name in WIDGETS.items():
            widget = load_widget(name)
            want = {**widget.defaults(), "how": "midrange"} if name == "centre" else widget.defaults()
            want = {k: list(v) if isinstance(v, tuple) else v for k, v in want.items()}
            snap, _ = wait_settled(page, fig_id, widget, expect_state=want)
            assert "is-error" not in snap["classes"] and "is-static" not in snap["classes"], (fig_id, snap["classes"])
            assert snap["status"] == "", (fig_id, snap["status"])
        warnings = [w for w in recorder.console_warnings() if "ignoring the state in the address" in w]
        assert len(warnings) == 4, recorder.console_warnings()
        for fig_id in ("widget-decay-1", "widget-coins-1", "widget-mirror-1", "widget-parabola-1"):
            assert any(fig_id in w for w in warnings), (fig_id, warnings)
        page.wait_for_timeout(1000)
        assert not wasm_requests(recorder), "an ignored live state started Pyodide"
        assert page.evaluate("() => document.querySelectorAll('dialog[open], [role=alertdialog]').length") == 0
        assert urlsplit(page.url).query == query, "an ignored state was rewritten before the reader moved anything"
        assert_clean(recorder)


# --------------------------------------------------------------------------- 4. copy link to this view


def test_copy_link_puts_the_view_on_the_clipboard(browser, notebook_server):
    fig_id, widget = "widget-decay-1", load_widget("decay")
    with open_context(browser, viewport=VIEWPORT, permissions=["clipboard-read", "clipboard-write"]) as context:
        page, recorder, _ = open_page(context, notebook_server.url + POST + "?w.widget-centre-1=how:median#setup")
        buttons = page.get_by_role("button", name="Copy link to this view")
        assert buttons.count() == len(WIDGETS)
        assert page.locator(".widget-share button").count() == len(WIDGETS)
        press_on(page, control_locator(page, fig_id, "rate"), "End")
        wait_settled(page, fig_id, widget, expect_state={"rate": 0.9})

        button = page.locator(f"#{fig_id}").get_by_role("button", name="Copy link to this view")
        button.focus()
        page.keyboard.press("Enter")  # keyboard operable: a real button
        status = page.locator(f"#{fig_id} .widget-status")
        page.wait_for_function("(id) => document.querySelector(`#${id} .widget-status`).textContent === 'Link copied.'",
                               arg=fig_id, timeout=WAIT_MS)
        assert status.get_attribute("role") == "status"
        copied = page.evaluate("() => navigator.clipboard.readText()")
        # This widget's state and its figure as the fragment; the other widget's state is not part of this view.
        assert copied == f"{notebook_server.url}{POST}?w.{fig_id}=rate:0.9#{fig_id}", copied
        page.wait_for_function("(id) => document.querySelector(`#${id} .widget-status`).textContent === ''",
                               arg=fig_id, timeout=WAIT_MS)  # the notice goes again

        opened, opened_recorder, _ = open_page(context, copied)
        snap, _ = wait_settled(opened, fig_id, widget, expect_state={"rate": 0.9})
        assert snap["source"] == "frames"
        at_top(opened, fig_id)  # the link opens at the figure
        assert_clean(recorder)
        assert_clean(opened_recorder)


NO_CLIPBOARD_JS = "Object.defineProperty(Navigator.prototype, 'clipboard', {configurable: true, get: () => undefined});"


def test_copy_link_without_the_clipboard_api_shows_the_link_selected(browser, notebook_server):
    fig_id = "widget-coins-1"
    with open_context(browser, viewport=VIEWPORT) as context:
        context.add_init_script(NO_CLIPBOARD_JS)
        page, recorder, _ = open_page(context, notebook_server.url + POST)
        control_locator(page, fig_id, "roll").click()
        wait_settled(page, fig_id, load_widget("coins"), expect_state={"count": 8.0, "weighted": False, "roll": 1})
        page.locator(f"#{fig_id}").get_by_role("button", name="Copy link to this view").click()
        field = page.locator(f"#{fig_id} .widget-share input.widget-share-url")
        field.wait_for(state="visible")
        expected = f"{notebook_server.url}{POST}?w.{fig_id}=roll:1#{fig_id}"
        assert field.input_value() == expected
        assert field.get_attribute("readonly") is not None and field.get_attribute("aria-label") == "Link to this view"
        assert page.evaluate("""() => {
            const el = document.activeElement;
            return el.matches('input.widget-share-url') && el.selectionStart === 0 && el.selectionEnd === el.value.length;
        }""")
        assert "Ctrl+C" in page.locator(f"#{fig_id} .widget-status").text_content()
        assert_clean(recorder)


# --------------------------------------------------------------------------- 5. Pyodide starts on intent


def test_scrolling_the_whole_post_loads_no_wasm(browser, notebook_server):
    with open_context(browser, viewport=VIEWPORT) as context:
        page, recorder, _ = open_page(context, notebook_server.url + POST)
        page.mouse.move(4, VIEWPORT["height"] / 2)  # in the page's margin: scrolling is not hovering a figure
        for _ in range(200):
            page.mouse.wheel(0, 350)
            page.wait_for_timeout(120)
            if page.evaluate("() => innerHeight + scrollY >= document.documentElement.scrollHeight - 2"):
                break
        else:
            raise AssertionError("never reached the bottom of the post")
        page.keyboard.press("Home")
        page.keyboard.press("End")
        page.wait_for_timeout(3000)  # idle callbacks, intersection observers: anything that would start it
        assert not wasm_requests(recorder), wasm_requests(recorder)
        assert not pyodide_requests(recorder), pyodide_requests(recorder)
        assert page.evaluate("() => window.__lpTest.posted") == 0
        for fig_id in WIDGETS:
            snap = snapshot(page, fig_id)
            assert "is-warming" not in snap["classes"] and snap["status"] == "", (fig_id, snap["status"])
        framed = [url for url in recorder.requests if "/assets/frames/" in url]
        assert len(framed) == len(FRAMED), f"the frames files were not fetched as their figures came near: {framed}"
        assert_clean(recorder)


def expect_pyodide(context, action):
    """Run ``action`` and wait for the request of pyodide.asm.wasm it must cause."""
    with context.expect_event("request", lambda r: r.url.endswith("/pyodide.asm.wasm"), timeout=WAIT_MS):
        action()


def goes_live(page, fig_id: str):
    page.wait_for_function(
        "(id) => { const f = document.getElementById(id); return !f.classList.contains('is-warming') && !f.querySelector('.widget-status').textContent; }",
        arg=fig_id, timeout=WAIT_MS)


def test_hovering_a_live_widget_starts_pyodide(browser, notebook_server):
    fig_id, widget = PARABOLA, load_widget("parabola")
    with open_context(browser, viewport=VIEWPORT) as context:
        page, recorder, _ = open_page(context, notebook_server.url + POST)
        stage = page.locator(f"#{fig_id} .widget-stage")
        stage.scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        assert not wasm_requests(recorder)
        expect_pyodide(context, stage.hover)
        goes_live(page, fig_id)
        press_on(page, control_locator(page, fig_id, "x"), "ArrowRight")
        snap, _ = wait_settled(page, fig_id, widget, expect_state={"x": 2.51})
        assert snap["source"] == "pyodide"
        assert_clean(recorder)


def test_focusing_a_live_widget_starts_pyodide(browser, notebook_server):
    fig_id, widget = LIVE, load_widget(WIDGETS[LIVE])
    with open_context(browser, viewport=VIEWPORT) as context:
        page, recorder, _ = open_page(context, notebook_server.url + POST)
        expect_pyodide(context, lambda: control_locator(page, fig_id, "slope").focus())
        goes_live(page, fig_id)
        page.keyboard.press("ArrowLeft")
        snap, _ = wait_settled(page, fig_id, widget, expect_state={"spot": [0.6, 0.3], "slope": 0.9})
        assert snap["source"] == "pyodide"
        assert_clean(recorder)


SAVE_DATA_JS = """
Object.defineProperty(Navigator.prototype, 'connection', {
  configurable: true, get: () => ({saveData: true, effectiveType: '4g', addEventListener() {}}),
});
"""


def test_save_data_hover_waits_for_a_press_or_the_focus(browser, notebook_server):
    with open_context(browser, viewport=VIEWPORT) as context:
        context.add_init_script(SAVE_DATA_JS)
        page, recorder, _ = open_page(context, notebook_server.url + POST)
        stage = page.locator(f"#{LIVE} .widget-stage")
        stage.scroll_into_view_if_needed()
        stage.hover()
        page.mouse.move(*(lambda b: (b["x"] + 30, b["y"] + 30))(stage.bounding_box()), steps=5)
        page.wait_for_timeout(1500)
        assert not wasm_requests(recorder), "hovering started Pyodide although the browser asks to save data"
        expect_pyodide(context, lambda: handle_locator(page, LIVE, "spot").focus())
        goes_live(page, LIVE)
        assert_clean(recorder)


# --------------------------------------------------------------------------- 6. what a reader is told when it cannot load


def test_missing_pyodide_wasm_fails_within_seconds(browser, notebook_server):
    fig_id, widget = LIVE, load_widget(WIDGETS[LIVE])
    with open_context(browser, viewport=VIEWPORT) as context:
        missing: list[str] = []

        def not_found(route):
            missing.append(route.request.url)
            route.fulfill(status=404, content_type="text/plain", body="not found")

        context.route(re.compile(r"/pyodide\.asm\.wasm$"), not_found)  # tried after the Recorder's own route
        page, recorder, _ = open_page(context, notebook_server.url + POST)
        static, _ = wait_settled(page, fig_id, widget)
        started = time.monotonic()
        press_on(page, handle_locator(page, fig_id, "spot"), "ArrowRight")
        page.wait_for_function("(id) => document.getElementById(id).classList.contains('is-static')",
                               arg=fig_id, timeout=FAST_FAIL_S * 1000)
        elapsed = time.monotonic() - started
        snap = snapshot(page, fig_id)
        assert missing, "pyodide.asm.wasm was never requested"
        assert elapsed < FAST_FAIL_S, elapsed
        assert "could not load" in snap["status"] and "interactive part" in snap["status"], snap["status"]
        assert "Kernel error" not in snap["status"] and "is-error" not in snap["classes"]
        assert snap["state"] == static["state"], "the controls do not show the static figure's state"
        assert canonical_svg(snap["svg"], snap["state"]) == canonical_svg(static["svg"], static["state"])
        assert any("pyodide.asm.wasm (HTTP 404)" in w for w in recorder.console_warnings()), recorder.console_warnings()
        # The other live widget says the same the moment it is touched; frames widgets never needed Python.
        press_on(page, control_locator(page, PARABOLA, "x"), "ArrowRight")
        page.wait_for_function("(id) => document.getElementById(id).classList.contains('is-static')",
                               arg=PARABOLA, timeout=WAIT_MS)
        press_on(page, control_locator(page, "widget-decay-1", "rate"), "ArrowRight")
        assert wait_settled(page, "widget-decay-1", load_widget("decay"), expect_state={"rate": 0.4})[0]["source"] == "frames"
        assert_clean(recorder, allowed=("404",))


NUMPY_DOT = '''
import numpy as np

from labpress.kernel import Figure, Point, View, widget


@widget(title="A point and its length", p=Point(value=(0.5, 0.5), x=(0, 1), y=(0, 1), label="P"),
        readouts={"length": "length"})
def numpy_dot(p):
    length = float(np.hypot(p[0], p[1]))
    fig = Figure(x=(0, 1), y=(0, 1), title="A point")
    fig.axes()
    fig.handle("p", p[0], p[1], "P")
    return View(fig, {"length": length})
'''

CDN_HOST = "cdn.jsdelivr.net"


@pytest.fixture
def cdn_site(site):
    site.config('title = "CDN"\nbase_url = "https://notes.example/"\n\n[pyodide]\npackages = "cdn"\n')
    site.widget("numpy_dot", NUMPY_DOT)
    site.post("p.md", "---\ntitle: N\ndate: 2026-01-01\n---\n\n## Live\n\n::: widget numpy_dot\n:::\n")
    result = site.build()
    assert result.returncode == 0, result.stderr
    server = StaticServer(site.out)
    yield site, server
    server.close()


def test_offline_cdn_says_which_package_did_not_load(browser, cdn_site):
    site, server = cdn_site
    fig_id = "widget-numpy-dot-1"
    with open_context(browser, viewport=VIEWPORT) as context:
        offline: list[str] = []

        def unreachable(route):
            offline.append(route.request.url)
            route.abort("internetdisconnected")

        context.route(f"https://{CDN_HOST}/**", unreachable)
        page, recorder, _ = open_page(context, server.url + "p/")
        assert CDN_HOST in page.locator("#labpress-runtime").text_content()
        static = snapshot(page, fig_id)
        press_on(page, handle_locator(page, fig_id, "p"), "ArrowRight")
        page.wait_for_function("(id) => document.getElementById(id).classList.contains('is-static')",
                               arg=fig_id, timeout=WAIT_MS)
        snap = snapshot(page, fig_id)
        assert "could not load numpy from Pyodide's CDN: offline?" in snap["status"], snap["status"]
        assert "Kernel error" not in snap["status"] and "ModuleNotFoundError" not in snap["status"], snap["status"]
        assert "is-error" not in snap["classes"], snap["classes"]
        assert snap["state"] == static["state"] and snap["readouts"] == static["readouts"]
        assert sorted(set(snap["disabled"])) == ["p"], snap["disabled"]
        assert any(CDN_HOST in url and "numpy" in url for url in offline + recorder.offsite), (offline, recorder.offsite)
        assert_clean(recorder, allowed=(CDN_HOST,))

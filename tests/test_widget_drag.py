"""Browser tests for what a drag of a live widget asks of the runtime (issue 15, drags at display
rate): the fixture notebook's live widget with a point handle (tests/sites/notebook/widgets/mirror.py)
driven through headless Chromium, Pyodide started once for the module.

Behaviour only, never speed (bench/reader.py measures that): during a burst of state changes at most
one render is in flight and only the latest state is drawn; a reply older than the frame on screen
is dropped; a new frame changes only the elements that differ and leaves the runtime's own
attributes on a handle alone; applying frames does not move the page; a real mouse drag ends on the
kernel's frame for where the pointer let go, with the x and y fields showing that point.
"""

from __future__ import annotations

import pytest

from support import open_context
from test_widgets_browser import (
    LIVE, POST, WAIT_MS, WIDGETS, canonical_svg, handle_locator, load_widget, snapshot, tidy, wait_settled,
)

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 900}

# Before any page script: the render requests the runtime posts and the replies it gets (pending is
# what test_widgets_browser's wait_settled reads), the most ever in flight, each reply kept so a test
# can hand an old one back, and how many pointerrawupdate events the page saw.
INIT_JS = r"""
(() => {
  const lp = window.__lpTest = {pending: 0, posted: 0, answered: 0, inFlight: 0, maxInFlight: 0, replies: [],
                                worker: null, raw: 0, rawListeners: 0, rawListenersHeld: null, violations: []};
  document.addEventListener('pointerrawupdate', () => { lp.raw += 1; }, {capture: true, passive: true});
  // The page's own pointerrawupdate listeners (the runtime's), counted as they come and go.
  const raw = new Set();
  const add = EventTarget.prototype.addEventListener, remove = EventTarget.prototype.removeEventListener;
  EventTarget.prototype.addEventListener = function (type, listener, ...rest) {
    if (type === 'pointerrawupdate' && this !== document) raw.add(listener);
    lp.rawListeners = raw.size;
    return add.call(this, type, listener, ...rest);
  };
  EventTarget.prototype.removeEventListener = function (type, listener, ...rest) {
    if (type === 'pointerrawupdate' && this !== document) raw.delete(listener);
    lp.rawListeners = raw.size;
    return remove.call(this, type, listener, ...rest);
  };
  const Native = window.Worker;
  window.Worker = class extends Native {
    constructor(...args) {
      super(...args);
      lp.worker = this;
      this.addEventListener('message', (event) => {
        const m = event.data || {};
        if ((m.type !== 'frame' && m.type !== 'error') || m.replayed) return;
        lp.pending -= 1; lp.answered += 1; lp.inFlight -= 1;
        lp.replies.push(m);
      });
    }
    postMessage(message, ...rest) {
      if (message && message.type === 'render') {
        lp.pending += 1; lp.posted += 1; lp.inFlight += 1;
        lp.maxInFlight = Math.max(lp.maxInFlight, lp.inFlight);
      }
      return super.postMessage(message, ...rest);
    }
  };
})();
"""

# Where a data point of the figure is on screen, as the runtime reads it (data-scale-x/y, the SVG's matrix).
TO_CLIENT_JS = r"""
(svg, [x, y]) => {
  const scale = (axis, v) => {
    const [d0, d1, p0, p1] = svg.getAttribute(`data-scale-${axis}`).trim().split(/\s+/).map(Number);
    return p0 + ((v - d0) * (p1 - p0)) / (d1 - d0);
  };
  const m = svg.getScreenCTM();
  const u = scale('x', x), v = scale('y', y);
  return [m.a * u + m.c * v + m.e, m.b * u + m.d * v + m.f];
}
"""

# One task: press on the handle, move through `points` (data coordinates), let go. Every move is both
# a raw update and a pointermove, as the browser sends them (with rawOnly, a raw update alone); all
# come before any reply can. Returns how many render requests went out before the release.
BURST_JS = r"""
([id, name, points, toClient, rawOnly]) => {
  const fig = document.getElementById(id);
  const svg = fig.querySelector('.widget-stage svg');
  const handle = () => fig.querySelector(`.widget-stage circle.lp-handle[data-control="${name}"]`);
  const at = (p) => { const [clientX, clientY] = toClient(svg, p); return {clientX, clientY}; };
  const pointer = (type, target, p) => target.dispatchEvent(new PointerEvent(type, {
    bubbles: true, cancelable: true, composed: true, pointerId: 7, pointerType: 'mouse', isPrimary: true,
    button: type === 'pointerdown' ? 0 : -1, buttons: type === 'pointerup' ? 0 : 1, ...at(p)}));
  const before = window.__lpTest.posted;
  pointer('pointerdown', handle(), points[0]);
  window.__lpTest.rawListenersHeld = window.__lpTest.rawListeners;
  for (const p of points.slice(1)) {
    pointer('pointerrawupdate', fig.querySelector('.widget-stage'), p);
    if (!rawOnly) pointer('pointermove', fig.querySelector('.widget-stage'), p);
  }
  const sent = window.__lpTest.posted - before;
  pointer('pointerup', fig.querySelector('.widget-stage'), points[points.length - 1]);
  return sent;
}
"""


@pytest.fixture(scope="module")
def live_page(browser, notebook_server):
    with open_context(browser, viewport=VIEWPORT, color_scheme="light") as context:
        context.add_init_script(INIT_JS)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(notebook_server.url + POST, wait_until="load")
        page.evaluate("() => window.labpress.ready")
        assert page.evaluate("() => window.labpress.pyodideReady()") is True, "Pyodide did not start"
        page.locator(f"#{LIVE}").scroll_into_view_if_needed()
        yield page
        assert not errors, errors


def burst(page, name: str, points: list[tuple[float, float]], raw_only: bool = False) -> int:
    return page.evaluate(f"([id, name, points, raw]) => ({BURST_JS})([id, name, points, {TO_CLIENT_JS}, raw])",
                         [LIVE, name, points, raw_only])


def test_a_burst_of_moves_keeps_one_render_in_flight_and_draws_the_last(live_page):
    page, widget = live_page, load_widget(WIDGETS[LIVE])
    start, _ = wait_settled(page, LIVE, widget)
    x, y = start["state"]["spot"]
    step = widget.controls["spot"].step
    # From the handle, 24 grid points leftwards, zigzagging up and down; the last is the answer.
    gx, gy = round(x / step), round(y / step)
    points = [(x, y)] + [(tidy(max(-1.0, (gx - k) * step)), tidy(min(1.0, (gy + k % 5) * step))) for k in range(1, 25)]
    page.evaluate("() => { window.__lpTest.maxInFlight = window.__lpTest.inFlight; }")
    posted = burst(page, "spot", points)
    assert posted == 1, f"{posted} render requests went out during one task of 24 moves; the first alone should"
    want = [tidy(points[-1][0]), tidy(points[-1][1])]
    snap, _ = wait_settled(page, LIVE, widget, expect_state={**start["state"], "spot": want})
    assert snap["runtimeState"] == snap["state"], "the x and y fields do not show the runtime's point"
    assert page.evaluate("() => window.__lpTest.maxInFlight") == 1
    # The first request, then the latest state once its answer came: nothing in between was drawn.
    replies = page.evaluate("(id) => window.__lpTest.replies.filter((r) => r.id === id).slice(-2)", LIVE)
    assert len(replies) == 2 and replies[1]["seq"] > replies[0]["seq"] + 1, \
        f"the latest state's request should skip the states between: {[r['seq'] for r in replies]}"
    assert "is-dragging" not in snap["classes"]


def test_a_raw_pointer_update_alone_moves_the_point_and_its_fields_follow(live_page):
    """The runtime takes a dragged handle's position from pointerrawupdate, which the browser sends
    as soon as it has it; the x and y fields are written once a pointermove or the release comes."""
    page, widget = live_page, load_widget(WIDGETS[LIVE])
    start, _ = wait_settled(page, LIVE, widget)
    x, y = start["state"]["spot"]
    step = widget.controls["spot"].step
    gx = round(x / step) + (-3 if x > -0.5 else 3)
    goal = (tidy(gx * step), tidy(round(y / step) * step))
    # Raw updates are listened to only while a handle is held: the browser sends them for the whole
    # page, every move, while anything listens.
    assert page.evaluate("() => window.__lpTest.rawListeners") == 0, "a pointerrawupdate listener outside a drag"
    assert burst(page, "spot", [(x, y), goal], raw_only=True) == 1, "a raw update did not send the new point"
    assert page.evaluate("() => [window.__lpTest.rawListenersHeld, window.__lpTest.rawListeners]") == [1, 0]
    snap, _ = wait_settled(page, LIVE, widget, expect_state={**start["state"], "spot": list(goal)})
    assert snap["runtimeState"] == snap["state"]


def test_a_reply_older_than_the_frame_on_screen_is_dropped(live_page):
    page, widget = live_page, load_widget(WIDGETS[LIVE])
    before, _ = wait_settled(page, LIVE, widget)
    slope = before["state"]["slope"]
    first, second = (0.5, -1.5) if slope != 0.5 else (0.6, -1.4)
    page.evaluate("([id, t]) => window.labpress.widgets.get(id).render({slope: t})", [LIVE, first])
    page.evaluate("([id, t]) => window.labpress.widgets.get(id).render({slope: t})", [LIVE, second])
    shown, _ = wait_settled(page, LIVE, widget, expect_state={**before["state"], "slope": second})
    old = page.evaluate("""(id) => {
        const replies = window.__lpTest.replies.filter((r) => r.id === id && r.type === 'frame');
        return replies[replies.length - 2];
    }""", LIVE)
    assert old and old["svg"] != shown["svg"], "no older reply to hand back"
    # The worker's old answer arrives again, late: the figure keeps the newer frame.
    page.evaluate("""async (old) => {
        window.__lpTest.worker.dispatchEvent(new MessageEvent('message', {data: {...old, replayed: true}}));
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    }""", old)
    after = snapshot(page, LIVE)
    assert canonical_svg(after["svg"], after["state"]) == canonical_svg(shown["svg"], shown["state"])
    assert after["readouts"] == shown["readouts"] and after["caption"] == shown["caption"]
    assert after["runtimeState"] == shown["runtimeState"]


WATCH_JS = r"""
(id) => {
  const stage = document.querySelector(`#${id} .widget-stage`);
  const records = [];
  const observer = new MutationObserver((list) => records.push(...list));
  observer.observe(stage, {subtree: true, childList: true, attributes: true, characterData: true});
  const still = [...stage.querySelectorAll('.lp-grid, .lp-tick, .lp-axis')];
  const handle = stage.querySelector('circle.lp-handle');
  window.__lpWatch = {observer, records, still, handle, svg: stage.querySelector('svg')};
}
"""

WATCHED_JS = r"""
(id) => {
  const w = window.__lpWatch;
  w.observer.disconnect();
  w.records.push(...w.observer.takeRecords());
  const stage = document.querySelector(`#${id} .widget-stage`);
  const touched = new Set(w.records.map((r) => (r.target.nodeType === Node.TEXT_NODE ? r.target.parentNode : r.target)));
  const handleAttrs = w.records.filter((r) => r.target === w.handle && r.type === 'attributes').map((r) => r.attributeName);
  return {
    records: w.records.length,
    stillTouched: w.still.filter((el) => touched.has(el) || !stage.contains(el)).length,
    still: w.still.length,
    sameSvg: stage.querySelector('svg') === w.svg,
    sameHandle: stage.querySelector('circle.lp-handle') === w.handle,
    handleAttrs: [...new Set(handleAttrs)].sort(),
    svgReplaced: w.records.some((r) => r.type === 'childList' && r.target === stage),
  };
}
"""


def test_a_new_frame_changes_only_what_differs(live_page):
    page, widget = live_page, load_widget(WIDGETS[LIVE])
    before, _ = wait_settled(page, LIVE, widget)
    handle_locator(page, LIVE, "spot").focus()
    slope = before["state"]["slope"]
    target = 1.2 if slope != 1.2 else -0.7
    page.evaluate(WATCH_JS, LIVE)
    page.evaluate("([id, t]) => window.labpress.widgets.get(id).render({slope: t})", [LIVE, target])
    after, _ = wait_settled(page, LIVE, widget, expect_state={**before["state"], "slope": target})
    seen = page.evaluate(WATCHED_JS, LIVE)
    assert seen["records"] > 0, "the new frame changed nothing"
    assert seen["still"] > 10 and seen["stillTouched"] == 0, f"axes, grid and ticks were rewritten: {seen}"
    assert seen["sameSvg"] and seen["sameHandle"] and not seen["svgReplaced"], seen
    # Only the slope changed: the handle stays where it is, and keeps what the runtime wrote on it.
    assert seen["handleAttrs"] == [], f"the handle's attributes were rewritten: {seen['handleAttrs']}"
    assert page.evaluate("() => document.activeElement && document.activeElement.matches('circle.lp-handle')")


SHIFT_JS = r"""
(id) => {
  const fig = document.getElementById(id);
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; };
  let next = fig.nextElementSibling;
  while (next && !next.getBoundingClientRect().height) next = next.nextElementSibling;
  return {figure: box(fig), stage: box(fig.querySelector('.widget-stage')), next: next ? box(next) : null,
          scroll: [scrollX, scrollY]};
}
"""

# Layout shifts since the observer started of anything outside the figure, or of its stage. Text in
# the card may move along its line (a readout or a slider's value that grows pushes what follows it).
SHIFTS_JS = r"""
(id) => window.__lpShifts.filter((e) => e.sources.some((s) => {
  const el = s.node && (s.node.nodeType === Node.ELEMENT_NODE ? s.node : s.node.parentElement);
  return !el || !el.closest(`#${id}`) || el.closest(`#${id} .widget-stage`);
})).map((e) => ({value: e.value,
  sources: e.sources.map((s) => [s.node?.nodeName, s.node?.className, s.previousRect.toJSON(), s.currentRect.toJSON()])}))
"""


def test_applying_frames_does_not_move_the_page(live_page):
    page, widget = live_page, load_widget(WIDGETS[LIVE])
    start, _ = wait_settled(page, LIVE, widget)
    # The theme skips laying out what is far off screen (content-visibility): let the figure and what
    # follows it come into view and settle before anything is measured.
    page.evaluate(f"() => document.getElementById('{LIVE}').scrollIntoView({{block: 'start', behavior: 'instant'}})")
    where = None
    for _ in range(50):
        page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        now = page.evaluate(SHIFT_JS, LIVE)
        if now == where:
            break
        where = now
    assert where["next"] is not None, "nothing after the figure to watch"
    page.evaluate("""() => {
        window.__lpShifts = [];
        new PerformanceObserver((list) => window.__lpShifts.push(...list.getEntries()))
          .observe({type: 'layout-shift'});
    }""")
    expected = dict(start["state"])
    for state in ({"slope": -1.8}, {"spot": [-0.55, 0.8]}, {"slope": 0.3, "spot": [0.95, -0.9]}, start["state"]):
        page.evaluate("([id, s]) => window.labpress.widgets.get(id).render(s)", [LIVE, state])
        expected.update(state)
        wait_settled(page, LIVE, widget, expect_state=expected)
        page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        now = page.evaluate(SHIFT_JS, LIVE)
        assert now == where, f"after {state}: the figure or what follows it moved: {now} vs {where}"
        shifts = page.evaluate(SHIFTS_JS, LIVE)
        assert shifts == [], f"after {state}: layout shifts {shifts}"


def test_a_mouse_drag_ends_on_the_frame_for_where_it_let_go(live_page):
    page, widget = live_page, load_widget(WIDGETS[LIVE])
    start, _ = wait_settled(page, LIVE, widget)
    x, y = start["state"]["spot"]
    step = widget.controls["spot"].step
    goal = (tidy(-0.4 if x > 0 else 0.4), tidy(0.25 if y < 0.25 else -0.25))
    svg = page.locator(f"#{LIVE} .widget-stage svg")
    here, there = (svg.evaluate(f"(svg, p) => ({TO_CLIENT_JS})(svg, p)", list(p)) for p in ((x, y), goal))
    page.evaluate("() => { window.__lpTest.maxInFlight = window.__lpTest.inFlight; window.__lpTest.raw = 0; }")
    page.mouse.move(*here)
    page.mouse.down()
    page.mouse.move(*there, steps=25)
    page.mouse.up()
    snap, _ = wait_settled(page, LIVE, widget, expect_state={**start["state"], "spot": list(goal)})
    assert snap["runtimeState"] == snap["state"]
    assert page.evaluate("() => window.__lpTest.maxInFlight") == 1
    assert page.evaluate("() => window.__lpTest.raw") > 0, "the drag sent no pointerrawupdate: its fast path went untested"
    assert "is-dragging" not in snap["classes"]
    assert abs(goal[0] - x) > step  # the drag went somewhere


def test_a_stage_changed_behind_the_runtime_still_gets_the_whole_frame(live_page):
    """Unchanged nodes are skipped by their markup, so the page must hold what the last frame put
    there; when it does not (something removed a node), the next frame is compared node by node."""
    page, widget = live_page, load_widget(WIDGETS[LIVE])
    before, _ = wait_settled(page, LIVE, widget)
    page.evaluate("(id) => document.querySelector(`#${id} .widget-stage .lp-grid`).remove()", LIVE)
    slope = before["state"]["slope"]
    target = 0.9 if slope != 0.9 else -0.9
    page.evaluate("([id, t]) => window.labpress.widgets.get(id).render({slope: t})", [LIVE, target])
    wait_settled(page, LIVE, widget, expect_state={**before["state"], "slope": target})

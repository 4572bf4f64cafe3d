"""Browser tests for what a drag of a live widget asks of the runtime (issue 15, drags at display
rate): the fixture notebook's live widget with a point handle (tests/sites/notebook/widgets/mirror.py)
driven through headless Chromium, Pyodide started once for the module.

Behaviour only, never speed (bench/reader.py measures that): during a burst of state changes at most
one render is in flight and only the latest state is drawn; a reply older than the frame on screen
is dropped; a new frame changes only the elements that differ and leaves the runtime's own
attributes on a handle alone; applying frames does not move the page; a real mouse drag ends on the
kernel's frame for where the pointer let go, with the x and y fields showing that point. A slider
dragged by its thumb or its track, left to right or right to left, takes at every pointer position
the value a plain range input beside it takes from the browser itself at the same position, from the
runtime's raw-update path (the browser finds the value already there and sends no input event of
its own), with one change event at the release as the browser sends; the live widget draws those
states and a pre-computed frames widget shows each one's frame while the thumb is still held; the
keyboard moves a slider as before.
"""

from __future__ import annotations

import contextlib

import pytest

from support import open_context
from test_widgets_browser import (
    LIVE, POST, WIDGETS, canonical_svg, handle_locator, load_widget, snapshot, tidy, wait_settled,
)

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 900}

# Before any page script: the render requests the runtime posts and the replies it gets (pending is
# what test_widgets_browser's wait_settled reads), the most ever in flight, each reply kept so a test
# can hand an old one back, and how many pointerrawupdate events the page saw.
INIT_JS = r"""
(() => {
  const lp = window.__lpTest = {pending: 0, posted: 0, answered: 0, inFlight: 0, maxInFlight: 0, replies: [], states: [],
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
        lp.pending += 1; lp.posted += 1; lp.inFlight += 1; lp.states.push(message.state);
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


@contextlib.contextmanager
def post_page(browser, notebook_server):
    """The post in a fresh light-scheme context with the test hooks (INIT_JS), its runtime ready;
    (page, the page errors seen so far)."""
    with open_context(browser, viewport=VIEWPORT, color_scheme="light") as context:
        context.add_init_script(INIT_JS)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(notebook_server.url + POST, wait_until="load")
        page.evaluate("() => window.labpress.ready")
        yield page, errors


@pytest.fixture(scope="module")
def live_page(browser, notebook_server):
    with post_page(browser, notebook_server) as (page, errors):
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


def test_a_readout_keeps_its_widest_so_the_readouts_after_it_stay_put(live_page):
    """The mirror image's readout gains two minus signs and loses them again: the readout after it
    moves once, as the line grows, and not back when it shrinks (browser/runtime/patch.js)."""
    page, widget = live_page, load_widget(WIDGETS[LIVE])
    start, _ = wait_settled(page, LIVE, widget)
    page.evaluate(f"() => document.getElementById('{LIVE}').scrollIntoView({{block: 'start', behavior: 'instant'}})")
    expected, seen = dict(start["state"]), []
    for state in ({"slope": 1.0, "spot": [0.6, 0.3]}, {"spot": [-0.9, -0.8]}, {"spot": [0.6, 0.3]}):
        page.evaluate("([id, s]) => window.labpress.widgets.get(id).render(s)", [LIVE, state])
        expected.update(state)
        wait_settled(page, LIVE, widget, expect_state=expected)
        seen.append(page.evaluate("""(id) => [...document.querySelectorAll(`#${id} output[data-readout]`)]
            .map((o) => [o.dataset.readout, o.textContent, o.getBoundingClientRect().left])""", LIVE))
    (image, short, _), (after, _, first) = seen[0][:2]
    assert (image, after) == ("image", "gap"), seen[0]
    assert len(seen[1][0][1]) > len(short) and seen[2][0][1] == short, seen  # wider, then as at first
    grown = seen[1][1][2]
    assert grown > first, f"the two readouts are not on one line here, so nothing is checked: {seen}"
    # (to a sub-pixel: the text is as wide as its characters, the box as wide as as many zeros)
    assert abs(seen[2][1][2] - grown) < 0.5, f"the readout after the image moved back as the image's shrank: {seen}"


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


# --------------------------------------------------------------------------- a slider's held thumb

# A plain range input with the slider's attributes, box and value, outside any widget (the runtime
# never drives it), fixed near the bottom of the window: the browser's own behaviour to compare
# with. Both inputs log their input events (trusted or the runtime's) and change events.
REFERENCE_JS = r"""
([id, name, dir]) => {
  const slider = document.querySelector(`#${id} input[type=range][data-control="${name}"]`);
  slider.scrollIntoView({block: 'center', behavior: 'instant'}); // and the reference far below it
  document.getElementById('lp-reference')?.remove();
  const ref = document.createElement('input');
  ref.type = 'range';
  ref.id = 'lp-reference';
  for (const a of ['min', 'max', 'step']) ref.setAttribute(a, slider.getAttribute(a));
  ref.value = slider.value;
  const box = slider.getBoundingClientRect();
  Object.assign(ref.style, {position: 'fixed', left: `${box.left}px`, top: `${innerHeight - box.height - 20}px`,
                            width: `${box.width}px`, height: `${box.height}px`, margin: '0', zIndex: 10,
                            boxSizing: getComputedStyle(slider).boxSizing});
  document.body.append(ref);
  if (dir) { slider.dir = dir; ref.dir = dir; } else { slider.removeAttribute('dir'); }
  window.__lpSlide = {};
  for (const [key, el] of [['widget', slider], ['reference', ref]]) {
    const log = window.__lpSlide[key] = [];
    el.addEventListener('input', (e) => log.push([e.isTrusted ? 'input' : 'runtime-input', el.value]));
    el.addEventListener('change', (e) => log.push(['change', el.value]));
    el.addEventListener('pointerdown', () => log.push(['press', el.value]));
  }
  const r = ref.getBoundingClientRect();
  return {slider: [box.left, box.top, box.width, box.height], reference: [r.left, r.top, r.width, r.height]};
}
"""

NEXT_FRAME_JS = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"
# The input's value once the frame after a move has been drawn (one round trip per move, not two).
VALUE_AFTER_FRAME_JS = ("(s) => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame("
                        "() => r(document.querySelector(s).value))))")


def slide(page, selector: str, press: tuple[float, float], moves: list[tuple[float, float]], each=None,
          pressed=None) -> list[str]:
    """Press at `press`, move the mouse through `moves` (the button held), let go; the input's value
    after each move (once the frame after it has been drawn); `each(value)` runs there too, and
    `pressed(selector)` once the button is down."""
    values = []
    page.mouse.move(*press)
    page.mouse.down()
    if pressed:
        pressed(selector)
    for x, y in moves:
        page.mouse.move(x, y)
        values.append(page.evaluate(VALUE_AFTER_FRAME_JS, selector))
        if each:
            each(values[-1])
    page.mouse.up()
    page.evaluate(NEXT_FRAME_JS)
    return values


def slide_both(page, fig: str, name: str, dir: str | None, where: str, each=None, pressed=None):
    """The same drag on the widget's slider and on the reference beside it: (the widget's values,
    the reference's, both event logs). `where`: the press lands on the thumb or on the track."""
    boxes = page.evaluate(REFERENCE_JS, [fig, name, dir])
    (left, top, width, height), (_, ref_top, _, ref_height) = boxes["slider"], boxes["reference"]
    lo, hi, value = (float(v) for v in page.evaluate(
        "(s) => { const e = document.querySelector(s); return [e.min, e.max, e.value]; }",
        f"#{fig} input[type=range][data-control='{name}']"))
    frac = (value - lo) / (hi - lo)
    if dir == "rtl":
        frac = 1 - frac
    thumb = left + 8 + frac * (width - 16)
    start = thumb if where == "thumb" else (left + 0.8 * width if frac < 0.5 else left + 0.2 * width)
    # Across the track and past both ends, on fractional pixels, once leaving the input upwards.
    xs = [start + k * 9.37 for k in range(1, 12)] + [left + width + 30, left + width - 3.3]
    xs += [left + width - 11.1 - k * 13.71 for k in range(0, int(width / 13.71))] + [left - 25, left + 6.6, left + 31.07]
    moves = [(x, (-35 if k == 5 else 0)) for k, x in enumerate(xs)]
    mid, ref_mid = top + height / 2, ref_top + ref_height / 2
    got = slide(page, f"#{fig} input[type=range][data-control='{name}']", (start, mid), [(x, mid + dy) for x, dy in moves], each,
                pressed)
    focused = page.evaluate("(s) => document.querySelector(s) === document.activeElement",
                            f"#{fig} input[type=range][data-control='{name}']")
    want = slide(page, "#lp-reference", (start, ref_mid), [(x, ref_mid + dy) for x, dy in moves], pressed=pressed)
    logs = {**page.evaluate("() => window.__lpSlide"), "focused": focused}
    page.evaluate("([id, name]) => { document.getElementById('lp-reference').remove();"
                  " document.querySelector(`#${id} input[data-control=\"${name}\"]`).removeAttribute('dir'); }", [fig, name])
    return got, want, logs


def check_like_the_browser(got: list[str], want: list[str], logs: dict, distinct: int = 10) -> None:
    assert got == want, f"the widget's slider took other values than a plain range input:\n{got}\n{want}"
    assert len(set(got)) >= distinct, f"the drag went through too few values: {got}"
    widget, reference = logs["widget"], logs["reference"]
    after = widget[next(i for i, e in enumerate(widget) if e[0] == "press") + 1:]
    if after and after[0][0] == "input":  # a press on the track: the browser moves the thumb there itself
        after = after[1:]
    # From then on every value came from the runtime: the browser found each already set.
    assert not [e for e in after if e[0] == "input"], f"the browser moved the held thumb itself: {widget}"
    assert any(e[0] == "runtime-input" for e in after), f"the runtime did not drive the slider: {widget}"
    assert any(e[0] == "input" for e in reference)
    # One change event, at the release, with the last value: as the browser sends it.
    for log in (widget, reference):
        changes = [i for i, e in enumerate(log) if e[0] == "change"]
        assert len(changes) == 1 and changes[0] == len(log) - 1 and log[-1][1] == got[-1], log


@pytest.mark.parametrize("dir, where", [(None, "thumb"), ("rtl", "thumb"), (None, "track")])
def test_a_held_slider_takes_the_browsers_values_and_draws_them(live_page, dir, where):
    page, widget = live_page, load_widget(WIDGETS[LIVE])
    start, _ = wait_settled(page, LIVE, widget)
    before = page.evaluate("() => window.__lpTest.states.length")
    held = []
    got, want, logs = slide_both(page, LIVE, "slope", dir, where,
                                 each=lambda _: held.append(page.evaluate("() => window.__lpTest.rawListeners")))
    check_like_the_browser(got, want, logs)
    # Raw pointer updates are listened to only while the thumb is held.
    assert set(held) == {1} and page.evaluate("() => window.__lpTest.rawListeners") == 0, held
    # The live widget asked the kernel for the states the thumb went through, and ends on the last one.
    asked = [s["slope"] for s in page.evaluate("(n) => window.__lpTest.states.slice(n)", before)]
    assert asked and set(asked) <= {float(v) for v in got}, (asked, got)
    snap, _ = wait_settled(page, LIVE, widget, expect_state={**start["state"], "slope": float(got[-1])})
    assert snap["runtimeState"]["slope"] == float(got[-1])
    assert snap["sliderText"]["slope"][1].startswith(got[-1]), snap["sliderText"]
    assert logs["focused"], "the press left the slider without the focus"


def test_the_keyboard_moves_a_slider_as_before(live_page):
    page, widget = live_page, load_widget(WIDGETS[LIVE])
    slider = page.locator(f"#{LIVE} input[type=range][data-control='slope']")
    start, _ = wait_settled(page, LIVE, widget)
    for keys, want in ((["Home"], -2.0), (["ArrowRight", "ArrowRight", "ArrowUp"], -1.7), (["PageUp"], None), (["End"], 2.0),
                       (["ArrowLeft"], 1.9)):
        slider.focus()
        value = float(slider.input_value())
        for key in keys:
            page.keyboard.press(key)
        now = float(slider.input_value())
        assert now != value, f"{keys} did not move the slider"
        if want is not None:
            assert now == want, (keys, now)
        wait_settled(page, LIVE, widget, expect_state={**start["state"], "slope": now})
    assert slider.get_attribute("aria-valuenow") is None  # the native input is its own accessible value
    assert page.evaluate("(s) => document.querySelector(s).matches(':focus')",
                         f"#{LIVE} input[type=range][data-control='slope']")


def test_a_frames_widget_shows_each_held_value_s_frame(live_page):
    page, fig = live_page, "widget-decay-1"
    widget = load_widget("decay")
    page.locator(f"#{fig}").scroll_into_view_if_needed()
    wait_settled(page, fig, widget)
    initial = page.locator(f"#{fig} input[type=range][data-control='rate']").input_value()
    seen = []

    def shows(value: str) -> None:  # the frame for the value, while the thumb is still held
        snap, _ = wait_settled(page, fig, widget, expect_state={"rate": float(value)})
        if snap["source"] is not None or value != initial:  # before its first move, the build's own frame
            seen.append(snap["source"])

    got, want, logs = slide_both(page, fig, "rate", None, "thumb", each=shows)
    check_like_the_browser(got, want, logs, distinct=9)  # every one of the nine states
    assert set(seen) == {"frames"}, seen


# A press and raw updates made by script (the browser itself does not drag a thumb for them), then
# the browser cancelling the pointer, as it does when a touch turns into a scroll.
CANCELLED_JS = r"""
([id, name]) => {
  const slider = document.querySelector(`#${id} input[type=range][data-control="${name}"]`);
  const box = slider.getBoundingClientRect();
  const events = [];
  slider.addEventListener('change', () => events.push(['change', slider.value]));
  slider.addEventListener('input', (e) => events.push([e.isTrusted ? 'input' : 'runtime-input', slider.value]));
  const pointer = (type, target, fraction) => target.dispatchEvent(new PointerEvent(type, {
    bubbles: true, cancelable: true, composed: true, pointerId: 9, pointerType: 'touch', isPrimary: true,
    button: type === 'pointerrawupdate' || type === 'pointercancel' ? -1 : 0, buttons: type === 'pointercancel' ? 0 : 1,
    clientX: box.left + 8 + fraction * (box.width - 16), clientY: box.top + box.height / 2}));
  const before = slider.value;
  pointer('pointerdown', slider, 0.5);
  const held = window.__lpTest.rawListeners;
  pointer('pointerrawupdate', slider, 0.25);
  const moved = slider.value;
  pointer('pointercancel', slider, 0.25);
  const after = window.__lpTest.rawListeners;
  pointer('pointerrawupdate', slider, 0.75); // no longer held: nothing
  return {before, moved, last: slider.value, held, after, events};
}
"""


def test_a_cancelled_press_ends_the_slide(live_page):
    """A touch the browser takes for a scroll ends in pointercancel: the runtime stops following it,
    removes its listeners and sends the change a release would."""
    page, widget = live_page, load_widget(WIDGETS[LIVE])
    start, _ = wait_settled(page, LIVE, widget)
    page.evaluate("(id) => window.labpress.widgets.get(id).render({slope: 1})", LIVE)
    wait_settled(page, LIVE, widget, expect_state={**start["state"], "slope": 1.0})
    got = page.evaluate(CANCELLED_JS, [LIVE, "slope"])
    assert got["before"] == "1" and got["moved"] == "-1" and got["last"] == "-1", got
    assert [got["held"], got["after"]] == [1, 0], got
    assert got["events"] == [["runtime-input", "-1"], ["change", "-1"]], got["events"]
    wait_settled(page, LIVE, widget, expect_state={**start["state"], "slope": -1.0})


def test_a_slider_the_runtime_misjudges_is_left_to_the_browser(browser, notebook_server):
    """Were the runtime wrong about where the browser puts the thumb (here: padding added once the
    thumb is held, after the runtime read the track), the browser's own value comes with its input
    event: it wins, and that slider's drags are the browser's from then on, value for value."""
    fig, widget = "widget-decay-1", load_widget("decay")
    with post_page(browser, notebook_server) as (page, errors):
        wait_settled(page, fig, widget)
        pad = lambda selector: page.evaluate("(s) => { document.querySelector(s).style.paddingLeft = '40px'; }", selector)
        got, want, logs = slide_both(page, fig, "rate", None, "thumb", pressed=pad)
        assert got == want, f"{got}\n{want}"
        log = logs["widget"]
        first = next(i for i, e in enumerate(log) if e[0] == "input")  # the browser's correction
        assert not [e for e in log[first:] if e[0] == "runtime-input"], f"the runtime kept driving: {log}"
        assert [e[0] for e in log].count("change") == 1 and log[-1] == ["change", got[-1]], log
        # The next drag is the browser's alone.
        page.evaluate("(s) => { document.querySelector(s).style.paddingLeft = ''; }", f"#{fig} input[type=range][data-control='rate']")
        got, want, logs = slide_both(page, fig, "rate", None, "thumb", pressed=pad)
        assert got == want and len(set(got)) > 3, f"{got}\n{want}"
        assert not [e for e in logs["widget"] if e[0] == "runtime-input"], logs["widget"]
        wait_settled(page, fig, widget, expect_state={"rate": float(got[-1])})
        assert not errors, errors

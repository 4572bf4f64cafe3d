"""Browser tests for LabPress widgets: the fixture notebook's widget post (tests/sites/notebook/)
built and driven through headless Chromium.

Every displayed frame is checked against the CPython kernel: the test reads the state back
from the page's own controls, runs ``labpress.kernel.render_frame`` on it here, and compares
the SVG (parsed, attribute order ignored), the readouts and the caption with what the page
shows. Pages are shared per module where possible so Pyodide starts once per page.

Every test here is marked ``browser``; they use the ``browser``, ``notebook_build``,
``notebook_server`` and ``site`` fixtures from conftest.py.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import importlib.util
import json
import random
import re
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import NOTEBOOK, REPO
from support import StaticServer, open_context, wait_until
from labpress.kernel import render_frame

pytestmark = pytest.mark.browser

POST = "dials-and-handles/"
ARTIFACTS = REPO / "tests" / "artifacts"
WAIT_S = 60  # Pyodide start-up is seconds here, more under load: never assert on timing
WAIT_MS = WAIT_S * 1000

# The widget instances on POST, in page order: figure id -> widget module name (tests/sites/notebook/widgets/).
# Between them they have every kind of control: slider, toggle, seed, choice and point.
WIDGETS = {
    "widget-decay-1": "decay",          # slider
    "widget-coins-1": "coins",          # slider, toggle, seed
    "widget-centre-1": "centre",        # choice, slider
    "widget-mirror-1": "mirror",        # point, slider: live only (a Point has no pre-computed frames)
    "widget-parabola-1": "parabola",    # one slider of 1001 states: live only (past [widgets] max_states)
}
FRAMED = ["decay", "coins", "centre"]  # the widgets with pre-computed frames
LIVE = "widget-mirror-1"  # the live widget with a point handle, which most tests below drive

# Attributes the runtime adds to a kernel's handle to make it operable (see decorateHandles in controls.js).
HANDLE_DECORATION = {"role", "aria-roledescription", "aria-describedby", "tabindex", "data-label", "aria-disabled"}


# --------------------------------------------------------------------------- the CPython side


@functools.cache
def load_widget(name: str, folder: Path = NOTEBOOK / "widgets"):
    """The Widget object of ``folder/name.py``, imported by path (not through sys.path)."""
    path = folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_lp_browser_test_{name}_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def kernel_frame(widget, state: dict, caption: str):
    return render_frame(widget, state, caption)


# --------------------------------------------------------------------------- comparing SVG markup


class _TreeBuilder(html.parser.HTMLParser):
    """Markup -> (tag, attrs, children) trees. Reads both the kernel's XML-style SVG (``<line/>``)
    and the browser's HTML serialisation of it (``<line></line>``, re-escaped text) to one form."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = ["#root", {}, []]
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = [tag, {k: (v or "") for k, v in attrs}, []]
        self.stack[-1][2].append(node)
        self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1][2].append([tag, {k: (v or "") for k, v in attrs}, []])

    def handle_endtag(self, tag):
        if len(self.stack) < 2 or self.stack[-1][0] != tag:
            raise ValueError(f"unbalanced </{tag}> inside {[n[0] for n in self.stack]}")
        self.stack.pop()

    def handle_data(self, data):
        kids = self.stack[-1][2]
        if kids and isinstance(kids[-1], str):
            kids[-1] += data
        else:
            kids.append(data)


def parse_markup(markup: str) -> list:
    builder = _TreeBuilder()
    builder.feed(markup)
    builder.close()
    assert len(builder.stack) == 1, f"unclosed elements: {[n[0] for n in builder.stack[1:]]}"
    return builder.root[2]


def js_number(x: float) -> str:
    """String(x) in JavaScript, for the short decimals used here."""
    return str(int(x)) if float(x) == int(x) else repr(float(x))


def strip_handle_decoration(nodes: list, state: dict, problems: list) -> list:
    """The browser's tree with the runtime's handle decoration checked and removed, so what is
    left must equal the kernel's markup exactly."""
    out = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
            continue
        tag, attrs, kids = node
        attrs = dict(attrs)
        if tag == "circle" and "lp-handle" in attrs.get("class", "").split():
            name = attrs.get("data-control", "")
            label = attrs.get("data-label")
            point = state.get(name)
            if label is None:
                problems.append(f"handle {name!r} has no data-label (runtime decoration missing)")
            else:
                if attrs.get("role") != "button" or attrs.get("aria-roledescription") != "draggable point":
                    problems.append(f"handle {name!r} is not decorated as a draggable button: {attrs}")
                if "aria-disabled" not in attrs and attrs.get("tabindex") != "0":
                    problems.append(f"handle {name!r} is not focusable: {attrs}")
                if isinstance(point, list):
                    want = f"{label}: x {js_number(point[0])}, y {js_number(point[1])}"
                    if attrs.get("aria-label") != want:
                        problems.append(f"handle aria-label {attrs.get('aria-label')!r}, expected {want!r}")
                attrs["aria-label"] = label
            for key in HANDLE_DECORATION:
                attrs.pop(key, None)
        out.append([tag, attrs, strip_handle_decoration(kids, state, problems)])
    return out


def first_difference(got: list, want: list, path: str = "") -> str | None:
    if len(got) != len(want):
        return (f"{path or '<stage>'}: {len(got)} child nodes, kernel has {len(want)}: "
                f"{[n if isinstance(n, str) else n[0] for n in got][:8]} vs "
                f"{[n if isinstance(n, str) else n[0] for n in want][:8]}")
    for i, (a, b) in enumerate(zip(got, want)):
        here = f"{path}/{i}"
        if isinstance(a, str) or isinstance(b, str):
            if a != b:
                return f"{here}: text {a!r} vs kernel {b!r}"
            continue
        if a[0] != b[0]:
            return f"{here}: <{a[0]}> vs kernel <{b[0]}>"
        if a[1] != b[1]:
            diff = {k: (a[1].get(k), b[1].get(k)) for k in set(a[1]) | set(b[1]) if a[1].get(k) != b[1].get(k)}
            return f"{here} <{a[0]}>: attributes differ (page, kernel): {diff}"
        deeper = first_difference(a[2], b[2], f"{here}<{a[0]}>")
        if deeper:
            return deeper
    return None


def frame_mismatch(snap: dict, frame, widget, decorated: bool = True) -> str | None:
    """Why the page's displayed frame is not ``frame`` (None when it is). ``decorated``: the runtime
    has run, so handles carry its decoration (checked, then removed before comparing)."""
    problems: list[str] = []
    got = parse_markup(snap["svg"] or "")
    if decorated:
        got = strip_handle_decoration(got, snap["state"], problems)
    want = parse_markup(frame.svg)
    if problems:
        return "; ".join(problems)
    if not want or not isinstance(want[0], list) or want[0][0] != "svg" or not want[0][2]:
        return f"the kernel's frame is not a non-empty <svg>: {frame.svg[:80]!r}"
    diff = first_difference(got, want)
    if diff:
        return "svg: " + diff
    if set(snap["readouts"]) != set(widget.readout_labels):
        return f"readout outputs {sorted(snap['readouts'])}, widget declares {sorted(widget.readout_labels)}"
    expected_readouts = {k: frame.readouts.get(k) for k in snap["readouts"]}
    if snap["readouts"] != expected_readouts:
        return f"readouts {snap['readouts']} vs kernel {expected_readouts}"
    if snap["caption"] != frame.caption:
        return f"caption {snap['caption']!r} vs kernel {frame.caption!r}"
    return None


def canonical_svg(markup: str, state: dict) -> list:
    return strip_handle_decoration(parse_markup(markup or ""), state, [])


# --------------------------------------------------------------------------- the page side

# Runs before any page script: counts render requests the runtime sends to its worker and the
# answers that come back (idle = none outstanding), and records CSP violations.
INIT_JS = r"""
(() => {
  const lp = window.__lpTest = {pending: 0, posted: 0, answered: 0, violations: []};
  document.addEventListener('securitypolicyviolation', (e) => {
    lp.violations.push(`${e.violatedDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`);
  }, true);
  const Native = window.Worker;
  if (typeof Native !== 'function') return;
  window.Worker = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        const type = event.data && event.data.type;
        if (type === 'frame' || type === 'error') { lp.pending -= 1; lp.answered += 1; }
      });
    }
    postMessage(message, ...rest) {
      if (message && message.type === 'render') { lp.pending += 1; lp.posted += 1; }
      return super.postMessage(message, ...rest);
    }
  };
})();
"""

# Everything a test needs to know about one figure, read the way a reader would see it.
SNAPSHOT_JS = r"""
(id) => {
  const fig = document.getElementById(id);
  if (!fig) return null;
  const controls = JSON.parse(fig.dataset.controls || '[]');
  const inputsOf = (name) => [...fig.querySelectorAll('.widget-controls [data-control]')]
    .filter((el) => el.dataset.control === name);
  const state = {};
  const sliderText = {};
  const disabled = [];
  for (const c of controls) {
    const inputs = inputsOf(c.name);
    if (!inputs.length) continue;
    for (const el of inputs) if (el.disabled) disabled.push(c.name);
    if (c.kind === 'slider') {
      state[c.name] = Number(inputs[0].value);
      const out = fig.querySelector(`output.control-value[for="${inputs[0].id}"]`);
      sliderText[c.name] = [inputs[0].value, out ? out.textContent : null];
    } else if (c.kind === 'toggle') {
      state[c.name] = inputs[0].checked;
    } else if (c.kind === 'choice') {
      const picked = inputs.find((el) => el.checked);
      state[c.name] = picked ? c.options[Number(picked.value)][0] : null;
    } else if (c.kind === 'point') {
      state[c.name] = ['x', 'y'].map((a) => Number(inputs.find((el) => el.dataset.axis === a).value));
    } else if (c.kind === 'seed') {
      state[c.name] = Number(inputs[0].value);
    }
  }
  const readouts = {};
  for (const o of fig.querySelectorAll('output[data-readout]')) readouts[o.dataset.readout] = o.textContent;
  const api = window.labpress && window.labpress.widgets && window.labpress.widgets.get(id);
  return {
    svg: fig.querySelector('.widget-stage') ? fig.querySelector('.widget-stage').innerHTML : null,
    readouts,
    caption: fig.querySelector('.widget-caption') ? fig.querySelector('.widget-caption').textContent : null,
    status: fig.querySelector('.widget-status') ? fig.querySelector('.widget-status').textContent : null,
    classes: [...fig.classList],
    source: fig.dataset.source || null,
    coalesced: fig.dataset.coalesced || null,
    template: fig.dataset.caption || '',
    dataState: fig.dataset.state || '',
    state,
    runtimeState: api ? api.state() : null,
    sliderText,
    disabled,
    pending: window.__lpTest ? window.__lpTest.pending : 0,
  };
}
"""


def snapshot(page, fig_id: str) -> dict:
    snap = page.evaluate(SNAPSHOT_JS, fig_id)
    assert snap is not None, f"#{fig_id} is not on the page"
    return snap


def wait_settled(page, fig_id: str, widget, *, expect_state: dict | None = None, timeout: float = WAIT_S):
    """Wait until the figure is idle (no render outstanding, not warming up) and shows exactly what
    the CPython kernel draws for the state its controls show; return (snapshot, frame)."""
    deadline = time.monotonic() + timeout
    cache: dict[str, object] = {}
    why = "never polled"
    while True:
        snap = snapshot(page, fig_id)
        key = json.dumps(snap["state"], sort_keys=True)
        if key not in cache:
            try:
                cache[key] = kernel_frame(widget, snap["state"], snap["template"])
            except Exception as exc:  # the controls show a state the kernel refuses
                cache[key] = exc
        frame = cache[key]
        if isinstance(frame, Exception):
            why = f"kernel refuses the controls' state {snap['state']}: {frame}"
        elif expect_state is not None and snap["state"] != expect_state:
            why = f"controls show {snap['state']}, expected {expect_state}"
        elif snap["pending"] or "is-warming" in snap["classes"]:
            why = f"busy: {snap['pending']} render(s) outstanding, classes {snap['classes']}, status {snap['status']!r}"
        else:
            why = frame_mismatch(snap, frame, widget)
            if why is None:
                return snap, frame
        if time.monotonic() > deadline:
            raise AssertionError(f"#{fig_id} did not settle on the kernel's frame within {timeout:.0f} s: {why}"
                                 f"\n  state {snap['state']}, classes {snap['classes']}, status {snap['status']!r}")
        page.wait_for_timeout(100)


class Recorder:
    """Console messages, uncaught errors, failed requests and every request's host, for one context."""

    def __init__(self, context, page):
        self.console: list[tuple[str, str, str]] = []
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.bad_status: list[str] = []
        self.requests: list[str] = []
        self.offsite: list[str] = []
        context.route("**/*", self._route)
        page.on("console", lambda m: self.console.append((m.type, m.text, (m.location or {}).get("url", ""))))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        page.on("response", lambda r: r.status >= 400 and self.bad_status.append(f"HTTP {r.status}: {r.url}"))

    def _route(self, route):
        url = route.request.url
        self.requests.append(url)
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about") or parts.hostname == "127.0.0.1":
            route.fallback()
        else:  # record it and keep the test off the network
            self.offsite.append(url)
            route.abort()

    def console_errors(self) -> list[str]:
        return [f"{text} @ {where}" for kind, text, where in self.console if kind == "error"]

    def console_warnings(self) -> list[str]:
        return [f"{text} @ {where}" for kind, text, where in self.console if kind == "warning"]


def open_page(context, url: str):
    """A page with the test hooks, a Recorder, loaded and with the runtime enhanced."""
    context.add_init_script(INIT_JS)
    page = context.new_page()
    recorder = Recorder(context, page)
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, url
    page.evaluate("() => window.labpress.ready")
    return page, recorder, response


def save_screenshot(page, fig_id: str, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    page.locator(f"#{fig_id}").screenshot(path=str(target), animations="disabled")
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return target


# --------------------------------------------------------------------------- driving the controls


def control_locator(page, fig_id: str, name: str):
    return page.locator(f"#{fig_id} .widget-controls [data-control='{name}']")


def slider_click(page, fig_id: str, name: str, fraction: float) -> None:
    """A mouse click on the slider's track, ``fraction`` of the way along it."""
    slider = control_locator(page, fig_id, name)
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)


def press_on(page, locator, key: str) -> None:
    locator.focus()
    page.keyboard.press(key)


def handle_locator(page, fig_id: str, name: str):
    return page.locator(f"#{fig_id} .widget-stage circle.lp-handle[data-control='{name}']")


def drag_handle(page, fig_id: str, name: str, dx: float, dy: float) -> None:
    handle = handle_locator(page, fig_id, name)
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y + dy, steps=10)
    page.mouse.up()


def tidy(x: float) -> float:
    return round(x, 10) + 0.0


# Each action: (description, how to do it, the state it must lead to given the state before;
# None when the exact value depends on pixels, then the action only has to change the control).
def slider_actions(fig_id, name, control):
    hi, step = control.max, control.step
    return [
        (f"{name}: End key", lambda page: press_on(page, control_locator(page, fig_id, name), "End"),
         lambda s: {**s, name: hi}),
        (f"{name}: mouse click at 25%", lambda page: slider_click(page, fig_id, name, 0.25), None),
        (f"{name}: ArrowRight key", lambda page: press_on(page, control_locator(page, fig_id, name), "ArrowRight"),
         lambda s: {**s, name: tidy(s[name] + step)}),
    ]


def toggle_actions(fig_id, name):
    return [
        (f"{name}: mouse click", lambda page: control_locator(page, fig_id, name).click(),
         lambda s: {**s, name: not s[name]}),
        (f"{name}: Space key", lambda page: press_on(page, control_locator(page, fig_id, name), "Space"),
         lambda s: {**s, name: not s[name]}),
    ]


def seed_actions(fig_id, name, rolls):
    return [
        (f"{name}: mouse click", lambda page: control_locator(page, fig_id, name).click(),
         lambda s: {**s, name: (s[name] + 1) % rolls}),
        (f"{name}: Enter key", lambda page: press_on(page, control_locator(page, fig_id, name), "Enter"),
         lambda s: {**s, name: (s[name] + 1) % rolls}),
    ]


def choice_actions(fig_id, name, control):
    options = [option for option, _ in control.options]

    def checked_index(page) -> int:
        return int(page.locator(f"#{fig_id} .widget-controls [data-control='{name}']:checked").get_attribute("value"))

    def click_next(page):
        index = (checked_index(page) + 1) % len(options)
        page.locator(f"#{fig_id} .widget-controls [data-control='{name}'][value='{index}']").click()

    def arrow_down(page):  # a radio group moves its choice to the next option (wrapping) on ArrowDown
        index = checked_index(page)
        press_on(page, page.locator(f"#{fig_id} .widget-controls [data-control='{name}'][value='{index}']"), "ArrowDown")

    def next_option(s):
        return {**s, name: options[(options.index(s[name]) + 1) % len(options)]}

    return [
        (f"{name}: mouse click on the next option", click_next, next_option),
        (f"{name}: ArrowDown key on the chosen option", arrow_down, next_option),
    ]


def point_actions(fig_id, name, control):
    def arrows(page):
        handle = handle_locator(page, fig_id, name)
        handle.focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowUp")  # up on screen is +y in data: the y scale runs bottom to top

    def moved(s):
        x, y = s[name]
        return {**s, name: [tidy(min(x + control.step, control.x[1])), tidy(min(y + control.step, control.y[1]))]}

    return [
        (f"{name}: mouse drag of the handle", lambda page: drag_handle(page, fig_id, name, -45, 35), None),
        (f"{name}: ArrowRight + ArrowUp on the focused handle", arrows, moved),
    ]


def widget_actions(fig_id: str, widget) -> list:
    actions = []
    for name, control in widget.controls.items():
        if control.kind == "slider":
            actions += slider_actions(fig_id, name, control)
        elif control.kind == "toggle":
            actions += toggle_actions(fig_id, name)
        elif control.kind == "seed":
            actions += seed_actions(fig_id, name, control.rolls)
        elif control.kind == "choice":
            actions += choice_actions(fig_id, name, control)
        elif control.kind == "point":
            actions += point_actions(fig_id, name, control)
        else:
            raise AssertionError(f"no test actions for a {control.kind} control")
    return actions


# --------------------------------------------------------------------------- shared pages


class SharedPage:
    """A shared page and what it recorded since it opened."""

    def __init__(self, page, recorder):
        self.page = page
        self.recorder = recorder


@pytest.fixture(scope="module")
def post_page(browser, notebook_server):
    """One page of the widget post (pre-computed frames where the build made them), shared by the module."""
    with open_context(browser, viewport={"width": 1280, "height": 900}, color_scheme="light") as context:
        page, recorder, _ = open_page(context, notebook_server.url + POST)
        yield SharedPage(page, recorder)


@pytest.fixture(scope="module")
def forced_page(browser, notebook_server):
    """The widget post with ?labpress-force-pyodide=1: every widget answers from Pyodide."""
    with open_context(browser, viewport={"width": 1280, "height": 900}) as context:
        page, recorder, _ = open_page(context, notebook_server.url + POST + "?labpress-force-pyodide=1")
        assert page.evaluate("() => window.labpress.pyodideReady()") is True, "Pyodide did not start"
        yield SharedPage(page, recorder)


# --------------------------------------------------------------------------- 1. every control, mouse and keyboard


@pytest.mark.parametrize("fig_id", list(WIDGETS))
def test_controls_update_figure_like_the_kernel(post_page, fig_id):
    page = post_page.page
    name = WIDGETS[fig_id]
    widget = load_widget(name)
    live = name not in FRAMED
    page.locator(f"#{fig_id}").scroll_into_view_if_needed()
    if live:  # let the "warming up" notice come and go before the first screenshot
        assert page.evaluate("() => window.labpress.pyodideReady()") is True, "Pyodide did not start"

    snap, _ = wait_settled(page, fig_id, widget)
    assert "is-enhanced" in snap["classes"]
    save_screenshot(page, fig_id, f"widget-{name}-before")
    readouts_changed = False

    for description, act, expect in widget_actions(fig_id, widget):
        before = snap
        act(page)
        expected_state = expect(before["state"]) if expect else None
        if expected_state is None:  # a pixel-dependent move: wait for the control to change, whatever it became
            wait_until(lambda: snapshot(page, fig_id)["state"] != before["state"],
                       f"{description}: the control to change", WAIT_S)
        try:
            snap, frame = wait_settled(page, fig_id, widget, expect_state=expected_state)
        except AssertionError as exc:
            raise AssertionError(f"{fig_id} after {description}: {exc}") from None

        where = f"{fig_id} after {description} ({before['state']} -> {snap['state']})"
        assert snap["state"] != before["state"], f"{where}: the state did not change"
        for control_name, value in snap["state"].items():  # every value is one the control allows
            assert widget.controls[control_name].coerce(value) == (tuple(value) if isinstance(value, list) else value), where
        assert snap["runtimeState"] == snap["state"], f"{where}: runtime state {snap['runtimeState']} != controls"
        assert canonical_svg(snap["svg"], snap["state"]) != canonical_svg(before["svg"], before["state"]), \
            f"{where}: the SVG did not change"
        readouts_changed |= snap["readouts"] != before["readouts"]
        assert snap["source"] == ("pyodide" if live else "frames"), f"{where}: answered from {snap['source']}"
        assert "is-error" not in snap["classes"] and not snap["status"], f"{where}: status {snap['status']!r}"
        for control_name, (value, shown) in snap["sliderText"].items():
            assert shown is not None and shown.startswith(value), f"{where}: slider shows {shown!r} for {value}"

    assert readouts_changed, f"{fig_id}: no interaction changed any readout"
    save_screenshot(page, fig_id, f"widget-{name}-after")


# --------------------------------------------------------------------------- 2. pre-computed frames == Pyodide


def frame_key_states(widget, keys: list[str]) -> dict[str, dict]:
    spaces = {name: control.states() for name, control in widget.controls.items()}
    out = {}
    for key in keys:
        indices = [int(i) for i in key.split("-")]
        out[key] = {name: spaces[name][i] for name, i in zip(widget.controls, indices)}
    return out


@pytest.mark.parametrize("name", FRAMED)
def test_precomputed_frames_equal_pyodide(forced_page, notebook_build, name):
    page = forced_page.page
    fig_id = next(i for i, n in WIDGETS.items() if n == name)
    widget = load_widget(name)
    figure = page.locator(f"#{fig_id}")
    frames_url = figure.get_attribute("data-frames")
    caption = figure.get_attribute("data-caption")
    assert frames_url, f"#{fig_id} has no pre-computed frames"
    frames = json.loads((notebook_build / frames_url.lstrip("/")).read_text(encoding="utf-8"))["frames"]
    space = widget.state_space()
    assert len(frames) == functools.reduce(lambda a, b: a * b, map(len, space)), "not every state was pre-computed"

    default_key = "-".join(str(c.index_of(c.default)) for c in widget.controls.values())
    last_key = "-".join(str(len(states) - 1) for states in space)
    others = sorted(set(frames) - {default_key, last_key})
    keys = [last_key] + random.Random(name).sample(others, 2) + [default_key]  # ends where the page started
    for key, state in frame_key_states(widget, keys).items():
        stored = frames[key]
        cpython = kernel_frame(widget, state, caption)
        assert stored == {"svg": cpython.svg, "readouts": cpython.readouts, "caption": cpython.caption}, \
            f"{name} frame {key}: the frames file is not what the kernel draws for {state}"
        result = page.evaluate("([id, state]) => window.labpress.widgets.get(id).render(state)", [fig_id, state])
        assert "error" not in result, f"{name} {state}: Pyodide error {result}"
        assert result["svg"] == stored["svg"], (
            f"{name} frame {key} {state}: Pyodide SVG differs from the pre-computed one: "
            f"{first_difference(parse_markup(result['svg']), parse_markup(stored['svg']))}")
        assert result["readouts"] == stored["readouts"], f"{name} {state}: {result['readouts']} vs {stored['readouts']}"
        assert result["caption"] == stored["caption"], f"{name} {state}: {result['caption']!r} vs {stored['caption']!r}"
        snap, _ = wait_settled(page, fig_id, widget, expect_state=state)
        assert snap["source"] == "pyodide", f"{name} {state}: shown from {snap['source']}, not Pyodide"
    assert not forced_page.recorder.errors, forced_page.recorder.errors


# --------------------------------------------------------------------------- 3. clean console, nothing off-site


def test_no_console_errors_and_nothing_leaves_localhost(post_page):
    page, recorder = post_page.page, post_page.recorder
    assert page.evaluate("() => window.labpress.pyodideReady()") is True
    fig_id, widget = LIVE, load_widget(WIDGETS[LIVE])
    slope = snapshot(page, fig_id)["state"]["slope"]
    target = 0.5 if slope != 0.5 else 0.6
    page.evaluate("([id, t]) => window.labpress.widgets.get(id).render({slope: t})", [fig_id, target])
    snap, _ = wait_settled(page, fig_id, widget)
    assert snap["state"]["slope"] == target and snap["source"] == "pyodide"

    assert any(url.endswith("pyodide.asm.wasm") for url in recorder.requests), \
        "the worker's requests were not seen, so this test proves nothing"
    hosts = sorted({urlsplit(u).hostname for u in recorder.requests if urlsplit(u).hostname})
    assert hosts == ["127.0.0.1"], f"requests went to {hosts}: {recorder.offsite}"
    assert not recorder.offsite, recorder.offsite
    assert not recorder.errors, recorder.errors
    assert not recorder.console_errors(), recorder.console_errors()
    assert not recorder.failed, recorder.failed
    assert not recorder.bad_status, recorder.bad_status
    labpress_warnings = [w for w in recorder.console_warnings() if "LabPress" in w]
    assert not labpress_warnings, labpress_warnings


# --------------------------------------------------------------------------- 4. without JavaScript


def test_first_frames_without_javascript(browser, notebook_server):
    with open_context(browser, java_script_enabled=False) as context:
        page = context.new_page()
        page.goto(notebook_server.url + POST)
        ids = page.eval_on_selector_all("figure.widget", "els => els.map(e => e.id)")
        assert ids == list(WIDGETS), ids
        for fig_id, name in WIDGETS.items():
            widget = load_widget(name)
            snap = snapshot(page, fig_id)
            assert "is-enhanced" not in snap["classes"], "the runtime ran although JavaScript is off"
            defaults = widget.defaults()
            assert widget.coerce(json.loads(snap["dataState"])) == defaults, f"{fig_id}: data-state {snap['dataState']}"
            assert widget.coerce(snap["state"]) == defaults, f"{fig_id}: the form shows {snap['state']}, not the defaults"
            frame = kernel_frame(widget, defaults, snap["template"])
            why = frame_mismatch(snap, frame, widget, decorated=False)  # markup exactly as the kernel wrote it
            assert why is None, f"{fig_id} without JavaScript: {why}"
            tree = parse_markup(snap["svg"])
            assert tree[0][0] == "svg" and len(tree[0][2]) > 3, f"{fig_id}: empty figure"
            assert all(v.strip() for v in snap["readouts"].values()) and snap["readouts"], snap["readouts"]
            assert snap["caption"] and snap["caption"].strip(), f"{fig_id}: no caption"
            assert page.locator(f"#{fig_id} .widget-stage svg").is_visible()
            assert page.locator(f"#{fig_id} .widget-caption").is_visible()
            # The controls would do nothing: they are disabled, and a note says the figure becomes
            # interactive with JavaScript.
            controls = page.locator(f"#{fig_id} .widget-controls [data-control]")
            assert controls.count() > 0 and all(controls.nth(i).is_disabled() for i in range(controls.count())), fig_id
            note = page.locator(f"#{fig_id} .widget-nojs")
            assert note.is_visible() and "interactive with JavaScript" in note.text_content(), fig_id


def test_the_runtime_turns_the_controls_on(post_page):
    """The build writes the controls disabled, with a note, for a page without scripts: once the runtime
    enhances a widget its controls work and the note is gone."""
    page = post_page.page
    state = page.evaluate("""() => [...document.querySelectorAll('figure.widget')].map(f => ({
        id: f.id, enhanced: f.classList.contains('is-enhanced'),
        off: [...f.querySelectorAll('.widget-controls [data-control]')].filter(el => el.matches(':disabled')).length,
        controls: f.querySelectorAll('.widget-controls [data-control]').length,
        note: [...f.querySelectorAll('.widget-nojs')].map(n => [n.hidden, n.getBoundingClientRect().height]),
    }))""")
    assert [w["id"] for w in state] == list(WIDGETS), state
    for widget in state:
        assert widget["enhanced"] and widget["controls"] and widget["off"] == 0, widget
        assert widget["note"] == [[True, 0]], widget


# --------------------------------------------------------------------------- 5. a kernel that raises

FRAGILE = '''
from labpress.kernel import Figure, Point, Slider, View, widget


@widget(
    title="Fragile",
    s=Slider(0, 1, value=0.5, step=0.5, label="s"),
    p=Point(value=(0.5, 0.5), x=(0, 1), y=(0, 1), label="P"),
    readouts={"inv": "1 / (1 - s)"},
)
def fragile(s, p):
    inv = 1 / (1 - s)  # RAISES at s = 1
    fig = Figure(x=(0, 1), y=(0, 2), title="Fragile")
    fig.axes()
    fig.line(0, 0, s, inv / 2, "lp-s1")
    fig.handle("p", p[0], p[1], "P")
    return View(fig, {"inv": inv})
'''


@pytest.fixture
def fragile_site(site):
    (site.root / "widgets").mkdir()
    (site.root / "widgets" / "fragile.py").write_text(FRAGILE.lstrip(), encoding="utf-8")
    site.post("p.md", '---\ntitle: W\ndate: 2026-01-01\n---\n\n## Live\n\n::: widget fragile\ncaption: "inv is {inv:.1f}"\n:::\n')
    result = site.build()
    assert result.returncode == 0, result.stderr
    server = StaticServer(site.out)
    yield site, server
    server.close()


def test_kernel_error_keeps_figure_and_recovers(browser, fragile_site):
    site, server = fragile_site
    widget = load_widget("fragile", site.root / "widgets")
    line = next(i for i, text in enumerate(FRAGILE.lstrip().splitlines(), 1) if "RAISES" in text)
    fig_id = "widget-fragile-1"
    with open_context(browser, viewport={"width": 1280, "height": 900}) as context:
        page, recorder, _ = open_page(context, server.url + "p/")
        assert page.locator(f"#{fig_id}").get_attribute("data-frames") is None, "a Point widget must be live"
        assert page.evaluate("() => window.labpress.pyodideReady()") is True
        before, _ = wait_settled(page, fig_id, widget)
        assert before["state"]["s"] == 0.5

        press_on(page, control_locator(page, fig_id, "s"), "End")
        page.wait_for_function(
            "id => document.querySelector('#' + id + ' .widget-status').textContent.includes('ZeroDivisionError')",
            arg=fig_id, timeout=WAIT_MS)
        page.wait_for_function("() => window.__lpTest.pending === 0", timeout=WAIT_MS)
        failed = snapshot(page, fig_id)
        save_screenshot(page, fig_id, "widget-kernel-error")
        assert failed["state"]["s"] == 1.0
        assert "is-error" in failed["classes"], failed["classes"]
        assert "ZeroDivisionError" in failed["status"], failed["status"]
        assert f"fragile.py:{line}" in failed["status"], f"error location missing: {failed['status']!r}"
        assert canonical_svg(failed["svg"], before["state"]) == canonical_svg(before["svg"], before["state"]), \
            "the SVG changed although the kernel raised"
        assert failed["readouts"] == before["readouts"] and failed["caption"] == before["caption"]

        press_on(page, control_locator(page, fig_id, "s"), "Home")
        recovered, frame = wait_settled(page, fig_id, widget, expect_state={"s": 0.0, "p": [0.5, 0.5]})
        assert "is-error" not in recovered["classes"] and recovered["status"] == "", recovered["status"]
        assert canonical_svg(recovered["svg"], recovered["state"]) != canonical_svg(before["svg"], before["state"])
        assert recovered["readouts"] == {"inv": "1.000"} and recovered["caption"] == "inv is 1.0"

        assert not recorder.errors, recorder.errors
        assert not recorder.console_errors(), "a kernel error reached the console: " + str(recorder.console_errors())


# --------------------------------------------------------------------------- 6. Pyodide unreachable

PYODIDE_FOLDER = re.compile(r"/assets/pyodide-[^/]+/")


def test_pyodide_blocked_keeps_static_frame(browser, notebook_server):
    with open_context(browser, viewport={"width": 1280, "height": 900}) as context:
        blocked: list[str] = []

        def block(route):
            blocked.append(route.request.url)
            route.abort()

        context.route(PYODIDE_FOLDER, block)  # added before the Recorder's catch-all, so it is tried after it
        page, recorder, _ = open_page(context, notebook_server.url + POST)
        fig_id, widget = LIVE, load_widget(WIDGETS[LIVE])
        static, _ = wait_settled(page, fig_id, widget)
        defaults = static["state"]

        handle = handle_locator(page, fig_id, "spot")
        handle.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("id => document.getElementById(id).classList.contains('is-static')",
                               arg=fig_id, timeout=WAIT_MS)
        snap = snapshot(page, fig_id)
        save_screenshot(page, fig_id, "widget-pyodide-blocked")
        assert blocked, "the Pyodide folder was never requested"
        assert "unavailable" in snap["status"].lower(), f"no notice: {snap['status']!r}"
        assert snap["state"] == defaults, f"the controls do not show the static figure's state: {snap['state']}"
        assert snap["runtimeState"] == defaults
        frame = kernel_frame(widget, defaults, snap["template"])
        assert frame_mismatch(snap, frame, widget) is None, frame_mismatch(snap, frame, widget)
        assert sorted(set(snap["disabled"])) == sorted(widget.controls), f"controls left enabled: {snap['disabled']}"
        assert handle.get_attribute("aria-disabled") == "true" and handle.get_attribute("tabindex") is None

        # Widgets with pre-computed frames do not need Python: they keep working.
        framed_id, framed = "widget-decay-1", load_widget("decay")
        press_on(page, control_locator(page, framed_id, "rate"), "ArrowRight")
        framed_snap, _ = wait_settled(page, framed_id, framed, expect_state={"rate": 0.4})
        assert framed_snap["source"] == "frames" and not framed_snap["status"]

        assert not recorder.errors, recorder.errors
        unexpected = [e for e in recorder.console_errors() if not any(u in e for u in blocked)]
        assert not unexpected, unexpected


# --------------------------------------------------------------------------- 7. strict Content-Security-Policy

CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'"
CSP_REPORT_PATH = "/__csp-report"
# An image the test itself asks for at the end, which the policy refuses: once the report of that
# violation has arrived, the reports of any earlier one (in the page or in the worker) have too.
CSP_SENTINEL_HOST = "csp-sentinel.invalid"


class CspServer:
    """A build served with an enforced strict CSP, and the same policy in report-only mode with a
    report-uri, so violations inside the worker (where no page listener sees them) reach us too."""

    def __init__(self, directory: Path):
        self.reports: list[str] = []
        reports = self.reports

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def end_headers(self):
                self.send_header("Content-Security-Policy", CSP)
                self.send_header("Content-Security-Policy-Report-Only", f"{CSP}; report-uri {CSP_REPORT_PATH}")
                super().end_headers()

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith(CSP_REPORT_PATH):
                    reports.append(body.decode("utf-8", "replace"))
                self.send_response(204)
                self.end_headers()

        handler = functools.partial(Handler, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_strict_csp_live_widget(browser, notebook_build):
    server = CspServer(notebook_build)
    try:
        with open_context(browser, viewport={"width": 1280, "height": 900}) as context:
            page, recorder, response = open_page(context, server.url + POST)
            assert response.headers.get("content-security-policy") == CSP
            assert page.evaluate("() => window.labpress.pyodideReady()") is True, "Pyodide did not start under the CSP"

            fig_id, widget = LIVE, load_widget(WIDGETS[LIVE])
            before, _ = wait_settled(page, fig_id, widget)
            press_on(page, handle_locator(page, fig_id, "spot"), "ArrowLeft")
            x, y = before["state"]["spot"]
            after, _ = wait_settled(page, fig_id, widget,
                                    expect_state={**before["state"], "spot": [tidy(x - 0.05), y]})
            assert after["source"] == "pyodide"
            assert canonical_svg(after["svg"], after["state"]) != canonical_svg(before["svg"], before["state"])

            framed_id = "widget-decay-1"
            press_on(page, control_locator(page, framed_id, "rate"), "ArrowLeft")
            assert wait_settled(page, framed_id, load_widget("decay"), expect_state={"rate": 0.2})[0]["source"] == "frames"

            page.evaluate("(host) => { new Image().src = `https://${host}/last.png`; }", CSP_SENTINEL_HOST)
            # Polled with Playwright's own wait: the report is a request the recorder's routes pass on,
            # which happens only while Playwright runs (a plain sleep would hold it back).
            wait_until(lambda: page.wait_for_timeout(50) or any(CSP_SENTINEL_HOST in r for r in server.reports),
                       "the report of the test's own last violation", WAIT_S)
            page.wait_for_function("(host) => window.__lpTest.violations.some((v) => v.includes(host))",
                                   arg=CSP_SENTINEL_HOST, timeout=WAIT_MS)

            def others(texts):  # everything but the test's own violation
                return [text for text in texts if CSP_SENTINEL_HOST not in text]

            csp_console = [f"{kind}: {text}" for kind, text, _ in recorder.console
                           if ("content security policy" in text.lower() or "content-security-policy" in text.lower())
                           and CSP_SENTINEL_HOST not in text]
            assert not csp_console, csp_console
            assert others(page.evaluate("() => window.__lpTest.violations")) == []
            assert others(server.reports) == [], server.reports
            assert not recorder.errors and not others(recorder.console_errors()), recorder.errors + recorder.console_errors()
    finally:
        server.close()


# --------------------------------------------------------------------------- 8. the latest state wins


def test_latest_state_wins(post_page):
    page = post_page.page
    fig_id, widget = LIVE, load_widget(WIDGETS[LIVE])
    assert page.evaluate("() => window.labpress.pyodideReady()") is True
    start, _ = wait_settled(page, fig_id, widget)
    posted_before = page.evaluate("() => window.__lpTest.posted")

    # A burst of arrow keys on the handle, faster than Pyodide answers.
    handle = handle_locator(page, fig_id, "spot")
    handle.focus()
    presses = 14
    for _ in range(presses):
        page.keyboard.press("ArrowLeft")
    x, y = start["state"]["spot"]
    control = widget.controls["spot"]
    want = [tidy(max(x - presses * control.step, control.x[0])), y]
    snap, _ = wait_settled(page, fig_id, widget, expect_state={**start["state"], "spot": want})
    posted = page.evaluate("() => window.__lpTest.posted") - posted_before
    assert 1 <= posted <= presses, posted
    assert page.evaluate("() => document.activeElement && document.activeElement.matches('circle.lp-handle')"), \
        "the handle lost focus across frame swaps"

    # A burst through the runtime's API: every promise resolves, the last state is what stays.
    slopes = [-1.5, 0.8, -0.3, 1.9, 0.4, -1.2, 0.6, 1.3]
    results = page.evaluate(
        """([id, list]) => Promise.all(list.map(t => window.labpress.widgets.get(id).render({slope: t})))""",
        [fig_id, slopes])
    assert len(results) == len(slopes) and all("svg" in r for r in results), results
    final_state = {**snap["state"], "slope": slopes[-1]}
    final = kernel_frame(widget, final_state, snap["template"])
    assert results[-1] == {"svg": final.svg, "readouts": final.readouts, "caption": final.caption}
    settled, _ = wait_settled(page, fig_id, widget, expect_state=final_state)
    page.wait_for_function("() => window.__lpTest.pending === 0", timeout=WAIT_MS)
    again = snapshot(page, fig_id)
    assert canonical_svg(again["svg"], again["state"]) == canonical_svg(settled["svg"], settled["state"])
    assert again["readouts"] == settled["readouts"] and again["caption"] == settled["caption"]


# --------------------------------------------------------------------------- 9. the runtime waits for the first paint


def test_runtime_runs_after_the_first_paint(browser, notebook_server):
    """The figures are in the page already: the runtime module is imported only once it has painted."""
    with open_context(browser, viewport={"width": 1280, "height": 720}) as context:
        page, recorder, _ = open_page(context, notebook_server.url + POST)
        times = page.evaluate("""() => ({
            fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
            runtime: performance.getEntriesByName('labpress-runtime')[0]?.startTime ?? null,
            enhanced: document.querySelectorAll('figure.widget.is-enhanced').length,
        })""")
        assert times["fcp"] is not None and times["runtime"] is not None, times
        assert times["runtime"] >= times["fcp"], f"the widget runtime ran before the first paint: {times}"
        assert times["enhanced"] == len(WIDGETS), times
        assert not recorder.errors and not recorder.console_errors(), (recorder.errors, recorder.console_errors())


# --------------------------------------------------------------------------- 10. frames are patched in place


def test_new_frames_keep_the_elements_the_reader_holds(post_page):
    """A new frame changes the figure in place: the SVG and a focused handle stay the same elements
    (focus and hover are not lost), and the markup still equals the kernel's."""
    page = post_page.page
    fig_id, widget = LIVE, load_widget(WIDGETS[LIVE])
    assert page.evaluate("() => window.labpress.pyodideReady()") is True
    wait_settled(page, fig_id, widget)
    handle = handle_locator(page, fig_id, "spot")
    handle.scroll_into_view_if_needed()
    handle.focus()
    page.evaluate("""(id) => {
        const fig = document.getElementById(id);
        window.__lpHeld = {svg: fig.querySelector('.widget-stage svg'), handle: document.activeElement};
    }""", fig_id)
    before = snapshot(page, fig_id)
    x, y = before["state"]["spot"]
    control = widget.controls["spot"]
    move = control.step if x + control.step <= control.x[1] else -control.step
    page.keyboard.press("ArrowRight" if move > 0 else "ArrowLeft")
    expected = {**before["state"], "spot": [tidy(x + move), y]}
    snap, _ = wait_settled(page, fig_id, widget, expect_state=expected)
    assert canonical_svg(snap["svg"], snap["state"]) != canonical_svg(before["svg"], before["state"]), "no new frame"
    kept = page.evaluate("""(id) => {
        const fig = document.getElementById(id);
        const handle = fig.querySelector('.widget-stage circle.lp-handle');
        return {svg: fig.querySelector('.widget-stage svg') === window.__lpHeld.svg,
                handle: handle === window.__lpHeld.handle, focused: document.activeElement === handle};
    }""", fig_id)
    assert kept == {"svg": True, "handle": True, "focused": True}, kept


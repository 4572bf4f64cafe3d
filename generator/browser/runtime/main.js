// LabPress widget runtime: makes the build's static widget figures interactive.
//
// The page already shows a correct first frame (drawn by the build in CPython). This module,
// the runtime's entry (loader.js imports it after the first paint), finds the figures, makes a
// Widget of each (widget.js: its state and rendering; controls.js: its controls; patch.js: new
// frames into the figure; worker-client.js: the one module worker the page shares; contract.js and
// frames.js, urlstate.js: the pure rules; share.js: links to a view), starts each in the state the
// page's URL gives it, fetches pre-computed frames once a figure is near the screen, and exposes
// window.labpress. Pyodide (about 12.5 MB) is never started by scrolling: only by the reader's intent
// on a live widget (widget.js) or by a state in the URL that needs it. The page contract is
// docs/widgets.md.
//
// Rules the runtime keeps: the main thread never waits on Python; per widget at most one render
// is in flight and the latest state wins; a failure never removes the static figure and never
// reaches the console as an error.

import { clone } from "./contract.js";
import { stateFromUrl } from "./share.js";
import { runtime } from "./worker-client.js";
import { Widget } from "./widget.js";

const widgets = runtime.widgets; // id -> Widget: the runtime tells each of its life cycle

performance.mark?.("labpress-runtime"); // when this module ran: loader.js imports it after the first paint

function whenIdle(callback) {
  if (typeof window.requestIdleCallback === "function") window.requestIdleCallback(() => callback(), { timeout: 2500 });
  else window.setTimeout(callback, 250);
}

/** The frames files (small JSON) of the widgets that have them, fetched at idle once a figure nears the screen. */
function prefetchFrames(list) {
  const framed = list.filter((w) => w.usesFrames());
  if (typeof IntersectionObserver !== "function") {
    for (const w of framed) whenIdle(() => w.fetchFrames());
    return;
  }
  const byFigure = new Map(framed.map((w) => [w.figure, w]));
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const w = byFigure.get(entry.target);
      observer.unobserve(entry.target);
      whenIdle(() => {
        if (!w.unavailable && w.usesFrames() && !w.frames) w.fetchFrames();
      });
    }
  }, { rootMargin: "200px 0px" });
  for (const w of framed) observer.observe(w.figure);
}

const publicWidgets = new Map(); // id -> {render, state}: the small face tests and benchmarks use

/** Resolves in a later task, so that other work (input, rendering) can run in between. */
function yieldToMain() {
  if (globalThis.scheduler && typeof globalThis.scheduler.yield === "function") return globalThis.scheduler.yield();
  return new Promise((resolve) => window.setTimeout(resolve, 0));
}

/** One widget per task: a page with many widgets never holds the main thread for long. */
async function enhanceAll() {
  const made = [];
  for (const figure of document.querySelectorAll("figure.widget")) {
    if (figure.classList.contains("is-enhanced")) continue;
    if (made.length) await yieldToMain();
    try {
      const w = new Widget(figure, widgets.size + 1);
      widgets.set(w.id, w);
      publicWidgets.set(w.id, { render: (state) => w.render(state), state: () => clone(w.state) });
      made.push(w);
      w.restore(stateFromUrl(w)); // a state from a shared link; a live one starts Python
    } catch (err) {
      console.warn(`LabPress: widget ${figure.id || "?"} left static:`, err);
    }
  }
  prefetchFrames(made);
}

const ready = new Promise((resolve) => {
  const go = () => enhanceAll().then(resolve);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", go, { once: true });
  else go();
});

// loader.js imports this module once the page has painted, and has already made
// window.labpress.ready (callers may be waiting on it); loaded by a plain module script, this
// module makes it itself.
const api = window.labpress || (window.labpress = {});
Object.assign(api, {
  widgets: publicWidgets,
  pyodideReady: () => runtime.start(), // resolves true once Python answers, false if it never will
});
if (!api.ready) api.ready = ready;
if (typeof api._resolveReady === "function") ready.then(api._resolveReady);

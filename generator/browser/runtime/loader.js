// LabPress widget loader: the one script a page with widgets includes for them
// (`<script type="module" src="…/loader.js">`, see the default theme's base.html), so a theme
// carries no runtime code of its own.
//
// A module script runs once the page is parsed, which may be before anything is on screen. The
// figures are in the page already, so no widget code may run before the first paint: this file
// makes window.labpress.ready (callers may wait on it from the start; main.js resolves it)
// and imports main.js, beside it, only once the first contentful paint has happened. The
// page preloads main.js, so it is fetched meanwhile but not run.

/**
 * Calls `callback` once, after the first contentful paint of the page `scope` (a window) shows.
 * Without paint timing, the load event (and a task after it) stands in for the paint.
 */
export function afterFirstPaint(scope, callback) {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    callback();
  };
  let observing = false;
  try {
    if (scope.PerformanceObserver.supportedEntryTypes.includes("paint")) {
      const observer = new scope.PerformanceObserver((list) => {
        if (!list.getEntriesByName("first-contentful-paint").length) return;
        observer.disconnect();
        once();
      });
      observer.observe({ type: "paint", buffered: true }); // buffered: a paint before this module ran counts
      observing = true;
    }
  } catch {
    /* no paint timing: the load event stands in for it */
  }
  if (!observing) {
    if (scope.document.readyState === "complete") scope.setTimeout(once, 0);
    else scope.addEventListener("load", () => scope.setTimeout(once, 0), { once: true });
  }
}

/** Makes `scope.labpress.ready` and imports the runtime after the first paint. */
export function start(scope, runtime = () => import("./main.js")) {
  const lp = scope.labpress || (scope.labpress = {});
  lp.ready = lp.ready || new Promise((resolve) => {
    Object.defineProperty(lp, "_resolveReady", { value: resolve, configurable: true });
  });
  afterFirstPaint(scope, () => {
    runtime().catch((err) => {
      console.warn(`LabPress: the widget runtime did not load (${err?.message || err}); figures stay static.`);
      lp.widgets = lp.widgets || new Map();
      lp._resolveReady?.();
    });
  });
}

if (typeof window !== "undefined" && typeof document !== "undefined") start(window); // in a page, not under node's tests

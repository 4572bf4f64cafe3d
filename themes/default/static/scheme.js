// Colour scheme: follows the system preference until the reader presses the toggle; their choice
// is then remembered. The page's one script in <head>: before the first paint it only applies a
// stored choice (no flash of the other scheme), marks the root for style.css (data-js: show the
// toggle, smooth scrolling; data-anchor-jump, below) and listens for clicks (the toggle's icon
// follows the scheme in CSS). After the paint: the toggle's aria-pressed and title, and the widget
// runtime named by <template id="labpress-widget-runtime">, if the page has widgets.
(function () {
  "use strict";
  var KEY = "labpress-scheme";
  var root = document.documentElement;
  var media = null;

  try {
    var choice = window.localStorage.getItem(KEY);
    if (choice === "dark" || choice === "light") root.setAttribute("data-scheme", choice);
  } catch (e) {
    /* storage blocked: follow the system */
  }
  root.setAttribute("data-js", "");
  // Posts lay out blocks lazily, with first-guess heights; a smooth jump to an anchor needs the real
  // ones above its target, so a page opened at an anchor is laid out in full (style.css).
  if (window.location.hash) root.setAttribute("data-anchor-jump", "");

  function effective() {
    var chosen = root.getAttribute("data-scheme");
    if (chosen === "dark" || chosen === "light") return chosen;
    if (media === null) media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : false;
    return media && media.matches ? "dark" : "light";
  }

  function sync(button) {
    var dark = effective() === "dark";
    button.setAttribute("aria-pressed", dark ? "true" : "false");
    button.title = dark ? "Switch to the light colour scheme" : "Switch to the dark colour scheme";
  }

  document.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    var link = event.target.closest("a[href*='#']");
    if (link && link.hash && link.pathname === window.location.pathname && link.origin === window.location.origin) {
      var target = null;
      try {
        target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
      } catch (e) {
        /* not a valid fragment */
      }
      if (target && target.closest(".post-body, .post-footer")) root.setAttribute("data-anchor-jump", ""); // as above
    }
    var button = event.target.closest("#theme-toggle");
    if (!button) return;
    var next = effective() === "dark" ? "light" : "dark";
    root.setAttribute("data-scheme", next);
    try {
      window.localStorage.setItem(KEY, next);
    } catch (e) {
      /* not remembered, still applied */
    }
    sync(button);
  });

  var toggled = false;
  function finishToggle() {
    var button = document.getElementById("theme-toggle");
    if (toggled || !button) return; // not parsed yet: the load event comes back
    toggled = true;
    button.hidden = false; // shown by style.css already; now the markup says so too
    sync(button);
    if (media && media.addEventListener) media.addEventListener("change", function () { sync(button); });
  }

  // window.labpress.ready exists from the start (callers wait on it); the runtime resolves it.
  var template = document.getElementById("labpress-widget-runtime");
  var script = template && template.content && template.content.querySelector("script[src]");
  var runtime = script ? new URL(script.getAttribute("src"), document.baseURI).href : null;
  if (runtime) {
    var lp = window.labpress = window.labpress || {};
    lp.ready = lp.ready || new Promise(function (resolve) {
      Object.defineProperty(lp, "_resolveReady", { value: resolve, configurable: true });
    });
  }

  var painted = false;
  function afterPaint() {
    if (painted) return;
    painted = true;
    finishToggle();
    if (!runtime) return;
    import(runtime).catch(function (err) {
      console.warn("LabPress: the widget runtime did not load (" + (err && err.message || err) + "); figures stay static.");
      window.labpress.widgets = window.labpress.widgets || new Map();
      if (window.labpress._resolveReady) window.labpress._resolveReady();
    });
  }

  // The first-contentful-paint entry arrives once that frame is on screen.
  var observing = false;
  try {
    if (PerformanceObserver.supportedEntryTypes.indexOf("paint") >= 0) {
      var observer = new PerformanceObserver(function (list) {
        if (!list.getEntriesByName("first-contentful-paint").length) return;
        observer.disconnect();
        afterPaint();
      });
      observer.observe({ type: "paint", buffered: true });
      observing = true;
    }
  } catch (e) {
    /* no paint timing: the load event stands in for it */
  }
  window.addEventListener("load", function () {
    finishToggle(); // the toggle's state is right by the load event at the latest
    if (!observing) window.setTimeout(afterPaint, 0);
  });
})();

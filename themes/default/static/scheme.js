// Colour scheme: follows the system preference until the reader presses the toggle; their choice
// is then remembered. The theme's one script, a classic one in <head>: before the first paint it
// only applies a stored choice (no flash of the other scheme), marks the root for style.css
// (data-js: show the toggle, smooth scrolling; data-anchor-jump, below) and listens for clicks
// (the toggle's icon follows the scheme in CSS). After the paint: the toggle's aria-pressed and
// title. Widgets are not a theme's business: LabPress's loader (browser/runtime/loader.js) starts them.
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

  // The first-contentful-paint entry arrives once that frame is on screen; the load event comes
  // at the latest (and stands in for it without paint timing).
  try {
    if (PerformanceObserver.supportedEntryTypes.indexOf("paint") >= 0) {
      var observer = new PerformanceObserver(function (list) {
        if (!list.getEntriesByName("first-contentful-paint").length) return;
        observer.disconnect();
        finishToggle();
      });
      observer.observe({ type: "paint", buffered: true });
    }
  } catch (e) {
    /* no paint timing */
  }
  window.addEventListener("load", finishToggle);
})();

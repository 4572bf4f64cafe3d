// Colour scheme: follows the reader's system preference until they press the
// toggle; their choice is then remembered. Loaded in <head> so a stored choice
// applies before the first paint (no flash of the other scheme).
(function () {
  "use strict";
  var KEY = "labpress-scheme";
  var root = document.documentElement;
  var media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return value === "dark" || value === "light" ? value : null;
    } catch (e) {
      return null; // storage blocked: follow the system
    }
  }

  function effective() {
    return stored() || (media && media.matches ? "dark" : "light");
  }

  var choice = stored();
  if (choice) root.setAttribute("data-scheme", choice);

  function sync(button) {
    var dark = effective() === "dark";
    button.setAttribute("aria-pressed", dark ? "true" : "false");
    button.querySelector(".scheme-toggle-text").textContent = "Dark mode";
    button.title = dark ? "Switch to the light colour scheme" : "Switch to the dark colour scheme";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (!button) return;
    button.hidden = false;
    sync(button);
    button.addEventListener("click", function () {
      var next = effective() === "dark" ? "light" : "dark";
      root.setAttribute("data-scheme", next);
      try {
        window.localStorage.setItem(KEY, next);
      } catch (e) {
        /* not remembered, still applied */
      }
      sync(button);
    });
    if (media && media.addEventListener) {
      media.addEventListener("change", function () { sync(button); });
    }
  });
})();

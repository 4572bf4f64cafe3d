// LabPress dev client: served at /__labpress/reload.js by `labpress serve` and
// injected into HTML responses by the dev server only; never part of a build.
//
// It listens to /__labpress/events (server-sent events). Each `state` event is
// {ok, build, errors}: `build` is the id of the last good build, `errors` the
// failed build's `path:line:col: error: message` lines. The page knows which
// build it shows (the ?build= of this script's URL), so:
//   ok and a newer build  -> reload the page;
//   not ok                -> show the errors over the (last good) page.
// The server sends the current state on connect, so a page opened while the
// build is broken shows the errors at once.

const EVENTS_URL = "/__labpress/events";
const HOST_ID = "labpress-build-errors";
const pageBuild = new URL(import.meta.url).searchParams.get("build");

const STYLES = `
:host {
  all: initial;
  color-scheme: inherit;
}
.panel {
  --bg: #fffdfc;
  --fg: #1c1b1f;
  --muted: #47464f;
  --accent: #b3261e;
  --code-bg: #f7ecea;
  --border: #e0c3bf;
  position: fixed;
  z-index: 2147483647;
  inset: 1rem 1rem auto 1rem;
  box-sizing: border-box;
  max-width: 60rem;
  max-height: calc(100vh - 2rem);
  margin: 0 auto;
  overflow: auto;
  padding: 1rem 1.25rem 1.25rem;
  border: 1px solid var(--border);
  border-left: 0.4rem solid var(--accent);
  border-radius: 0.5rem;
  background: var(--bg);
  color: var(--fg);
  box-shadow: 0 0.75rem 2.5rem rgb(0 0 0 / 0.3);
  font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  .panel {
    --bg: #211a19;
    --fg: #f4eeed;
    --muted: #d3c6c4;
    --accent: #ffb4ab;
    --code-bg: #33292780;
    --border: #5c403c;
  }
}
@supports (color: light-dark(#000, #fff)) {
  /* Follow the page's colour scheme, including the reader's toggle. */
  .panel {
    --bg: light-dark(#fffdfc, #211a19);
    --fg: light-dark(#1c1b1f, #f4eeed);
    --muted: light-dark(#47464f, #d3c6c4);
    --accent: light-dark(#b3261e, #ffb4ab);
    --code-bg: light-dark(#f7ecea, #332927);
    --border: light-dark(#e0c3bf, #5c403c);
  }
}
.head {
  display: flex;
  align-items: flex-start;
  justify-content: space-between;
  gap: 1rem;
}
h2 {
  margin: 0;
  color: var(--accent);
  font-size: 1.15rem;
  line-height: 1.3;
}
p {
  margin: 0.35rem 0 0.75rem;
  color: var(--muted);
  font-size: 0.9rem;
}
ol {
  margin: 0;
  padding: 0;
  list-style: none;
}
li + li {
  margin-top: 0.4rem;
}
code {
  display: block;
  padding: 0.5rem 0.65rem;
  border-radius: 0.3rem;
  background: var(--code-bg);
  color: var(--fg);
  font: 0.875rem/1.45 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  white-space: pre-wrap;
  overflow-wrap: anywhere;
}
button {
  flex: none;
  min-width: 2.75rem;
  min-height: 2.75rem;
  padding: 0.4rem 0.8rem;
  border: 1px solid var(--border);
  border-radius: 0.3rem;
  background: transparent;
  color: var(--fg);
  font: inherit;
  font-size: 0.9rem;
  cursor: pointer;
}
button:hover {
  background: var(--code-bg);
}
button:focus-visible {
  outline: 2px solid var(--accent);
  outline-offset: 2px;
}
`;

let overlay = null; // the host element while the errors are shown
let dismissed = null; // the errors the reader closed: not shown again until they change

function stylesheet(shadow) {
  if ("adoptedStyleSheets" in shadow && typeof CSSStyleSheet === "function") {
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLES);
      shadow.adoptedStyleSheets = [sheet];
      return;
    } catch {
      // fall through to a style element
    }
  }
  const style = document.createElement("style");
  style.textContent = STYLES;
  shadow.append(style);
}

function element(tag, properties = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(properties)) {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function hideErrors() {
  if (overlay) {
    const hadFocus = overlay.contains(document.activeElement);
    overlay.remove();
    overlay = null;
    if (hadFocus && document.body) document.body.focus();
  }
}

function showErrors(errors) {
  const key = JSON.stringify(errors);
  if (key === dismissed) return;
  dismissed = null;
  hideErrors();
  const count = errors.length;
  const host = element("div", { id: HOST_ID });
  const shadow = host.attachShadow({ mode: "open" });
  stylesheet(shadow);
  const close = element("button", { type: "button", "aria-label": "Close build errors", text: "Close" });
  close.addEventListener("click", () => {
    dismissed = key;
    hideErrors();
  });
  const panel = element(
    "section",
    { class: "panel", role: "alert", "aria-labelledby": "labpress-errors-title" },
    element(
      "div",
      { class: "head" },
      element("h2", { id: "labpress-errors-title", text: `Build failed: ${count} error${count === 1 ? "" : "s"}` }),
      close,
    ),
    element("p", {
      text: `${
        document.body && document.body.hasAttribute("data-labpress-no-build")
          ? "Nothing has built yet."
          : "This page shows the last good build."
      } Fix the file and save: the page reloads by itself.`,
    }),
    element("ol", {}, ...errors.map((line) => element("li", {}, element("code", { text: line })))),
  );
  shadow.append(panel);
  (document.body || document.documentElement).append(host);
  overlay = host;
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && overlay) {
    const close = overlay.shadowRoot.querySelector("button");
    if (close) close.click();
  }
});

function onState(event) {
  let state;
  try {
    state = JSON.parse(event.data);
  } catch {
    return;
  }
  if (!state.ok) {
    showErrors(Array.isArray(state.errors) && state.errors.length ? state.errors : ["error: the build failed"]);
  } else if (state.build !== pageBuild) {
    window.location.reload();
  } else {
    dismissed = null;
    hideErrors();
  }
}

let events = null;

function connect() {
  if (typeof EventSource !== "function" || events) return;
  events = new EventSource(EVENTS_URL);
  events.addEventListener("state", onState);
}

// Leaving the page closes the stream at once, so the server is not left holding
// it; a page restored from the back/forward cache connects again.
window.addEventListener("pagehide", () => {
  if (events) events.close();
  events = null;
});
window.addEventListener("pageshow", (event) => {
  if (event.persisted) connect();
});
connect();

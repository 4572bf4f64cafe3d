// LabPress widget runtime: links to a widget's view. The page's URL follows each widget's state
// (history.replaceState, a moment after the controls stop moving; one `w.<figure id>` parameter per
// widget, see urlstate.js for the format and its rules), a page opened with such a URL starts its
// widgets in those states, and each widget gets a "Copy link to this view" button.
//
// Nothing runs at import. A widget gives figure, id, controls, state, initialState, form, statusEl
// and announce(text).

import { decodeState, encodeState, linkTo, paramFor, readParam, withParams } from "./urlstate.js";

const WRITE_DELAY_MS = 300; // the URL is written once the controls have been still this long
const LINK_LABEL = "Copy link to this view";
const COPIED = "Link copied.";
const SELECTED = "Link selected below: press Ctrl+C (⌘C on a Mac) to copy it.";

const pending = new Map(); // parameter -> raw value ("" takes it out), written by the next flush
let timer = 0;
let listening = false;

function flush() {
  window.clearTimeout(timer);
  timer = 0;
  if (!pending.size) return;
  const search = withParams(window.location.search, pending);
  pending.clear();
  if (search === window.location.search) return;
  try {
    window.history.replaceState(window.history.state, "", `${window.location.pathname}${search}${window.location.hash}`);
  } catch (err) {
    console.warn(`LabPress: the address could not follow the widgets (${err?.message || err}).`);
  }
}

/** Record `widget`'s state in the page's URL, debounced; several widgets each keep their own parameter. */
export function recordState(widget) {
  pending.set(paramFor(widget.id), encodeState(widget.controls, widget.state, widget.initialState));
  window.clearTimeout(timer);
  timer = window.setTimeout(flush, WRITE_DELAY_MS);
  if (!listening) {
    listening = true;
    window.addEventListener("pagehide", flush); // leaving within the delay still leaves the URL right for Back
  }
}

/**
 * The state the page's URL gives `widget` (only the controls it names), or null when it gives none;
 * a state the widget's controls refuse is a console warning and null: the widget starts as built.
 */
export function stateFromUrl(widget) {
  const raw = readParam(window.location.search, paramFor(widget.id));
  if (raw === null || raw === "") return null;
  const { state, error } = decodeState(widget.controls, raw);
  if (error) {
    console.warn(`LabPress: ignoring the state in the address for widget ${widget.id} (${error}); it starts as built.`);
    return null;
  }
  return state;
}

/** The address of `widget`'s current view: the page, that widget's state, and the figure's id as fragment. */
export function linkToView(widget) {
  return linkTo(window.location.href, widget.id, encodeState(widget.controls, widget.state, widget.initialState));
}

/** The "Copy link to this view" button, put after the widget's controls (it needs JavaScript, so the runtime adds it). */
export function addShareButton(widget) {
  const figure = widget.figure;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "widget-copy-link";
  button.textContent = LINK_LABEL;
  // The build leaves a place for it, whose room the theme keeps from the first paint, so that adding
  // the button moves nothing below it (an anchor the reader jumped to stays put).
  let box = figure.querySelector(":scope > .widget-share");
  if (!box) {
    box = document.createElement("div");
    box.className = "widget-share";
    const caption = figure.querySelector(":scope > figcaption");
    if (widget.form?.parentElement === figure) widget.form.after(box);
    else if (widget.statusEl?.parentElement === figure) widget.statusEl.before(box);
    else if (caption) caption.before(box); // a figcaption stays the figure's first or last child
    else figure.append(box);
  }
  box.append(button);
  button.addEventListener("click", () => copyLink(widget, box));
  return button;
}

async function copyLink(widget, box) {
  const url = linkToView(widget);
  try {
    if (!window.isSecureContext || typeof navigator.clipboard?.writeText !== "function") throw new Error("no clipboard");
    await navigator.clipboard.writeText(url);
    box.querySelector(".widget-share-url")?.remove();
    widget.announce(COPIED);
  } catch {
    // No Clipboard API here (an http: page, an old browser) or no permission: show the link, selected.
    let field = box.querySelector(".widget-share-url");
    if (!field) {
      field = document.createElement("input");
      field.type = "url";
      field.readOnly = true;
      field.className = "widget-share-url";
      field.setAttribute("aria-label", "Link to this view");
      box.append(field);
    }
    field.value = url;
    field.focus();
    field.select();
    widget.announce(SELECTED);
  }
}

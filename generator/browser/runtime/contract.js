// LabPress widget runtime: the page contract (docs/widgets.md), as pure functions.
//
// What a widget figure's data- attributes and the #labpress-runtime settings say, and how the
// controls' values become the widget's state. Nothing here touches document or window: the
// callers hand over the attribute text and elements (anything with getAttribute, hasAttribute
// and dataset will do), so tests/js/ runs all of it under node.

import { clamp, parseJSON, tidy } from "./frames.js";

/** A deep copy of a JSON value (undefined stays undefined). */
export const clone = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

/** What a figure.widget's data- attributes declare: its name, controls, state, caption and frames file. */
export function readSpec(dataset) {
  let controls = parseJSON(dataset.controls, []);
  if (!Array.isArray(controls)) controls = [];
  return {
    name: dataset.widget || "",
    controls,
    state: parseJSON(dataset.state, {}) || {},
    caption: dataset.caption || "",
    framesUrl: dataset.frames || "",
  };
}

/** The #labpress-runtime settings, folders made absolute against `baseURI`; null when unusable. */
export function readRuntimeConfig(text, baseURI) {
  const raw = parseJSON(text, null);
  if (!raw || typeof raw.pyodide !== "string" || typeof raw.python !== "string") return null;
  const folder = (url) => {
    const href = new URL(url, baseURI).href;
    return href.endsWith("/") ? href : `${href}/`;
  };
  return {
    pyodide: folder(raw.pyodide),
    python: folder(raw.python),
    files: Array.isArray(raw.files) ? raw.files.map(String) : [],
    packages: raw.packages === "cdn" ? "cdn" : "local",
    cdn: typeof raw.cdn === "string" && raw.cdn ? folder(raw.cdn) : "",
    // The Pyodide memory snapshot the worker restores, if the site ships one, and the digest of the
    // widget API the site ships (worker.js, bootstrap.py).
    snapshot: typeof raw.snapshot === "string" && raw.snapshot ? new URL(raw.snapshot, baseURI).href : "",
    kernel: typeof raw.kernel === "string" ? raw.kernel : "",
  };
}

/** What follows the number in the build's slider readout ("0.5 Hz" gives " Hz"), else " <unit>" or "". */
export function sliderSuffix(control, text) {
  const shown = text || "";
  const match = /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?/i.exec(shown);
  return match ? shown.slice(match[0].length) : control.unit ? ` ${control.unit}` : "";
}

/**
 * Fill in the controls `state` leaves out from the values the build wrote into the form
 * (attributes, not what the browser may have restored). `inputsOf(name)` lists a control's inputs.
 */
export function stateFromForm(controls, state, inputsOf) {
  for (const control of controls) {
    if (state[control.name] !== undefined) continue;
    const inputs = inputsOf(control.name);
    if (!inputs.length) continue;
    let value;
    if (control.kind === "slider" || control.kind === "seed") {
      value = Number(inputs[0].getAttribute("value") ?? inputs[0].value);
    } else if (control.kind === "toggle") {
      value = inputs[0].hasAttribute("checked");
    } else if (control.kind === "choice") {
      const picked = inputs.find((input) => input.hasAttribute("checked"));
      const option = picked && (control.options || [])[Number(picked.value)];
      value = option ? option[0] : undefined;
    } else if (control.kind === "point") {
      const axis = (name) => Number(inputs.find((input) => input.dataset.axis === name)?.getAttribute("value"));
      value = [axis("x"), axis("y")];
      if (!value.every(Number.isFinite)) value = undefined;
    }
    if (value !== undefined && !(typeof value === "number" && !Number.isFinite(value))) state[control.name] = value;
  }
  return state;
}

/** The value a picked radio of a choice stands for: its option's value, else its data-value, else its index. */
export function choiceValue(control, index, dataValue) {
  const option = (control.options || [])[index];
  return option ? option[0] : parseJSON(dataValue, index);
}

/** Whether a choice input (value = option index) is the one `value` picks. */
export function choicePicks(control, inputValue, value) {
  const index = (control.options || []).findIndex((option) => option[0] === value);
  return index >= 0 ? String(index) === inputValue : null; // null: leave the input as it is
}

/** The next roll of a seed button: from the button's value, else the state's, modulo `rolls`. */
export function nextSeed(control, buttonValue, stateValue) {
  const rolls = Number(control.rolls) || 1;
  const current = Number(buttonValue);
  return ((Number.isFinite(current) ? current : Number(stateValue) || 0) + 1) % rolls;
}

/** A point control's [x, y] in `state`, else the low corner of its bounds. */
export function pointOf(control, state) {
  const value = state[control.name];
  if (Array.isArray(value) && value.length === 2) return [Number(value[0]), Number(value[1])];
  return [Number(control.x?.[0]) || 0, Number(control.y?.[0]) || 0];
}

/** The field of a point's x or y input (`axis` "x" or "y"), or undefined when the point has none. */
export function pointField(axis, point) {
  if (!Array.isArray(point)) return undefined;
  const value = axis === "y" ? point[1] : point[0];
  return typeof value === "number" ? String(tidy(value)) : undefined;
}

/** The point once one of its fields (`axis` "x" or "y") is typed in, clamped to that axis's bounds. */
export function typedPoint(control, point, axis, typed) {
  const next = [...point];
  const i = axis === "y" ? 1 : 0;
  next[i] = tidy(clamp(typed, ...(i ? control.y : control.x)));
  return next;
}

/** Bounds-clamped, step-rounded point from data coordinates. */
export function snapPoint(control, x, y) {
  const step = Number(control.step) > 0 ? Number(control.step) : 0;
  const snap = (v, bounds) => {
    const rounded = step ? Math.round(v / step) * step : v;
    return tidy(clamp(rounded, Number(bounds[0]), Number(bounds[1])));
  };
  return [snap(x, control.x || [-Infinity, Infinity]), snap(y, control.y || [-Infinity, Infinity])];
}

const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }; // screen directions

/**
 * Where an arrow key moves a point handle, or null for any other key (or with Alt, Ctrl or Meta).
 * `dirX`/`dirY` are the axes' pixel directions (readScale's `direction`); Shift takes bigger steps.
 */
export function keyedPoint(control, point, key, modifiers, dirX = 1, dirY = -1) {
  const move = Object.hasOwn(ARROWS, key) ? ARROWS[key] : null;
  if (!move || modifiers.altKey || modifiers.ctrlKey || modifiers.metaKey) return null;
  const step = (Number(control.step) > 0 ? Number(control.step) : 0.05) * (modifiers.shiftKey ? 5 : 1);
  const [x, y] = point;
  return snapPoint(control, x + move[0] * step * dirX, y + move[1] * step * dirY);
}

/** The point controls whose value in `state` differs from the one in `shown`. */
export function movedPoints(controls, state, shown) {
  return controls.filter((c) => c.kind === "point"
    && JSON.stringify(state[c.name]) !== JSON.stringify(shown?.[c.name])).map((c) => c.name);
}

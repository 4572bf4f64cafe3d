// LabPress widget runtime: a widget's state in the page's URL, as pure functions.
//
// Each widget whose controls are not at their starting values has one query parameter,
// `w.<figure id>`, holding the controls that differ as `name:value` pairs joined by commas:
//
//   /dials-and-handles/?w.widget-coins-1=count:12,weighted:on&w.widget-mirror-1=spot:-0.2~0.45#setup
//
// A slider or seed value is its number, a toggle `on` or `off`, a choice its option's value, a point
// `x~y`; names and values are percent-encoded (so a comma or colon in a choice's text cannot split
// it). The rest of the URL (other parameters, the #fragment) is left as it is. A value read back is
// checked against the controls by the build's rules (kernel/controls.py): a value that is out of
// range, an option the widget does not have, or a control it does not have makes the whole
// parameter invalid, and the widget keeps its starting state. Nothing here touches document or
// window: tests/js/urlstate.test.mjs runs all of it under node.

import { tidy } from "./frames.js";

/** The query parameter holding the state of the widget whose figure has the id `id`. */
export const paramFor = (id) => `w.${id}`;

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
const SLOP = 1e-9; // the build's rounding slop on bounds (Slider.coerce, Point.coerce)

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function decodePiece(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return null; // a lone % or a broken escape
  }
}

function numberOf(text) {
  return typeof text === "string" && NUMBER.test(text) ? Number(text) : NaN;
}

const shownNumber = (x) => String(tidy(x));

/** A control's value as the text after `name:` (not yet percent-encoded), or null when it has none. */
export function encodeValue(control, value) {
  if (control.kind === "slider" || control.kind === "seed") {
    return typeof value === "number" && Number.isFinite(value) ? shownNumber(value) : null;
  }
  if (control.kind === "toggle") return value ? "on" : "off";
  if (control.kind === "choice") return typeof value === "string" || typeof value === "number" ? String(value) : null;
  if (control.kind === "point") {
    if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => typeof v === "number" && Number.isFinite(v))) return null;
    return `${shownNumber(value[0])}~${shownNumber(value[1])}`;
  }
  return null;
}

/**
 * The parameter's value for `state`: the controls whose value differs from `defaults` (the state the
 * page starts in), in control order; "" when none does, which means the parameter goes away.
 */
export function encodeState(controls, state, defaults) {
  const parts = [];
  for (const control of controls) {
    const text = encodeValue(control, state[control.name]);
    if (text === null || text === encodeValue(control, defaults?.[control.name])) continue;
    const value = control.kind === "point" ? text.split("~").map(encodeURIComponent).join("~") : encodeURIComponent(text);
    parts.push(`${encodeURIComponent(control.name)}:${value}`);
  }
  return parts.join(",");
}

/** The value `text` stands for, by the control's rules, as {value} or {error}. */
export function decodeValue(control, text) {
  const bad = (why) => ({ error: `'${control.name}' ${why}, not ${JSON.stringify(text)}` });
  if (control.kind === "slider") {
    const x = numberOf(text);
    const lo = Number(control.min);
    const hi = Number(control.max);
    if (!Number.isFinite(x)) return bad("must be a number");
    if (x < lo - SLOP || x > hi + SLOP) return bad(`must be between ${lo} and ${hi}`);
    const step = Number(control.step);
    if (!(step > 0)) return { value: tidy(x) };
    const last = Math.floor((hi - lo) / step + SLOP);
    const index = Math.max(0, Math.min(Math.round((x - lo) / step), last));
    return { value: tidy(lo + index * step) };
  }
  if (control.kind === "seed") {
    const n = numberOf(text);
    const rolls = Number(control.rolls) || 1;
    if (!Number.isInteger(n) || n < 0 || n >= rolls) return bad(`must be a whole number from 0 to ${rolls - 1}`);
    return { value: n };
  }
  if (control.kind === "toggle") {
    if (["on", "true", "1"].includes(text)) return { value: true };
    if (["off", "false", "0"].includes(text)) return { value: false };
    return bad("must be on or off");
  }
  if (control.kind === "choice") {
    for (const [option] of control.options || []) {
      if (typeof option === "string" ? option === text : numberOf(text) === option) return { value: option };
    }
    return bad("must be one of its options");
  }
  if (control.kind === "point") {
    const parts = text.split("~");
    const [x, y] = parts.map(numberOf);
    if (parts.length !== 2 || !Number.isFinite(x) || !Number.isFinite(y)) return bad("must be a point x~y");
    const [x0, x1] = (control.x || [-Infinity, Infinity]).map(Number);
    const [y0, y1] = (control.y || [-Infinity, Infinity]).map(Number);
    if (!(x0 - SLOP <= x && x <= x1 + SLOP && y0 - SLOP <= y && y <= y1 + SLOP)) {
      return bad(`must lie within x ${x0}..${x1} and y ${y0}..${y1}`);
    }
    return { value: [tidy(Math.min(Math.max(x, x0), x1)), tidy(Math.min(Math.max(y, y0), y1))] };
  }
  return { error: `'${control.name}' is a ${control.kind}, which a link cannot set` };
}

function decodeRaw(controls, raw) {
  const byName = new Map(controls.map((c) => [c.name, c]));
  const state = {};
  if (raw === "") return { state };
  for (const pair of raw.split(",")) {
    const colon = pair.indexOf(":");
    if (colon < 1) return { error: `${JSON.stringify(pair)} is not name:value` };
    const name = decodePiece(pair.slice(0, colon));
    const control = name === null ? undefined : byName.get(name);
    if (!control) return { error: `the widget has no control ${JSON.stringify(name ?? pair.slice(0, colon))}` };
    if (Object.hasOwn(state, name)) return { error: `'${name}' is given twice` };
    const rawValue = pair.slice(colon + 1);
    const pieces = (control.kind === "point" ? rawValue.split("~") : [rawValue]).map(decodePiece);
    if (pieces.includes(null)) return { error: `'${name}' has a broken %-escape` };
    const { value, error } = decodeValue(control, pieces.join("~"));
    if (error) return { error };
    state[name] = value;
  }
  return { state };
}

/**
 * The state a parameter's value (as it stands in the URL, still percent-encoded) sets: {state}, the
 * controls it names with checked values, or {error} saying why the whole of it is refused. A value
 * whose commas and colons were themselves percent-encoded on the way (some mail and chat tools do) is
 * read too.
 */
export function decodeState(controls, raw) {
  if (typeof raw !== "string") return { error: "no state" };
  const first = decodeRaw(controls, raw);
  if (!first.error) return first;
  const unescaped = decodePiece(raw);
  if (unescaped !== null && unescaped !== raw && /[,:]/.test(unescaped)) {
    const second = decodeRaw(controls, unescaped);
    if (!second.error) return second;
  }
  return first;
}

/** The controls of `state` whose value differs from `defaults`. */
export const changedNames = (controls, state, defaults) => controls
  .filter((c) => Object.hasOwn(state, c.name) && !same(state[c.name], defaults?.[c.name])).map((c) => c.name);

function splitSearch(search) {
  const text = (search || "").replace(/^\?/, "");
  return text ? text.split("&") : [];
}

function keyOf(segment) {
  const eq = segment.indexOf("=");
  return decodePiece((eq < 0 ? segment : segment.slice(0, eq)).replace(/\+/g, " "));
}

/** The raw (still percent-encoded) value of the query parameter `name` in `search`; null when absent. */
export function readParam(search, name) {
  for (const segment of splitSearch(search)) {
    if (keyOf(segment) !== name) continue;
    const eq = segment.indexOf("=");
    return eq < 0 ? "" : segment.slice(eq + 1);
  }
  return null;
}

/**
 * `search` with the parameters in `changes` (a Map from name to raw value, or to null or "" to take
 * it out) set: each in the place it had, new ones at the end; every other parameter is kept as it
 * was written. Returns "" or "?…".
 */
export function withParams(search, changes) {
  const done = new Set();
  const out = [];
  for (const segment of splitSearch(search)) {
    const key = keyOf(segment);
    if (!changes.has(key)) {
      out.push(segment);
    } else if (!done.has(key)) {
      done.add(key);
      const value = changes.get(key);
      if (value) out.push(`${encodeURIComponent(key)}=${value}`);
    }
  }
  for (const [key, value] of changes) {
    if (!done.has(key) && value) out.push(`${encodeURIComponent(key)}=${value}`);
  }
  return out.length ? `?${out.join("&")}` : "";
}

/**
 * The link to one widget's view: `href` (the page's address) with that widget's parameter only
 * (other widgets' states left out, other parameters kept) and the figure's id as its fragment, so
 * the link opens at the figure.
 */
export function linkTo(href, id, encoded) {
  const hash = href.indexOf("#");
  const bare = hash < 0 ? href : href.slice(0, hash);
  const question = bare.indexOf("?");
  const base = question < 0 ? bare : bare.slice(0, question);
  const search = question < 0 ? "" : bare.slice(question);
  const others = new Map(splitSearch(search).map(keyOf).filter((key) => key?.startsWith("w.")).map((key) => [key, null]));
  others.set(paramFor(id), encoded || null);
  return `${base}${withParams(search, others)}#${encodeURIComponent(id)}`;
}

/**
 * Whether hovering may start Pyodide (about 12.5 MB): not when the browser reports Save-Data or a
 * slow connection (Network Information API's `navigator.connection`); a press or focus still does.
 */
export function hoverMayStart(connection) {
  if (!connection) return true;
  if (connection.saveData === true) return false;
  return !["slow-2g", "2g"].includes(connection.effectiveType);
}

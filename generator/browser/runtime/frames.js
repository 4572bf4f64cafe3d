// LabPress widget runtime: the pure rules, with no page, worker or DOM behind them.
//
// main.js imports these; tests/js/ runs them under node, and the rules the build also
// keeps in Python (frame keys, number tidying) are checked on both sides against the same
// tables in tests/shared_cases/. Nothing in this module may touch document or window.

export function parseJSON(text, fallback) {
  if (typeof text !== "string" || text === "") return fallback;
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}

/** Round away binary noise so 0.1 + 0.2 shows (and keys) as 0.3 (the build's _tidy in kernel/controls.py). */
export const tidy = (x) => Number.parseFloat(x.toFixed(10)) + 0;

export const clamp = (x, lo, hi) => Math.min(Math.max(x, Math.min(lo, hi)), Math.max(lo, hi));

/** "d0 d1 p0 p1" from data-scale-x/y, or null. */
export function readScale(svg, axis) {
  const parts = (svg?.getAttribute(`data-scale-${axis}`) || "").trim().split(/\s+/).map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n)) || parts[0] === parts[1] || parts[2] === parts[3]) return null;
  const [d0, d1, p0, p1] = parts;
  return {
    toPixel: (v) => p0 + ((v - d0) * (p1 - p0)) / (d1 - d0),
    toData: (p) => d0 + ((p - p0) * (d1 - d0)) / (p1 - p0),
    direction: Math.sign((p1 - p0) / (d1 - d0)), // +1 when pixels grow with the data
  };
}

/** The key of a state's pre-computed frame (the build's frame_key in widgets.py), or null if it has none. */
export function frameKey(controls, state) {
  const parts = [];
  for (const control of controls) {
    const value = state[control.name];
    let index;
    if (control.kind === "slider") {
      if (!(control.step > 0) || typeof value !== "number") return null;
      index = Math.round((value - control.min) / control.step);
    } else if (control.kind === "toggle") {
      index = value ? 1 : 0;
    } else if (control.kind === "choice") {
      index = (control.options || []).findIndex((option) => option[0] === value);
      if (index < 0) return null;
    } else if (control.kind === "seed") {
      index = value;
    } else {
      return null; // a point (or anything continuous) has no pre-computed frames
    }
    parts.push(String(index));
  }
  return parts.join("-");
}

// ---------------------------------------------------------------- a range input's value under the pointer
//
// While a slider's thumb is held, controls.js sets the value itself from each raw pointer update
// (the browser gives the page a range input's new value only with the frame-aligned `input` event).
// The value must be the one the browser would have set at that pointer position, digit for digit, or
// the two would fight over the thumb: this is Chromium's mapping (SliderThumbElement's position from
// a point, StepRange's proportion and step rounding), measured against Chromium's own range inputs
// (tests/js/range.test.mjs, tests/test_widget_drag.py). Its numbers are Blink's Decimal: a
// coefficient of at most 18 digits (longer results cut, not rounded) times a power of ten, shown with
// at most 15 significant digits. Decimals here are [coefficient as a BigInt, exponent].

const DIGITS = 18; // a Decimal's coefficient keeps this many digits
const SHOWN = 15; // and its text this many (DBL_DIG)
const LAYOUT_UNIT = 64; // layout positions are in 1/64 px; a pointer's position is cut down to one
export const RANGE_THUMB_PX = 16; // the width of Chromium's own range thumb (appearance: auto), in CSS px

const digitCount = (m) => (m === 0n ? 0 : (m < 0n ? -m : m).toString().length);
const tenTo = (n) => 10n ** BigInt(n);

function cut([m, e]) {
  const over = digitCount(m) - DIGITS;
  return over > 0 ? [m / tenTo(over), e + over] : [m, e];
}

/** A decimal number's text ("0.05", "-3", "1e-7"), or null when it is not one. */
export function parseDecimal(text) {
  const found = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(String(text ?? ""));
  if (!found || (found[2] + (found[3] ?? "")) === "") return null;
  const [, sign, whole, fraction = "", exponent = "0"] = found;
  const m = BigInt(whole + fraction || "0");
  return cut([sign === "-" ? -m : m, Number(exponent) - fraction.length]);
}

function add([am, ae], [bm, be]) {
  if (am === 0n) return [bm, be];
  if (bm === 0n) return [am, ae];
  // Blink lines the two up at the smaller exponent, unless the larger one would pass 18 digits: then
  // the smaller is cut instead.
  if (ae < be) [am, ae, bm, be] = [bm, be, am, ae];
  const shift = ae - be;
  const over = digitCount(am) + shift - DIGITS;
  if (over <= 0) return cut([am * tenTo(shift) + bm, be]);
  return cut([am * tenTo(shift - over) + bm / tenTo(over), be + over]);
}

const negate = ([m, e]) => [-m, e];
const multiply = ([am, ae], [bm, be]) => cut([am * bm, ae + be]);

/** -1, 0 or 1 as a is below, at or above b (exactly). */
function compare([am, ae], [bm, be]) {
  const e = Math.min(ae, be);
  const a = am * tenTo(ae - e);
  const b = bm * tenTo(be - e);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The whole number nearest a / b, halves away from zero (Decimal's Round of the quotient). */
function roundQuotient([am, ae], [bm, be]) {
  let num = am;
  let den = bm;
  if (ae > be) num *= tenTo(ae - be);
  else den *= tenTo(be - ae);
  if (den < 0n) [num, den] = [-num, -den];
  const twice = 2n * num;
  return twice >= 0n ? (twice + den) / (2n * den) : -((-twice + den) / (2n * den));
}

/** The text a range input's value is written as: at most 15 significant digits, the 16th rounding half up. */
export function decimalText([m, e]) {
  const sign = m < 0n ? "-" : "";
  let digits = (m < 0n ? -m : m).toString();
  const over = digits.length - SHOWN;
  if (over > 0) {
    const up = Number(digits[SHOWN]) >= 5;
    digits = (BigInt(digits.slice(0, SHOWN)) + (up ? 1n : 0n)).toString();
    e += over + (digits.length > SHOWN ? 1 : 0);
    if (digits.length > SHOWN) digits = digits.slice(0, SHOWN);
  }
  digits = digits.replace(/0+$/, (zeros) => { e += zeros.length; return ""; }) || "0";
  if (digits === "0") return "0";
  if (e >= 0) return sign + digits + "0".repeat(e);
  const point = digits.length + e;
  return sign + (point > 0 ? `${digits.slice(0, point)}.${digits.slice(point)}` : `0.${"0".repeat(-point)}${digits}`);
}

/**
 * A range input's minimum, maximum, step (null for "any") and step base from its attributes, as the
 * browser reads them: min 0 and max 100 unless given, a max below the min is the min, a missing,
 * malformed or non-positive step is 1; the base is the min attribute, else the value attribute, else 0.
 */
export function rangeSteps({ min, max, step, value } = {}) {
  const low = parseDecimal(min) ?? [0n, 0];
  let high = parseDecimal(max) ?? [100n, 0];
  if (compare(high, low) < 0) high = low;
  let grid = null;
  if (String(step ?? "").trim().toLowerCase() !== "any") {
    grid = parseDecimal(step);
    if (!grid || compare(grid, [0n, 0]) <= 0) grid = [1n, 0];
  }
  return { min: low, max: high, step: grid, base: parseDecimal(min) ?? parseDecimal(value) ?? [0n, 0] };
}

/**
 * The value (as the input's text) a horizontal range input takes while its thumb is dragged with the
 * pointer at `clientX`: the thumb's centre follows the pointer along the track, which is the input's
 * content box less half a thumb at each end; `track` is that box on screen ({left, width} in CSS px),
 * the thumb's width and whether the input runs right to left; `attributes` are the input's min, max,
 * step and value attributes (text, as written). Null when the track has no length.
 */
export function rangeValueAt(clientX, { left, width, thumb = RANGE_THUMB_PX, rtl = false }, attributes) {
  const unit = (px) => Math.round(px * LAYOUT_UNIT) / LAYOUT_UNIT;
  const length = unit(width) - unit(thumb);
  if (!Number.isFinite(clientX) || !Number.isFinite(left) || !(length > 0)) return null;
  const at = Math.trunc(clientX * LAYOUT_UNIT) / LAYOUT_UNIT; // a layout unit, as the browser cuts it
  const offset = Math.min(Math.max(at - unit(left) - unit(thumb) / 2, 0), length);
  let fraction = parseDecimal(String(offset / length)); // Decimal::FromDouble: the double's shortest text
  if (rtl) fraction = add([1n, 0], negate(fraction));
  const { min, max, step, base } = rangeSteps(attributes);
  let value = add(min, multiply(fraction, add(max, negate(min))));
  if (compare(value, min) < 0) value = min;
  if (compare(value, max) > 0) value = max;
  if (step) {
    let snapped = add(base, multiply([roundQuotient(add(value, negate(base)), step), 0], step));
    if (compare(snapped, max) > 0) snapped = add(snapped, negate(step));
    else if (compare(snapped, min) < 0) snapped = add(snapped, step);
    if (compare(snapped, min) >= 0 && compare(snapped, max) <= 0) value = snapped; // else a step too big for the range
  }
  return decimalText(value);
}

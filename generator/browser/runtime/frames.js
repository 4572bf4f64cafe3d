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

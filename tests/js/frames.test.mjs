// Unit tests for the widget runtime's pure rules (generator/browser/runtime/frames.js), run by
// `node --test tests/js/` from tests/test_browser_code.py. The frame-key and tidying tables
// in tests/shared_cases/ are the same ones the Python side is checked against.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { clamp, frameKey, parseJSON, readScale, tidy } from "../../generator/browser/runtime/frames.js";

const table = (name) => JSON.parse(readFileSync(new URL(`../shared_cases/${name}.json`, import.meta.url), "utf8")).cases;
const expected = (entry, field) => (Object.hasOwn(entry, "js") ? entry.js : entry[field]);

test("frameKey follows the shared table", () => {
  const cases = table("frame_keys");
  assert.ok(cases.length > 0);
  for (const entry of cases) {
    assert.equal(frameKey(entry.controls, entry.state), expected(entry, "key"), entry.name);
  }
});

test("tidy follows the shared table", () => {
  const cases = table("tidy");
  assert.ok(cases.length > 0);
  for (const entry of cases) {
    const got = tidy(entry.x);
    assert.ok(Object.is(got, expected(entry, "tidy")), `tidy(${entry.x}) is ${got}, not ${expected(entry, "tidy")}`);
  }
});

test("tidy never gives negative zero", () => {
  for (const x of [-0, -1e-12, -4e-11]) assert.ok(Object.is(tidy(x), 0), String(x));
});

test("frameKey reads a missing slider value as no frame", () => {
  assert.equal(frameKey([{ name: "a", kind: "slider", min: 0, max: 1, step: 0.1 }], {}), null);
});

test("parseJSON falls back on anything that is not JSON text", () => {
  assert.deepEqual(parseJSON('{"a": [1, 2]}', null), { a: [1, 2] });
  assert.equal(parseJSON("{not json", "fallback"), "fallback");
  assert.equal(parseJSON("", 7), 7);
  assert.equal(parseJSON(undefined, 7), 7);
  assert.equal(parseJSON(null, 7), 7);
  assert.equal(parseJSON("null", 7), null); // JSON's null is an answer, not a failure
});

test("clamp keeps a value within bounds given in either order", () => {
  assert.equal(clamp(5, 0, 1), 1);
  assert.equal(clamp(-5, 0, 1), 0);
  assert.equal(clamp(0.5, 1, 0), 0.5);
  assert.equal(clamp(5, 1, 0), 1);
  assert.equal(clamp(-Infinity, -1, 1), -1);
});

const svgWith = (attrs) => ({ getAttribute: (name) => (Object.hasOwn(attrs, name) ? attrs[name] : null) });

test("readScale maps data to pixels and back", () => {
  const scale = readScale(svgWith({ "data-scale-x": "0 10 50 550" }), "x");
  assert.equal(scale.toPixel(0), 50);
  assert.equal(scale.toPixel(5), 300);
  assert.equal(scale.toData(550), 10);
  assert.equal(scale.direction, 1);
  const y = readScale(svgWith({ "data-scale-y": " -1  1\t400 20 " }), "y"); // SVG y grows downwards
  assert.equal(y.toPixel(-1), 400);
  assert.equal(y.toData(210), 0);
  assert.equal(y.direction, -1);
});

test("readScale refuses a missing or unusable scale", () => {
  for (const text of [undefined, "", "0 10 50", "0 10 50 550 1", "0 0 50 550", "0 10 50 50", "0 10 50 x", "0 Infinity 1 2"]) {
    assert.equal(readScale(svgWith(text === undefined ? {} : { "data-scale-x": text }), "x"), null, String(text));
  }
  assert.equal(readScale(null, "x"), null);
  assert.equal(readScale(svgWith({ "data-scale-y": "0 10 50 550" }), "x"), null);
});

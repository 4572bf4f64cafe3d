// Unit tests for a widget's state in the page URL (generator/browser/runtime/urlstate.js), run by
// `node --test tests/js/` from tests/test_browser_code.py. The controls are written as the page's
// data-controls holds them (the build's Control.describe() with its name).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  changedNames, decodeState, decodeValue, encodeState, encodeValue, hoverMayStart, linkTo, paramFor, readParam, withParams,
} from "../../generator/browser/runtime/urlstate.js";

const slider = { name: "count", kind: "slider", min: 4, max: 16, step: 4 };
const toggle = { name: "weighted", kind: "toggle" };
const seed = { name: "roll", kind: "seed", rolls: 4 };
const choice = { name: "how", kind: "choice", options: [["mean", "Mean"], ["median", "Median"], ["a,b:c", "Odd"]] };
const numbers = { name: "k", kind: "choice", options: [[16, "16"], [32, "32"], [2.5, "2.5"]] };
const point = { name: "spot", kind: "point", x: [-1, 1], y: [-1, 1], step: 0.05 };
const fine = { name: "x", kind: "slider", min: 0, max: 10, step: 0.01 };
const free = { name: "t", kind: "slider", min: 0, max: 1, step: null };
const controls = [slider, toggle, seed, choice, point];
const defaults = { count: 8, weighted: false, roll: 0, how: "mean", spot: [0.6, 0.3] };

test("the parameter is w. and the figure's id", () => {
  assert.equal(paramFor("widget-coins-1"), "w.widget-coins-1");
  assert.equal(paramFor("fig-noise"), "w.fig-noise");
});

test("only the controls that differ from the starting state are written, in control order", () => {
  assert.equal(encodeState(controls, { ...defaults }, defaults), "");
  assert.equal(encodeState(controls, { ...defaults, roll: 2, count: 12 }, defaults), "count:12,roll:2");
  assert.equal(encodeState(controls, { ...defaults, weighted: true }, defaults), "weighted:on");
  assert.equal(encodeState(controls, { ...defaults, how: "median", spot: [-0.2, 0.45] }, defaults), "how:median,spot:-0.2~0.45");
});

test("values are written readably and percent-encoded where they must be", () => {
  assert.equal(encodeValue(slider, 12), "12");
  assert.equal(encodeValue(fine, 0.30000000000000004), "0.3");
  assert.equal(encodeValue(toggle, true), "on");
  assert.equal(encodeValue(toggle, false), "off");
  assert.equal(encodeValue(numbers, 32), "32");
  assert.equal(encodeValue(point, [0.1 + 0.2, -1]), "0.3~-1");
  assert.equal(encodeValue(slider, "12"), null);
  assert.equal(encodeValue(point, [1]), null);
  assert.equal(encodeState([choice], { how: "a,b:c" }, { how: "mean" }), "how:a%2Cb%3Ac");
  assert.equal(encodeState([{ ...free, name: "t" }], { t: 1e21 }, { t: 0 }), "t:1e%2B21");
});

test("a written state reads back as the same state", () => {
  const states = [
    { ...defaults, count: 16, weighted: true, roll: 3 },
    { ...defaults, how: "a,b:c" },
    { ...defaults, spot: [-1, 0.05] },
  ];
  for (const state of states) {
    const text = encodeState(controls, state, defaults);
    const { state: read, error } = decodeState(controls, text);
    assert.equal(error, undefined, text);
    assert.deepEqual({ ...defaults, ...read }, state, text);
  }
  assert.deepEqual(decodeState([numbers], encodeState([numbers], { k: 2.5 }, { k: 16 })), { state: { k: 2.5 } });
});

test("an empty parameter sets nothing", () => {
  assert.deepEqual(decodeState(controls, ""), { state: {} });
});

test("sliders are checked against their range and snapped to their grid, as the build does", () => {
  assert.deepEqual(decodeValue(slider, "12"), { value: 12 });
  assert.deepEqual(decodeValue(slider, "13"), { value: 12 });
  assert.deepEqual(decodeValue(slider, "16.0000000001"), { value: 16 });
  assert.deepEqual(decodeValue(fine, "2.345"), { value: 2.35 });
  assert.deepEqual(decodeValue(free, "0.123456789012"), { value: 0.123456789 });
  assert.deepEqual(decodeValue({ name: "a", kind: "slider", min: 0, max: 1, step: 0.6 }, "1"), { value: 0.6 });
  assert.match(decodeValue(slider, "17").error, /between 4 and 16/);
  assert.match(decodeValue(slider, "1e400").error, /must be a number/); // Infinity
  for (const text of ["", "twelve", "0x10", "12px", "Infinity", "NaN", " 12"]) {
    assert.match(decodeValue(slider, text).error, /must be a number/, text);
  }
});

test("toggles, seeds, choices and points follow their controls' rules", () => {
  assert.deepEqual(decodeValue(toggle, "on"), { value: true });
  assert.deepEqual(decodeValue(toggle, "off"), { value: false });
  assert.deepEqual(decodeValue(toggle, "1"), { value: true });
  assert.match(decodeValue(toggle, "yes").error, /on or off/);

  assert.deepEqual(decodeValue(seed, "3"), { value: 3 });
  for (const text of ["4", "-1", "1.5", ""]) assert.match(decodeValue(seed, text).error, /0 to 3/, text);

  assert.deepEqual(decodeValue(choice, "median"), { value: "median" });
  assert.match(decodeValue(choice, "Median").error, /options/); // the value, not the text shown
  assert.deepEqual(decodeValue(numbers, "32"), { value: 32 });
  assert.deepEqual(decodeValue(numbers, "32.0"), { value: 32 });
  assert.match(decodeValue(numbers, "64").error, /options/);

  assert.deepEqual(decodeValue(point, "0.5~-0.25"), { value: [0.5, -0.25] });
  assert.deepEqual(decodeValue(point, "1.0000000001~0"), { value: [1, 0] });
  assert.match(decodeValue(point, "2~0").error, /within x -1..1/);
  for (const text of ["0.5", "0.5~", "a~b", "1~2~3"]) assert.match(decodeValue(point, text).error, /point/, text);
});

test("a parameter with any bad part is refused as a whole", () => {
  assert.match(decodeState(controls, "count:12,nope:1").error, /no control "nope"/);
  assert.match(decodeState(controls, "count:12,count:16").error, /twice/);
  assert.match(decodeState(controls, "count:99,roll:1").error, /between 4 and 16/);
  assert.match(decodeState(controls, "count").error, /not name:value/);
  assert.match(decodeState(controls, ":12").error, /not name:value/);
  assert.match(decodeState(controls, "how:%E0%A4%A").error, /broken %-escape/);
  assert.match(decodeState(controls, undefined).error, /no state/);
});

test("a parameter whose commas and colons were percent-encoded on the way still reads", () => {
  assert.deepEqual(decodeState(controls, "count%3A12%2Croll%3A2"), { state: { count: 12, roll: 2 } });
  assert.deepEqual(decodeState(controls, "how:a%2Cb%3Ac"), { state: { how: "a,b:c" } }); // an escaped comma in a value stays one
});

test("changedNames lists the controls a partial state moves", () => {
  assert.deepEqual(changedNames(controls, { count: 8, roll: 2, spot: [0.6, 0.3] }, defaults), ["roll"]);
  assert.deepEqual(changedNames(controls, { spot: [0, 0] }, defaults), ["spot"]);
  assert.deepEqual(changedNames(controls, {}, defaults), []);
});

test("readParam finds a raw value among the page's other parameters", () => {
  const search = "?utm_source=feed&w.widget-coins-1=count:12,roll:2&w.fig-x=&flag";
  assert.equal(readParam(search, "w.widget-coins-1"), "count:12,roll:2");
  assert.equal(readParam(search, "w.fig-x"), "");
  assert.equal(readParam(search, "flag"), "");
  assert.equal(readParam(search, "w.widget-decay-1"), null);
  assert.equal(readParam("", "w.a"), null);
  assert.equal(readParam("?w%2Ea=rate:0.5", "w.a"), "rate:0.5"); // an encoded name is the same name
});

test("withParams sets, replaces and removes parameters, keeping the others as written", () => {
  const set = (search, entries) => withParams(search, new Map(entries));
  assert.equal(set("", [["w.a", "rate:0.5"]]), "?w.a=rate:0.5");
  assert.equal(set("?x=%20y&w.a=rate:0.5&z", [["w.a", "rate:0.7"]]), "?x=%20y&w.a=rate:0.7&z");
  assert.equal(set("?w.a=rate:0.5&w.b=k:1", [["w.a", ""], ["w.c", "t:on"]]), "?w.b=k:1&w.c=t:on");
  assert.equal(set("?w.a=rate:0.5", [["w.a", null]]), "");
  assert.equal(set("?w.a=1&w.a=2", [["w.a", "3"]]), "?w.a=3"); // a repeated parameter becomes one
  assert.equal(set("?labpress-force-pyodide=1", [["w.b", "k:1"]]), "?labpress-force-pyodide=1&w.b=k:1");
});

test("linkTo keeps the page and this widget's state, drops the others', and opens at the figure", () => {
  const page = "https://notes.example/sub/post/?lang=en&w.widget-a-1=k:1&w.widget-b-1=t:on#setup";
  assert.equal(linkTo(page, "widget-b-1", "t:off"), "https://notes.example/sub/post/?lang=en&w.widget-b-1=t:off#widget-b-1");
  assert.equal(linkTo(page, "widget-c-1", ""), "https://notes.example/sub/post/?lang=en#widget-c-1");
  assert.equal(linkTo("http://127.0.0.1:8000/p/", "fig-x", "rate:0.5"), "http://127.0.0.1:8000/p/?w.fig-x=rate:0.5#fig-x");
});

test("hovering starts Python unless the browser asks to save data or is on a slow connection", () => {
  assert.equal(hoverMayStart(undefined), true);
  assert.equal(hoverMayStart({ effectiveType: "4g", saveData: false }), true);
  assert.equal(hoverMayStart({ effectiveType: "3g" }), true);
  assert.equal(hoverMayStart({ effectiveType: "4g", saveData: true }), false);
  assert.equal(hoverMayStart({ effectiveType: "2g" }), false);
  assert.equal(hoverMayStart({ effectiveType: "slow-2g" }), false);
});

// Unit tests for the page contract's pure half (generator/browser/runtime/contract.js), run by
// `node --test tests/js/` from tests/test_browser_code.py. Form inputs are stand-ins with the
// few members the functions read (getAttribute, hasAttribute, dataset, value).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  choicePicks, choiceValue, clone, keyedPoint, movedPoints, nextSeed, pointField, pointOf, readRuntimeConfig, readSpec,
  sliderSuffix, snapPoint, stateFromForm, typedPoint,
} from "../../generator/browser/runtime/contract.js";

const input = (attributes, extra = {}) => ({
  getAttribute: (name) => (Object.hasOwn(attributes, name) ? attributes[name] : null),
  hasAttribute: (name) => Object.hasOwn(attributes, name),
  dataset: {},
  value: attributes.value ?? "",
  ...extra,
});

test("readSpec reads a figure's data- attributes, and survives bad JSON", () => {
  const spec = readSpec({ widget: "noise", controls: '[{"name": "a", "kind": "slider"}]', state: '{"a": 2}',
    caption: "c", frames: "f.json" });
  assert.deepEqual(spec, { name: "noise", controls: [{ name: "a", kind: "slider" }], state: { a: 2 }, caption: "c",
    framesUrl: "f.json" });
  assert.deepEqual(readSpec({ controls: "{oops", state: "null" }), { name: "", controls: [], state: {}, caption: "",
    framesUrl: "" });
  assert.deepEqual(readSpec({ controls: '{"not": "a list"}' }).controls, []);
});

test("readRuntimeConfig makes folders absolute and defaults the rest", () => {
  const base = "https://example.org/posts/p/";
  assert.deepEqual(readRuntimeConfig('{"pyodide": "/assets/pyodide-1", "python": "../py/", "files": [1, "a.py"]}', base), {
    pyodide: "https://example.org/assets/pyodide-1/",
    python: "https://example.org/posts/py/",
    files: ["1", "a.py"],
    packages: "local",
    cdn: "",
    snapshot: "",
    kernel: "",
  });
  const snap = readRuntimeConfig('{"pyodide": "/p/", "python": "/q/", "snapshot": "/p/snapshot-ab.bin.gz", "kernel": "k1"}', base);
  assert.equal(snap.snapshot, "https://example.org/p/snapshot-ab.bin.gz");
  assert.equal(snap.kernel, "k1");
  const cdn = readRuntimeConfig('{"pyodide": "/p/", "python": "/q/", "packages": "cdn", "cdn": "https://cdn.test/x"}', base);
  assert.equal(cdn.packages, "cdn");
  assert.equal(cdn.cdn, "https://cdn.test/x/");
  assert.equal(readRuntimeConfig(undefined, base), null);
  assert.equal(readRuntimeConfig('{"pyodide": "/p/"}', base), null);
  assert.equal(readRuntimeConfig("not json", base), null);
});

test("sliderSuffix keeps the build's spelling after the number", () => {
  assert.equal(sliderSuffix({ unit: "Hz" }, "0.5\u202fHz"), "\u202fHz");
  assert.equal(sliderSuffix({}, " -1.5e-3 s"), " s");
  assert.equal(sliderSuffix({}, "3"), "");
  assert.equal(sliderSuffix({ unit: "Hz" }, undefined), " Hz");
  assert.equal(sliderSuffix({}, "n/a"), "");
});

test("stateFromForm fills only what the state leaves out, from the build's attributes", () => {
  const controls = [
    { name: "s", kind: "slider" },
    { name: "t", kind: "toggle" },
    { name: "c", kind: "choice", options: [["sine", "Sine"], ["square", "Square"]] },
    { name: "p", kind: "point" },
    { name: "seed", kind: "seed" },
    { name: "kept", kind: "slider" },
    { name: "bad", kind: "slider" },
  ];
  const inputs = {
    s: [input({ value: "0.25" }, { value: "0.9" })], // the attribute, not what the browser restored
    t: [input({ checked: "" })],
    c: [input({}, { value: "0" }), input({ checked: "" }, { value: "1" })],
    p: [input({ value: "1" }, { dataset: { axis: "x" } }), input({ value: "2" }, { dataset: { axis: "y" } })],
    seed: [input({}, { value: "4" })],
    kept: [input({ value: "7" })],
    bad: [input({ value: "x" })],
  };
  const state = stateFromForm(controls, { kept: 1 }, (name) => inputs[name] || []);
  assert.deepEqual(state, { kept: 1, s: 0.25, t: true, c: "square", p: [1, 2], seed: 4 });
  const half = stateFromForm([{ name: "p", kind: "point" }], {}, () => [input({ value: "1" }, { dataset: { axis: "x" } })]);
  assert.deepEqual(half, {});
});

test("choices, seeds and point fields", () => {
  const choice = { options: [["a", "A"], [2, "Two"]] };
  assert.equal(choiceValue(choice, 1, undefined), 2);
  assert.equal(choiceValue(choice, 5, '"x"'), "x");
  assert.equal(choiceValue(choice, 5, undefined), 5);
  assert.equal(choicePicks(choice, "1", 2), true);
  assert.equal(choicePicks(choice, "0", 2), false);
  assert.equal(choicePicks(choice, "0", "missing"), null);
  assert.equal(nextSeed({ rolls: 3 }, "2", 0), 0);
  assert.equal(nextSeed({ rolls: 3 }, "x", 1), 2); // no number on the button: from the state
  assert.equal(nextSeed({ rolls: 3 }, "", 1), 1); // as Number("") is 0
  assert.equal(nextSeed({}, "5", 0), 0);
  assert.equal(pointField("x", [0.1 + 0.2, 4]), "0.3");
  assert.equal(pointField("y", [0, 4]), "4");
  assert.equal(pointField("x", undefined), undefined);
  assert.equal(pointField("x", ["a", 1]), undefined);
});

test("points: current value, typing, snapping and arrow keys", () => {
  const control = { name: "p", x: [-1, 1], y: [0, 2], step: 0.1 };
  assert.deepEqual(pointOf(control, { p: ["0.5", 1] }), [0.5, 1]);
  assert.deepEqual(pointOf(control, {}), [-1, 0]);
  assert.deepEqual(typedPoint(control, [0, 1], "y", 9), [0, 2]);
  assert.deepEqual(typedPoint(control, [0, 1], "x", -0.25), [-0.25, 1]);
  assert.deepEqual(snapPoint(control, 0.123, 5), [0.1, 2]);
  assert.deepEqual(snapPoint({}, 0.123, -7), [0.123, -7]);
  const none = {};
  assert.deepEqual(keyedPoint(control, [0, 1], "ArrowRight", none), [0.1, 1]);
  assert.deepEqual(keyedPoint(control, [0, 1], "ArrowUp", none), [0, 1.1]); // y grows up on screen by default
  assert.deepEqual(keyedPoint(control, [0, 1], "ArrowUp", none, 1, 1), [0, 0.9]);
  assert.deepEqual(keyedPoint(control, [0, 1], "ArrowLeft", { shiftKey: true }), [-0.5, 1]);
  assert.deepEqual(keyedPoint({ x: [-9, 9], y: [-9, 9] }, [0, 0], "ArrowRight", none), [0.05, 0]);
  assert.equal(keyedPoint(control, [0, 1], "ArrowLeft", { ctrlKey: true }), null);
  assert.equal(keyedPoint(control, [0, 1], "Enter", none), null);
  assert.equal(keyedPoint(control, [0, 1], "toString", none), null);
});

test("movedPoints and clone", () => {
  const controls = [{ name: "p", kind: "point" }, { name: "q", kind: "point" }, { name: "s", kind: "slider" }];
  assert.deepEqual(movedPoints(controls, { p: [1, 2], q: [0, 0], s: 1 }, { p: [1, 2], q: [0, 1], s: 2 }), ["q"]);
  assert.deepEqual(movedPoints(controls, { p: [1, 2] }, undefined), ["p"]);
  const value = { a: [1, { b: 2 }] };
  const copy = clone(value);
  assert.deepEqual(copy, value);
  assert.notEqual(copy.a, value.a);
  assert.equal(clone(undefined), undefined);
});

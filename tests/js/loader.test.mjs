// Unit tests for the widget loader (generator/browser/runtime/loader.js): it starts the runtime
// once, only after the first contentful paint, and falls back to the load event without paint
// timing. The page is a fake window: node has none, so importing the loader starts nothing.
import assert from "node:assert/strict";
import { test } from "node:test";

import { afterFirstPaint, start } from "../../generator/browser/runtime/loader.js";

/** A window with (or without) paint timing; `paint(name)` delivers a paint entry, `fire("load")` the event. */
function fakeWindow({ paintTiming = true, throws = false, readyState = "interactive" } = {}) {
  const listeners = {};
  const observers = [];
  const timers = [];
  class FakeObserver {
    static get supportedEntryTypes() {
      if (throws) throw new Error("no paint timing here");
      return paintTiming ? ["paint", "navigation"] : ["navigation"];
    }
    constructor(callback) {
      this.callback = callback;
      this.connected = false;
      observers.push(this);
    }
    observe(options) {
      assert.deepEqual(options, { type: "paint", buffered: true });
      this.connected = true;
    }
    disconnect() {
      this.connected = false;
    }
  }
  return {
    PerformanceObserver: FakeObserver,
    document: { readyState },
    addEventListener: (type, listener) => (listeners[type] ||= []).push(listener),
    setTimeout: (callback) => timers.push(callback),
    paint(name) {
      const entries = [{ name }];
      for (const o of observers.filter((o) => o.connected)) {
        o.callback({ getEntriesByName: (wanted) => entries.filter((e) => e.name === wanted) });
      }
    },
    fire(type) {
      for (const listener of listeners[type] || []) listener();
    },
    runTimers() {
      while (timers.length) timers.shift()();
    },
    observers,
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test("nothing runs before the first contentful paint, then the callback runs once", () => {
  const win = fakeWindow();
  let calls = 0;
  afterFirstPaint(win, () => calls++);
  win.fire("load");
  win.runTimers();
  win.paint("first-paint");
  assert.equal(calls, 0, "only first-contentful-paint counts");
  win.paint("first-contentful-paint");
  assert.equal(calls, 1);
  assert.equal(win.observers[0].connected, false, "the observer is disconnected");
  win.paint("first-contentful-paint");
  win.fire("load");
  win.runTimers();
  assert.equal(calls, 1);
});

test("without paint timing the load event stands in for the paint", () => {
  for (const options of [{ paintTiming: false }, { throws: true }]) {
    const win = fakeWindow(options);
    let calls = 0;
    afterFirstPaint(win, () => calls++);
    win.runTimers();
    assert.equal(calls, 0, "not before the load event");
    win.fire("load");
    assert.equal(calls, 0, "a task after the load event");
    win.runTimers();
    assert.equal(calls, 1);
  }
  const loaded = fakeWindow({ paintTiming: false, readyState: "complete" });
  let calls = 0;
  afterFirstPaint(loaded, () => calls++);
  loaded.runTimers();
  assert.equal(calls, 1, "a page already loaded starts at the next task");
});

test("start makes labpress.ready at once and imports the runtime only after the paint", async () => {
  const win = fakeWindow();
  let imported = 0;
  start(win, () => {
    imported++;
    return Promise.resolve();
  });
  assert.ok(win.labpress.ready instanceof Promise);
  assert.equal(typeof win.labpress._resolveReady, "function");
  assert.equal(imported, 0);
  win.paint("first-contentful-paint");
  assert.equal(imported, 1);
});

test("start keeps a labpress object the page made, and its ready", () => {
  const ready = Promise.resolve("theirs");
  const win = fakeWindow();
  win.labpress = { ready, other: 1 };
  start(win, () => Promise.resolve());
  assert.equal(win.labpress.ready, ready);
  assert.equal(win.labpress.other, 1);
});

test("a runtime that does not load leaves the figures static and resolves ready", async (t) => {
  const warned = [];
  t.mock.method(console, "warn", (message) => warned.push(message));
  const win = fakeWindow();
  start(win, () => Promise.reject(new Error("HTTP 404")));
  win.paint("first-contentful-paint");
  await settle();
  await win.labpress.ready;
  assert.ok(win.labpress.widgets instanceof Map && win.labpress.widgets.size === 0);
  assert.equal(warned.length, 1);
  assert.match(warned[0], /the widget runtime did not load \(HTTP 404\); figures stay static/);
});

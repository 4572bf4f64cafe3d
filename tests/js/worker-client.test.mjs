// Unit tests for a widget's channel to the shared Pyodide worker (generator/browser/runtime/worker-client.js
// Channel): at most one render in flight, and while it is, the newest state waits in place of older
// ones, so the worker only ever draws the latest state. Run by `node --test tests/js/` from
// tests/test_browser_code.py; the worker is a stub that records what it is sent.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";

import { Channel, runtime } from "../../generator/browser/runtime/worker-client.js";

let sent;

beforeEach(() => {
  sent = [];
  runtime.status = "ready";
  runtime.worker = { postMessage: (message) => sent.push(message) };
});

afterEach(() => {
  runtime.status = "idle";
  runtime.worker = null;
});

function widget() {
  const w = { id: "widget-w-1", name: "w", caption: "", seq: 0, state: { k: 0 }, coalesced: 0 };
  w.onCoalesced = (count) => { w.coalesced = count; };
  w.change = (k) => { w.seq += 1; w.state.k = k; };
  return w;
}

const reply = (message) => ({ type: "frame", id: message.id, seq: message.seq, svg: "", readouts: {}, caption: "" });

test("a change is sent at once when the worker is free", () => {
  const w = widget();
  const channel = new Channel(w);
  w.change(1);
  channel.want();
  channel.pump();
  assert.equal(sent.length, 1);
  assert.deepEqual([sent[0].seq, sent[0].state], [1, { k: 1 }]);
});

test("while a render is in flight the newest state waits and replaces the older ones", () => {
  const w = widget();
  const channel = new Channel(w);
  w.change(1);
  channel.want();
  channel.pump();
  for (const k of [2, 3, 4, 5]) {
    w.change(k);
    channel.want();
    channel.pump(); // the worker is busy: nothing goes out
  }
  assert.equal(sent.length, 1, "a second render went out while the first was in flight");
  assert.equal(w.coalesced, 3, "states 2, 3 and 4 were each replaced by a newer one");
  const { seq, state } = channel.receive(reply(sent[0]));
  assert.deepEqual([seq, state], [1, { k: 1 }]);
  channel.pump();
  assert.equal(sent.length, 2);
  assert.deepEqual([sent[1].seq, sent[1].state], [5, { k: 5 }], "only the latest state is drawn next");
  channel.pump();
  assert.equal(sent.length, 2, "nothing is left to send");
});

test("the state sent is a copy: later changes do not alter a request in flight", () => {
  const w = widget();
  const channel = new Channel(w);
  w.change(1);
  channel.want();
  channel.pump();
  w.change(2);
  assert.deepEqual(sent[0].state, { k: 1 });
  assert.deepEqual(channel.receive(reply(sent[0])).state, { k: 1 });
});

test("a reply that is not for the request in flight leaves it in flight", () => {
  const w = widget();
  const channel = new Channel(w);
  w.change(1);
  channel.want();
  channel.pump();
  channel.receive({ type: "frame", id: w.id, seq: 0 }); // an old or stray answer
  w.change(2);
  channel.want();
  channel.pump();
  assert.equal(sent.length, 1, "a stray reply let a second render go out");
});

test("nothing is sent before the worker is ready, and the latest state goes once it is", () => {
  runtime.status = "starting";
  const w = widget();
  const channel = new Channel(w);
  for (const k of [1, 2, 3]) {
    w.change(k);
    channel.want();
    channel.pump();
  }
  assert.equal(sent.length, 0);
  runtime.status = "ready";
  channel.pump();
  assert.deepEqual(sent.map((m) => m.state.k), [3]);
});

test("drop forgets the waiting state and the request in flight", () => {
  const w = widget();
  const channel = new Channel(w);
  w.change(1);
  channel.want();
  channel.pump();
  w.change(2);
  channel.want();
  channel.drop();
  channel.pump();
  assert.equal(sent.length, 1);
});

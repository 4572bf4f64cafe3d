// The snapshot file's page format: make_snapshot.mjs writes it (node, set-up time), the worker's
// snapshot.js reads it back in the browser. They must agree byte for byte.
import assert from "node:assert/strict";
import test from "node:test";

import { PAGE_SIZE, packPages } from "../../generator/widgets/make_snapshot.mjs";
import { unpackSnapshot } from "../../generator/browser/runtime/snapshot.js";

function memory(size, filled) {
  const bytes = new Uint8Array(size);
  for (const [page, value] of filled) bytes.fill(value, page * PAGE_SIZE, Math.min(size, page * PAGE_SIZE + 17));
  return bytes;
}

test("a packed snapshot unpacks to the same memory, zero pages left out of the file", () => {
  for (const [size, filled] of [
    [PAGE_SIZE * 8, [[0, 1], [3, 255], [7, 9]]],
    [PAGE_SIZE * 3 + 100, [[1, 5], [3, 6]]], // a last page shorter than the others
    [PAGE_SIZE * 2, []], // nothing but zeros
  ]) {
    const raw = memory(size, filled);
    const packed = packPages(raw);
    assert.equal(packed.length, 20 + filled.length * (4 + PAGE_SIZE));
    assert.deepEqual(unpackSnapshot(new Uint8Array(packed)), raw);
  }
});

test("a file that is not a whole snapshot is refused, not restored", () => {
  const packed = new Uint8Array(packPages(memory(PAGE_SIZE * 4, [[1, 1], [2, 2]])));
  assert.throws(() => unpackSnapshot(packed.subarray(0, packed.length - 1)), /not whole/);
  assert.throws(() => unpackSnapshot(new TextEncoder().encode("<!doctype html><title>404</title>")), /not a LabPress snapshot/);
  const beyond = packed.slice();
  new DataView(beyond.buffer).setUint32(20, 99, true); // a page past the memory's end
  assert.throws(() => unpackSnapshot(beyond), /not whole/);
});

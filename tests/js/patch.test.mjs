// Unit tests for the runtime's reading of a frame's markup as a tree of source text
// (generator/browser/runtime/patch.js scan), which decides what of a new frame is parsed and
// written into the page. Run by `node --test tests/js/` from tests/test_browser_code.py; the
// writing itself needs a page and is tested in the browser (tests/test_widget_drag.py).
import assert from "node:assert/strict";
import { test } from "node:test";

import { scan } from "../../generator/browser/runtime/patch.js";

const shape = (node) => (node.kids ? [node.name, node.kids.map(shape)] : node.name);

test("scan reads a kernel's SVG into its nodes, each with its own markup", () => {
  const markup = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><title>T &amp; U</title>'
    + '<g aria-hidden="true"><line x1="0" y1="0" x2="1" y2="1" class="lp-axis"/><text x="1" y="2">-1</text></g>'
    + '<circle cx="5" cy="5" r="9" class="lp-handle" data-control="p" aria-label="P"></circle></svg>';
  const root = scan(markup);
  assert.deepEqual(shape(root), ["#root", [["svg", [["title", ["#text"]], ["g", [["line", []], ["text", ["#text"]]]], ["circle", []]]]]]);
  const [svg] = root.kids;
  assert.equal(svg.src, markup);
  assert.equal(svg.open, '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">');
  const [title, g, circle] = svg.kids;
  assert.equal(title.src, "<title>T &amp; U</title>");
  assert.equal(title.kids[0].src, "T &amp; U");
  assert.equal(g.kids[0].src, '<line x1="0" y1="0" x2="1" y2="1" class="lp-axis"/>');
  assert.equal(g.kids[1].src, '<text x="1" y="2">-1</text>');
  assert.equal(circle.src, '<circle cx="5" cy="5" r="9" class="lp-handle" data-control="p" aria-label="P"></circle>');
  // The pieces are the markup itself, in order: nothing is lost or added.
  assert.equal(svg.open + svg.kids.map((k) => k.src).join("") + "</svg>", markup);
});

test("scan keeps quoted > and / inside a start tag", () => {
  const root = scan(`<svg><text aria-label="a > b / c" data-x='1>0'>x</text><rect d="M0 0/"/></svg>`);
  const [text, rect] = root.kids[0].kids;
  assert.equal(text.open, `<text aria-label="a > b / c" data-x='1>0'>`);
  assert.deepEqual(shape(text), ["text", ["#text"]]);
  assert.deepEqual(shape(rect), ["rect", []]);
});

test("scan keeps text between elements and comments as nodes of their own", () => {
  const root = scan("<svg>\n  <g></g><!-- a <b> --> tail</svg>");
  assert.deepEqual(shape(root.kids[0]), ["svg", ["#text", ["g", []], "#comment", "#text"]]);
  assert.equal(root.kids[0].kids[2].src, "<!-- a <b> -->");
});

test("scan names elements in lower case, as the page reads them", () => {
  const root = scan('<svg><linearGradient id="g"><stop offset="0"/></linearGradient></svg>');
  assert.deepEqual(shape(root.kids[0]), ["svg", [["lineargradient", [["stop", []]]]]]);
});

test("scan gives up on markup it cannot follow node by node", () => {
  for (const markup of [
    "<svg><![CDATA[x < y]]></svg>", // CDATA: text that merges with its neighbours
    "<svg><g></svg>", // unclosed
    "<svg></g></svg>", // closing what is not open
    "<svg><text>x</svg></text>", // crossed
    '<svg><rect x="1></svg>', // an unterminated start tag
    "<svg><!-- never closed</svg>",
    "<svg></svg></svg>",
    "<!DOCTYPE svg><svg></svg>",
  ]) {
    assert.equal(scan(markup), null, markup);
  }
});

test("scan reads plain text and an empty frame", () => {
  assert.deepEqual(shape(scan("just text")), ["#root", ["#text"]]);
  assert.deepEqual(shape(scan("")), ["#root", []]);
});

test("showReadouts keeps each short readout as wide as it has been, and only short ones", async () => {
  const { showReadouts } = await import("../../generator/browser/runtime/patch.js");
  const output = (name, text) => ({ dataset: { readout: name }, textContent: text, style: { minWidth: "" } });
  const value = output("loss", "0.42");
  const words = output("state", "converged");
  showReadouts([value, words], { loss: "-0.42", state: "still converging after many steps" });
  assert.equal(value.textContent, "-0.42");
  assert.equal(value.style.minWidth, "5ch");
  assert.equal(words.style.minWidth, "");  // words wrap; they reserve nothing
  showReadouts([value, words], { loss: "0.4" });  // one it does not name is left as it is
  assert.equal(value.textContent, "0.4");
  assert.equal(value.style.minWidth, "5ch");  // never narrower than it has been
  assert.equal(words.textContent, "still converging after many steps");
  const fresh = output("loss", "10.25");
  showReadouts([fresh], { loss: "9.8" });  // narrower at its first change: as wide as the build wrote it
  assert.equal(fresh.style.minWidth, "5ch");
  showReadouts([fresh], { loss: "−100.125" });  // a minus sign is one character, whatever its code
  assert.equal(fresh.style.minWidth, "8ch");
});

// Unit tests for the search box's pure rules (generator/browser/search.js): which keys open it, how
// Pagefind's excerpts become text and marks, what each result shows, the status line, arrow keys.
// Importing the module under node touches no page (it starts only where there is a document).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  excerptParts, MAX_SECTIONS, nextFocus, opensSearch, resultView, statusText, unescapeExcerpt, withoutTitle,
} from "../../generator/browser/search.js";

const key = (k, target = { tagName: "BODY" }, extra = {}) => ({ key: k, target, ...extra });

test('"/" opens search outside text fields, with no modifier', () => {
  assert.equal(opensSearch(key("/")), true);
  assert.equal(opensSearch(key("/", null)), true);
  assert.equal(opensSearch(key("/", { tagName: "A" })), true);
  assert.equal(opensSearch(key("/", { tagName: "INPUT", type: "range" })), true, "a widget's slider types no text");
  assert.equal(opensSearch(key("/", { tagName: "INPUT", type: "checkbox" })), true);
  for (const modifier of ["ctrlKey", "metaKey", "altKey", "defaultPrevented"]) {
    assert.equal(opensSearch(key("/", undefined, { [modifier]: true })), false, modifier);
  }
  assert.equal(opensSearch(key("?")), false);
  assert.equal(opensSearch(key("s")), false);
});

test('"/" is typed, not taken, in text fields and editable elements', () => {
  for (const target of [{ tagName: "INPUT" }, { tagName: "INPUT", type: "search" }, { tagName: "input", type: "TEXT" },
    { tagName: "INPUT", type: "number" }, { tagName: "TEXTAREA" }, { tagName: "SELECT" },
    { tagName: "DIV", isContentEditable: true }]) {
    assert.equal(opensSearch(key("/", target)), false, JSON.stringify(target));
  }
});

test("excerpts: the words found are marked, the rest is text, escaped angle brackets read as written", () => {
  assert.deepEqual(excerptParts("the <mark>period</mark> of a <mark>pendulum.</mark>"), [
    { text: "the ", mark: false }, { text: "period", mark: true }, { text: " of a ", mark: false },
    { text: "pendulum.", mark: true },
  ]);
  assert.deepEqual(excerptParts("(1 - r)^k &lt; 0.05 &amp; <mark>k</mark> &gt; 0"), [
    { text: "(1 - r)^k < 0.05 &amp; ", mark: false }, { text: "k", mark: true }, { text: " > 0", mark: false },
  ]);
  assert.deepEqual(excerptParts("<b>not markup</b>"), [{ text: "<b>not markup</b>", mark: false }],
    "anything but <mark> stays text (it is put in a text node)");
  assert.deepEqual(excerptParts(""), []);
  assert.deepEqual(excerptParts(undefined), []);
  assert.equal(unescapeExcerpt("a &lt;b&gt; &amp;lt;"), "a <b> &amp;lt;");
});

const sub = (title, url, excerpt, { id, locations = [1] } = {}) => ({
  title, url, excerpt, locations, ...(id ? { anchor: { element: "h2", id, text: title } } : {}),
});

test("a result: the post's title, link and date, its sections in page order, the top of the post unnamed", () => {
  const view = resultView({
    url: "/sub/pendulum/",
    meta: { title: "Timing a Pendulum", date: "2025-08-30" },
    excerpt: "whole page",
    sub_results: [
      sub("Timing a Pendulum", "/sub/pendulum/", "Timing a Pendulum. A <mark>stopwatch</mark> and a nut"),
      sub("Method", "/sub/pendulum/#method", "Method. Then the <mark>stopwatch</mark> readings", { id: "method" }),
    ],
  });
  assert.deepEqual(view, {
    title: "Timing a Pendulum",
    url: "/sub/pendulum/",
    date: "2025-08-30",
    sections: [
      { title: "", url: "/sub/pendulum/", excerpt: [{ text: "A ", mark: false }, { text: "stopwatch", mark: true },
        { text: " and a nut", mark: false }] },
      { title: "Method", url: "/sub/pendulum/#method", excerpt: [{ text: "Then the ", mark: false },
        { text: "stopwatch", mark: true }, { text: " readings", mark: false }] },
    ],
  });
});

test("a result shows the sections with the most words found, at most MAX_SECTIONS, in page order", () => {
  const subs = ["a", "b", "c", "d", "e"].map((id, i) =>
    sub(id.toUpperCase(), `/p/#${id}`, id, { id, locations: Array(i === 1 ? 1 : i + 2).fill(0) }));
  const view = resultView({ url: "/p/", meta: { title: "P" }, sub_results: subs });
  assert.equal(view.sections.length, MAX_SECTIONS);
  assert.deepEqual(view.sections.map((s) => s.title), ["C", "D", "E"]);
  assert.deepEqual(resultView({ url: "/p/", meta: { title: "P" }, sub_results: subs }, 5).sections.map((s) => s.title),
    ["A", "B", "C", "D", "E"]);
});

test("a result without sub-results shows the page's excerpt; without a title, its address", () => {
  const view = resultView({ url: "/p/", meta: {}, excerpt: "some <mark>word</mark>" });
  assert.equal(view.title, "/p/");
  assert.equal(view.date, "");
  assert.deepEqual(view.sections, [{ title: "", url: "/p/", excerpt: [{ text: "some ", mark: false },
    { text: "word", mark: true }] }]);
});

test("the title is taken off the top of a post's excerpt only when the excerpt starts with it", () => {
  const parts = (text) => [{ text, mark: false }];
  assert.deepEqual(withoutTitle(parts("Title. Rest"), "Title"), parts("Rest"));
  assert.deepEqual(withoutTitle([{ text: "Title.", mark: false }, { text: "x", mark: true }], "Title"),
    [{ text: "x", mark: true }]);
  assert.deepEqual(withoutTitle(parts("le. Rest"), "Title"), parts("le. Rest"));
  assert.deepEqual(withoutTitle([{ text: "Title", mark: true }], "Title"), [{ text: "Title", mark: true }]);
  assert.deepEqual(withoutTitle([], "Title"), []);
});

test("the status line says how many posts match and how many are listed", () => {
  assert.equal(statusText("", 0, 0), "");
  assert.equal(statusText("zebra", 0, 0), "No posts match “zebra”.");
  assert.equal(statusText("nut", 1, 1), "1 post matches “nut”.");
  assert.equal(statusText("the", 3, 3), "3 posts match “the”.");
  assert.equal(statusText("the", 20, 8), "20 posts match “the”; the first 8 are listed.");
});

test("arrow keys move between the field (-1) and the results' links, and stop at the ends", () => {
  assert.equal(nextFocus(-1, 3, "ArrowDown"), 0);
  assert.equal(nextFocus(0, 3, "ArrowDown"), 1);
  assert.equal(nextFocus(2, 3, "ArrowDown"), 2);
  assert.equal(nextFocus(1, 3, "ArrowUp"), 0);
  assert.equal(nextFocus(0, 3, "ArrowUp"), -1);
  assert.equal(nextFocus(-1, 3, "ArrowUp"), null);
  assert.equal(nextFocus(-1, 0, "ArrowDown"), null);
  assert.equal(nextFocus(0, 3, "Enter"), null);
});

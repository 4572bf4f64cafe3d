// LabPress widget runtime: putting a frame (SVG, readouts, caption) into a figure on the page.
//
// A new frame changes the figure on the page only where it differs from the frame before. Most of a
// figure stays the same from one frame to the next (axes, grid, ticks, labels), so the markup is
// first compared as text: it is read into a tree of its nodes' source text (scan), and a node whose
// text is the same as the last frame's is left alone, unread. Only the nodes that changed are parsed
// (off the page, in a template: no style, no layout) and written into the figure, attribute by
// attribute where the element is of the same kind, so the browser restyles and lays out a few shapes
// instead of a whole new SVG, and the elements a reader is holding (a focused or hovered handle) stay
// the same elements. The result is the same tree as setting innerHTML, but for the attributes the
// caller keeps (`keep`).
//
// Markup this reading cannot follow (a CDATA section, an HTML element that ends the SVG early) is
// parsed whole and compared node by node, as every first frame is. Nothing runs at import: the
// template is made on first use.

const SVG_NS = "http://www.w3.org/2000/svg";
const LEAVES = new Set(["title", "desc", "foreignobject"]); // parsed whole: their content may be HTML

let parser = null;
const shown = new WeakMap(); // container -> {markup, tree}: the frame the container holds, as text

// ---------------------------------------------------------------- markup as a tree of source text

/**
 * `markup` as nested nodes {name, src, open, kids} (text and comments have no kids, text has name
 * "#text"), or null when it is not plain nested elements, text and comments. `src` is the node's
 * own markup, `open` an element's start tag.
 */
export function scan(markup) {
  const root = { name: "#root", kids: [] };
  const stack = [root];
  const at = [0]; // where each open element's markup starts
  let i = 0;
  const n = markup.length;
  while (i < n) {
    const lt = markup.indexOf("<", i);
    if (lt !== i) {
      const end = lt < 0 ? n : lt;
      stack[stack.length - 1].kids.push({ name: "#text", src: markup.slice(i, end) });
      i = end;
      continue;
    }
    const next = markup.charCodeAt(i + 1);
    if (next === 33 /* ! */) {
      if (!markup.startsWith("<!--", i)) return null; // CDATA, a doctype: not followed
      const close = markup.indexOf("-->", i + 4);
      if (close < 0) return null;
      stack[stack.length - 1].kids.push({ name: "#comment", src: markup.slice(i, close + 3) });
      i = close + 3;
    } else if (next === 47 /* / */) {
      const close = markup.indexOf(">", i);
      if (close < 0 || stack.length < 2) return null;
      const name = markup.slice(i + 2, close).trim().toLowerCase();
      const node = stack.pop();
      const start = at.pop();
      if (node.name !== name) return null;
      node.src = markup.slice(start, close + 1);
      stack[stack.length - 1].kids.push(node);
      i = close + 1;
    } else {
      // A start tag: up to the first ">" outside quotes.
      let j = i + 1;
      let quote = 0;
      for (; j < n; j++) {
        const c = markup.charCodeAt(j);
        if (quote) {
          if (c === quote) quote = 0;
        } else if (c === 34 || c === 39) {
          quote = c;
        } else if (c === 62 /* > */) {
          break;
        }
      }
      if (j >= n) return null;
      const open = markup.slice(i, j + 1);
      const name = /^<([A-Za-z][^\s/>]*)/.exec(open)?.[1].toLowerCase();
      if (!name) return null;
      const node = { name, open, src: open, kids: [] };
      if (markup.charCodeAt(j - 1) === 47 /* / */) {
        stack[stack.length - 1].kids.push(node);
      } else {
        stack.push(node);
        at.push(i);
      }
      i = j + 1;
    }
  }
  return stack.length === 1 ? root : null;
}

/** Does the live `parent` hold exactly the nodes `kids` describe (names, counts), all the way down? */
function matches(parent, kids) {
  const live = parent.childNodes;
  if (live.length !== kids.length) return false;
  for (let i = 0; i < kids.length; i++) {
    const node = live[i];
    const kid = kids[i];
    if (kid.name === "#text" ? node.nodeType !== Node.TEXT_NODE
      : kid.name === "#comment" ? node.nodeType !== Node.COMMENT_NODE
        : node.nodeType !== Node.ELEMENT_NODE || node.localName.toLowerCase() !== kid.name) return false;
    if (kid.kids && !LEAVES.has(kid.name) && !matches(node, kid.kids)) return false;
  }
  return true;
}

// ---------------------------------------------------------------- writing into the page

function sameAttributes(live, fresh, keep) {
  const had = live.attributes;
  for (let i = had.length - 1; i >= 0; i--) {
    const attr = had[i];
    if (!fresh.hasAttributeNS(attr.namespaceURI, attr.localName) && !keep?.(live, attr.name, null)) {
      live.removeAttributeNS(attr.namespaceURI, attr.localName);
    }
  }
  for (const attr of fresh.attributes) {
    if (live.getAttributeNS(attr.namespaceURI, attr.localName) !== attr.value && !keep?.(live, attr.name, attr.value)) {
      live.setAttributeNS(attr.namespaceURI, attr.name, attr.value);
    }
  }
}

function sameNode(old, node) {
  return old.nodeType === node.nodeType && old.nodeName === node.nodeName && old.namespaceURI === node.namespaceURI;
}

/** Make `live` equal to `fresh` (a parsed node of the same kind) in attributes and content. */
function morph(live, fresh, keep) {
  if (fresh.nodeType === Node.ELEMENT_NODE) {
    sameAttributes(live, fresh, keep);
    sameChildren(live, fresh, keep);
  } else if (live.nodeValue !== fresh.nodeValue) {
    live.nodeValue = fresh.nodeValue;
  }
}

function sameChildren(live, fresh, keep) {
  const want = [...fresh.childNodes];
  const have = [...live.childNodes];
  want.forEach((node, i) => {
    const old = have[i];
    if (old && sameNode(old, node)) {
      morph(old, node, keep);
    } else if (old) {
      live.replaceChild(node, old); // the parsed node itself: the template's tree is thrown away
    } else {
      live.appendChild(node);
    }
  });
  for (let i = have.length - 1; i >= want.length; i--) have[i].remove();
}

/** One node of markup, parsed as a child of `parent` would be; null if it does not give that one node. */
function parseOne(parent, kid) {
  const svg = parent.namespaceURI === SVG_NS;
  parser.innerHTML = svg ? `<svg xmlns="${SVG_NS}">${kid.src}</svg>` : kid.src;
  const holder = svg ? parser.content.firstChild : parser.content;
  const node = holder?.firstChild;
  if (!node || node !== holder.lastChild) return null;
  const ok = kid.name === "#text" ? node.nodeType === Node.TEXT_NODE
    : kid.name === "#comment" ? node.nodeType === Node.COMMENT_NODE
      : node.nodeType === Node.ELEMENT_NODE && node.localName.toLowerCase() === kid.name
        && (!kid.kids || LEAVES.has(kid.name) || matches(node, kid.kids));
  return ok ? node : null;
}

class Unreadable extends Error {}

/**
 * Turn `parent`'s children, which `was` describes, into what `now` describes. Nodes with the same
 * text at the two ends are left alone (unless `dirty` says the page changed them); an element whose
 * start tag is the same is followed inside; any other node is parsed and written in.
 */
function patchKids(parent, was, now, keep, dirty) {
  if (parent.childNodes.length !== was.length) throw new Unreadable(); // changed behind our back: read it whole
  const unchanged = (a, b) => a.src === b.src && !(dirty && a.kids && dirty(a.src));
  let head = 0;
  const most = Math.min(was.length, now.length);
  while (head < most && unchanged(was[head], now[head])) head++;
  let tail = 0;
  while (tail < most - head && unchanged(was[was.length - 1 - tail], now[now.length - 1 - tail])) tail++;
  const live = parent.childNodes;
  const wasEnd = was.length - tail;
  const nowEnd = now.length - tail;
  const after = live[wasEnd] || null; // the first node of the unchanged tail
  const pairs = Math.min(wasEnd, nowEnd) - head;
  for (let k = 0; k < pairs; k++) {
    const old = was[head + k];
    const kid = now[head + k];
    const node = live[head + k];
    if (unchanged(old, kid)) continue;
    if (old.kids && kid.kids && old.name === kid.name && old.open === kid.open && !LEAVES.has(kid.name)
        && !(dirty && dirty(kid.open))) {
      patchKids(node, old.kids, kid.kids, keep, dirty); // same element, same attributes: only inside changed
      continue;
    }
    const fresh = parseOne(parent, kid);
    if (!fresh) throw new Unreadable();
    if (sameNode(node, fresh)) morph(node, fresh, keep);
    else parent.replaceChild(fresh, node);
  }
  for (let k = wasEnd - 1; k >= head + pairs; k--) live[k].remove();
  for (let k = head + pairs; k < nowEnd; k++) {
    const fresh = parseOne(parent, now[k]);
    if (!fresh) throw new Unreadable();
    parent.insertBefore(fresh, after);
  }
}

/**
 * Make `container`'s content equal to `markup`, as container.innerHTML = markup would.
 *
 * `keep(element, name, value)`: true leaves that attribute of a live element as it is, where the
 * frame would set it to `value` (null: remove it), for attributes the runtime owns (a handle's
 * focusability and label). `dirty(markup)`: true when the page's copy of a node with this markup
 * may differ from the last frame's (the runtime moved a handle ahead of the kernel), so it is
 * compared even when its markup has not changed.
 */
export function patchMarkup(container, markup, { keep = null, dirty = null } = {}) {
  parser ??= document.createElement("template");
  const last = shown.get(container);
  const tree = scan(markup);
  let done = false;
  if (last?.tree && tree) {
    try {
      patchKids(container, last.tree.kids, tree.kids, keep, dirty);
      done = true;
    } catch {
      // Unreadable, or anything else: the whole frame, node by node, puts the page right.
    }
  }
  if (!done) {
    parser.innerHTML = markup;
    sameChildren(container, parser.content, keep);
  }
  parser.innerHTML = "";
  // Read as text next time only if the page holds exactly what the reading describes.
  shown.set(container, { markup, tree: tree && (done || matches(container, tree.kids)) ? tree : null });
}

// The widest each short readout has been, in characters (its font is monospaced, with tabular digits).
const readoutWidths = new WeakMap();
// Readouts longer than this are words, not numbers: they wrap, and reserve no width.
const RESERVED_UP_TO = 16;

/** Write a frame's readouts into the figure's output[data-readout] elements that it names. A short
 *  readout keeps the widest it has been (`min-width` in `ch`, no layout read), so a minus sign or
 *  one digit more does not move the readouts after it, and one digit fewer does not move them back. */
export function showReadouts(outputs, readouts) {
  for (const output of outputs) {
    const name = output.dataset.readout;
    if (!Object.hasOwn(readouts, name) || output.textContent === readouts[name]) continue;
    const widest = readoutWidths.get(output) ?? [...output.textContent].length;
    output.textContent = readouts[name];
    const width = Math.max(widest, [...output.textContent].length);
    readoutWidths.set(output, width);
    if (width <= RESERVED_UP_TO && output.style.minWidth !== `${width}ch`) output.style.minWidth = `${width}ch`;
  }
}

/** Write a frame's caption, when it has one, into the figure's caption element. */
export function showCaption(element, caption) {
  if (element && typeof caption === "string" && element.textContent !== caption) element.textContent = caption;
}

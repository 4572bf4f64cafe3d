// LabPress search: the masthead's search box (see the default theme's base.html), over the Pagefind
// index the build writes (generator/search/). The page has a button (#search-open) and a <dialog>
// (#search-dialog) whose data-index is the URL of the index's folder; this module opens the dialog
// on the button or on "/", loads Pagefind's client (pagefind.js, in that folder) the first time, and
// lists the posts found, each with the sections the words are in and an excerpt, linked.
//
// Nothing here writes HTML or styles: results are elements and text nodes (a strict CSP allows
// them), Pagefind's excerpts are split into text and <mark>. The pure functions are exported for
// the node tests (tests/js/search.test.mjs); importing this file under node touches no page.

export const MAX_POSTS = 8; // results shown (the status line says how many were found)
export const MAX_SECTIONS = 3; // sections shown under each post
const DEBOUNCE_MS = 120;
// Inputs in which "/" is not typed as text, so it may open search from them.
const NOT_TEXT = new Set(["range", "checkbox", "radio", "button", "submit", "reset", "color", "file", "image"]);

/** Whether a keydown (`{key, ctrlKey, metaKey, altKey, defaultPrevented, target}`) opens search: "/"
 * without a modifier, unless it is being typed into a text field. */
export function opensSearch(event) {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return false;
  const target = event.target;
  if (!target) return true;
  if (target.isContentEditable) return false;
  const tag = String(target.tagName || "").toLowerCase();
  if (tag === "textarea" || tag === "select") return false;
  if (tag === "input") return NOT_TEXT.has(String(target.type || "text").toLowerCase());
  return true;
}

/** Excerpt text as it reads: Pagefind escapes "<" and ">" in a page's text (and nothing else) before
 * it marks the words found. */
export function unescapeExcerpt(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">");
}

/** Pagefind's excerpt (text, the words found between <mark> and </mark>) as [{text, mark}] parts. */
export function excerptParts(excerpt) {
  const text = String(excerpt || "");
  const parts = [];
  let at = 0;
  for (const match of text.matchAll(/<mark>([\s\S]*?)<\/mark>/g)) {
    if (match.index > at) parts.push({ text: unescapeExcerpt(text.slice(at, match.index)), mark: false });
    parts.push({ text: unescapeExcerpt(match[1]), mark: true });
    at = match.index + match[0].length;
  }
  if (at < text.length) parts.push({ text: unescapeExcerpt(text.slice(at)), mark: false });
  return parts.filter((part) => part.text !== "");
}

/** One post found, from Pagefind's `result.data()`: its title, link, date and the sections (at most
 * `max`, those with the most words found, in page order) with their excerpts. A section's `title` is
 * "" for the part of the post before its first heading. */
export function resultView(data, max = MAX_SECTIONS) {
  const subs = (data.sub_results || []).map((sub, order) => ({ sub, order }));
  const ranked = subs
    .slice()
    .sort((a, b) => (b.sub.locations?.length || 0) - (a.sub.locations?.length || 0) || a.order - b.order)
    .slice(0, max)
    .sort((a, b) => a.order - b.order);
  const title = String(data.meta?.title || data.url);
  const sections = ranked.map(({ sub }) => {
    const heading = sub.anchor && sub.anchor.id ? String(sub.title || "") : "";
    // Each excerpt may start with the heading (or at the top, the post's title): shown above it already.
    return { title: heading, url: sub.url || data.url, excerpt: withoutTitle(excerptParts(sub.excerpt), heading || title) };
  });
  if (!sections.length) sections.push({ title: "", url: data.url, excerpt: withoutTitle(excerptParts(data.excerpt), title) });
  return { title, url: data.url, date: String(data.meta?.date || ""), sections };
}

/** An excerpt without the title (of the post, or of its section) it starts with, which the result shows above it. */
export function withoutTitle(parts, title) {
  const first = parts[0];
  const lead = `${title}.`;
  if (!first || first.mark || !title || !first.text.startsWith(lead)) return parts;
  const rest = first.text.slice(lead.length).trimStart();
  return rest ? [{ text: rest, mark: false }, ...parts.slice(1)] : parts.slice(1);
}

/** The status line for `found` posts matching `query`, of which `shown` are listed. */
export function statusText(query, found, shown) {
  if (!query) return "";
  if (!found) return `No posts match “${query}”.`;
  const posts = found === 1 ? "1 post matches" : `${found} posts match`;
  return shown < found ? `${posts} “${query}”; the first ${shown} are listed.` : `${posts} “${query}”.`;
}

/** Where focus goes from item `index` of `count` (-1: the search field) on `key`, or null to stay. */
export function nextFocus(index, count, key) {
  if (!count) return null;
  if (key === "ArrowDown") return Math.min(index + 1, count - 1);
  if (key === "ArrowUp") return index - 1 < -1 ? null : index - 1;
  return null;
}

// ------------------------------------------------------------------------------------- the page

function element(doc, tag, className, text) {
  const node = doc.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function excerptNode(doc, parts) {
  const node = element(doc, "span", "search-excerpt");
  for (const part of parts) node.append(part.mark ? element(doc, "mark", "", part.text) : doc.createTextNode(part.text));
  return node;
}

function resultNode(doc, view) {
  const item = element(doc, "li", "search-result");
  const head = element(doc, "p", "search-result-head");
  const link = element(doc, "a", "search-result-title", view.title);
  link.href = view.url;
  head.append(link);
  if (view.date) {
    const date = element(doc, "time", "search-result-date", view.date);
    date.dateTime = view.date;
    head.append(" ", date);
  }
  item.append(head);
  const sections = element(doc, "ul", "search-sections");
  for (const section of view.sections) {
    const entry = element(doc, "li", "search-section");
    const anchor = element(doc, "a", "search-section-link");
    anchor.href = section.url;
    if (section.title) anchor.append(element(doc, "span", "search-section-title", section.title), " ");
    anchor.append(excerptNode(doc, section.excerpt));
    entry.append(anchor);
    sections.append(entry);
  }
  item.append(sections);
  return item;
}

/** Wires the search box of the page `doc`; nothing happens without its button and dialog. */
export function start(doc, load = (url) => import(url)) {
  const opener = doc.getElementById("search-open");
  const dialog = doc.getElementById("search-dialog");
  if (!opener || !dialog || typeof dialog.showModal !== "function") return;
  const input = dialog.querySelector("#search-input");
  const status = dialog.querySelector("#search-status");
  const list = dialog.querySelector("#search-results");
  const closer = dialog.querySelector("#search-close");
  let pagefind = null;
  let returnTo = null;
  let following = false;
  let timer = 0;
  let generation = 0;

  function engine() {
    if (!pagefind) {
      const url = new URL("pagefind.js", new URL(dialog.dataset.index, doc.baseURI)).href;
      pagefind = load(url).then(async (module) => {
        // The index holds each post's address as the site links it (under its base path).
        await module.options({ baseUrl: "/", excerptLength: 24 });
        await module.init();
        return module;
      });
      pagefind.catch(() => {
        pagefind = null; // the next search tries again
      });
    }
    return pagefind;
  }

  async function run(query) {
    const mine = ++generation;
    if (!query) {
      list.replaceChildren();
      status.textContent = "";
      return;
    }
    if (!dialog.dataset.index) {
      status.textContent = "There are no posts to search yet."; // the build wrote no index
      return;
    }
    try {
      const module = await engine();
      const found = await module.search(query);
      if (mine !== generation || !found) return; // a newer query is on its way
      const datas = await Promise.all(found.results.slice(0, MAX_POSTS).map((result) => result.data()));
      if (mine !== generation) return;
      list.replaceChildren(...datas.map((data) => resultNode(doc, resultView(data))));
      status.textContent = statusText(query, found.results.length, datas.length);
    } catch (err) {
      if (mine !== generation) return;
      list.replaceChildren();
      status.textContent = "Search could not load its index. Reload the page to try again.";
      console.warn(`LabPress: search failed (${err?.message || err})`);
    }
  }

  function open() {
    if (dialog.open) return;
    returnTo = doc.activeElement;
    dialog.showModal();
    opener.setAttribute("aria-expanded", "true");
    input.focus();
    input.select();
    if (input.value) run(input.value.trim());
    if (dialog.dataset.index) engine().catch(() => {}); // fetched while the reader types
  }

  opener.hidden = false;
  opener.addEventListener("click", open);
  doc.addEventListener("keydown", (event) => {
    if (!dialog.open && opensSearch(event)) {
      event.preventDefault(); // "/" is not typed into the field
      open();
    }
  });
  dialog.addEventListener("close", () => {
    opener.setAttribute("aria-expanded", "false");
    // Back where the reader was; from "/" pressed with nothing focused, to the button.
    const target = returnTo && returnTo !== doc.body && returnTo.isConnected ? returnTo : opener;
    returnTo = null;
    if (!following) target.focus(); // a result followed: the page (or the section in it) takes focus
    following = false;
  });
  // A result followed, perhaps to a section of this page: the dialog closes as the page moves.
  list.addEventListener("click", (event) => {
    if (!event.target.closest?.("a[href]") || event.button !== 0) return;
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return; // opened elsewhere
    following = true;
    dialog.close();
  });
  // A click on the backdrop (outside the dialog's box, not on its scroll bar) closes it.
  dialog.addEventListener("click", (event) => {
    if (event.target !== dialog) return;
    const box = dialog.getBoundingClientRect();
    const { clientX: x, clientY: y } = event;
    if (x < box.left || x > box.right || y < box.top || y > box.bottom) dialog.close();
  });
  closer?.addEventListener("click", () => dialog.close());
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => run(input.value.trim()), DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return; // search now, without waiting for the pause in typing
    event.preventDefault();
    clearTimeout(timer);
    run(input.value.trim());
  });
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      // One press closes, even from a search field with words in it (which would only clear them).
      event.preventDefault();
      dialog.close();
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const links = [...list.querySelectorAll("a")];
    const index = links.indexOf(doc.activeElement);
    if (index < 0 && doc.activeElement !== input) return;
    const next = nextFocus(index, links.length, event.key);
    if (next == null) return;
    event.preventDefault();
    (next < 0 ? input : links[next]).focus();
  });
}

if (typeof window !== "undefined" && typeof document !== "undefined") start(document); // in a page, not under node's tests

// LabPress widget runtime: one widget. It keeps the widget's state and answers each change
// either from the pre-computed frames (data-frames, no Python in the browser) or from its kernel
// in the shared Pyodide worker (worker-client.js), then shows the frame (patch.js); its controls are
// controls.js's, its link and the URL's record of its state share.js's. Python starts only on the
// reader's intent: a press, the focus, or the pointer resting on the figure (or a state in the URL
// that needs it). A failure never removes the static figure and never reaches the console as an
// error. Nothing runs at import.

import { clone, movedPoints, readSpec } from "./contract.js";
import { Controls } from "./controls.js";
import { frameKey } from "./frames.js";
import { patchMarkup, showCaption, showReadouts } from "./patch.js";
import { addShareButton, recordState } from "./share.js";
import { changedNames, hoverMayStart } from "./urlstate.js";
import { Channel, runtime } from "./worker-client.js";

const STATUS_WARMING = "Warming up Python: the figure goes live in a moment.";
// Why live updates are unavailable (worker-client.js's failure kinds), as the status line says it.
const STATUS_UNAVAILABLE = {
  load: "Live updates unavailable: the interactive part could not load. Showing the static figure.",
  browser: "Live updates unavailable: this browser cannot run the interactive part. Showing the static figure.",
  timeout: "Live updates unavailable: the interactive part did not load in time. Showing the static figure.",
};
const NOTICE_MS = 4000; // how long a notice ("Link copied.") stands in the status line
const HOVER_MS = 250; // the pointer resting this long on a figure, with the page not scrolling, starts Python

const hasHandle = (markup) => markup.includes("lp-handle"); // markup the runtime may have changed on the page: a handle
const startTag = (markup) => markup.slice(0, markup.indexOf(">") + 1);

let lastScroll = -Infinity; // when the page last scrolled: a figure scrolled under a still pointer is not hovered
let watchingScroll = false;

function watchScroll() {
  if (watchingScroll) return;
  watchingScroll = true;
  window.addEventListener("scroll", () => { lastScroll = performance.now(); }, { passive: true, capture: true });
}

function forcedPyodide() {
  if (document.documentElement.dataset.labpressForcePyodide === "1") return true;
  try {
    return new URLSearchParams(window.location.search).get("labpress-force-pyodide") === "1";
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- pre-computed frames

const frameFiles = new Map(); // url -> Promise<frames object>

function loadFrames(url) {
  if (!frameFiles.has(url)) {
    const job = fetch(url, { credentials: "same-origin" }).then((response) => {
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      return response.json();
    }).then((data) => {
      if (!data || typeof data.frames !== "object") throw new Error(`${url}: no "frames" object`);
      return data.frames;
    });
    job.catch(() => {});
    frameFiles.set(url, job);
  }
  return frameFiles.get(url);
}

// ---------------------------------------------------------------- one widget

export class Widget {
  /** `number` names a figure that has no id: widget-<name>-<number>. */
  constructor(figure, number) {
    this.figure = figure;
    const spec = readSpec(figure.dataset);
    this.name = spec.name;
    if (!figure.id) figure.id = `widget-${this.name}-${number}`;
    this.id = figure.id;
    this.controls = spec.controls;
    this.byName = new Map(this.controls.map((c) => [c.name, c]));
    this.state = spec.state;
    this.caption = spec.caption;
    this.framesUrl = spec.framesUrl;
    this.stage = figure.querySelector(".widget-stage");
    this.form = figure.querySelector(".widget-controls"); // a <fieldset> (or <form>) holding the controls
    this.statusEl = figure.querySelector(".widget-status");
    this.captionEl = figure.querySelector(".widget-caption");
    this.readoutEls = [...figure.querySelectorAll("output[data-readout]")];
    this.baseStatus = this.statusEl?.textContent || ""; // what the status line says when no notice stands in it
    this.notice = "";
    this.noticeTimer = 0;

    this.seq = 0; // version of this.state; bumped on every change
    this.shownSeq = 0; // version of the frame on screen (or of the error shown over it)
    this.channel = new Channel(this); // the requests to the worker: one in flight, the latest state wins
    this.waiters = []; // render() promises: {seq, resolve}
    this.live = false; // has this widget asked Pyodide for anything
    this.frames = null;
    this.framesFailed = false;
    this.currentSvg = null;
    this.unavailable = false;
    this.lastFrame = null; // the frame on screen, once it is not the build's own any more

    this.ui = new Controls(this);
    this.ui.fillState();
    this.initialState = clone(this.state); // the build's state: the URL records only what differs from it
    this.shownState = clone(this.state); // the state the build's frame shows
    this.ui.sync(); // the figure is the truth: undo any form state the browser restored
    this.ui.bind();
    this.ui.decorateHandles();
    this.bindIntent();
    this.shareButton = addShareButton(this);
    figure.dataset.coalesced = "0";
    figure.classList.add("is-enhanced");
  }

  // ------------------------------------------------ which path answers

  usesFrames() {
    return Boolean(this.framesUrl) && !this.framesFailed && !forcedPyodide();
  }

  /** Start whatever this widget will need (frames file or Python), without waiting for it. */
  prepare() {
    if (this.usesFrames()) {
      this.fetchFrames();
    } else {
      runtime.start();
    }
  }

  /** Python (or the frames file) starts once the reader shows intent: a press, the focus, or a resting pointer. */
  bindIntent() {
    const wake = () => {
      if (!this.unavailable) this.prepare();
    };
    this.figure.addEventListener("pointerdown", wake, { passive: true });
    this.figure.addEventListener("focusin", wake);
    let hover = 0;
    const rest = () => {
      const still = performance.now() - lastScroll;
      hover = still < HOVER_MS ? window.setTimeout(rest, HOVER_MS - still) : 0;
      if (!hover) wake();
    };
    this.figure.addEventListener("pointerenter", (event) => {
      if (event.pointerType === "touch" || hover || !hoverMayStart(navigator.connection)) return; // a touch is a pointerdown
      watchScroll();
      hover = window.setTimeout(rest, HOVER_MS);
    });
    this.figure.addEventListener("pointerleave", () => {
      window.clearTimeout(hover);
      hover = 0;
    });
  }

  /** Start in the state `partial` sets (from the page's URL): its controls, then its frame, as if the reader had moved them. */
  restore(partial) {
    const names = changedNames(this.controls, partial || {}, this.state);
    if (!names.length) return;
    for (const name of names) this.state[name] = clone(partial[name]);
    this.ui.sync();
    this.changed(names);
  }

  fetchFrames() {
    return loadFrames(new URL(this.framesUrl, document.baseURI).href).then((frames) => {
      this.frames = frames;
    }, (err) => {
      // No frames after all: fall back to the kernel, which draws the same figures.
      console.warn(`LabPress: ${err?.message || err}; widget ${this.id} will use Python instead.`);
      this.framesFailed = true;
    });
  }

  // ------------------------------------------------ state changes and rendering

  set(name, value) {
    this.state[name] = value;
    this.changed([name]);
  }

  changed(names) {
    this.seq += 1;
    recordState(this);
    this.ui.placeHandles(names); // the handle follows the reader at once, the figure follows the kernel
    if (this.usesFrames()) this.fromFrames();
    else this.requestLive();
  }

  fromFrames() {
    const seq = this.seq;
    if (!this.frames) {
      this.fetchFrames().then(() => {
        if (seq !== this.seq) return; // a newer change will run (or has run) its own lookup
        if (this.usesFrames()) this.fromFrames();
        else this.requestLive();
      });
      return;
    }
    const key = frameKey(this.controls, this.state);
    const frame = key === null ? undefined : this.frames[key];
    if (frame) this.show(frame, seq, clone(this.state), "frames");
    else this.requestLive(); // a state the build did not pre-compute: ask the kernel
  }

  requestLive() {
    this.live = true;
    this.channel.want();
    if (runtime.status === "failed") {
      this.onRuntimeFailed();
      return;
    }
    if (runtime.status !== "ready") {
      runtime.start();
      this.onRuntimeStarting();
      return; // sent by onRuntimeReady
    }
    this.channel.pump();
  }

  onCoalesced(count) {
    this.figure.dataset.coalesced = String(count);
  }

  onResult(message) {
    const { seq, state } = this.channel.receive(message);
    if (message.type === "error" && message.kind === "package") {
      // Not the kernel's fault: a package it imports could not be fetched. It will not go live.
      this.goStatic(`Live updates unavailable: ${message.error} Showing the static figure.`);
      return;
    }
    if (seq > this.shownSeq) { // otherwise stale: something newer is already on screen
      if (message.type === "error") this.showError(message, seq);
      else this.show(message, seq, state, "pyodide");
    }
    this.channel.pump();
  }

  /** Put a frame into the figure at once, in the task that brought it: it is drawn with the next frame. */
  show(frame, seq, state, source) {
    if (this.stage && typeof frame.svg === "string" && (frame.svg !== this.currentSvg || this.ui.handlesMoved)) {
      this.putSvg(frame.svg);
    }
    const readouts = frame.readouts || {};
    showReadouts(this.readoutEls, readouts);
    showCaption(this.captionEl, frame.caption);
    this.shownSeq = seq;
    this.shownState = state || this.shownState;
    this.lastFrame = { svg: frame.svg, readouts: { ...readouts }, caption: frame.caption ?? "" };
    if (this.figure.dataset.source !== source) this.figure.dataset.source = source;
    if (this.figure.classList.contains("is-error")) {
      this.figure.classList.remove("is-error");
      this.setStatus("");
    }
    if (seq < this.seq) {
      // The reader has moved on since this state: keep the handles where they are now.
      const moved = movedPoints(this.controls, this.state, state);
      if (moved.length) this.ui.placeHandles(moved);
    }
    this.settle(seq, { ...this.lastFrame });
  }

  /** The frame's SVG into the stage, changing only what differs; the handles stay the reader's elements. */
  putSvg(svg) {
    const focused = this.ui.focusedHandle();
    const moved = this.ui.handlesMoved;
    patchMarkup(this.stage, svg, { keep: this.ui.keep, dirty: moved ? hasHandle : null });
    if (this.currentSvg === null || startTag(svg) !== startTag(this.currentSvg)) this.ui.svgChanged();
    this.currentSvg = svg;
    this.ui.handlesMoved = false;
    this.ui.decorateHandles();
    this.ui.refocus(focused);
  }

  showError(message, seq) {
    this.shownSeq = seq; // keeps an older frame from replacing the message
    this.figure.classList.remove("is-warming");
    this.figure.classList.add("is-error");
    const where = message.where ? ` (${message.where})` : "";
    this.setStatus(`Kernel error: ${message.error}${where}`);
    this.settle(seq, { error: message.error, where: message.where || "" });
  }

  setStatus(text) {
    this.baseStatus = text;
    this.showStatus();
  }

  /** A short notice in the status line ("Link copied."), read out by screen readers; the status comes back after it. */
  announce(text) {
    window.clearTimeout(this.noticeTimer);
    this.notice = text;
    this.showStatus();
    this.noticeTimer = window.setTimeout(() => {
      this.notice = "";
      this.showStatus();
    }, NOTICE_MS);
  }

  showStatus() {
    const text = this.notice || this.baseStatus;
    if (this.statusEl && this.statusEl.textContent !== text) this.statusEl.textContent = text;
  }

  settle(seq, result) {
    const waiting = [];
    for (const waiter of this.waiters) {
      if (waiter.seq <= seq) waiter.resolve(result);
      else waiting.push(waiter);
    }
    this.waiters = waiting;
  }

  // ------------------------------------------------ runtime life cycle

  needsPython() {
    return !this.usesFrames() || this.live;
  }

  onRuntimeStarting() {
    if (!this.needsPython() || this.unavailable) return;
    this.figure.classList.add("is-warming");
    if (!this.figure.classList.contains("is-error")) this.setStatus(STATUS_WARMING);
  }

  onRuntimeReady() {
    if (this.figure.classList.contains("is-warming")) {
      this.figure.classList.remove("is-warming");
      if (!this.figure.classList.contains("is-error")) this.setStatus("");
    }
    this.channel.pump();
  }

  /** `kind`: why the runtime failed (worker-client.js: load, browser or timeout). */
  onRuntimeFailed(kind) {
    this.figure.classList.remove("is-warming");
    if (!this.needsPython() || this.unavailable) return;
    this.goStatic(STATUS_UNAVAILABLE[kind] || STATUS_UNAVAILABLE.load);
  }

  /** Live updates are unavailable for good: the figure stays what it shows, the controls go back to it and lock. */
  goStatic(status) {
    this.figure.classList.remove("is-warming");
    if (this.unavailable) return;
    this.unavailable = true;
    this.channel.drop();
    this.figure.classList.remove("is-error");
    this.figure.classList.add("is-static");
    this.setStatus(status);
    // The figure stays what it was; put the controls back to the state it shows, and lock them.
    this.state = clone(this.shownState);
    recordState(this);
    this.ui.sync();
    if (this.stage && this.ui.handles().length) { // put the handles back where the figure drew them
      if (this.lastFrame) {
        this.ui.handlesMoved = true;
        this.putSvg(this.lastFrame.svg);
      } else {
        for (const [handle, cx, cy] of this.ui.builtHandles) {
          if (cx !== null) handle.setAttribute("cx", cx);
          if (cy !== null) handle.setAttribute("cy", cy);
        }
      }
      this.ui.handlesMoved = false;
    }
    this.ui.lock();
    this.ui.decorateHandles();
    this.settle(Infinity, { error: "Live updates unavailable", where: "runtime" });
  }

  // ------------------------------------------------ test / benchmark API

  render(partial) {
    if (partial && typeof partial === "object") Object.assign(this.state, clone(partial));
    this.ui.sync();
    const promise = new Promise((resolve) => this.waiters.push({ seq: this.seq + 1, resolve }));
    if (this.unavailable) this.settle(Infinity, { error: "Live updates unavailable", where: "runtime" });
    else this.changed(partial && typeof partial === "object" ? Object.keys(partial) : []);
    return promise;
  }
}

// LabPress widget runtime: makes the build's static widget figures interactive.
//
// The page already shows a correct first frame (drawn by the build in CPython).
// This module binds the form controls and the draggable point handles, then
// answers each change either from pre-computed frames (data-frames, no Python
// in the browser) or from the widget's kernel running under Pyodide in one
// module worker shared by the whole page. The page contract is docs/widgets.md.
//
// Rules this file keeps: the main thread never waits on Python; per widget at
// most one render is in flight and the latest state wins; a failure never
// removes the static figure and never reaches the console as an error.

import { clamp, frameKey, parseJSON, readScale, tidy } from "./frames.js"; // the pure rules, tested under node

const START_TIMEOUT_MS = 120000; // a start-up that has not finished by then will not
const STATUS_WARMING = "Warming up Python: the figure goes live in a moment.";
const STATUS_UNAVAILABLE = "Live updates unavailable: showing the static figure.";
const HANDLE_HELP = "Drag the point, or use the arrow keys to move it (hold Shift for bigger steps). " +
  "The x and y fields with the controls set it exactly.";

const widgets = new Map(); // id -> Widget

performance.mark?.("labpress-runtime"); // when this module ran: loader.js imports it after the first paint

// ---------------------------------------------------------------- small helpers

const clone = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

function forcedPyodide() {
  if (document.documentElement.dataset.labpressForcePyodide === "1") return true;
  try {
    return new URLSearchParams(window.location.search).get("labpress-force-pyodide") === "1";
  } catch {
    return false;
  }
}

function whenIdle(callback) {
  if (typeof window.requestIdleCallback === "function") window.requestIdleCallback(() => callback(), { timeout: 2500 });
  else window.setTimeout(callback, 250);
}

// ---------------------------------------------------------------- swapping frames in place

// A new frame is parsed off the page (in a template: no style, no layout) and the figure on the
// page is then changed only where the two differ. Most of a figure stays the same from one frame
// to the next (axes, grid, ticks, labels), so the browser restyles and re-lays-out a few shapes
// instead of a whole new SVG, and the elements a reader is holding (a focused or hovered handle)
// stay the same elements. The result is the same tree as setting innerHTML.
const parser = document.createElement("template");

function sameAttributes(live, fresh) {
  for (const attr of [...live.attributes]) {
    if (!fresh.hasAttributeNS(attr.namespaceURI, attr.localName)) live.removeAttributeNS(attr.namespaceURI, attr.localName);
  }
  for (const attr of fresh.attributes) {
    if (live.getAttributeNS(attr.namespaceURI, attr.localName) !== attr.value) {
      live.setAttributeNS(attr.namespaceURI, attr.name, attr.value);
    }
  }
}

function sameChildren(live, fresh) {
  const want = [...fresh.childNodes];
  const have = [...live.childNodes];
  want.forEach((node, i) => {
    const old = have[i];
    if (old && old.nodeType === node.nodeType && old.nodeName === node.nodeName && old.namespaceURI === node.namespaceURI) {
      if (node.nodeType === Node.ELEMENT_NODE) {
        sameAttributes(old, node);
        sameChildren(old, node);
      } else if (old.nodeValue !== node.nodeValue) {
        old.nodeValue = node.nodeValue;
      }
    } else if (old) {
      live.replaceChild(node, old); // the parsed node itself: the template's tree is thrown away
    } else {
      live.appendChild(node);
    }
  });
  for (let i = have.length - 1; i >= want.length; i--) have[i].remove();
}

/** Make `container`'s content equal to `markup`, as container.innerHTML = markup would. */
function patchMarkup(container, markup) {
  parser.innerHTML = markup;
  sameChildren(container, parser.content);
  parser.innerHTML = "";
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

// ---------------------------------------------------------------- the shared Pyodide worker

const runtime = {
  status: "idle", // idle | starting | ready | failed
  worker: null,
  promise: null,
  config: undefined,

  readConfig() {
    if (this.config !== undefined) return this.config;
    const element = document.getElementById("labpress-runtime");
    const raw = parseJSON(element?.textContent, null);
    this.config = null;
    if (raw && typeof raw.pyodide === "string" && typeof raw.python === "string") {
      const folder = (url) => {
        const href = new URL(url, document.baseURI).href;
        return href.endsWith("/") ? href : `${href}/`;
      };
      this.config = {
        pyodide: folder(raw.pyodide),
        python: folder(raw.python),
        files: Array.isArray(raw.files) ? raw.files.map(String) : [],
        packages: raw.packages === "cdn" ? "cdn" : "local",
        cdn: typeof raw.cdn === "string" && raw.cdn ? folder(raw.cdn) : "",
      };
    }
    return this.config;
  },

  /** Starts the worker once; resolves true when Python is ready, false if it cannot be. */
  start() {
    if (this.promise) return this.promise;
    this.status = "starting";
    for (const w of widgets.values()) w.onRuntimeStarting();
    this.promise = new Promise((resolve) => {
      this.resolveStart = resolve;
      const config = this.readConfig();
      if (!config) return this.fail("the page has no #labpress-runtime configuration");
      if (typeof Worker !== "function" || typeof WebAssembly !== "object") {
        return this.fail("this browser has no module workers or WebAssembly");
      }
      let worker;
      try {
        worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "labpress-widgets" });
      } catch (err) {
        return this.fail(err?.message || String(err));
      }
      this.worker = worker;
      worker.addEventListener("error", (event) => {
        event.preventDefault(); // reported below, as a notice on the page
        this.fail(event.message || "the widget worker could not start");
      });
      worker.addEventListener("message", (event) => this.onMessage(event.data || {}));
      worker.postMessage({ type: "init", ...config });
      window.setTimeout(() => {
        if (this.status === "starting") this.fail(`Pyodide did not start within ${START_TIMEOUT_MS / 1000} s`);
      }, START_TIMEOUT_MS);
    });
    return this.promise;
  },

  onMessage(message) {
    if (message.type === "ready") {
      if (this.status !== "starting") return;
      this.status = "ready";
      this.resolveStart(true);
      for (const w of widgets.values()) w.onRuntimeReady();
    } else if (message.type === "init-error") {
      this.fail(message.message || "Pyodide failed to start");
    } else if (message.type === "frame" || message.type === "error") {
      widgets.get(message.id)?.onResult(message);
    }
  },

  fail(reason) {
    if (this.status === "failed") return;
    this.status = "failed";
    console.warn(`LabPress: live widget updates unavailable (${reason}).`);
    try {
      this.worker?.terminate();
    } catch {
      /* already gone */
    }
    this.worker = null;
    this.resolveStart?.(false);
    for (const w of widgets.values()) w.onRuntimeFailed();
  },

  post(message) {
    this.worker.postMessage(message);
  },
};

// ---------------------------------------------------------------- one widget

class Widget {
  constructor(figure) {
    this.figure = figure;
    this.name = figure.dataset.widget || "";
    if (!figure.id) figure.id = `widget-${this.name}-${widgets.size + 1}`;
    this.id = figure.id;
    this.controls = parseJSON(figure.dataset.controls, []);
    if (!Array.isArray(this.controls)) this.controls = [];
    this.byName = new Map(this.controls.map((c) => [c.name, c]));
    this.state = parseJSON(figure.dataset.state, {}) || {};
    this.caption = figure.dataset.caption || "";
    this.framesUrl = figure.dataset.frames || "";
    this.stage = figure.querySelector(".widget-stage");
    this.form = figure.querySelector(".widget-controls"); // a <fieldset> (or <form>) holding the controls
    this.statusEl = figure.querySelector(".widget-status");
    this.captionEl = figure.querySelector(".widget-caption");
    this.readoutEls = [...figure.querySelectorAll("output[data-readout]")];

    this.seq = 0; // version of this.state; bumped on every change
    this.shownSeq = 0; // version of the frame on screen (or of the error shown over it)
    this.inFlight = null; // seq of the one request the worker is working on
    this.queued = false; // a newer state waits to be sent
    this.coalesced = 0;
    this.sentStates = new Map(); // seq -> state, for the request in flight
    this.waiters = []; // render() promises: {seq, resolve}
    this.live = false; // has this widget asked Pyodide for anything
    this.frames = null;
    this.framesFailed = false;
    this.drag = null;
    this.currentSvg = null;
    this.handlesMoved = false; // handles sit where the reader put them, not where the kernel drew them
    this.unavailable = false;

    // The frame on screen, once it is not the build's own any more. The build's frame is not read
    // back (serialising a large figure is not free): only where it drew the handles is kept.
    this.lastFrame = null;
    this.builtHandles = this.handles().map((h) => [h, h.getAttribute("cx"), h.getAttribute("cy")]);
    this.sliderSuffix = new Map();
    for (const control of this.controls) {
      if (control.kind !== "slider") continue;
      const input = this.inputs(control.name)[0];
      const output = input && this.outputFor(input);
      // Keep the build's own "value unit" spelling: whatever follows the value string.
      const match = /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?/i.exec(output?.textContent || "");
      const suffix = match ? output.textContent.slice(match[0].length) : control.unit ? ` ${control.unit}` : "";
      this.sliderSuffix.set(control.name, suffix);
    }

    // A handle is described by the build's hint next to its x/y fields, else by a hidden note of ours.
    this.helpIds = new Map();
    for (const control of this.controls) {
      if (control.kind !== "point") continue;
      let id = `${this.id}-${control.name}-hint`;
      if (!document.getElementById(id)) {
        id = `${this.id}-${control.name}-handle-help`;
        const help = document.createElement("span");
        help.id = id;
        help.hidden = true; // still read through aria-describedby
        help.textContent = HANDLE_HELP;
        figure.append(help);
      }
      this.helpIds.set(control.name, id);
    }

    this.fillStateFromForm();
    this.shownState = clone(this.state); // the state the build's frame shows
    this.syncControls(); // the figure is the truth: undo any form state the browser restored
    this.bind();
    this.decorateHandles();
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

  fetchFrames() {
    return loadFrames(new URL(this.framesUrl, document.baseURI).href).then((frames) => {
      this.frames = frames;
    }, (err) => {
      // No frames after all: fall back to the kernel, which draws the same figures.
      console.warn(`LabPress: ${err?.message || err}; widget ${this.id} will use Python instead.`);
      this.framesFailed = true;
    });
  }

  // ------------------------------------------------ form controls

  inputs(name) {
    if (!this.form) return [];
    return [...this.form.querySelectorAll("[data-control]")].filter((el) => el.dataset.control === name);
  }

  outputFor(input) {
    if (input.id) {
      for (const output of this.figure.querySelectorAll("output.control-value[for]")) {
        if (output.htmlFor.contains(input.id)) return output;
      }
    }
    for (let el = input.parentElement; el && el !== this.form && el !== this.figure; el = el.parentElement) {
      const output = el.querySelector("output.control-value");
      if (output) return output;
    }
    return null;
  }

  showSliderValue(name, input) {
    const output = this.outputFor(input);
    if (output) output.textContent = input.value + (this.sliderSuffix.get(name) || "");
  }

  /** Put this.state into every form control. */
  syncControls() {
    for (const control of this.controls) {
      const value = this.state[control.name];
      if (value === undefined) continue;
      for (const input of this.inputs(control.name)) {
        if (control.kind === "slider") {
          input.value = String(value);
          this.showSliderValue(control.name, input);
        } else if (control.kind === "toggle") {
          input.checked = Boolean(value);
        } else if (control.kind === "choice") {
          const index = (control.options || []).findIndex((option) => option[0] === value);
          if (index >= 0) input.checked = String(index) === input.value;
        } else if (control.kind === "point") {
          this.writePointInput(input, value);
        } else if (control.kind === "seed") {
          input.value = String(value);
        }
      }
    }
  }

  /** Controls data-state leaves out take the value the build wrote into the form. */
  fillStateFromForm() {
    for (const control of this.controls) {
      if (this.state[control.name] !== undefined) continue;
      const inputs = this.inputs(control.name);
      if (!inputs.length) continue;
      let value;
      if (control.kind === "slider" || control.kind === "seed") {
        value = Number(inputs[0].getAttribute("value") ?? inputs[0].value);
      } else if (control.kind === "toggle") {
        value = inputs[0].hasAttribute("checked");
      } else if (control.kind === "choice") {
        const picked = inputs.find((input) => input.hasAttribute("checked"));
        const option = picked && (control.options || [])[Number(picked.value)];
        value = option ? option[0] : undefined;
      } else if (control.kind === "point") {
        const axis = (name) => Number(inputs.find((input) => input.dataset.axis === name)?.getAttribute("value"));
        value = [axis("x"), axis("y")];
        if (!value.every(Number.isFinite)) value = undefined;
      }
      if (value !== undefined && !(typeof value === "number" && !Number.isFinite(value))) this.state[control.name] = value;
    }
  }

  writePointInput(input, point) {
    if (!Array.isArray(point)) return;
    const value = input.dataset.axis === "y" ? point[1] : point[0];
    if (typeof value === "number") input.value = String(tidy(value));
  }

  bind() {
    const figure = this.figure;
    // Any first touch wakes what the widget needs, before the value even changes.
    const wake = () => {
      if (!this.unavailable) this.prepare();
    };
    figure.addEventListener("pointerdown", wake, { once: true, passive: true });
    figure.addEventListener("focusin", wake, { once: true });

    if (this.form) {
      this.form.addEventListener("submit", (event) => event.preventDefault()); // when it is a <form>
      this.form.addEventListener("input", (event) => this.onFormInput(event.target));
      this.form.addEventListener("change", (event) => this.onFormChange(event.target));
      this.form.addEventListener("click", (event) => {
        const button = event.target.closest?.("button[data-control]");
        if (button && this.form.contains(button)) this.onSeed(button);
      });
    }
    if (this.stage) {
      this.stage.addEventListener("pointerdown", (event) => this.onPointerDown(event));
      this.stage.addEventListener("pointermove", (event) => this.onPointerMove(event));
      for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
        this.stage.addEventListener(type, (event) => this.endDrag(event));
      }
      this.stage.addEventListener("keydown", (event) => this.onHandleKey(event));
    }
  }

  onFormInput(target) {
    const name = target?.dataset?.control;
    const control = this.byName.get(name);
    if (!control || this.unavailable) return;
    if (control.kind === "slider" && target.type === "range") {
      const value = Number(target.value);
      if (!Number.isFinite(value)) return;
      this.showSliderValue(name, target);
      this.set(name, value);
    } else if (control.kind === "point" && target.type === "number") {
      const typed = target.valueAsNumber;
      if (!Number.isFinite(typed)) return; // half-typed: wait for more
      const point = this.pointOf(control);
      const axis = target.dataset.axis === "y" ? 1 : 0;
      point[axis] = tidy(clamp(typed, ...(axis ? control.y : control.x)));
      this.set(name, point);
    }
  }

  onFormChange(target) {
    const name = target?.dataset?.control;
    const control = this.byName.get(name);
    if (!control || this.unavailable) return;
    if (control.kind === "toggle") {
      this.set(name, Boolean(target.checked));
    } else if (control.kind === "choice" && target.checked) {
      const index = Number(target.value);
      const option = (control.options || [])[index];
      const value = option ? option[0] : parseJSON(target.dataset.value, index);
      this.set(name, value);
    } else if (control.kind === "point") {
      this.writePointInput(target, this.state[name]); // show the clamped value once typing is done
    }
  }

  onSeed(button) {
    const control = this.byName.get(button.dataset.control);
    if (!control || control.kind !== "seed" || this.unavailable) return;
    const rolls = Number(control.rolls) || 1;
    const current = Number(button.value);
    const next = ((Number.isFinite(current) ? current : Number(this.state[control.name]) || 0) + 1) % rolls;
    button.value = String(next);
    this.set(control.name, next);
  }

  // ------------------------------------------------ point handles (pointer + keyboard)

  pointOf(control) {
    const value = this.state[control.name];
    if (Array.isArray(value) && value.length === 2) return [Number(value[0]), Number(value[1])];
    return [Number(control.x?.[0]) || 0, Number(control.y?.[0]) || 0];
  }

  svg() {
    return this.stage?.querySelector("svg") || null;
  }

  handles() {
    return this.stage ? [...this.stage.querySelectorAll("circle.lp-handle[data-control]")] : [];
  }

  /** Make the kernel's markers operable: focusable, labelled, described. Runs after every frame swap. */
  decorateHandles() {
    for (const handle of this.handles()) {
      const control = this.byName.get(handle.dataset.control);
      if (!control || control.kind !== "point") continue;
      const base = handle.dataset.label || handle.getAttribute("aria-label") || control.label || control.name;
      handle.dataset.label = base;
      handle.setAttribute("role", "button");
      handle.setAttribute("aria-roledescription", "draggable point");
      handle.setAttribute("aria-describedby", this.helpIds.get(control.name) || "");
      if (this.unavailable) {
        handle.removeAttribute("tabindex");
        handle.setAttribute("aria-disabled", "true");
      } else {
        handle.setAttribute("tabindex", "0");
      }
      this.labelHandle(handle, this.pointOf(control));
      if (this.drag && this.drag.name === control.name) handle.classList.add("is-dragging");
    }
  }

  labelHandle(handle, point) {
    handle.setAttribute("aria-label", `${handle.dataset.label}: x ${tidy(point[0])}, y ${tidy(point[1])}`);
  }

  /** Move the handles of these point controls to the state's point, ahead of the kernel's next frame. */
  placeHandles(names) {
    const svg = this.svg();
    const sx = readScale(svg, "x");
    const sy = readScale(svg, "y");
    if (!sx || !sy) return;
    for (const handle of this.handles()) {
      const control = this.byName.get(handle.dataset.control);
      if (!control || control.kind !== "point" || !Array.isArray(this.state[control.name])) continue;
      if (names && !names.includes(control.name)) continue;
      const [x, y] = this.pointOf(control);
      handle.setAttribute("cx", String(tidy(sx.toPixel(x))));
      handle.setAttribute("cy", String(tidy(sy.toPixel(y))));
      this.labelHandle(handle, [x, y]);
      this.handlesMoved = true;
    }
  }

  /** Bounds-clamped, step-rounded point from data coordinates. */
  snapPoint(control, x, y) {
    const step = Number(control.step) > 0 ? Number(control.step) : 0;
    const snap = (v, bounds) => {
      const rounded = step ? Math.round(v / step) * step : v;
      return tidy(clamp(rounded, Number(bounds[0]), Number(bounds[1])));
    };
    return [snap(x, control.x || [-Infinity, Infinity]), snap(y, control.y || [-Infinity, Infinity])];
  }

  setPoint(control, point) {
    const old = this.state[control.name];
    if (Array.isArray(old) && old[0] === point[0] && old[1] === point[1]) return;
    for (const input of this.inputs(control.name)) this.writePointInput(input, point);
    this.set(control.name, point);
  }

  onPointerDown(event) {
    const handle = event.target.closest?.("circle.lp-handle[data-control]");
    const control = handle && this.byName.get(handle.dataset.control);
    if (!control || control.kind !== "point" || this.unavailable) return;
    if (event.pointerType === "mouse" && event.button !== 0) return;
    event.preventDefault(); // no text selection, no scrolling from this touch
    handle.focus({ preventScroll: true });
    // Capture on the stage, not the circle: the circle is replaced by every new frame.
    try {
      this.stage.setPointerCapture(event.pointerId);
    } catch {
      /* pointer already gone */
    }
    const at = this.clientToSvg(event);
    const cx = Number(handle.getAttribute("cx"));
    const cy = Number(handle.getAttribute("cy"));
    this.drag = {
      pointerId: event.pointerId,
      name: control.name,
      dx: at && Number.isFinite(cx) ? cx - at.x : 0,
      dy: at && Number.isFinite(cy) ? cy - at.y : 0,
    };
    handle.classList.add("is-dragging");
    this.figure.classList.add("is-dragging");
    this.prepare();
  }

  clientToSvg(event) {
    const svg = this.svg();
    const ctm = svg?.getScreenCTM();
    if (!ctm) return null;
    const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(ctm.inverse());
    return { x: p.x, y: p.y };
  }

  onPointerMove(event) {
    if (!this.drag || event.pointerId !== this.drag.pointerId) return;
    const control = this.byName.get(this.drag.name);
    const svg = this.svg();
    const sx = readScale(svg, "x");
    const sy = readScale(svg, "y");
    const at = this.clientToSvg(event);
    if (!control || !sx || !sy || !at) return;
    const point = this.snapPoint(control, sx.toData(at.x + this.drag.dx), sy.toData(at.y + this.drag.dy));
    this.setPoint(control, point);
  }

  endDrag(event) {
    if (!this.drag || event.pointerId !== this.drag.pointerId) return;
    this.drag = null;
    this.figure.classList.remove("is-dragging");
    for (const handle of this.handles()) handle.classList.remove("is-dragging");
  }

  onHandleKey(event) {
    const handle = event.target.closest?.("circle.lp-handle[data-control]");
    const control = handle && this.byName.get(handle.dataset.control);
    if (!control || control.kind !== "point" || this.unavailable) return;
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }; // screen directions
    const move = moves[event.key];
    if (!move || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    const svg = this.svg();
    const dirX = readScale(svg, "x")?.direction ?? 1;
    const dirY = readScale(svg, "y")?.direction ?? -1; // SVG y grows downwards
    const step = (Number(control.step) > 0 ? Number(control.step) : 0.05) * (event.shiftKey ? 5 : 1);
    const [x, y] = this.pointOf(control);
    this.setPoint(control, this.snapPoint(control, x + move[0] * step * dirX, y + move[1] * step * dirY));
    this.prepare();
  }

  // ------------------------------------------------ state changes and rendering

  set(name, value) {
    this.state[name] = value;
    this.changed([name]);
  }

  changed(names) {
    this.seq += 1;
    this.placeHandles(names); // the handle follows the reader at once, the figure follows the kernel
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
    if (this.queued) this.countCoalesced();
    this.queued = true;
    if (runtime.status === "failed") {
      this.onRuntimeFailed();
      return;
    }
    if (runtime.status !== "ready") {
      runtime.start();
      this.onRuntimeStarting();
      return; // sent by onRuntimeReady
    }
    this.pump();
  }

  countCoalesced() {
    this.coalesced += 1;
    this.figure.dataset.coalesced = String(this.coalesced);
  }

  pump() {
    if (!this.queued || this.inFlight !== null || runtime.status !== "ready") return;
    this.queued = false;
    const seq = this.seq;
    const state = clone(this.state);
    this.inFlight = seq;
    this.sentStates.set(seq, state);
    runtime.post({ type: "render", id: this.id, widget: this.name, state, caption: this.caption, seq });
  }

  onResult(message) {
    const seq = Number(message.seq);
    const state = this.sentStates.get(seq);
    this.sentStates.delete(seq);
    if (seq === this.inFlight) this.inFlight = null;
    if (seq > this.shownSeq) { // otherwise stale: something newer is already on screen
      if (message.type === "error") this.showError(message, seq);
      else this.show(message, seq, state, "pyodide");
    }
    this.pump();
  }

  show(frame, seq, state, source) {
    const focused = this.handles().find((h) => h === document.activeElement)?.dataset.control;
    if (this.stage && typeof frame.svg === "string" && (frame.svg !== this.currentSvg || this.handlesMoved)) {
      patchMarkup(this.stage, frame.svg);
      this.currentSvg = frame.svg;
      this.handlesMoved = false;
      this.decorateHandles();
      // A handle the kernel drew anew (not patched in place) takes the focus back.
      if (focused && document.activeElement?.dataset?.control !== focused) {
        this.handles().find((h) => h.dataset.control === focused)?.focus({ preventScroll: true });
      }
    }
    const readouts = frame.readouts || {};
    for (const output of this.readoutEls) {
      const name = output.dataset.readout;
      if (Object.hasOwn(readouts, name) && output.textContent !== readouts[name]) output.textContent = readouts[name];
    }
    if (this.captionEl && typeof frame.caption === "string" && this.captionEl.textContent !== frame.caption) {
      this.captionEl.textContent = frame.caption;
    }
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
      const moved = this.controls.filter((c) => c.kind === "point"
        && JSON.stringify(this.state[c.name]) !== JSON.stringify(state?.[c.name])).map((c) => c.name);
      if (moved.length) this.placeHandles(moved);
    }
    this.settle(seq, { ...this.lastFrame });
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
    this.pump();
  }

  onRuntimeFailed() {
    this.figure.classList.remove("is-warming");
    if (!this.needsPython() || this.unavailable) return;
    this.unavailable = true;
    this.queued = false;
    this.inFlight = null;
    this.figure.classList.remove("is-error");
    this.figure.classList.add("is-static");
    this.setStatus(STATUS_UNAVAILABLE);
    // The figure stays what it was; put the controls back to the state it shows, and lock them.
    this.state = clone(this.shownState);
    this.syncControls();
    if (this.stage && this.handles().length) { // put the handles back where the figure drew them
      if (this.lastFrame) {
        this.stage.innerHTML = this.lastFrame.svg;
        this.currentSvg = this.lastFrame.svg;
      } else {
        for (const [handle, cx, cy] of this.builtHandles) {
          if (cx !== null) handle.setAttribute("cx", cx);
          if (cy !== null) handle.setAttribute("cy", cy);
        }
      }
      this.handlesMoved = false;
    }
    for (const el of this.form?.querySelectorAll("input, button, select, textarea") || []) el.disabled = true;
    this.decorateHandles();
    this.settle(Infinity, { error: "Live updates unavailable", where: "runtime" });
  }

  // ------------------------------------------------ test / benchmark API

  render(partial) {
    if (partial && typeof partial === "object") Object.assign(this.state, clone(partial));
    this.syncControls();
    const promise = new Promise((resolve) => this.waiters.push({ seq: this.seq + 1, resolve }));
    if (this.unavailable) this.settle(Infinity, { error: "Live updates unavailable", where: "runtime" });
    else this.changed(partial && typeof partial === "object" ? Object.keys(partial) : []);
    return promise;
  }
}

// ---------------------------------------------------------------- start-up

function observeForIdleStart(list) {
  const live = list.filter((w) => w.needsPython());
  const framed = list.filter((w) => !w.needsPython());
  if (typeof IntersectionObserver !== "function") {
    if (live.length) whenIdle(() => runtime.start());
    for (const w of framed) whenIdle(() => w.fetchFrames());
    return;
  }
  const byFigure = new Map(list.map((w) => [w.figure, w]));
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const w = byFigure.get(entry.target);
      observer.unobserve(entry.target);
      whenIdle(() => {
        if (w.unavailable) return;
        if (w.needsPython()) runtime.start();
        else w.fetchFrames();
      });
    }
  }, { rootMargin: "200px 0px" });
  for (const w of [...live, ...framed]) observer.observe(w.figure);
}

const publicWidgets = new Map(); // id -> {render, state}: the small face tests and benchmarks use

/** Resolves in a later task, so that other work (input, rendering) can run in between. */
function yieldToMain() {
  if (globalThis.scheduler && typeof globalThis.scheduler.yield === "function") return globalThis.scheduler.yield();
  return new Promise((resolve) => window.setTimeout(resolve, 0));
}

/** One widget per task: a page with many widgets never holds the main thread for long. */
async function enhanceAll() {
  const made = [];
  for (const figure of document.querySelectorAll("figure.widget")) {
    if (figure.classList.contains("is-enhanced")) continue;
    if (made.length) await yieldToMain();
    try {
      const w = new Widget(figure);
      widgets.set(w.id, w);
      publicWidgets.set(w.id, { render: (state) => w.render(state), state: () => clone(w.state) });
      made.push(w);
    } catch (err) {
      console.warn(`LabPress: widget ${figure.id || "?"} left static:`, err);
    }
  }
  observeForIdleStart(made);
}

const ready = new Promise((resolve) => {
  const go = () => enhanceAll().then(resolve);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", go, { once: true });
  else go();
});

// loader.js imports this module once the page has painted, and has already made
// window.labpress.ready (callers may be waiting on it); loaded by a plain module script, this
// module makes it itself.
const api = window.labpress || (window.labpress = {});
Object.assign(api, {
  widgets: publicWidgets,
  pyodideReady: () => runtime.start(), // resolves true once Python answers, false if it never will
});
if (!api.ready) api.ready = ready;
if (typeof api._resolveReady === "function") ready.then(api._resolveReady);

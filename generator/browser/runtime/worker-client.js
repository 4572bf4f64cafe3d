// LabPress widget runtime: the client of the Pyodide module worker (worker.js) that the whole
// page shares, and each widget's channel to it.
//
// The main thread never waits on Python: start() begins the worker once and resolves true when
// Python is ready, false if it never will be (no settings, no workers or WebAssembly, a file of
// Pyodide's that cannot be fetched, which the worker reports at once, another error, or no answer
// within START_TIMEOUT_MS); a failure is a console warning and a notice on each figure, never an
// error. Per widget at most one render is in flight and the latest state wins. Nothing runs at
// import: the page is read only once start() is called: on the reader's intent, for a state in the URL,
// or by window.labpress.pyodideReady().

import { clone, readRuntimeConfig } from "./contract.js";

const START_TIMEOUT_MS = 120000; // a start-up that has not finished by then will not (a missing file fails at once)

export const runtime = {
  status: "idle", // idle | starting | ready | failed
  worker: null,
  promise: null,
  config: undefined,
  // id -> widget: told onRuntimeStarting(), onRuntimeReady(), onRuntimeFailed(kind) and onResult(message)
  widgets: new Map(),

  readConfig() {
    if (this.config === undefined) {
      this.config = readRuntimeConfig(document.getElementById("labpress-runtime")?.textContent, document.baseURI);
    }
    return this.config;
  },

  /** Starts the worker once; resolves true when Python is ready, false if it cannot be. */
  start() {
    if (this.promise) return this.promise;
    this.status = "starting";
    for (const w of this.widgets.values()) w.onRuntimeStarting();
    this.promise = new Promise((resolve) => {
      this.resolveStart = resolve;
      const config = this.readConfig();
      if (!config) return this.fail("the page has no #labpress-runtime configuration");
      if (typeof Worker !== "function" || typeof WebAssembly !== "object") {
        return this.fail("this browser has no module workers or WebAssembly", "browser");
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
        if (this.status === "starting") this.fail(`Pyodide did not start within ${START_TIMEOUT_MS / 1000} s`, "timeout");
      }, START_TIMEOUT_MS);
    });
    return this.promise;
  },

  onMessage(message) {
    if (message.type === "ready") {
      if (this.status !== "starting") return;
      this.status = "ready";
      this.resolveStart(true);
      for (const w of this.widgets.values()) w.onRuntimeReady();
    } else if (message.type === "init-error") {
      this.fail(message.message || "Pyodide failed to start");
    } else if (message.type === "frame" || message.type === "error") {
      this.widgets.get(message.id)?.onResult(message);
    }
  },

  /** `kind`, what the widgets tell the reader: "load" (a file could not be fetched, or Python failed), "browser", "timeout". */
  fail(reason, kind = "load") {
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
    for (const w of this.widgets.values()) w.onRuntimeFailed(kind);
  },

  post(message) {
    this.worker.postMessage(message);
  },
};

/**
 * One widget's requests to the worker: at most one in flight; while it is, the newest state waits
 * (want() again replaces it, and counts one more coalesced state), and pump() sends it once the
 * answer is in. `widget` gives id, name, caption, seq and state, and is told onCoalesced(count).
 */
export class Channel {
  constructor(widget) {
    this.widget = widget;
    this.inFlight = null; // seq of the one request the worker is working on
    this.queued = false; // a newer state waits to be sent
    this.coalesced = 0;
    this.sentStates = new Map(); // seq -> state, for the request in flight
  }

  want() {
    if (this.queued) {
      this.coalesced += 1;
      this.widget.onCoalesced(this.coalesced);
    }
    this.queued = true;
  }

  pump() {
    if (!this.queued || this.inFlight !== null || runtime.status !== "ready") return;
    this.queued = false;
    const w = this.widget;
    const seq = w.seq;
    const state = clone(w.state);
    this.inFlight = seq;
    this.sentStates.set(seq, state);
    runtime.post({ type: "render", id: w.id, widget: w.name, state, caption: w.caption, seq });
  }

  /** The seq an answer is for and the state that was sent for it. */
  receive(message) {
    const seq = Number(message.seq);
    const state = this.sentStates.get(seq);
    this.sentStates.delete(seq);
    if (seq === this.inFlight) this.inFlight = null;
    return { seq, state };
  }

  drop() {
    this.queued = false;
    this.inFlight = null;
  }
}

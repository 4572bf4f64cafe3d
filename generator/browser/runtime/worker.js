// LabPress widget worker: one per page, serving every live widget on it.
//
// Runs Pyodide off the main thread so a slow kernel never blocks reading or
// scrolling. Protocol (see docs/widgets.md and main.js):
//   in:  {type: "init", pyodide, python, files, packages, cdn, snapshot, kernel}
//        {type: "render", id, widget, state, caption, seq}
//   out: {type: "ready", start, fallback, ms} | {type: "init-error", message}
//        {type: "frame", id, seq, svg, readouts, caption, ms}
//        {type: "error", id, seq, error, where, ms, kind?}
// Nothing here may throw past a message handler: every failure becomes a message.
//
// Start-up restores the site's Pyodide memory snapshot when it has one (`snapshot`, the URL of a
// gzip file: an interpreter already started, with the widget API imported; widgets/snapshot.py)
// and starts Python the plain way when it has none or it cannot be used: a missing or damaged file
// (gzip's CRC check), a snapshot of another Pyodide build (Pyodide checks its build id), any
// failure while restoring. The fallback is silent; the ready message says which start it was
// ("snapshot" or "plain") and why a snapshot was not used, for tests and the benchmark.
//
// Two failures are not the kernel's and are told apart: a file of Pyodide's own that cannot be
// fetched (a 404 on pyodide.asm.wasm, a network error) ends start-up at once with an init-error
// (Pyodide itself would only log a warning and wait for ever); a package that cannot be fetched from
// Pyodide's CDN (`packages = "cdn"`) makes the kernels that import it answer
// {type: "error", kind: "package", error: "could not load numpy from Pyodide's CDN: offline?"}.

import { unpackSnapshot } from "./snapshot.js";

const SITE = "/labpress-site"; // where the site's Python files go in Pyodide's file system

// The Python half (bootstrap.py, shipped beside this file): run once the site's files are
// written under SITE, it gives the function that renders one frame as JSON.
const BOOTSTRAP = new URL("./bootstrap.py", import.meta.url);

let booting = null; // Promise of the render function, set by the first init
let render = null;
let abortBoot = null; // rejects `booting`: some Pyodide failures only surface as stray rejections
let abortSnapshot = null; // while a snapshot is being restored, a stray failure ends that attempt only
// How start-up went, told with "ready": the start ("snapshot" or "plain"), why not the snapshot,
// the milliseconds Pyodide took to be usable, and when the worker was ready.
// `phases`: when each step of start-up ended, in ms since the worker was made (the benchmark's breakdown).
let started = { start: "plain", fallback: "", ms: 0, readyAt: 0, phases: {} };
const phase = (name) => { started.phases[name] = Math.round(performance.now()); };
const missingPackages = new Set(); // packages Pyodide could not fetch from its CDN, by name

// Pyodide fetches its core files (the wasm, the standard library, the lock file) with fetch(); a
// failed wasm fetch is only logged by it, so start-up would wait for ever. While booting, every
// fetch of a file under the Pyodide folder is watched and the first one that fails ends start-up.
const nativeFetch = self.fetch.bind(self);

// Pyodide compiles its wasm only once it holds the snapshot (it sizes the memory by it), so the
// worker compiles the wasm itself while the snapshot downloads and inflates, and hands Pyodide that
// module: Pyodide's own fetch of the wasm gets the response the worker already has, and its
// instantiateStreaming of that response instantiates the compiled module. One download, one compile,
// and the plain start after a failed snapshot reuses both.
let wasm = null; // {url, response: Promise<Response>, module: Promise<WebAssembly.Module>}
const nativeInstantiateStreaming = WebAssembly.instantiateStreaming;

function compileAhead(indexURL) {
  const url = new URL("pyodide.asm.wasm", indexURL).href;
  const response = nativeFetch(url);
  const module = response.then(async (fetched) => {
    if (!fetched.ok) throw new Error(`could not load pyodide.asm.wasm (HTTP ${fetched.status})`);
    try {
      const compiled = await WebAssembly.compileStreaming(fetched.clone());
      phase("wasm compiled");
      return compiled;
    } catch {
      // A host that does not say application/wasm: compile the bytes instead.
      return WebAssembly.compile(await fetched.arrayBuffer());
    }
  });
  module.catch(() => {}); // reported through Pyodide's fetch of the same response
  wasm = { url, response, module };
}

WebAssembly.instantiateStreaming = async (source, imports) => {
  const response = await source;
  if (wasm && response && response === await wasm.response.catch(() => null)) {
    const module = await wasm.module;
    return { module, instance: await WebAssembly.instantiate(module, imports) };
  }
  return nativeInstantiateStreaming(response, imports);
};

// A plain start after a snapshot that failed asks for the standard library and the lock file again,
// often while the first request is still running: while booting, a second fetch of a Pyodide file
// gets a copy of the first one's response instead of a second download.
const bootFetches = new Map(); // url -> Promise of a response kept unread for the next caller

function fetchOnce(url, resource, options) {
  const kept = bootFetches.get(url);
  const job = kept || nativeFetch(resource, options);
  // The copy is made as the response arrives, before the caller can read it.
  bootFetches.set(url, job.then((response) => response.clone()));
  bootFetches.get(url).catch(() => {});
  return job;
}

function watchFetches(indexURL, cdn) {
  self.fetch = (resource, options) => {
    const url = typeof resource === "string" ? resource : resource?.href || resource?.url || "";
    const ours = !render && String(url).startsWith(indexURL);
    const job = wasm && String(url) === wasm.url ? wasm.response
      : ours && !options?.method ? fetchOnce(String(url), resource, options) : nativeFetch(resource, options);
    const file = String(url).split("?")[0].split("/").pop();
    if (!render && abortBoot && String(url).startsWith(indexURL)) {
      job.then((response) => {
        if (!response.ok) abortBoot(new Error(`could not load ${file} (HTTP ${response.status})`));
      }, (err) => abortBoot(new Error(`could not load ${file} (${errorText(err)})`)));
    } else if (cdn && String(url).startsWith(cdn)) {
      const failed = () => missingPackages.add(packageOfWheel(file));
      job.then((response) => response.ok || failed(), failed);
    }
    return job;
  };
}

/** The package a wheel file is of: "numpy" for numpy-2.2.5-cp313-cp313-pyodide_2025_0_wasm32.whl. */
function packageOfWheel(file) {
  return decodeURIComponent(file).split("-")[0].toLowerCase().replace(/[-_.]+/g, "-");
}

/** A render's ModuleNotFoundError for a package the CDN did not give: the message that says so, else null. */
function missingPackageError(error) {
  const match = /^ModuleNotFoundError: No module named '([^'.]+)/.exec(error || "");
  if (!match || !missingPackages.size) return null;
  const name = match[1].toLowerCase().replace(/[-_.]+/g, "-");
  const shown = missingPackages.has(name) ? match[1] : [...missingPackages].join(", ");
  return `could not load ${shown} from Pyodide's CDN: offline?`;
}

function shortWhere(where) {
  return typeof where === "string" ? where.split(`${SITE}/`).join("") : "";
}

function safePath(path) {
  return typeof path === "string" && path !== "" && !path.startsWith("/") && !path.split("/").includes("..");
}

async function boot(message) {
  const { pyodide: indexURL, python, packages, cdn } = message;
  const files = Array.isArray(message.files) ? message.files : [];
  phase("boot");
  // Every download starts at once: the wasm (compiled as it arrives), the snapshot, the site's Python.
  compileAhead(indexURL);
  const snapshot = wantsSnapshot(message.snapshot) ? fetchSnapshot(message.snapshot) : null;
  snapshot?.catch(() => {}); // a snapshot that cannot be had is reported by startPython
  const sources = Promise.all(files.map(async (path) => {
    if (!safePath(path)) throw new Error(`refusing Python file path ${JSON.stringify(path)}`);
    const response = await nativeFetch(new URL(path, python));
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return [path, new Uint8Array(await response.arrayBuffer())]; // data files the kernels read may be binary
  }));
  const bootstrap = nativeFetch(BOOTSTRAP).then((response) => {
    if (!response.ok) throw new Error(`bootstrap.py: HTTP ${response.status}`);
    return response.text();
  });
  sources.catch(() => {}); // both reported through the awaits below, never as unhandled rejections
  bootstrap.catch(() => {});

  const { loadPyodide } = await import(new URL("pyodide.mjs", indexURL).href);
  phase("pyodide.mjs");
  const options = {
    indexURL,
    stdout: (line) => console.log(line),
    stderr: (line) => console.warn(line),
  };
  const fromCdn = packages === "cdn" && typeof cdn === "string" && cdn !== "";
  if (fromCdn) options.packageBaseUrl = cdn;
  watchFetches(indexURL, fromCdn ? cdn : "");
  const bootStarted = performance.now();
  const py = await startPython(loadPyodide, options, snapshot);
  started.ms = performance.now() - bootStarted;
  phase("python");
  const texts = await sources;
  const bootstrapSource = await bootstrap;

  for (const [path, bytes] of texts) {
    const full = `${SITE}/${path}`;
    py.FS.mkdirTree(full.slice(0, full.lastIndexOf("/")));
    py.FS.writeFile(full, bytes);
  }
  if (fromCdn) {
    // A package that cannot be fetched is reported by Pyodide here, not thrown: remember it, so the
    // kernels that import it say why they cannot run.
    const errorCallback = (m) => {
      const failed = /error occurred while loading (\S+?):?$/.exec(String(m).trim());
      if (failed) missingPackages.add(failed[1].toLowerCase().replace(/[-_.]+/g, "-"));
      console.warn(m);
    };
    const quiet = { messageCallback: () => {}, errorCallback };
    const decoder = new TextDecoder();
    for (const [path, bytes] of texts) {
      if (!path.startsWith("widgets/") || !path.endsWith(".py")) continue;
      try {
        await py.loadPackagesFromImports(decoder.decode(bytes), quiet);
      } catch (err) {
        console.warn(`LabPress worker: the packages of ${path} did not load (${errorText(err)})`);
      }
    }
  }
  phase("files");
  py.runPython(bootstrapSource);
  const labpressStart = py.globals.get("labpress_start");
  try {
    return labpressStart(SITE, typeof message.kernel === "string" ? message.kernel : "");
  } finally {
    labpressStart.destroy();
  }
}

/**
 * The snapshot at `url`, inflated: gzip's own check fails a damaged or truncated file. A host that
 * sends the file with `Content-Encoding: gzip` (as some do for any .gz) has the browser inflate it
 * already: then the bytes are the snapshot itself.
 */
async function fetchSnapshot(url) {
  const response = await nativeFetch(url); // not watched: a snapshot that cannot be had only costs speed
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  phase("snapshot fetched");
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return unpackSnapshot(bytes);
  const inflated = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const memory = unpackSnapshot(new Uint8Array(await new Response(inflated).arrayBuffer()));
  phase("snapshot inflated");
  return memory;
}

function wantsSnapshot(url) {
  return typeof url === "string" && url !== "" && typeof DecompressionStream === "function";
}

/** Pyodide restored from `snapshot` (the promise of its memory, or null) if it can be, else started the plain way. */
async function startPython(loadPyodide, options, snapshot) {
  if (snapshot) {
    try {
      const aborted = new Promise((resolve, reject) => { abortSnapshot = reject; });
      // Pyodide fetches its wasm while the snapshot downloads and awaits the snapshot only to restore it.
      const py = await Promise.race([loadPyodide({ ...options, _loadSnapshot: snapshot }), aborted]);
      started.start = "snapshot";
      return py;
    } catch (err) {
      // Pyodide's own messages say what is wrong on their first line ("Snapshot build id mismatch").
      started.fallback = String(err?.message || err).trim().split("\n")[0] || "unknown";
    } finally {
      abortSnapshot = null;
    }
  }
  started.start = "plain";
  return loadPyodide(options);
}

function errorText(err) {
  if (err && typeof err.message === "string" && err.message) return err.message.split("\n").filter(Boolean).slice(-1)[0];
  return String(err);
}

async function onInit(message) {
  if (!booting) {
    const aborted = new Promise((resolve, reject) => { abortBoot = reject; });
    booting = Promise.race([boot(message), aborted]);
    booting.catch(() => {});
  }
  try {
    render = await booting;
    bootFetches.clear(); // the copies kept for a second start are not needed any more
    started.readyAt = performance.now(); // since the worker was made
    phase("ready");
    self.labpressStart = { ...started }; // for tests and the benchmark: Playwright reads a worker's globals
    self.postMessage({ type: "ready", ...started });
  } catch (err) {
    self.postMessage({ type: "init-error", message: errorText(err) });
  }
}

async function onRender(message) {
  const { id, seq, widget, caption } = message;
  const started = performance.now();
  let reply;
  try {
    if (!render) {
      if (!booting) throw new Error("the worker was asked to render before init");
      render = await booting;
    }
    const text = render(String(widget), JSON.stringify(message.state ?? {}), String(caption ?? ""));
    const result = JSON.parse(text);
    const missing = result && typeof result.error === "string" ? missingPackageError(result.error) : null;
    if (missing) {
      reply = { type: "error", kind: "package", error: missing, where: "" };
    } else if (result && typeof result.error === "string") {
      reply = { type: "error", error: result.error, where: shortWhere(result.where) };
    } else {
      reply = { type: "frame", svg: result.svg, readouts: result.readouts || {}, caption: result.caption || "" };
    }
  } catch (err) {
    reply = { type: "error", error: errorText(err), where: "worker" };
  }
  self.postMessage({ ...reply, id, seq, ms: performance.now() - started });
}

self.addEventListener("message", (event) => {
  const message = event.data || {};
  const job = message.type === "init" ? onInit(message)
    : message.type === "render" ? onRender(message)
    : Promise.resolve();
  job.catch((err) => console.warn("LabPress worker:", errorText(err)));
});

// A failed wasm fetch, for one, rejects inside Pyodide and leaves loadPyodide pending for
// ever: during start-up any stray failure means start-up failed.
self.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  if (!render && abortSnapshot) abortSnapshot(event.reason);
  else if (!render && abortBoot) abortBoot(event.reason);
  else console.warn("LabPress worker:", errorText(event.reason));
});
self.addEventListener("error", (event) => {
  if (!render && (abortSnapshot || abortBoot)) {
    event.preventDefault();
    (abortSnapshot || abortBoot)(event.error || new Error(event.message));
  }
});

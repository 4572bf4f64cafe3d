// Makes the Pyodide memory snapshot a site's widget worker restores instead of starting Python.
//
//   node make_snapshot.mjs PYODIDE_DIR KERNEL_DIR OUT_DIR
//
// Run at set-up time (`make setup`, and by the wheel's build hook): node is a set-up tool, never a
// build tool. It starts the pinned Pyodide from PYODIDE_DIR with `_makeSnapshot`, imports what every
// worker imports (the widget API in KERNEL_DIR, the modules bootstrap.py uses and the ones kernels
// commonly do), and writes OUT_DIR/snapshot.bin.gz with OUT_DIR/manifest.json beside it.
//
// The manifest says what the snapshot holds, so a build ships it only when it fits: the Pyodide
// version and build id it restores into (Pyodide refuses any other build), the digest of the kernel
// sources imported into it (widgets/snapshot.py computes the same digest from the sources a site
// ships) and the digest and sizes of the file. The file holds the snapshot's non-zero pages
// (packPages), gzip-compressed because static hosts
// rarely compress an unknown file type; the worker inflates it with DecompressionStream, whose CRC
// check also catches a damaged or truncated file.
//
// Both files are written beside themselves and renamed into place, the manifest last: a killed run
// leaves the old pair or no manifest, never a manifest describing a file that is not there.

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import zlib from "node:zlib";

// Where the worker writes the site's Python (worker.js SITE): the modules are imported from there.
const SITE = "/labpress-site";
// Modules imported into the snapshot beyond the widget API: bootstrap.py's, and the ones kernels
// commonly import. Each adds to the snapshot's size; anything else is imported after restore.
const PRELOADED = ["importlib", "json", "os", "sys", "traceback", "math", "random", "re", "string",
  "dataclasses", "typing", "csv", "io", "statistics"];

/** sha256 of the kernel sources, as widgets/snapshot.py kernel_digest computes it. */
export function kernelDigest(files) {
  const hash = crypto.createHash("sha256");
  for (const [name, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    hash.update(Buffer.concat([Buffer.from(`${name}\0`), bytes, Buffer.from("\0")]));
  }
  return hash.digest("hex");
}

// Half of a fresh interpreter's memory is pages of zeros. Inflating them costs the reader's browser
// as much as inflating the rest, so the file holds only the pages that are not all zero:
//   "LPSNAP\0\1", u32 memory size, u32 page size, u32 page count, u32 page numbers[count], pages
// (little-endian; the last page is padded with zeros). worker.js unpackSnapshot reverses it.
export const PAGE_SIZE = 4096;
export const MAGIC = Buffer.from("LPSNAP\0\x01", "latin1");

export function packPages(raw) {
  const pages = [];
  for (let page = 0; page * PAGE_SIZE < raw.length; page++) {
    const chunk = raw.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    if (chunk.some((byte) => byte !== 0)) pages.push(page);
  }
  const head = Buffer.alloc(MAGIC.length + 12 + 4 * pages.length);
  MAGIC.copy(head, 0);
  head.writeUInt32LE(raw.length, 8);
  head.writeUInt32LE(PAGE_SIZE, 12);
  head.writeUInt32LE(pages.length, 16);
  pages.forEach((page, i) => head.writeUInt32LE(page, 20 + 4 * i));
  const body = Buffer.alloc(pages.length * PAGE_SIZE);
  pages.forEach((page, i) => body.set(raw.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE), i * PAGE_SIZE));
  return Buffer.concat([head, body]);
}

function writeAtomically(file, bytes) {
  const scratch = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(scratch, bytes);
  fs.renameSync(scratch, file);
}

async function main([pyodideDir, kernelDir, outDir]) {
  if (!pyodideDir || !kernelDir || !outDir) {
    throw new Error("usage: node make_snapshot.mjs PYODIDE_DIR KERNEL_DIR OUT_DIR");
  }
  const pyodideRoot = path.resolve(pyodideDir);
  const { loadPyodide, version } = await import(pathToFileURL(path.join(pyodideRoot, "pyodide.mjs")).href);
  const kernel = fs.readdirSync(kernelDir).filter((name) => name.endsWith(".py"))
    .map((name) => [name, fs.readFileSync(path.join(kernelDir, name))]);
  if (!kernel.some(([name]) => name === "widget.py")) throw new Error(`${kernelDir} holds no widget.py`);
  const digest = kernelDigest(kernel);

  const py = await loadPyodide({
    indexURL: `${pyodideRoot}${path.sep}`, _makeSnapshot: true, stdout: () => {}, stderr: (line) => console.error(line),
  });
  py.FS.mkdirTree(`${SITE}/labpress/kernel`);
  py.FS.writeFile(`${SITE}/labpress/__init__.py`, '"""LabPress\'s widget API (from a snapshot)."""\n');
  for (const [name, bytes] of kernel) py.FS.writeFile(`${SITE}/labpress/kernel/${name}`, bytes);
  const modules = kernel.map(([name]) => (name === "__init__.py" ? "labpress.kernel" : `labpress.kernel.${name.slice(0, -3)}`));
  // bootstrap.py puts the site folder on sys.path itself after restore: leave sys.path as it was.
  py.runPython(`
import importlib, sys
sys.path.insert(0, ${JSON.stringify(SITE)})
try:
    for name in ${JSON.stringify([...PRELOADED, ...modules])}:
        importlib.import_module(name)
finally:
    sys.path.remove(${JSON.stringify(SITE)})
    sys.path_importer_cache.pop(${JSON.stringify(SITE)}, None)
importlib.invalidate_caches()
sys.modules["labpress"].__labpress_kernel_digest__ = ${JSON.stringify(digest)}
`);
  const raw = py.makeMemorySnapshot();
  const packed = zlib.gzipSync(packPages(raw), { level: 9 });
  const buildId = (() => {
    const match = /BUILD_ID:"([0-9a-f]+)"/.exec(fs.readFileSync(path.join(pyodideRoot, "pyodide.mjs"), "utf8"));
    return match ? match[1] : "";
  })();
  const manifest = {
    format: 1,
    pyodide: version,
    build_id: buildId,
    kernel: digest,
    file: "snapshot.bin.gz",
    sha256: crypto.createHash("sha256").update(packed).digest("hex"),
    bytes: packed.length,
    raw_bytes: raw.length,
    modules: [...PRELOADED, ...modules],
  };
  fs.mkdirSync(outDir, { recursive: true });
  writeAtomically(path.join(outDir, manifest.file), packed);
  writeAtomically(path.join(outDir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`Pyodide ${version} snapshot: ${(raw.length / 1e6).toFixed(1)} MB, ${(packed.length / 1e6).toFixed(1)} MB gzip -> ${outDir}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] || "").href) {
  main(process.argv.slice(2)).then(() => process.exit(0), (err) => {
    console.error(`make_snapshot: ${err && err.message ? err.message : err}`);
    process.exit(1);
  });
}

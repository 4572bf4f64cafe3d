"""The Python half of the widget worker, run under Pyodide by worker.js (not part of labpress).

worker.js fetches this file from beside itself, writes the site's Python files (the widget API
and the kernels) under one folder of Pyodide's file system, runs this source and calls
``labpress_start(folder, kernel)``. That returns the function the worker calls for every frame: it
imports widgets by module name (cached) and turns any exception ``render_json`` does not
already report (a failing import, a missing widget object, a broken figure) into the same
``{"error", "where"}`` JSON.

When the worker restored a memory snapshot (widgets/snapshot.py), the widget API is already
imported, from the sources whose digest the snapshot recorded. ``kernel`` is the digest of the
sources this site ships: if they differ, the snapshot's copy is dropped and the site's is imported.
Python's random generator is seeded again, or every reader would draw the snapshot's numbers.
"""

import importlib
import json
import os
import sys
import traceback


def labpress_start(site, kernel=""):
    restored = sys.modules.get("labpress")
    if restored is not None and getattr(restored, "__labpress_kernel_digest__", None) != kernel:
        for name in [n for n in sys.modules if n == "labpress" or n.startswith("labpress.")]:
            del sys.modules[name]
    if "random" in sys.modules:
        sys.modules["random"].seed()
    # Kernels run in the site's folder, as at build: data/x.csv (shipped beside them) is the site's file.
    os.chdir(site)
    for path in (f"{site}/widgets", site):
        if path not in sys.path:
            sys.path.insert(0, path)
    importlib.invalidate_caches()

    from labpress.kernel.widget import render_json

    modules = {}

    def where(exc):
        if isinstance(exc, SyntaxError) and exc.filename:
            return f"{exc.filename}:{exc.lineno}"
        frames = traceback.extract_tb(exc.__traceback__)
        ours = [f for f in frames if f.filename.startswith(f"{site}/")] or frames
        return f"{ours[-1].filename}:{ours[-1].lineno}" if ours else ""

    def labpress_render(name, state_json, caption):
        try:
            module = modules.get(name)
            if module is None:
                if not name.isidentifier():
                    raise ImportError(f"{name!r} is not a widget module name")
                module = importlib.import_module(name)
                modules[name] = module
            target = getattr(module, name, None)
            if target is None:
                raise LookupError(f"widgets/{name}.py defines no widget named '{name}'")
            return render_json(target, state_json, caption)
        except Exception as exc:
            return json.dumps({"error": f"{type(exc).__name__}: {exc}", "where": where(exc)}, ensure_ascii=False)

    return labpress_render

"""Every line that runs in the reader's browser (shipped as package data, not imported).

``runtime/`` is the widget runtime: loader.js (the page's one widget script, which starts the
rest after the first paint), widgets.js, its pure rules in frames.js, the Pyodide worker
worker.js and its Python half bootstrap.py (run under Pyodide, never by LabPress);
``reload.js`` is labpress serve's live-reload client. See docs/architecture.md.
"""

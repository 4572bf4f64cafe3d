"""Every line that runs in the reader's browser (shipped as package data, not imported).

``runtime/`` is the widget runtime: loader.js (the page's one widget script, which starts the
rest after the first paint); main.js (the entry: finds the figures, ``window.labpress``);
widget.js (one widget: pre-computed frames or Python); controls.js (the form and the handles);
patch.js (a frame into the figure); contract.js and frames.js (the page contract's pure rules);
worker-client.js (the worker client); worker.js and its Python half bootstrap.py (run under Pyodide,
never by LabPress). ``reload.js`` is labpress serve's live-reload client. See docs/architecture.md.
"""

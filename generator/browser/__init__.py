"""Every line that runs in the reader's browser (JavaScript; shipped as package data, not imported).

``runtime/`` is the widget runtime (widgets.js, its pure rules in frames.js, the Pyodide worker);
``reload.js`` is labpress serve's live-reload client. See docs/architecture.md.
"""

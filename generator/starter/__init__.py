"""The notebook ``labpress init`` writes: the starter files in ``files/`` (a working site: its
``labpress.toml``, an example post, widget and data file, ``static/``, a ``.gitignore`` and a GitHub
Pages workflow), and writing them into a folder without overwriting anything (``notebook.py``).
"""

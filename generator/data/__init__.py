"""Data files read at build time: tables from CSV, TSV and JSON files for ``::: table`` blocks.

``tables.py`` finds a data file in the site folder, reads it into a header and rows, each row
with the line of the file it starts on, and formats numbers; every mistake is a ``TableError``
whose message names the file (and its line). The fence is parsed and the HTML written by
``markdown/datatables.py``.
"""

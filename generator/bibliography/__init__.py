"""Bibliographies: BibTeX (``bibtex.py``) and CSL-JSON (``csljson.py``) files read with the line of
each entry, and a post's citations and reference list formatted by citeproc-py in a CSL style
(``cite.py``). The ``[@key]`` syntax in a post is ``markdown/citations.py``'s."""

"""A post's provenance: how it was made, written beside its page as ``provenance.json``.

``record.py`` makes one post's record (the digests of its source, the data files and
folders its build-time code read, the theme files its figures were themed from, its
kernels and its code blocks; the versions of the tools; the git commit and whether the
post's own files are committed) and its JSON, byte-identical from one build to the next;
``versions.py`` finds the tools' versions, ``git.py`` asks git once per build;
``verify.py`` recomputes the recorded digests of a built folder (``labpress check
--provenance``).
"""

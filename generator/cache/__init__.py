"""``.labpress-cache/``: SQLite files and atomic writes, digests checked on every read, the
rendered-post cache and the inputs that build-time code read.
"""

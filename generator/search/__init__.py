"""Search: each post as Pagefind reads it (``copies.py``) and the site's Pagefind index, written at
build into the output tree beside the reader's search script (``index.py``)."""

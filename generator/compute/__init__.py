"""A post's build-time code: its ```` ```python {run} ```` and ```` ```python {figure} ```` blocks, run
in one namespace top to bottom like a notebook, and its inline `` `{python} expr` `` values.

``session.py`` runs the code (in the site folder, under the time limit, recording what it
reads); ``cache.py`` keeps a post's results with those inputs, so an unchanged post costs
nothing on rebuild. The fences and inline code are parsed by ``markdown/compute.py``; the
drawing style and the theming of figures belong to ``figures/``.
"""

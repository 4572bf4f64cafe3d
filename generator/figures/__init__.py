"""Build-time figures: running a block's code, recording what it reads, caching and theming its SVG.

``run.py`` runs the code (site folder, time limit) in the drawing style of
``style.py``; ``reads.py`` records the files it reads; ``cache.py`` keeps the
drawn SVG with those inputs; ``svg.py`` rewrites the SVG for the theme. The
fence itself is parsed by the Markdown plugin, ``markdown/figures.py``.
"""

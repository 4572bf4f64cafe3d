"""Build-time figures: the drawing style, saving the figure as deterministic SVG, theming the SVG.

``style.py`` is how figure code draws (sentinel colours); ``draw.py`` finds the figure a
block left and saves it; ``svg.py`` rewrites the SVG for the theme. Running the code
belongs to ``compute/`` (one namespace per post); the fence is parsed by
``markdown/figures.py``.
"""

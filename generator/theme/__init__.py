"""Finding a theme and the pinned npm packages, and keeping its compiled templates.
"""

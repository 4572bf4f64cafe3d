"""Build-time figure blocks: run in the site folder, their inputs recorded, SVG themed, cached.
"""

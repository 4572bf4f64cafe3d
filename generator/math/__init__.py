"""Maths: KaTeX run inside Python, its cache, and style attributes turned into classes.
"""

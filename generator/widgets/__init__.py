"""Widgets at build time: loading kernels, their first frame and frames, what a site ships.
"""

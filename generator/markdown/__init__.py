"""Markdown to HTML for experiment posts: markdown-it-py plus LabPress's block plugins."""

from .render import RenderedBody, render_body

__all__ = ["RenderedBody", "render_body"]

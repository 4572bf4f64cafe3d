"""Markdown to HTML for experiment posts: markdown-it-py plus LabPress's block plugins.

``render_body`` is loaded on first use: a build that renders no post (everything
cached) never imports markdown-it, Pygments or the plugins.
"""

__all__ = ["render_body"]


def __getattr__(name: str):
    if name == "render_body":
        from labpress.markdown.render import render_body

        return render_body
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

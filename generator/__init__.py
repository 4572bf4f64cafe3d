"""LabPress: lab-notebook posts from Markdown to a themed static site."""

__version__ = "0.1.0"

"""The model of a post: front matter, slugs, discovering and reading post files, posts and the site.
"""

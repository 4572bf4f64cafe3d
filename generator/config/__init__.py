"""``labpress.toml``: its schema and validation, and the ``SiteConfig`` a build reads.
"""

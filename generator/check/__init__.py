"""``labpress check``'s checks over a built site: internal links, anchors and images.
"""

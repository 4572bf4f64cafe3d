"""The site as data: posts, series, tags, and the pages made from them."""

"""Serving the feed tree over HTTP: the served tree and what keeps it current (no Flask
here: that is frfeeds.app)."""

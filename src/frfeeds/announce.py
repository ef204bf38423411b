"""WebSub, what to announce: pure functions, no I/O (the HTTP is ``hubclient``).

A hub is told of a feed when its bytes change: after a build, the feed files the build
wrote (``WriteResult.changed``); after the app's reload, the feeds whose input digest
changed (the app renders lazily, so the digest stands for the bytes: every file of a
feed is made of exactly what its digest covers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from frfeeds.render.links import absolute
from frfeeds.render.outputs import FORMAT_EXTENSIONS, FORMATS


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one hub was told."""

    hub: str
    #: Feed URLs the hub accepted.
    announced: int
    #: Feed URLs to announce.
    total: int
    #: Why the rest were not (the last failure), or None.
    error: str | None = None

    def line(self) -> str:
        """``announced 3 feeds to HUB``, ``hub HUB unreachable: reason``, or ``hub HUB
        answered HTTP 400 for URL`` (a hub that refused)."""
        if self.error is None:
            return f"announced {self.announced} feeds to {self.hub}"
        done = f" (announced {self.announced} of {self.total} feeds)" if self.announced else ""
        if self.error.startswith("HTTP "):
            return f"hub {self.hub} answered {self.error}{done}"
        return f"hub {self.hub} unreachable: {self.error}{done}"


def feed_files(paths: Iterable[str]) -> list[str]:
    """The subscribable feed files (``.atom``, ``.rss``, ``.json``) among tree paths, in order."""
    return [path for path in paths if path.startswith("feeds/") and path.endswith(FORMAT_EXTENSIONS)]


def format_files(feed_paths: Iterable[str]) -> list[str]:
    """Every subscribable file of feeds (``feeds/ai`` -> its .atom, .rss, .json)."""
    return [output.file(path) for path in feed_paths for output in FORMATS]


def changed_feeds(announced: Mapping[str, str], digests: Mapping[str, str]) -> list[str]:
    """The feeds (paths) whose digest differs from the one last announced, new ones
    included, sorted; a feed that went away is no one's to announce."""
    return sorted(path for path, digest in digests.items() if announced.get(path) != digest)


def urls(base_url: str, files: Sequence[str]) -> list[str]:
    return [absolute(base_url, path) for path in files]


def link_header(hubs: Sequence[str], self_url: str) -> str:
    """The ``Link`` header WebSub discovery asks of a feed's response."""
    return ", ".join([*(f'<{hub}>; rel="hub"' for hub in hubs), f'<{self_url}>; rel="self"'])

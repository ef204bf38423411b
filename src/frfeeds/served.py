"""The feed tree as served over HTTP: bytes plus what HTTP says about them. No Flask here."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from frfeeds.catalog import EPOCH, Feed
from frfeeds.render.links import FORMATS, feed_file

MEDIA_TYPES = {ext: media_type for ext, media_type in FORMATS.values()} | {
    "html": "text/html",
    "opml": "text/x-opml",
}


@dataclass(frozen=True)
class ServedTree:
    #: Tree path -> bytes, exactly what ``frfeeds build`` writes.
    files: Mapping[str, bytes]
    #: Tree path -> newest entry date of what the file holds.
    modified: Mapping[str, dt.datetime]
    #: Tree path -> strong ETag value (without quotes): a digest of the bytes.
    etags: Mapping[str, str]
    feeds: int
    _gzip: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_feeds(cls, feeds: tuple[Feed, ...], files: Mapping[str, bytes]) -> ServedTree:
        newest = max((feed.updated for feed in feeds), default=EPOCH)
        modified = {path: newest for path in files}
        for feed in feeds:
            for fmt in FORMATS:
                modified[feed_file(feed.path, fmt)] = feed.updated
        etags = {path: hashlib.sha256(data).hexdigest()[:32] for path, data in files.items()}
        return cls(files, modified, etags, len(feeds))

    def media_type(self, path: str) -> str:
        return MEDIA_TYPES.get(path.rsplit(".", 1)[-1], "application/octet-stream")

    def gzipped(self, path: str) -> bytes:
        """The file gzipped with no timestamp: the same bytes in every worker, every time."""
        data = self._gzip.get(path)
        if data is None:
            data = self._gzip[path] = gzip.compress(self.files[path], compresslevel=6, mtime=0)
        return data

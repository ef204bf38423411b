"""What a deploy does, decided before it does anything: pure (local files and the
bucket's listing in, uploads and deletes out), so the dry run prints what the run does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from frfeeds.deploy.headers import upload_rank
from frfeeds.deploy.local import LocalFile


@dataclass(frozen=True)
class Plan:
    #: Paths to upload, in groups put one after the other: archives and pages, then the
    #: feed heads, then index.html and feeds.opml (headers.upload_rank).
    uploads: tuple[tuple[str, ...], ...]
    #: Paths whose objects go, after every upload.
    deletes: tuple[str, ...]
    unchanged: int
    #: Objects under the prefix before the deploy.
    remote: int

    @property
    def upload_count(self) -> int:
        return sum(len(group) for group in self.uploads)

    def too_many_deletes(self, max_deletes: int, max_percent: int) -> bool:
        """More deletes than max_deletes, and more than max_percent of the objects under the prefix."""
        count = len(self.deletes)
        return count > max_deletes and count * 100 > max_percent * self.remote


def plan_deploy(local: Mapping[str, LocalFile], remote: Mapping[str, str], everything: bool = False) -> Plan:
    """local: the tree's files by path; remote: the objects under the prefix, by the same
    relative path, to their ETag (quotes and all, as listed). A file is unchanged when
    the ETag is its MD5: S3 and its compatibles give that ETag to an object put in one
    part, which is how deploy puts every file (a multipart ETag, ``...-N``, never
    matches, so such an object is put again, once). ``everything`` puts every file
    whatever its ETag: the listing holds no headers, so it is how objects get the headers
    of a changed policy, or lose those another tool gave them."""
    changed = [path for path, file in local.items()
               if everything or remote.get(path, "").strip('"').lower() != file.md5]
    groups = tuple(tuple(sorted(path for path in changed if upload_rank(path) == rank)) for rank in (0, 1, 2))
    return Plan(
        uploads=tuple(group for group in groups if group),
        deletes=tuple(sorted(path for path in remote if path not in local)),
        unchanged=len(local) - len(changed),
        remote=len(remote),
    )

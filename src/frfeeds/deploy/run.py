"""``frfeeds deploy``: plan, check the plan, then upload in order and delete last.

A reader never sees a head that links a missing page or archive: the archives and
pages go up first, the feed heads after them, index.html and feeds.opml last, and
objects are deleted only once every upload succeeded. A deploy stopped anywhere (killed,
the network gone) leaves the bucket serving a consistent mix of old and new, and the
same command run again finishes the job: what was uploaded already lists with its MD5
as ETag, so it is not sent twice.
"""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from frfeeds.deploy.headers import headers_for, sealed_archives
from frfeeds.deploy.local import LocalFile, scan_tree
from frfeeds.deploy.plan import Plan, plan_deploy
from frfeeds.deploy.s3 import Bucket, DeployError
from frfeeds.deploy.target import Target
from frfeeds.progress import progress_bar

#: Uploads in flight at once: S3 answers each PUT in tens of milliseconds, so a few
#: connections keep a 2-core machine's deploy busy without flooding a small server.
CONNECTIONS = 8


@dataclass(frozen=True)
class DeployReport:
    plan: Plan
    uploaded: int
    deleted: int
    dry_run: bool = False


@dataclass(frozen=True)
class Limits:
    """The refusal to delete much: more than max_deletes objects and more than
    max_percent of those under the prefix, unless forced (settings.Deploy's defaults:
    20 and 10%)."""

    max_deletes: int
    max_percent: int
    force: bool = False


def deploy(tree: Path, target: Target, *, endpoint: str | None = None, region: str | None = None,
           limits: Limits, everything: bool = False, dry_run: bool = False, progress: bool = True,
           show: Callable[[str], None] = print) -> DeployReport:
    """Deploy a built tree to target (every file with ``everything``, else the changed
    ones). A dry run shows the plan through ``show``, one
    line per upload and delete, and changes nothing. DeployError (one line) for what
    stops it, saying what was done; UsageError for a folder that is not a tree."""
    try:
        local = scan_tree(tree)
    except OSError as exc:
        raise DeployError(f"cannot read {tree}: {exc.strerror or exc}") from None
    bucket = Bucket(target, endpoint, region, connections=CONNECTIONS)
    plan = plan_deploy(local, bucket.listing(), everything)
    sealed = sealed_archives(local)
    if dry_run:
        for group in plan.uploads:
            for path in group:
                headers = headers_for(path, path in sealed)
                show(f"upload {path} ({headers.content_type}; Cache-Control: {headers.cache_control})")
        for path in plan.deletes:
            show(f"delete {path}")
    if plan.too_many_deletes(limits.max_deletes, limits.max_percent) and not limits.force:
        raise DeployError(
            f"refusing to delete {len(plan.deletes):,} of the {plan.remote:,} objects under {target} (more than "
            f"{limits.max_deletes} and more than {limits.max_percent}% of them); nothing was changed: check the "
            "tree and the target, or pass --force")
    if dry_run:
        return DeployReport(plan, 0, 0, dry_run=True)
    uploaded = _upload(bucket, tree, local, plan, progress, sealed)
    try:
        bucket.delete(plan.deletes)
    except DeployError as exc:
        raise DeployError(f"{exc} (every file uploaded; run the same deploy again to finish)") from None
    return DeployReport(plan, uploaded, len(plan.deletes))


def _upload(bucket: Bucket, tree: Path, local: dict[str, LocalFile], plan: Plan, progress: bool,
            sealed: frozenset[str]) -> int:
    """Every group of the plan in turn, each file of a group in parallel; the count put."""
    done = 0
    total = plan.upload_count
    with progress_bar(total, "deploying", progress) as advance:
        for group in plan.uploads:
            try:
                done += _put_group(bucket, tree, local, group, advance, sealed)
            except _Stopped as stopped:
                done += stopped.done
                raise DeployError(f"{stopped.reason} ({done:,} of {total:,} files uploaded, nothing deleted; "
                                  "run the same deploy again to finish)") from None
    return done


class _Stopped(Exception):
    def __init__(self, reason: str, done: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.done = done


def _put_group(bucket: Bucket, tree: Path, local: dict[str, LocalFile], group: Sequence[str],
               advance: Callable[[int], object], sealed: frozenset[str]) -> int:
    def put(path: str) -> None:
        try:
            with open(os.path.join(tree, path), "rb") as file:
                data = file.read()
        except OSError as exc:
            raise DeployError(f"cannot read {tree / path}: {exc.strerror or exc}") from None
        bucket.put(path, data, local[path].md5, headers_for(path, path in sealed))

    done = 0
    pool = concurrent.futures.ThreadPoolExecutor(CONNECTIONS)
    try:
        futures = [pool.submit(put, path) for path in group]
        for future in concurrent.futures.as_completed(futures):
            try:
                future.result()
            except DeployError as exc:
                pool.shutdown(wait=True, cancel_futures=True)  # what is in flight finishes, nothing new starts
                finished = sum(1 for other in futures
                               if other.done() and not other.cancelled() and other.exception() is None)
                raise _Stopped(str(exc), finished) from None
            done += 1
            advance(1)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return done

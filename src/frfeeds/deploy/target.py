"""Where a tree is deployed: ``s3://bucket/prefix``. Pure: no boto3."""

from __future__ import annotations

import re
from dataclasses import dataclass

#: S3's bucket naming rules (3 to 63 lowercase letters, digits, dots and hyphens, a
#: letter or digit at each end), which MinIO, R2 and GCS's S3 API share.
BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


@dataclass(frozen=True)
class Target:
    bucket: str
    #: Key prefix without slashes at its ends; empty for the bucket's root.
    prefix: str = ""

    def key(self, path: str) -> str:
        """The object key of a tree path."""
        return f"{self.prefix}/{path}" if self.prefix else path

    @property
    def key_prefix(self) -> str:
        """What every key of the tree starts with: the prefix and a slash, so that
        ``s3://b/news`` never touches ``s3://b/news2/...``."""
        return f"{self.prefix}/" if self.prefix else ""

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


def parse_target(text: str) -> Target:
    """``s3://bucket`` or ``s3://bucket/some/prefix``; ValueError(reason) otherwise."""
    if not isinstance(text, str) or not text.startswith("s3://"):
        raise ValueError(f"must be s3://bucket/prefix, not {text!r}")
    bucket, _, prefix = text[len("s3://"):].partition("/")
    if not BUCKET.fullmatch(bucket) or ".." in bucket:
        raise ValueError(f"must be s3://bucket/prefix with a bucket name of 3 to 63 lowercase letters, digits, "
                         f"'.' and '-', not {text!r}")
    prefix = prefix.strip("/")
    parts = prefix.split("/") if prefix else []
    if any(part in ("", ".", "..") for part in parts) or any(ord(char) < 32 for char in prefix):
        raise ValueError(f"must be s3://bucket/prefix with a prefix of plain names between slashes, not {text!r}")
    return Target(bucket, prefix)

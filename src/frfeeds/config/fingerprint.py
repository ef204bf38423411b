"""What a build depends on besides its records: the output settings and the code."""

from __future__ import annotations

import hashlib

from frfeeds.config.table import TABLE, get
from frfeeds.fingerprint import code_fingerprint
from frfeeds.settings import Settings


def build_digest(settings: Settings) -> str:
    """Digest of everything a build's output depends on besides its records: every
    setting the table marks as output, and the package's code. A build whose records
    and build_digest are those of the last one has nothing to do (build.py); which
    feeds a build re-renders, the plan's digests decide."""
    output = tuple((row.key, get(settings, row.key)) for row in TABLE if row.output)
    return hashlib.blake2b(repr((code_fingerprint(), output)).encode(), digest_size=16).hexdigest()

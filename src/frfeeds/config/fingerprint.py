"""What a build depends on besides its records and the code: the output settings."""

from __future__ import annotations

import hashlib

from frfeeds.config.table import TABLE, get
from frfeeds.settings import Settings


def build_digest(settings: Settings) -> str:
    """Digest of every setting the table marks as output: with the code's stamp
    (fingerprint.code_stamp) and the record files' signature, what a build's output
    depends on. A build whose inputs are those of the last one has nothing to do
    (build.py); which feeds a build re-renders, the plan's digests decide."""
    output = tuple((row.key, get(settings, row.key)) for row in TABLE if row.output)
    return hashlib.blake2b(repr(output).encode(), digest_size=16).hexdigest()

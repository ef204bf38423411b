"""frfeeds: a folder of news records in, Atom / RSS / JSON feeds out.

The public API lives here; everything else is an implementation module.
"""

__version__ = "0.1.0"

from frfeeds.errors import FrfeedsError, RecordError, UsageError


def __getattr__(name: str):
    """The record model, imported on first use (it brings ftfy and dateutil along)."""
    if name in ("Image", "Provider", "Record", "Related"):
        from frfeeds import records

        return getattr(records, name)
    raise AttributeError(f"module 'frfeeds' has no attribute {name!r}")


__all__ = [
    "FrfeedsError",
    "Image",
    "Provider",
    "Record",
    "RecordError",
    "Related",
    "UsageError",
    "__version__",
]

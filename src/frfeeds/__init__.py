"""frfeeds: a folder of news records in, Atom / RSS / JSON feeds out.

The public API lives here; everything else is an implementation module.
"""

__version__ = "0.1.0"


from frfeeds.errors import FrfeedsError, RecordError, UsageError

TYPE_CHECKING = False  # as typing's, which a no-change build does not import (mypy takes it as True)
if TYPE_CHECKING:  # the real classes for the type checker; at run time __getattr__ imports them
    from frfeeds.records import Image, Provider, Record, Related


def __getattr__(name: str) -> type:
    """The record model, imported on first use (with the cleaning code it needs)."""
    if name in ("Image", "Provider", "Record", "Related"):
        from frfeeds import records

        model: type = getattr(records, name)
        return model
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

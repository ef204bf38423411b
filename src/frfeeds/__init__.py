"""frfeeds: a folder of news records in, Atom / RSS / JSON feeds out.

The public API lives here; everything else is an implementation module.
"""

__version__ = "0.1.0"

from frfeeds.errors import FrfeedsError, RecordError, UsageError
from frfeeds.records import Image, Provider, Record, Related

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

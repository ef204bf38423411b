"""The error types of frfeeds: one root, one for a bad record, one for bad usage."""


class FrfeedsError(Exception):
    """Root of every error frfeeds raises on purpose."""


class RecordError(FrfeedsError):
    """Something wrong in one record file: which file, which field, and why.

    Raised when a record must be rejected; also collected (not raised) when a single
    value is dropped and the record kept, so both read the same in reports.
    """

    def __init__(self, path: str, field: str, reason: str) -> None:
        super().__init__(path, field, reason)
        #: The record file, as the user would open it.
        self.path = path
        #: The field, dotted for nested ones (``images[0].url``); ``-`` for the file.
        self.field = field
        #: Why, in a few words.
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.reason}"


class UsageError(FrfeedsError):
    """The command or configuration cannot be carried out as given (exit status 2)."""

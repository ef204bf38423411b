"""Pickling for the frozen, slotted dataclasses a build sends to its worker processes.

``dataclass(frozen=True, slots=True)`` pickles an instance through ``__getstate__`` and
``__setstate__`` that call ``dataclasses.fields()`` on every object: a third of the
time a build's process spends pickling documents for its workers (their entries'
Summaries), and as much again in the workers unpickling them. ``picklable`` gives a
class a state of the same values (its fields', in order, as a tuple) from names read
once. A subclass with fields of its own must be a slotted dataclass (which makes its
own state) or be decorated too: it would inherit this state, without its fields.
"""

from __future__ import annotations

import dataclasses
import operator
from typing import Any, TypeVar

T = TypeVar("T", bound=type)


def picklable(cls: T) -> T:
    """The dataclass cls, pickled as the tuple of its fields' values (apply over
    ``@dataclass(frozen=True, slots=True)``)."""
    names = tuple(field.name for field in dataclasses.fields(cls))
    if len(names) < 2:  # attrgetter of one name gives the value itself, not a tuple
        raise TypeError(f"{cls.__name__}: picklable wants two fields or more")
    values = operator.attrgetter(*names)
    setter = object.__setattr__

    def __getstate__(self: Any) -> tuple[Any, ...]:
        state: tuple[Any, ...] = values(self)
        return state

    def __setstate__(self: Any, state: tuple[Any, ...]) -> None:
        for name, value in zip(names, state, strict=True):
            setter(self, name, value)

    setattr(cls, "__getstate__", __getstate__)  # noqa: B010 - over dataclass' own
    setattr(cls, "__setstate__", __setstate__)  # noqa: B010
    return cls

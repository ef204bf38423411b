"""Front matter text -> Python values: the YAML step, safe and fast.

Documents in the plain block YAML records are written in are read by ``blockyaml``, with
their plain scalars resolved and constructed here as PyYAML's safe loader does; the rest
go to PyYAML's safe loader on libyaml (``yamlload``, imported then: yaml is some 8 ms of
imports, which a build that parses one edited record would pay for one plain document).

A plain scalar is read here when its type is plain to see: a string (a first character
no YAML type starts with, or a word that is no boolean or null), a boolean, a null, a
decimal int, a UTC timestamp as records write them. Any other (floats, octal, ``1_000``,
other dates) goes to the safe loader's own resolver and constructors. The tests check
both paths against ``yaml.CSafeLoader`` on generated scalars, documents and corpora.
"""

from __future__ import annotations

import datetime as dt
import os
import re

from frfeeds.errors import RecordError
from frfeeds.read.blockyaml import UNSUPPORTED, read_block

#: The line closing the front matter, with the line break before it: ``---`` or ``...``,
#: then only white space (what str.rstrip() strips).
_FENCE = re.compile(r"\n(?:---|\.\.\.)[^\S\n]*(?=\n|\Z)")
#: ``FRFEEDS_FAST_YAML=0`` turns the shortcuts off, for debugging a suspected
#: difference: every document then goes to libyaml's safe loader as PyYAML ships it.
FAST = os.environ.get("FRFEEDS_FAST_YAML", "").strip().lower() not in ("0", "false", "no", "off")

#: The first characters of the plain scalars PyYAML's resolver may read as another type
#: than a string: the keys of ``Resolver.yaml_implicit_resolvers`` (a test holds them
#: equal). A plain scalar starting with any other character is a string.
_TYPED_STARTS = frozenset("yYnNtTfFoO~-+.0123456789<=!&*")
#: The booleans and nulls of YAML 1.1, as the resolver's patterns spell them and the
#: constructors read them; the only types a plain scalar starting with a letter can be.
_BOOLS = {word: value for words, value in (("yes Yes YES true True TRUE on On ON", True),
                                           ("no No NO false False FALSE off Off OFF", False))
          for word in words.split()}
_NULLS = frozenset({"~", "null", "Null", "NULL"})
#: Ints the resolver and the constructor read as int() does: no "_", ":", base prefix or
#: leading zero, and short enough for int()'s digit limit to be no concern.
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]{0,17})")
#: The timestamps records are written with (``2019-11-16T16:42:00Z``), which the safe
#: loader resolves as timestamps and builds as UTC datetimes: built here in one step.
_UTC_SECONDS = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_UTC = dt.timezone.utc


def _plain_value(text: str) -> object:
    """A plain scalar's value, as the safe loader constructs it (ValueError if it would
    not: an unknown tag or a malformed value)."""
    if text and text[0] not in _TYPED_STARTS:
        return text
    if text in _BOOLS:
        return _BOOLS[text]
    if text in _NULLS:
        return None
    if text[:1].isalpha():
        return text
    if _DECIMAL.fullmatch(text):
        return int(text)
    if len(text) == 20 and _UTC_SECONDS.fullmatch(text):
        try:
            return dt.datetime(int(text[:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), int(text[14:16]),
                               int(text[17:19]), tzinfo=_UTC)
        except ValueError as exc:  # 2019-02-30: the constructor refuses it too
            raise ValueError(text) from exc
    from frfeeds.read import yamlload

    return yamlload.plain_value(text)


def split_front_matter(text: str, display: str) -> str:
    """The YAML between the opening ``---`` line and the next ``---`` (or ``...``) line."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    end = text.find("\n")
    if (text if end < 0 else text[:end]).rstrip() != "---":
        raise RecordError(display, "front matter", "missing: the file must start with a '---' line")
    fence = None if end < 0 else _FENCE.search(text, end)
    if fence is None:
        raise RecordError(display, "front matter", "not closed: no '---' line after the fields")
    return text[end + 1:fence.start()]


def parse_front_matter(front: str, display: str) -> object:
    """The YAML document as Python values, or RecordError naming the problem."""
    if FAST:
        data = read_block(front, _plain_value)
        if data is not UNSUPPORTED:
            return data
    from frfeeds.read import yamlload

    return yamlload.load(front, display, FAST)

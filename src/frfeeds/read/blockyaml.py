"""The plain block YAML that records are written in, read directly; the rest left to libyaml.

Parsing is nearly the whole cost of a cold build, and most of libyaml's share of it goes
into building a Python node object for every scalar. Record front matter is nearly always
the same small part of YAML: block mappings and sequences, one scalar per line (plain,
'single' or "double" quoted), comments and blank lines. ``read_block`` reads exactly that
and returns ``UNSUPPORTED`` for a document using anything else (flow collections, block
scalars, anchors and aliases, tags, directives, multi-line scalars, tabs, complex or
quoted keys, odd indentation, characters YAML forbids), and for anything YAML would
reject, so that the caller hands the document to libyaml, which gives the same values or
the error message.

Plain scalars (keys and values) are turned into values by the caller's ``plain``
function, which resolves and constructs them exactly as PyYAML's safe loader does. The
tests check the whole against ``yaml.CSafeLoader`` on generated documents and corpora.
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: What read_block returns for a document it leaves to libyaml.
UNSUPPORTED = object()

#: Anything but the characters libyaml reads as printable, less tab, BOM and the line
#: breaks other than \n (\r, \x85, \u2028, \u2029).
_OUTSIDE = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
#: One line: indent, "- " (an item), "key:" (a simple key: a word of at most 100
#: characters) and the rest, trailing spaces left out.
_LINE = re.compile(r"^( *)(-(?: +|$))?(?:([A-Za-z_][A-Za-z0-9_]{0,99}):(?: +|$))?(.*[^ \n])? *$", re.MULTILINE)
_DOUBLE = re.compile(r'"((?:[^"\\]|\\.)*)"(?: +#.*)?\Z')
_SINGLE = re.compile(r"'((?:[^']|'')*)'(?: +#.*)?\Z")
_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")
_ESCAPES = {
    "0": "\0", "a": "\x07", "b": "\x08", "t": "\t", "n": "\n", "v": "\x0b", "f": "\x0c",
    "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85",
    "_": "\xa0", "L": "\u2028", "P": "\u2029",
}
#: Characters a plain scalar cannot start with (YAML indicators), and ones it can but
#: only in ways left to libyaml.
_NOT_PLAIN_START = frozenset(",[]{}#&*!|>'\"%@`?:")
#: Keys known to be strings (a plain key can be a boolean or null: "on:", "null:").
_STR_KEYS: set[str] = set()


class _Unsupported(Exception):
    pass


def read_block(text: str, plain: Callable[[str], object]) -> object:
    """The document's value, or UNSUPPORTED. ``plain`` gives a plain scalar's value
    (raising ValueError for one it cannot)."""
    if _OUTSIDE.search(text):
        return UNSUPPORTED
    # (indent, item marker or "", key or "", rest), blank and comment lines left out
    lines = [line for line in _LINE.findall(text) if line[1] or line[2] or (line[3] and line[3][0] != "#")]
    if not lines:
        return UNSUPPORTED
    reader = _Reader(lines, plain)
    try:
        value = reader.collection(len(lines[0][0]))
    except (_Unsupported, ValueError, RecursionError):
        return UNSUPPORTED
    return value if reader.pos == len(lines) else UNSUPPORTED


class _Reader:
    """A recursive descent over the lines."""

    def __init__(self, lines: list[tuple[str, str, str, str]], plain: Callable[[str], object]) -> None:
        self.lines = lines
        self.pos = 0
        self.plain = plain

    def collection(self, indent: int) -> object:
        return self.sequence(indent) if self.lines[self.pos][1] else self.mapping(indent)

    def nested(self, indent: int, in_mapping: bool) -> object:
        """The value after ``key:`` or ``-`` with nothing else on its line."""
        if self.pos == len(self.lines):
            return None
        spaces, item = self.lines[self.pos][:2]
        next_indent = len(spaces)
        if next_indent > indent:
            return self.collection(next_indent)
        if in_mapping and next_indent == indent and item:
            return self.sequence(indent)  # a sequence may sit at its key's indent
        return None

    def mapping(self, indent: int) -> dict[str, object]:
        lines = self.lines
        result: dict[str, object] = {}
        while self.pos < len(lines):
            spaces, item, key, rest = lines[self.pos]
            if len(spaces) != indent or item or not key:
                if len(spaces) < indent:
                    break
                raise _Unsupported
            if key not in _STR_KEYS:
                if type(self.plain(key)) is not str:  # e.g. "on:" is a boolean key
                    raise _Unsupported
                if len(_STR_KEYS) < 10_000:
                    _STR_KEYS.add(key)
            self.pos += 1
            if rest and rest[0] != "#":
                result[key] = self.scalar(rest)
            else:
                result[key] = self.nested(indent, True)
        return result

    def sequence(self, indent: int) -> list[object]:
        lines = self.lines
        result: list[object] = []
        while self.pos < len(lines):
            spaces, item, key, rest = lines[self.pos]
            if len(spaces) != indent or not item:
                if len(spaces) < indent or (len(spaces) == indent and key):
                    break  # the mapping holding a sequence at its key's indent goes on
                raise _Unsupported
            if key:  # "- key: value" opens a mapping at the key's column
                inner = indent + len(item)
                lines[self.pos] = (" " * inner, "", key, rest)
                result.append(self.mapping(inner))
            elif rest and rest[0] != "#":
                self.pos += 1
                result.append(self.scalar(rest))
            else:
                self.pos += 1
                result.append(self.nested(indent, False))
        return result

    def scalar(self, text: str) -> object:
        first = text[0]
        if first == '"':
            if text[-1] == '"' and len(text) > 1 and '"' not in text[1:-1] and "\\" not in text:
                return text[1:-1]
            match = _DOUBLE.match(text)
            if match is None:
                raise _Unsupported
            return _ESCAPE.sub(_unescape, match.group(1))
        if first == "'":
            match = _SINGLE.match(text)
            if match is None:
                raise _Unsupported
            return match.group(1).replace("''", "'")
        if (first in _NOT_PLAIN_START or (first == "-" and (len(text) == 1 or text[1] == " "))
                or ": " in text or " #" in text or text[-1] == ":"):
            raise _Unsupported
        return self.plain(text)


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if len(code) == 1:
        if code not in _ESCAPES:
            raise _Unsupported
        return _ESCAPES[code]
    point = int(code[1:], 16)
    if 0xD800 <= point <= 0xDFFF or point > 0x10FFFF:
        raise _Unsupported
    return chr(point)

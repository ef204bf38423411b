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

A line's reading depends on nothing but the line, and most lines recur from record to
record: each distinct line is read once (up to a bound), and the structure is then built
from the lines read.
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: What read_block returns for a document it leaves to libyaml.
UNSUPPORTED = object()

#: The characters libyaml does not read as printable, and tab, BOM and line breaks
#: (\n, \r, \x85, \u2028, \u2029): a line holding one is left to libyaml. Written as
#: the few characters outside the set: a class of the printable ones (all but these)
#: takes re.compile some 3 ms, at the start of every build that parses a record.
_NOT_PRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
#: One line of printable characters (_line() checks that first): indent, "- " (an
#: item), "key:" (a simple key: a word of at most 100 characters) and the rest,
#: trailing spaces left out.
_LINE = re.compile(r"( *)(-(?: +|$))?(?:([A-Za-z_][A-Za-z0-9_]{0,99}):(?: +|$))?(.*[^ ])? *")
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
#: The value of a line with nothing after its "key:" or "-" (but maybe a comment):
#: what follows on the next lines, if anything.
_NESTED = object()
#: A line read: (indent, length of its "- " or 0, key or "", value or _NESTED); () for
#: a blank or comment line, None for one that is left to libyaml.
_Line = tuple[int, int, str, object]
#: Lines already read, per ``plain`` function: the same lines recur from record to
#: record ("type: article", "    isCached: true"), and a line's value depends on nothing
#: else. Bounded: once full, new lines are read and not kept.
_MEMOS: dict[Callable[[str], object], dict[str, _Line | tuple[()] | None]] = {}
_MEMO_SIZE = 20_000
#: Keys known to be strings (a plain key can be a boolean or null: "on:", "null:").
_STR_KEYS: set[str] = set()
#: What _read_head made of the heads of lines ("    title", "  - url").
_HEADS: dict[str, tuple[int, int, str] | None] = {}


class _Unsupported(Exception):
    pass


def read_block(text: str, plain: Callable[[str], object]) -> object:
    """The document's value, or UNSUPPORTED. ``plain`` gives a plain scalar's value
    (raising ValueError for one it cannot)."""
    memo = _MEMOS.get(plain)
    if memo is None:
        memo = _MEMOS[plain] = {}
    lines: list[_Line] = []
    append = lines.append
    for line in text.split("\n"):
        read = memo.get(line, _NESTED)
        if read is _NESTED:
            read = _read_line(line, plain)
            if len(memo) < _MEMO_SIZE:
                memo[line] = read
        if read:
            append(read)  # type: ignore[arg-type]  # a non-empty tuple: a line read
        elif read is None:
            return UNSUPPORTED
    if not lines:
        return UNSUPPORTED
    reader = _Reader(lines)
    try:
        value = reader.collection(lines[0][0])
    except (_Unsupported, RecursionError):
        return UNSUPPORTED
    return value if reader.pos == len(lines) else UNSUPPORTED


def _read_line(line: str, plain: Callable[[str], object]) -> _Line | tuple[()] | None:
    """One line as read_block's reader takes it (see _Line).

    Every line is read, wherever it sits: a document is read only when all of its
    lines are, and a line without "key:" or "-" that is not blank or a comment (the
    rest of a multi-line scalar) is never part of one that is."""
    # most lines not seen before are "  key: value" (or "- key: value") with a new value
    # in printable ASCII: their head ("  key") is one seen before, and the value needs
    # no regular expression to be found
    colon = line.find(": ")
    if colon > 0:
        rest = line[colon + 2:]
        if rest and rest[0] != " " and rest[-1] != " " and rest.isascii() and rest.isprintable():
            head = _HEADS.get(line[:colon], ())
            if head == ():
                head = _read_head(line[:colon], plain)
                if len(_HEADS) < _MEMO_SIZE:
                    _HEADS[line[:colon]] = head
            if head is not None:
                if rest[0] == "#":
                    return (*head, _NESTED)
                try:
                    return (*head, _scalar(rest, plain))
                except (_Unsupported, ValueError):
                    return None
    return _read_any_line(line, plain)


def _read_head(head: str, plain: Callable[[str], object]) -> tuple[int, int, str] | None:
    """(indent, item marker length, key) of what stands before a line's first ": ", when
    that is a simple key (after an item marker maybe), else None."""
    match = _line(head + ":")
    if match is None:
        return None
    spaces, item, key, rest = match.groups()
    if key is None or rest is not None or not _is_str_key(key, plain):
        return None
    return (len(spaces), len(item or ""), key)


def _is_str_key(key: str, plain: Callable[[str], object]) -> bool:
    """Whether a plain key is a string (not "on:", a boolean, or "null:")."""
    if key in _STR_KEYS:
        return True
    try:
        if type(plain(key)) is not str:
            return False
    except ValueError:
        return False
    if len(_STR_KEYS) < 10_000:
        _STR_KEYS.add(key)
    return True


def _line(line: str) -> re.Match[str] | None:
    """_LINE's match of a line of printable characters; None for any other line."""
    if not (line.isascii() and line.isprintable()) and _NOT_PRINTABLE.search(line):
        return None
    return _LINE.fullmatch(line)


def _read_any_line(line: str, plain: Callable[[str], object]) -> _Line | tuple[()] | None:
    match = _line(line)
    if match is None:  # a character YAML does not allow, or one left to libyaml
        return None
    spaces, item, key, rest = match.groups()
    if key is None:
        if item is None:
            return () if rest is None or rest[0] == "#" else None
    elif not _is_str_key(key, plain):
        return None
    value: object = _NESTED
    if rest is not None and rest[0] != "#":
        try:
            value = _scalar(rest, plain)
        except (_Unsupported, ValueError):
            return None
    return (len(spaces), len(item or ""), key or "", value)


class _Reader:
    """A recursive descent over the lines read."""

    def __init__(self, lines: list[_Line]) -> None:
        self.lines = lines
        self.pos = 0

    def collection(self, indent: int) -> object:
        return self.sequence(indent) if self.lines[self.pos][1] else self.mapping(indent)

    def nested(self, indent: int, in_mapping: bool) -> object:
        """The value after ``key:`` or ``-`` with nothing else on its line."""
        if self.pos == len(self.lines):
            return None
        next_indent, item = self.lines[self.pos][:2]
        if next_indent > indent:
            return self.collection(next_indent)
        if in_mapping and next_indent == indent and item:
            return self.sequence(indent)  # a sequence may sit at its key's indent
        return None

    def mapping(self, indent: int) -> dict[str, object]:
        lines = self.lines
        end = len(lines)
        pos = self.pos
        result: dict[str, object] = {}
        while pos < end:
            line_indent, item, key, value = lines[pos]
            if line_indent != indent or item or not key:
                if line_indent < indent:
                    break
                raise _Unsupported
            pos += 1
            if value is _NESTED:
                self.pos = pos
                value = self.nested(indent, True)
                pos = self.pos
            result[key] = value
        self.pos = pos
        return result

    def sequence(self, indent: int) -> list[object]:
        lines = self.lines
        end = len(lines)
        pos = self.pos
        result: list[object] = []
        while pos < end:
            line_indent, item, key, value = lines[pos]
            if line_indent != indent or not item:
                if line_indent < indent or (line_indent == indent and key):
                    break  # the mapping holding a sequence at its key's indent goes on
                raise _Unsupported
            if key:  # "- key: value" opens a mapping at the key's column
                inner = indent + item
                lines[pos] = (inner, 0, key, value)
                self.pos = pos
                result.append(self.mapping(inner))
                pos = self.pos
            elif value is _NESTED:
                self.pos = pos + 1
                result.append(self.nested(indent, False))
                pos = self.pos
            else:
                pos += 1
                result.append(value)
        self.pos = pos
        return result


def _scalar(text: str, plain: Callable[[str], object]) -> object:
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
    return plain(text)


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

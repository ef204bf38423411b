"""Records to bytes and back, for the parse cache and for parse workers.

The layout follows the model: every field of Record (``dataclasses.fields()``, in
order) is carried, converted as its type says, so a field added to the model is carried
without editing this module. A record is split in two marshal'd tuples: the summary
(Summary's fields: what the catalog needs, read for every record on every build) and
the details (Record's other fields: text, images, related stories, read only for
entries being rendered).

The encoder and decoders are Python source generated from the fields once, at import,
as ``dataclasses`` generates ``__init__``: 100,000 summaries are decoded per build, and
a loop over per-field converters took 1.4x the time of straight code (0.70 s against
0.50 s per 100,000 summaries). ``FORMAT`` is a digest of the layout (the names and types of every model class
reached, and that source): the parse cache empties itself when it changes, so a model
change costs one cold build, never a crash on old rows.

marshal is the fastest serializer of plain tuples in the standard library; its format
is tied to the Python version, which the cache's stamp records.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import marshal
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any

from frfeeds.records import Provider, Record, Summary, Topic

#: marshal's format, pinned; part of FORMAT.
MARSHAL_VERSION = 4
#: Values equal across records (a provider, a topic, a record's topic list): each is
#: decoded once per Decoder and shared, which keeps 100,000 summaries small.
SHARED: tuple[type, ...] = (Provider, Topic)
#: Record fields of plain values with few distinct ones (``article``, ``video``), shared
#: the same way: a string per summary would add some 50 bytes to each.
SHARED_FIELDS = frozenset({"type", "category"})
#: The field neither part carries: the caller knows it (the cache's key).
KEY = "path"
#: The Summary field that is not Record's: a digest of both parts, made by encode().
DIGEST = "digest"

_PLAIN = (str, int, bool, float, bytes)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


class _Shared(dict[Any, Any]):
    """Decoded values by their encoded form; a miss decodes and keeps it."""

    def __init__(self, make: Callable[[Any], Any]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self.make(key)
        return value


def _kind(tp: Any, where: str) -> tuple[str, Any]:
    """What a field's type is made of, for the generator: plain, datetime, optional,
    tuple or model (a dataclass); anything else is refused at import, naming the field."""
    if tp in _PLAIN:
        return "plain", tp
    if tp is dt.datetime:
        return "datetime", tp
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (types.UnionType, typing.Union) and len(args) == 2 and type(None) in args:
        return "optional", args[0] if args[1] is type(None) else args[1]
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return "tuple", args[0]
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return "model", tp
    what = tp.__qualname__ if isinstance(tp, type) else repr(tp)
    raise TypeError(f"{where}: the codec cannot carry {what} (plain values, datetimes, X | None, "
                    "tuple[X, ...] and model dataclasses only)")


def _fields(cls: type) -> list[tuple[str, Any]]:
    """(name, resolved type) of a model class's fields, in order."""
    hints = typing.get_type_hints(cls)
    found = []
    for item in dataclasses.fields(cls):
        if not item.init:
            raise TypeError(f"{cls.__name__}.{item.name}: the codec builds models by their __init__; "
                            "init=False fields are not carried")
        found.append((item.name, hints[item.name]))
    return found


def describe(tp: Any, where: str = "") -> str:
    """A type as the format stamp spells it: model classes with all their fields, recursively."""
    kind, arg = _kind(tp, where)
    if kind in ("plain", "datetime"):
        return arg.__qualname__ if arg.__module__ == "builtins" else f"{arg.__module__}.{arg.__qualname__}"
    if kind == "optional":
        return f"{describe(arg, where)} | None"
    if kind == "tuple":
        return f"tuple[{describe(arg, where)}, ...]"
    inner = ", ".join(f"{name}: {describe(hint, f'{arg.__name__}.{name}')}" for name, hint in _fields(arg))
    return f"{arg.__name__}({inner})"


class _Generator:
    """Writes the source of encode() and of the decoders for one record and summary model.

    Encoding expressions take a name or attribute (evaluated at most twice); model
    classes get a function each. Decoders live in a factory, so that each Decoder has
    its own tables of shared values.
    """

    def __init__(self, record: type, summary: type) -> None:
        self.record, self.summary = record, summary
        self.namespace: dict[str, Any] = {
            "_EPOCH": _EPOCH, "_US": dt.timedelta(microseconds=1), "_td": dt.timedelta, "_Shared": _Shared,
            "_dumps": marshal.dumps, "_loads": marshal.loads, "_blake2b": hashlib.blake2b, "_V": MARSHAL_VERSION,
            "_Record": record, "_Summary": summary,
        }
        self.encoders: dict[type, str] = {}
        self.decoders: dict[type, str] = {}
        self.shared: dict[tuple[str, type | str], str] = {}
        self.used: set[str] = set()
        self.module_lines: list[str] = []
        self.factory_lines: list[str] = []
        self.tables: list[str] = []
        self.counter = itertools.count()

    def name(self, prefix: str, cls: type | str) -> str:
        """A new name in the generated source: two model classes may share a __name__."""
        base = f"{prefix}_{cls if isinstance(cls, str) else cls.__name__}"
        name = base
        while name in self.used:
            name = f"{base}_{next(self.counter)}"
        self.used.add(name)
        return name

    def encode(self, tp: Any, value: str, where: str) -> str:
        kind, arg = _kind(tp, where)
        if kind == "plain":
            return value
        if kind == "datetime":
            return f"({value} - _EPOCH) // _US"
        if kind == "optional":
            inner = self.encode(arg, value, where)
            return value if inner == value else f"(None if {value} is None else {inner})"
        if kind == "tuple":
            item = f"x{next(self.counter)}"
            inner = self.encode(arg, item, where)
            return value if inner == item else f"tuple([{inner} for {item} in {value}])"
        return f"{self.model_encoder(arg)}({value})"

    def model_encoder(self, cls: type) -> str:
        if cls not in self.encoders:
            name = self.encoders[cls] = self.name("_enc", cls)
            parts = [self.encode(hint, f"v.{field}", f"{cls.__name__}.{field}") for field, hint in _fields(cls)]
            self.module_lines += [f"def {name}(v):", f"    return {_tuple(parts)}", ""]
        return self.encoders[cls]

    def decode(self, tp: Any, value: str, where: str) -> str:
        kind, arg = _kind(tp, where)
        if kind == "plain":
            return value
        if kind == "datetime":
            return f"(_EPOCH + _td(0, 0, {value}))"
        if kind == "optional":
            inner = self.decode(arg, value, where)
            return value if inner == value else f"(None if {value} is None else {inner})"
        if kind == "tuple":
            item = f"x{next(self.counter)}"
            inner = self.decode(arg, item, where)
            if inner == item:
                return value
            if _kind(arg, where)[1] in SHARED:  # a list of shared values is shared as a whole
                return f"{self.table(('tuple', arg), f'tuple([{inner} for {item} in t])')}[{value}]"
            return f"tuple([{inner} for {item} in {value}])"
        if arg in SHARED:
            return f"{self.table(('', arg), self.model_decoder(arg) + '(t)')}[{value}]"
        return f"{self.model_decoder(arg)}({value})"

    def table(self, key: tuple[str, type | str], make: str) -> str:
        """The name of a _Shared table (one per Decoder) of ``key``: (``""``, a model
        class), (``"tuple"``, a model class) or (``"field"``, a field name); its misses
        run ``make`` on ``t``."""
        if key not in self.shared:
            kind, named = key
            name = self.shared[key] = self.name(f"_shared_{kind}" if kind else "_shared", named)
            self.tables.append(f"    {name} = _Shared(lambda t: {make})")
        return self.shared[key]

    def model_decoder(self, cls: type) -> str:
        if cls not in self.decoders:
            name = self.decoders[cls] = self.name("_dec", cls)
            model = self.name("_class", cls)
            self.namespace[model] = cls
            fields = _fields(cls)
            values = [self.decode(hint, f"v_{field}", f"{cls.__name__}.{field}") for field, hint in fields]
            lines = [f"    def {name}(t):"]
            if all(value == f"v_{field}" for value, (field, _) in zip(values, fields, strict=True)):
                lines.append(f"        return {model}(*t)")
            else:
                lines += [f"        {_tuple([f'v_{field}' for field, _ in fields])} = t",
                          f"        return {model}({', '.join(values)})"]
            self.factory_lines += [*lines, ""]
        return self.decoders[cls]

    def field_decoder(self, field: str, hint: Any, where: str) -> str:
        value = self.decode(hint, f"v_{field}", f"{where}.{field}")
        if field not in SHARED_FIELDS:
            return value
        kind, inner = _kind(hint, f"{where}.{field}")
        if kind != "plain" and not (kind == "optional" and _kind(inner, where)[0] == "plain"):
            raise TypeError(f"{where}.{field}: a shared field holds plain values (or None), not {describe(hint)}")
        return f"{self.table(('field', field), 't')}[{value}]"

    def parts(self) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
        """(summary fields, details fields) of a record, neither holding the key: the
        summary's are Summary's own (but the digest), the details' Record's others."""
        record = dict(_fields(self.record))
        summary = []
        for field, hint in _fields(self.summary):
            if field in (KEY, DIGEST):
                continue
            if field not in record:
                raise TypeError(f"{self.summary.__name__}.{field}: not a field of {self.record.__name__}; "
                                f"a summary holds Record fields, and {DIGEST}")
            if record[field] != hint:
                raise TypeError(f"{self.summary.__name__}.{field}: {hint!r} here, {record[field]!r} in "
                                f"{self.record.__name__}; the types must be the same")
            summary.append((field, hint))
        names = {field for field, _ in summary}
        details = [(field, hint) for field, hint in record.items() if field != KEY and field not in names]
        return summary, details

    def source(self) -> str:
        summary, details = self.parts()
        where = self.record.__name__
        encode_summary = _tuple([self.encode(hint, f"record.{field}", f"{where}.{field}") for field, hint in summary])
        encode_details = _tuple([self.encode(hint, f"record.{field}", f"{where}.{field}") for field, hint in details])
        decoded = {field: self.field_decoder(field, hint, where) for field, hint in summary + details}
        summary_names = [f"v_{field}" for field, _ in summary]
        details_names = _tuple([f"v_{field}" for field, _ in details])
        decoded[KEY] = KEY
        summary_values = [DIGEST if field == DIGEST else decoded[field] for field, _ in _fields(self.summary)]
        record_values = [decoded[field] for field, _ in _fields(self.record)]
        encoder = [
            "def encode(record):",
            f"    core = {encode_summary}",
            f"    details = _dumps({encode_details}, _V)",
            f"    {DIGEST} = _blake2b(_dumps(core, _V) + details, digest_size=8).hexdigest()",
            f"    return _dumps(({DIGEST}, *core), _V), details",
            "",
        ]
        decoders = [
            f"    def summary({KEY}, data):",
            f"        {_tuple([DIGEST, *summary_names])} = _loads(data)",
            f"        return _Summary({', '.join(summary_values)})",
            "",
            f"    def record(summary_data, details_data, {KEY}):",
            f"        {_tuple(['_', *summary_names])} = _loads(summary_data)",
            f"        {details_names} = _loads(details_data)",
            f"        return _Record({', '.join(record_values)})",
            "",
        ]
        factory = ["def decoders():", *self.factory_lines, *decoders, *self.tables, "    return summary, record", ""]
        return "\n".join(self.module_lines + encoder + factory)


def _tuple(items: list[str]) -> str:
    """A tuple display (or unpacking target) in source: ``(a, b,)``, ``()``."""
    return f"({', '.join(items)},)" if items else "()"


@dataclasses.dataclass(frozen=True)
class Layout:
    """The generated codec of one model: encode, a factory of decoders, and its stamp."""

    source: str
    encode: Callable[[Any], tuple[bytes, bytes]]
    decoders: Callable[[], tuple[Callable[[str, bytes], Any], Callable[[bytes, bytes, str], Any]]]
    #: Digest of the layout: marshal's version, every model class's field names and
    #: types, and the generated source.
    format: str


def layout(record: type = Record, summary: type = Summary) -> Layout:
    generator = _Generator(record, summary)
    source = generator.source()
    namespace = generator.namespace
    exec(compile(source, f"<frfeeds codec of {record.__qualname__}>", "exec"), namespace)  # noqa: S102 - our own generated code
    model = (MARSHAL_VERSION, describe(record, record.__name__), describe(summary, summary.__name__), source)
    stamp = hashlib.blake2b(repr(model).encode(), digest_size=8).hexdigest()
    return Layout(source, namespace["encode"], namespace["decoders"], stamp)


_LAYOUT = layout()
#: Changes whenever the bytes encode() makes would mean something else.
FORMAT = _LAYOUT.format
#: The generated code, for reading: ``python -c 'from frfeeds.read import codec; print(codec.SOURCE)'``.
SOURCE = _LAYOUT.source


def encode(record: Record) -> tuple[bytes, bytes]:
    """(summary, details) bytes of a record."""
    return _LAYOUT.encode(record)


class Decoder:
    """Decodes summaries and records, sharing equal Provider and Topic objects (and topic lists)."""

    #: (path, summary bytes) -> Summary
    summary: Callable[[str, bytes], Summary]
    #: (summary bytes, details bytes, path) -> Record
    record: Callable[[bytes, bytes, str], Record]

    def __init__(self) -> None:
        # plain functions as instance attributes: no method binding per call
        self.summary, self.record = _LAYOUT.decoders()


def decode_records(encoded: dict[str, tuple[bytes, bytes]]) -> dict[str, Record]:
    decoder = Decoder()
    return {path: decoder.record(summary, details, path) for path, (summary, details) in encoded.items()}


def encode_problems(problems: Iterable[tuple[str, str]], capped: Iterable[tuple[str, str]] = ()) -> bytes:
    """A row's problems: (field, reason) pairs to report, and those of lists cut at a
    design cap, which the build only counts."""
    return marshal.dumps((tuple(problems), tuple(capped)), MARSHAL_VERSION)


def decode_problems(data: bytes) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """(problems, capped), as encode_problems took them."""
    problems: tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = marshal.loads(data)
    return problems

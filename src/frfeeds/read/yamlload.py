"""PyYAML's safe loader on libyaml, for the front matter the block reader leaves to it,
and for the plain scalars of rare types. Only module importing yaml.

Two shortcuts keep its results exactly (checked against ``yaml.CSafeLoader`` on whole
corpora in the tests):

- plain scalars are resolved once per distinct value (the resolver is a chain of
  regular expressions run from the C composer for every node), quoted ones are strings;
- documents of plain mappings, sequences and standard scalar types are built by one
  flat function calling SafeConstructor's own scalar constructors; anything else
  (merge keys, sets, recursive aliases, other tags) goes to SafeConstructor unchanged.

Imported when first needed (yaml is some 8 ms of imports): the records editors write
are read by the block reader, with their plain scalars read in ``frontmatter``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from frfeeds.errors import RecordError

#: A YAML document that expands to more values than this is refused (alias bombs).
MAX_NODES = 50_000
#: libyaml's composer crashes the process (segfault) on documents nested ~50,000 deep.
#: Nesting can be no deeper than the count of these characters, so a document with
#: more of them than this (real records have a few hundred) is parsed by the pure
#: Python loader instead, which fails with a RecursionError that is caught.
_NESTING_CHARS = "[{-:"
_C_LOADER_MAX_NESTING = 5_000

_TAG = "tag:yaml.org,2002:"
_STR, _SEQ, _MAP, _MERGE = _TAG + "str", _TAG + "seq", _TAG + "map", _TAG + "merge"
_BaseLoader: type[yaml.CSafeLoader] | None = getattr(yaml, "CSafeLoader", None)


class _Fallback(Exception):
    """The document needs SafeConstructor's general machinery."""


def _scalar_constructors(loader: SafeConstructor) -> dict[str, Callable[[ScalarNode], object]]:
    return {
        _TAG + "int": loader.construct_yaml_int,
        _TAG + "float": loader.construct_yaml_float,
        _TAG + "bool": loader.construct_yaml_bool,
        _TAG + "null": loader.construct_yaml_null,
        _TAG + "timestamp": loader.construct_yaml_timestamp,
    }


# The type checker reads the class (what runs where libyaml is installed); without
# libyaml the name is the pure Python loader.
if TYPE_CHECKING or _BaseLoader is not None:

    class FastSafeLoader(yaml.CSafeLoader):
        """CSafeLoader, faster on the plain documents records are; same results."""

        # Any: the composer passes a scalar's text and (plain, quoted), or a collection's None and a bool
        def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
            if kind is ScalarNode:
                if not implicit[0]:
                    return _STR  # quoted: a string, as BaseResolver decides
                return _plain_tag(value)
            tag: str = Resolver.resolve(self, kind, value, implicit)
            return tag

        def construct_document(self, node: Node) -> object:
            try:
                return self._construct_plain(node)
            except (_Fallback, RecursionError):  # deep documents: SafeConstructor is iterative
                return super().construct_document(node)

        def _construct_plain(self, root: Node) -> object:
            scalars = _scalar_constructors(self)
            built: dict[int, object] = {}

            def build(node: Node) -> object:
                kind = node.__class__
                if kind is ScalarNode:
                    if node.tag == _STR:
                        return node.value
                    construct = scalars.get(node.tag)
                    if construct is None:
                        raise _Fallback
                    scalar = cast(ScalarNode, node)  # its class, just checked
                    try:
                        return construct(scalar)
                    except Exception as exc:  # noqa: BLE001 - e.g. 2019-02-30, a 5,000-digit int
                        raise _unreadable(scalar, exc) from None
                key = id(node)
                if key in built:  # an alias: the same object, as SafeConstructor gives
                    value = built[key]
                    if value is None:
                        raise _Fallback  # recursive
                    return value
                built[key] = None
                if kind is SequenceNode and node.tag == _SEQ:
                    value = [build(child) for child in node.value]
                elif kind is MappingNode and node.tag == _MAP:
                    mapping: dict[object, object] = {}
                    for key_node, value_node in node.value:
                        if key_node.__class__ is not ScalarNode or key_node.tag == _MERGE:
                            raise _Fallback
                        mapping[build(key_node)] = build(value_node)
                    value = mapping
                else:
                    raise _Fallback
                built[key] = value
                return value

            return build(root)

    assert not FastSafeLoader.yaml_path_resolvers, "resolve() shortcut assumes no path resolvers"
else:  # PyYAML without libyaml: the pure Python safe loader
    FastSafeLoader = yaml.SafeLoader


_PLAIN_TAGS: dict[str, str] = {}
_PLAIN_VALUES: dict[str, object] = {}
_MEMO_SIZE = 100_000
_RESOLVER = Resolver()
_CONSTRUCTORS = _scalar_constructors(yaml.constructor.SafeConstructor())


def plain_value(text: str) -> object:
    """A plain scalar's value, as the safe loader constructs it (ValueError if it would
    not: an unknown tag or a malformed value)."""
    tag = _plain_tag(text)
    if tag == _STR:
        return text
    value = _PLAIN_VALUES.get(text, _PLAIN_VALUES)
    if value is _PLAIN_VALUES:
        construct = _CONSTRUCTORS.get(tag)
        if construct is None:
            raise ValueError(tag)
        try:
            value = construct(ScalarNode(tag, text))
        except Exception as exc:  # whatever it is, libyaml will say it
            raise ValueError(text) from exc
        if len(_PLAIN_VALUES) < _MEMO_SIZE:
            _PLAIN_VALUES[text] = value
    return value


def _plain_tag(value: str) -> str:
    """The tag the safe loader's resolver gives a plain scalar, remembered per value."""
    tag = _PLAIN_TAGS.get(value)
    if tag is None:
        tag = _RESOLVER.resolve(ScalarNode, value, (True, False))
        if len(_PLAIN_TAGS) < _MEMO_SIZE:
            _PLAIN_TAGS[value] = tag
    return tag


def _unreadable(node: ScalarNode, exc: Exception) -> yaml.MarkedYAMLError:
    """The error for a scalar its type's constructor refuses, at the scalar's line."""
    value = node.value if len(node.value) <= 40 else node.value[:39] + "…"
    kind = node.tag.rpartition(":")[2]
    detail = f" ({exc})" if isinstance(exc, (ValueError, OverflowError)) else ""
    return yaml.constructor.ConstructorError(None, None, f"{value!r} is not a valid {kind}{detail}", node.start_mark)


def load(front: str, display: str, fast: bool) -> object:
    """The YAML document as Python values, or RecordError naming the problem; ``fast``
    False: libyaml's safe loader as PyYAML ships it, without the shortcuts."""
    nesting = sum(front.count(char) for char in _NESTING_CHARS)
    loader: type[yaml.SafeLoader | yaml.CSafeLoader]
    if nesting > _C_LOADER_MAX_NESTING:
        loader = yaml.SafeLoader
    else:
        loader = FastSafeLoader if fast else _BaseLoader or yaml.SafeLoader
    try:
        data = yaml.load(front, Loader=loader)  # noqa: S506 - both are safe loaders
    except yaml.MarkedYAMLError as exc:
        where = f" at line {exc.problem_mark.line + 2}" if exc.problem_mark else ""
        problem = exc.problem or exc.context or "invalid"
        raise RecordError(display, "front matter", f"YAML error{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise RecordError(display, "front matter", f"YAML error: {exc}") from None
    except RecursionError:
        raise RecordError(display, "front matter", "YAML is nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - SafeConstructor on a tagged value, e.g. "!!bool maybe"
        raise RecordError(display, "front matter", f"YAML error: a value cannot be read ({exc!r})"[:200]) from None
    if "*" in front and _too_large(data):  # without an alias nothing can expand
        raise RecordError(display, "front matter", f"YAML expands to more than {MAX_NODES} values (alias bomb?)")
    return data


def _too_large(data: object) -> bool:
    """Whether walking data would visit more than MAX_NODES values (aliases counted each time)."""
    stack, seen = [data], 0
    while stack:
        node = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            return True
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False

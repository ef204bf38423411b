"""Read a records folder: find the files, split the front matter, parse the YAML.

Every file ends as a Record or as a RecordError naming it; nothing in a file can stop
the walk or reach the output unvalidated.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import yaml

from frfeeds.errors import RecordError, UsageError
from frfeeds.records import Record, record_from_mapping

#: Files read as records; anything else in the folder (images, notes) is ignored.
RECORD_SUFFIXES = (".md", ".markdown", ".txt")
MAX_FILE_BYTES = 1 << 20
#: A YAML document that expands to more nodes than this is refused (alias bombs).
MAX_NODES = 50_000

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: libyaml's loader crashes the process (segfault) on documents nested ~50,000 deep.
#: Nesting can be no deeper than the count of these characters, so a document with
#: more of them than this (real records have a few hundred) is parsed by the pure
#: Python loader instead, which fails with a RecursionError that is caught.
_NESTING_CHARS = "[{-:"
_C_LOADER_MAX_NESTING = 5_000
_FENCES = ("---", "...")


@dataclass(frozen=True, slots=True)
class Parsed:
    """What one file gave: a record (None when rejected) and every problem found."""

    record: Record | None
    problems: tuple[RecordError, ...] = ()


@dataclass(frozen=True, slots=True)
class Loaded:
    """Everything read from a records folder."""

    records: tuple[Record, ...]
    #: One error per rejected file.
    rejected: tuple[RecordError, ...]
    #: Values left out of records that were kept.
    dropped: tuple[RecordError, ...]

    @property
    def files(self) -> int:
        return len(self.records) + len(self.rejected)


def find_record_files(root: Path) -> list[tuple[Path, str]]:
    """Every record file under root, recursively, as (path, path inside root), sorted.

    Hidden files and folders (``.git``) are skipped.
    """
    if not root.is_dir():
        raise UsageError(f"records folder not found: {root}")
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in names:
            if name.startswith(".") or not name.lower().endswith(RECORD_SUFFIXES):
                continue
            path = Path(folder, name)
            found.append((path, path.relative_to(root).as_posix()))
    found.sort(key=lambda item: item[1])
    return found


def folder_signature(root: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when a record file is added, removed or edited: names, sizes, mtimes."""
    signature = []
    for path, rel in find_record_files(root):
        try:
            info = os.stat(path)
        except OSError:
            continue  # vanished between the walk and the stat: the next check sees it
        signature.append((rel, info.st_size, info.st_mtime_ns))
    return tuple(signature)


def load_records(root: Path) -> Loaded:
    """Parse every record file under root."""
    records, rejected, dropped = [], [], []
    for path, rel in find_record_files(root):
        parsed = parse_record_file(path, rel)
        if parsed.record is None:
            rejected.extend(parsed.problems)
        else:
            records.append(parsed.record)
            dropped.extend(parsed.problems)
    return Loaded(tuple(records), tuple(rejected), tuple(dropped))


def parse_record_file(path: Path, rel: str) -> Parsed:
    """Read and validate one file; never raises for anything the file contains."""
    display = str(path)
    try:
        data = _read_front_matter(path, display)
        record, dropped = record_from_mapping(data, rel, display)
    except RecordError as exc:
        return Parsed(None, (exc,))
    return Parsed(record, tuple(dropped))


def _read_front_matter(path: Path, display: str) -> object:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block open() forever
            raise RecordError(display, "file", "is not a regular file")
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise RecordError(display, "file", f"cannot be read: {exc.strerror or exc}") from None
    if not raw.strip():
        raise RecordError(display, "file", "is empty")
    if len(raw) > MAX_FILE_BYTES:
        raise RecordError(display, "file", f"is larger than {MAX_FILE_BYTES // 1024} KiB")
    if b"\x00" in raw:
        raise RecordError(display, "file", "is binary, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordError(display, "file", f"is not UTF-8 text (bad byte at offset {exc.start})") from None
    front = split_front_matter(text, display)
    return _parse_yaml(front, display)


def split_front_matter(text: str, display: str) -> str:
    """The YAML between the opening ``---`` line and the next ``---`` (or ``...``) line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[0].rstrip() != "---":
        raise RecordError(display, "front matter", "missing: the file must start with a '---' line")
    for index in range(1, len(lines)):
        if lines[index].rstrip() in _FENCES:
            return "\n".join(lines[1:index])
    raise RecordError(display, "front matter", "not closed: no '---' line after the fields")


def _parse_yaml(front: str, display: str) -> object:
    nesting = sum(front.count(char) for char in _NESTING_CHARS)
    loader = _YAML_LOADER if nesting <= _C_LOADER_MAX_NESTING else yaml.SafeLoader
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
    if _too_large(data):
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

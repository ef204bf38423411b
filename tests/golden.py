"""Golden files: a built tree compared byte for byte with the one stored under
tests/golden/NAME/, file set included.

They catch what no assertion looks at: any change in any byte of any file. A change
that is meant is stored with ``pytest --regen-golden`` (never automatically) and
reviewed as the diff of tests/golden/ in the same commit as the code that made it.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
from pathlib import Path

import pytest
from helpers import REPO

GOLDEN = REPO / "tests" / "golden"
#: The base URL golden trees are built at: any fixed one, not the default's localhost.
BASE_URL = "https://feeds.example.org"
#: How many changed files are shown with a diff, and how many lines each.
SHOWN_FILES, SHOWN_LINES = 3, 40


def files_of(folder: Path) -> dict[str, bytes]:
    """Every regular file under folder, hidden ones (the marker) included, as path -> bytes."""
    if not folder.is_dir():
        return {}
    return {
        Path(parent, name).relative_to(folder).as_posix(): Path(parent, name).read_bytes()
        for parent, _, names in os.walk(folder)
        for name in names
    }


def check_golden(out: Path, name: str, regenerate: bool) -> None:
    """Fail, naming every missing, extra and changed file with a short diff, unless the
    tree at out has exactly the bytes of tests/golden/name; with regenerate, store it."""
    stored = GOLDEN / name
    built = files_of(out)
    if regenerate:
        shutil.rmtree(stored, ignore_errors=True)
        for path, data in built.items():
            (stored / path).parent.mkdir(parents=True, exist_ok=True)
            (stored / path).write_bytes(data)
        pytest.skip(f"regenerated {stored.relative_to(REPO)} ({len(built)} files): review `git diff -- tests/golden`")
    problems = golden_differences(built, files_of(stored))
    if problems:
        hint = (f"if the change is meant: python -m pytest tests/test_golden.py --regen-golden, then read "
                f"`git diff -- {stored.relative_to(REPO)}` and commit it with the change")
        pytest.fail(f"built tree differs from {stored.relative_to(REPO)}:\n" + "\n".join(problems) + "\n" + hint,
                    pytrace=False)


def golden_differences(built: dict[str, bytes], golden: dict[str, bytes]) -> list[str]:
    """One line per missing, extra or changed path, then diffs of the first changed files."""
    missing = sorted(golden.keys() - built.keys())
    extra = sorted(built.keys() - golden.keys())
    changed = sorted(path for path in golden.keys() & built.keys() if golden[path] != built[path])
    lines = [f"missing from the build: {path}" for path in missing]
    lines += [f"not in the golden files: {path}" for path in extra]
    lines += [f"changed: {path}" for path in changed]
    for path in changed[:SHOWN_FILES]:
        lines += _diff(path, golden[path], built[path])
    return lines


def _diff(path: str, golden: bytes, built: bytes) -> list[str]:
    """Where the bytes first differ, and a unified diff (JSON pretty-printed first: a feed
    is one line)."""
    at = next((i for i, (a, b) in enumerate(zip(golden, built, strict=False)) if a != b), min(len(golden), len(built)))
    lines = [f"{path}: first difference at byte {at}:",
             f"  golden: {golden[max(at - 40, 0):at + 40]!r}",
             f"  built:  {built[max(at - 40, 0):at + 40]!r}"]
    before, after = _lines(path, golden), _lines(path, built)
    diff = list(difflib.unified_diff(before, after, "golden", "built", n=1, lineterm=""))[2:]
    lines += ["  (- golden, + built)"] + [line[:200] for line in diff[:SHOWN_LINES]]
    if len(diff) > SHOWN_LINES:
        lines.append(f"... {len(diff) - SHOWN_LINES} more diff lines")
    return lines


def _lines(path: str, data: bytes) -> list[str]:
    text = data.decode("utf-8", "replace")
    if path.endswith(".json"):
        try:
            text = json.dumps(json.loads(text), indent=1, ensure_ascii=False)
        except ValueError:
            pass
    return text.splitlines()

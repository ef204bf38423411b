"""The build against the operating system: killed builds, full and read-only disks,
permissions, an unusable cache, another build holding the lock. Each failure is one
line and exit 1, the previous tree stays whole, and nothing is left behind.

Permissions are checked as ``nobody`` when the tests run as root (root ignores them);
the disks are small tmpfs mounts, which need root (else those tests skip, saying so).
"""

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from helpers import SEEDS, every_file, obey_permissions, record_text, run_cli, write_record

from frfeeds.read.cache import cache_file

NOBODY = 65534
ROOT = os.geteuid() == 0


# -- helpers -------------------------------------------------------------------------

def _become_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def _user_preexec():
    """How a build is made to obey file permissions: as ``nobody`` when tests run as root
    and nobody can run this interpreter; as root without the capabilities that bypass
    permissions when it cannot (an interpreter under /root, mode 0700); as the user
    running the tests when that is not root."""
    if not ROOT:
        return None
    try:
        subprocess.run([sys.executable, "-c", "import frfeeds.cli"], preexec_fn=_become_nobody, cwd="/",
                       capture_output=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return obey_permissions
    return _become_nobody


PREEXEC = _user_preexec()
AS_NOBODY = PREEXEC is _become_nobody


@pytest.fixture(autouse=True)
def site_url(monkeypatch):
    """A site.url for every build here: the seeds' (and generated records') site-relative
    provider logos resolve against it, so that stderr holds only what the fault makes."""
    monkeypatch.setenv("FRFEEDS_SITE_URL", "https://news.example.org/")


def cli(*args, env=None, as_user=False, **kwargs):
    """``frfeeds ARGS`` in a new process; as_user: obeying file permissions (see _user_preexec)."""
    return subprocess.run([sys.executable, "-m", "frfeeds.cli", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, preexec_fn=PREEXEC if as_user else None,
                          timeout=600, **kwargs)


def lines(text):
    return text.splitlines()


def assert_one_line(result, *words):
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(lines(result.stderr)) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.fixture
def shared_dir():
    """A folder under /tmp that the build's user can reach (pytest's tmp folder is 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="frfeeds-faults-"))
    folder.chmod(0o755)
    yield folder
    for path in [folder, *folder.rglob("*")]:  # put back what a test took away, then clear
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder)


def writable(path: Path) -> Path:
    """Make the folder path, writable for the build's user."""
    path.mkdir(parents=True, exist_ok=True)
    if AS_NOBODY:
        os.chown(path, NOBODY, NOBODY)
    return path


def seed_records(folder: Path) -> Path:
    shutil.copytree(SEEDS, folder)
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return folder


@pytest.fixture
def tmpfs(tmp_path):
    """Mount small tmpfs file systems under tmp_path; all unmounted afterwards."""
    mounted = []

    def mount(name: str, size: str = "4m") -> Path:
        point = tmp_path / name
        point.mkdir()
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(point)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip() or 'mount failed'}): "
                        "full and read-only disks need root with CAP_SYS_ADMIN")
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


def fill(folder: Path) -> Path:
    """Write a file until its file system is full."""
    filler = folder / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    return filler


def new_story(records: Path, name: str = "new.md") -> None:
    write_record(records, name, record_text(url=f"https://example.com/{name}", topics=("Fresh",)))
    (records / name).chmod(0o644)


def processes() -> dict[int, list[str]]:
    """pid -> the fields of /proc/PID/stat after the command name (state, ppid, pgrp, session, ...)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            found[int(stat.parent.name)] = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
    return found


def children(pid: int) -> list[int]:
    return [child for child, fields in processes().items() if int(fields[1]) == pid]


def session_processes(sid: int) -> list[int]:
    """Live processes whose session is sid (a build started with start_new_session)."""
    return [pid for pid, fields in processes().items() if int(fields[3]) == sid and fields[0] != "Z"]


# -- a killed build --------------------------------------------------------------------

@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory, make_corpus):
    """Enough records (3,000) for the build to parse in worker processes."""
    folder = tmp_path_factory.mktemp("big") / "records"
    subprocess.run([sys.executable, str(make_corpus), "3000", str(folder)], check=True, capture_output=True)
    return folder


@pytest.mark.slow
def test_sigkill_during_parsing_leaves_no_process_and_the_next_build_starts_at_once(tmp_path, big_corpus):
    from frfeeds.read import loader

    assert sum(1 for _ in big_corpus.rglob("*.md")) > loader.POOL_MIN_FILES
    expected_out = tmp_path / "expected"
    assert run_cli("build", str(expected_out), "--records", str(big_corpus), "--no-cache", "-q").returncode == 0
    out = tmp_path / "out"
    command = [sys.executable, "-m", "frfeeds.cli", "build", str(out), "--records", str(big_corpus), "-q"]
    build = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    workers = []
    while not workers and build.poll() is None and time.monotonic() < deadline:
        workers = children(build.pid)  # the first children are the forked parse workers
        time.sleep(0.005)
    assert workers, "the build ended before its parse workers could be seen"
    assert Path(f"/proc/{workers[0]}/cmdline").read_bytes() == Path(f"/proc/{build.pid}/cmdline").read_bytes()
    build.send_signal(signal.SIGKILL)
    build.wait(timeout=10)
    deadline = time.monotonic() + 10
    while session_processes(build.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session_processes(build.pid) == [], "processes of the killed build live on"

    started = time.monotonic()
    after = run_cli("build", str(out), "--records", str(big_corpus), "--wait", "0", "-q")
    assert after.returncode == 0, after.stderr
    assert "waiting" not in after.stderr
    assert time.monotonic() - started < 60
    assert every_file(out) == every_file(expected_out)
    assert sorted(os.listdir(tmp_path)) == ["expected", "frfeeds-cache", "out"]


def test_a_worker_killed_midway_is_one_line_and_the_old_tree_stands(tmp_path, big_corpus):
    out = tmp_path / "out"
    assert run_cli("build", str(out), "--records", str(seed_records(tmp_path / "records")), "-q").returncode == 0
    before = every_file(out)
    command = [sys.executable, "-m", "frfeeds.cli", "build", str(out), "--records", str(big_corpus), "-q", "--no-cache"]
    build = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    workers = []
    while not workers and build.poll() is None and time.monotonic() < deadline:
        workers = children(build.pid)
        time.sleep(0.005)
    assert workers, "the build ended before its parse workers could be seen"
    os.kill(workers[0], signal.SIGKILL)  # as the OOM killer would
    stdout, stderr = build.communicate(timeout=120)
    assert build.returncode == 1 and "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines()[-1] == (f"frfeeds: cannot build {out}: a worker process died (killed, or out "
                                              "of memory?); the previous tree is unchanged; build again")
    assert every_file(out) == before


# -- full and read-only disks ------------------------------------------------------------

def test_full_disk_is_one_line_and_the_old_tree_stands(tmp_path, tmpfs):
    disk = tmpfs("disk")
    records = seed_records(tmp_path / "records")
    out = disk / "site" / "out"
    assert cli("build", out, "--records", records).returncode == 0
    before = every_file(disk)
    new_story(records)
    filler = fill(disk)
    result = cli("build", out, "--records", records)
    assert_one_line(result, f"frfeeds: cannot write {out}: No space left on device",
                    "(the previous tree is unchanged; free some space and build again)")
    filler.unlink()
    assert every_file(disk) == before  # no staging folder, no lock
    again = cli("build", out, "--records", records)
    assert again.returncode == 0 and "feeds/fresh.atom" in set(every_file(out))


def test_file_size_limit_is_one_line_and_the_old_tree_stands(tmp_path):
    """The same failure without a mount: RLIMIT_FSIZE, with SIGXFSZ ignored, makes a
    write that passes the limit fail with EFBIG."""
    import resource

    records = seed_records(tmp_path / "records")
    out = tmp_path / "site" / "out"
    assert cli("build", out, "--records", records, "--no-cache").returncode == 0
    before = every_file(tmp_path / "site")
    (records / "big.md").write_text(record_text(url="https://example.com/big", topics=("Fresh",),
                                                extra="excerpt: " + "long words " * 3000))

    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))

    result = subprocess.run([sys.executable, "-m", "frfeeds.cli", "build", str(out), "--records", str(records),
                             "--no-cache"], capture_output=True, text=True, preexec_fn=limited, timeout=300)
    assert_one_line(result, f"frfeeds: cannot write {out}: File too large", "(the previous tree is unchanged")
    assert every_file(tmp_path / "site") == before


def test_read_only_file_system_is_one_line_and_the_old_tree_stands(tmp_path, tmpfs):
    disk = tmpfs("disk")
    records = seed_records(tmp_path / "records")
    out = disk / "out"
    assert cli("build", out, "--records", records).returncode == 0
    before = every_file(disk)
    new_story(records)
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    result = cli("build", out, "--records", records)
    assert_one_line(result, f"frfeeds: cannot write {out}: Read-only file system",
                    "choose an OUT on a writable file system")
    assert every_file(disk) == before
    subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
    assert cli("build", out, "--records", records).returncode == 0
    assert "feeds/fresh.atom" in every_file(out)


# -- permissions (as nobody when running as root) ----------------------------------------

def test_out_parent_not_writable_is_one_line_and_the_old_tree_stands(shared_dir):
    records = seed_records(shared_dir / "records")
    site = writable(shared_dir / "site")
    env = {"FRFEEDS_CACHE": str(writable(shared_dir / "cache"))}
    out = site / "out"
    assert cli("build", out, "--records", records, env=env, as_user=True).returncode == 0
    before = every_file(site)
    new_story(records)
    site.chmod(0o555)
    result = cli("build", out, "--records", records, env=env, as_user=True)
    assert_one_line(result, f"frfeeds: cannot write {out}: Permission denied",
                    f"frfeeds needs to write in {site}, beside OUT")
    assert every_file(site) == before


def test_unreadable_subfolder_is_a_rejected_record_and_the_build_goes_on(shared_dir):
    records = seed_records(shared_dir / "records")
    locked = records / "locked"
    locked.mkdir()
    write_record(locked, "hidden-story.md", record_text(url="https://example.com/locked", topics=("Locked",)))
    (locked / "hidden-story.md").chmod(0o644)
    locked.chmod(0o000)
    env = {"FRFEEDS_CACHE": str(writable(shared_dir / "cache"))}
    out = writable(shared_dir / "site") / "out"
    result = cli("build", out, "--records", records, env=env, as_user=True)
    assert result.returncode == 0, result.stderr
    assert lines(result.stderr) == [f"{locked}: folder: cannot be read: Permission denied"]
    assert "read 6 records" in result.stdout and "rejected 1," in result.stdout
    assert "feeds/ai.atom" in every_file(out) and "feeds/locked.atom" not in every_file(out)

    locked.chmod(0o755)  # fixed: the next build publishes what it holds
    fixed = cli("build", out, "--records", records, env=env, as_user=True)
    assert fixed.returncode == 0 and fixed.stderr == "" and "rejected 0," in fixed.stdout
    assert "feeds/locked.atom" in every_file(out)


def test_unreadable_records_folder_is_one_line_and_the_old_tree_stands(shared_dir):
    records = seed_records(shared_dir / "records")
    env = {"FRFEEDS_CACHE": str(writable(shared_dir / "cache"))}
    out = writable(shared_dir / "site") / "out"
    assert cli("build", out, "--records", records, env=env, as_user=True).returncode == 0
    before = every_file(shared_dir / "site")
    records.chmod(0o000)  # not published as an empty folder: that would empty every feed
    result = cli("build", out, "--records", records, env=env, as_user=True)
    assert result.stderr == f"frfeeds: cannot read {records}: Permission denied (the previous tree is unchanged)\n"
    assert_one_line(result)
    assert every_file(shared_dir / "site") == before


@pytest.mark.parametrize("case", ["folder not writable", "folder cannot be made", "file cannot be opened"])
def test_unusable_cache_is_one_warning_and_the_build_runs_without(shared_dir, tmp_path, case):
    records = seed_records(shared_dir / "records")
    expected = tmp_path / "expected"
    assert cli("build", expected, "--records", records, "--no-cache").returncode == 0
    cache = shared_dir / "cache"
    cache.mkdir(mode=0o555)  # the build's user cannot write in it
    if case == "folder cannot be made":
        cache = cache / "sub"
    elif case == "file cannot be opened":
        cache.chmod(0o755)
        writable(cache)
        blocked = cache_file(cache, records)
        blocked.write_bytes(b"another user's cache")
        blocked.chmod(0o000)
    out = writable(shared_dir / "site") / "out"
    for _ in range(2):
        result = cli("build", out, "--records", records, "--cache", cache, as_user=True)
        assert result.returncode == 0, result.stderr
        assert len(lines(result.stderr)) == 1, result.stderr
        assert result.stderr.startswith("frfeeds: warning: parse cache "), result.stderr
        assert result.stderr.rstrip().endswith("; going on without a cache")
        assert every_file(out) == every_file(expected)
    if case == "file cannot be opened":
        assert blocked.read_bytes() == b"another user's cache"  # not taken for damage and deleted
        assert sorted(os.listdir(cache)) == [blocked.name]


APP = """
import sys
from frfeeds.app import create_app

client = create_app({"RECORDS": sys.argv[1], "RELOAD_INTERVAL": 3600}).test_client()
response = client.get("/feeds/all.atom")
print(response.status_code, len(response.data))
"""


def test_app_with_an_unwritable_home_warns_once_and_serves(shared_dir):
    records = seed_records(shared_dir / "records")
    env = {key: value for key, value in os.environ.items() if key not in ("FRFEEDS_CACHE", "XDG_CACHE_HOME")}
    home = shared_dir / "home"
    home.mkdir(mode=0o555)  # root's, or read-only
    env["HOME"] = str(home)
    result = subprocess.run([sys.executable, "-c", APP, str(records)], capture_output=True, text=True, env=env,
                            preexec_fn=PREEXEC, timeout=120)
    assert result.returncode == 0, result.stderr
    status, size = result.stdout.split()
    assert status == "200" and int(size) > 1000
    warnings = [line for line in lines(result.stderr) if "WARNING" in line]
    assert len(warnings) == 1 and "cannot be used" in warnings[0] and "going on without a cache" in warnings[0]
    assert "Traceback" not in result.stderr


# -- another build holds the lock ----------------------------------------------------------

def hold_lock(out: Path) -> int:
    """Take OUT's lock as a running build would."""
    fd = os.open(out.with_name(f".{out.name}.frfeeds-lock"), os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.lockf(fd, fcntl.LOCK_EX)
    return fd


@pytest.mark.slow
def test_wait_bounds_the_wait_for_another_build(tmp_path):
    out = tmp_path / "out"
    assert run_cli("build", str(out), "--records", str(SEEDS)).returncode == 0
    before = every_file(out)
    fd = hold_lock(out)
    try:
        started = time.monotonic()
        result = run_cli("build", str(out), "--records", str(SEEDS), "--wait", "1.5")
        waited = time.monotonic() - started
        assert result.returncode == 1
        assert lines(result.stderr) == [
            f"frfeeds: waiting for another build of {out} to finish",
            f"frfeeds: cannot build {out}: another build of it still runs after 1.5 s "
            f"(its lock is {tmp_path / '.out.frfeeds-lock'}); nothing was written",
        ]
        assert 1.5 <= waited < 30
        at_once = run_cli("build", str(out), "--records", str(SEEDS), "--wait", "0")
        assert at_once.returncode == 1 and len(lines(at_once.stderr)) == 1 and "after 0 s" in at_once.stderr
    finally:
        os.close(fd)
    assert every_file(out) == before


@pytest.mark.slow
def test_a_waiting_build_says_so_once_and_goes_on_when_the_lock_is_free(tmp_path):
    records = seed_records(tmp_path / "records")
    out = tmp_path / "out"
    assert run_cli("build", str(out), "--records", str(records)).returncode == 0
    new_story(records)
    fd = hold_lock(out)
    waiting = subprocess.Popen([sys.executable, "-m", "frfeeds.cli", "build", str(out), "--records", str(records)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = waiting.stderr.readline()
        assert first == f"frfeeds: waiting for another build of {out} to finish\n"
        time.sleep(1)
        assert waiting.poll() is None
    finally:
        os.close(fd)
    stdout, stderr = waiting.communicate(timeout=120)
    assert waiting.returncode == 0 and stderr == "", stderr
    assert "feeds/fresh.atom" in every_file(out)
    # the lock file is gone; the stage stays, for the next build
    assert sorted(os.listdir(tmp_path)) == [".out.frfeeds-new", "frfeeds-cache", "out", "records"]


@pytest.mark.slow
def test_simultaneous_builds_take_turns_and_end_right(tmp_path, generated):
    expected = tmp_path / "expected"
    assert run_cli("build", str(expected), "--records", str(generated), "--no-cache").returncode == 0
    out = tmp_path / "site" / "out"
    command = [sys.executable, "-m", "frfeeds.cli", "build", str(out), "--records", str(generated), "-q"]
    builds = [subprocess.Popen(command + (["--no-cache"] if index % 2 else []), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for index in range(4)]
    results = [(build.communicate(timeout=300), build.returncode) for build in builds]
    for (_, stderr), status in results:
        assert status == 0, stderr
        assert set(lines(stderr)) <= {f"frfeeds: waiting for another build of {out} to finish"}
    assert every_file(out) == every_file(expected)
    assert sorted(os.listdir(tmp_path / "site")) == [".out.frfeeds-new", "out"]  # no lock, the stage kept

"""frfeeds deploy: the header policy and the plan as units, then the command against a
real S3-compatible server (moto's server mode, a process on 127.0.0.1 started here)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from helpers import REPO, SEEDS, build, run_cli, shared_path, tree

from frfeeds.deploy.headers import (
    ARCHIVE_KIND,
    HEAD,
    KINDS,
    PAGE,
    content_type,
    headers_for,
    kind_of,
    sealed_archives,
    upload_rank,
)
from frfeeds.deploy.local import LocalFile
from frfeeds.deploy.plan import Plan, plan_deploy
from frfeeds.deploy.target import Target, parse_target
from frfeeds.render.outputs import MEDIA_TYPES

ACCESS = {"AWS_ACCESS_KEY_ID": "frfeeds-test", "AWS_SECRET_ACCESS_KEY": "frfeeds-secret",
          "AWS_DEFAULT_REGION": "us-east-1"}


# --- the header policy, the target and the plan: pure ---------------------------------


@pytest.mark.parametrize(("path", "kind", "media_type"), [
    ("feeds/ai.atom", HEAD, "application/atom+xml"),
    ("feeds/all.rss", HEAD, "application/rss+xml"),
    ("feeds/providers/cbsnews.com.json", HEAD, "application/feed+json"),
    ("feeds/ai.html", PAGE, "text/html"),
    ("index.html", PAGE, "text/html"),
    ("feeds.opml", PAGE, "text/x-opml"),
    ("feeds/ai/archive/3.atom", HEAD, "application/atom+xml"),  # the newest block: every new story may change it
    ("feeds/providers/cbsnews.com/archive/3.rss", HEAD, "application/rss+xml"),
    ("feeds/archive.json", HEAD, "application/feed+json"),  # a topic named Archive is a head
])
def test_header_policy_by_kind_of_file(path, kind, media_type):
    assert kind_of(path) is kind
    assert headers_for(path).content_type == f"{media_type}; charset=utf-8"
    assert headers_for(path).cache_control == kind.cache_control


def test_only_sealed_archive_blocks_are_kept_for_a_week():
    paths = ["feeds/ai.atom", "feeds/ai/archive/1.atom", "feeds/ai/archive/2.atom", "feeds/ai/archive/2.json",
             "feeds/ai/archive/10.json", "feeds/ai/archive/11.json", "feeds/providers/x.com/archive/1.rss",
             "feeds/archive.json", "feeds/robots.atom"]
    sealed = sealed_archives(paths)
    assert sealed == {"feeds/ai/archive/1.atom", "feeds/ai/archive/10.json"}
    assert kind_of("feeds/ai/archive/1.atom", sealed=True) is ARCHIVE_KIND
    assert kind_of("feeds/ai/archive/2.atom", "feeds/ai/archive/2.atom" in sealed) is HEAD
    assert kind_of("feeds/ai.atom", sealed=True) is HEAD  # only an archive document can be sealed
    assert headers_for("feeds/ai/archive/1.atom", sealed=True).cache_control == ARCHIVE_KIND.cache_control


def test_every_media_type_has_a_charset_and_every_kind_a_lifetime():
    assert set(MEDIA_TYPES) == {"atom", "rss", "json", "html", "opml"}
    for ext in MEDIA_TYPES:
        assert content_type(f"feeds/x.{ext}").endswith("; charset=utf-8")
    ages = {kind: int(re.fullmatch(r"public, max-age=(\d+)", kind.cache_control)[1]) for kind in KINDS}
    assert ages[PAGE] < ages[HEAD] < ages[ARCHIVE_KIND]


def test_heads_go_up_after_what_they_link_and_the_root_pages_last():
    paths = ["index.html", "feeds.opml", "feeds/ai.atom", "feeds/ai.html", "feeds/ai/archive/1.atom",
             "feeds/providers/x.com.rss", "feeds/providers/x.com/archive/2.json"]
    assert {path: upload_rank(path) for path in paths} == {
        "feeds/ai.html": 0, "feeds/ai/archive/1.atom": 0, "feeds/providers/x.com/archive/2.json": 0,
        "feeds/ai.atom": 1, "feeds/providers/x.com.rss": 1, "index.html": 2, "feeds.opml": 2}


@pytest.mark.parametrize(("text", "target"), [
    ("s3://feeds", Target("feeds", "")),
    ("s3://feeds/", Target("feeds", "")),
    ("s3://news.example.org/site/v1/", Target("news.example.org", "site/v1")),
])
def test_targets(text, target):
    assert parse_target(text) == target
    assert target.key("index.html") == (f"{target.prefix}/index.html" if target.prefix else "index.html")


@pytest.mark.parametrize("text", ["feeds", "s3://", "s3://Feeds/x", "s3://a/x", "s3://feeds/a//b", "s3://feeds/../x",
                                  "http://feeds/x", "s3://-feeds/x"])
def test_bad_targets(text):
    with pytest.raises(ValueError, match="must be s3://bucket/prefix"):
        parse_target(text)


def test_plan_uploads_what_changed_in_order_and_deletes_what_is_gone():
    def file(path, md5):
        return LocalFile(path, 1, md5)

    local = {path: file(path, md5) for path, md5 in [
        ("index.html", "a" * 32), ("feeds.opml", "b" * 32), ("feeds/ai.atom", "c" * 32), ("feeds/ai.html", "d" * 32),
        ("feeds/ai/archive/1.atom", "e" * 32)]}
    remote = {"index.html": '"' + "a" * 32 + '"',  # unchanged: the listing's ETag is the quoted MD5
              "feeds.opml": '"' + "b" * 32 + '-2"',  # put in parts once: put again, whole
              "feeds/ai.atom": '"' + "0" * 32 + '"', "feeds/old.atom": '"' + "1" * 32 + '"'}
    plan = plan_deploy(local, remote)
    assert plan.uploads == (("feeds/ai.html", "feeds/ai/archive/1.atom"), ("feeds/ai.atom",), ("feeds.opml",))
    assert plan.deletes == ("feeds/old.atom",) and plan.unchanged == 1 and plan.remote == 4
    same = {path: f'"{item.md5}"' for path, item in local.items()}
    assert plan_deploy(local, same).upload_count == 0
    assert plan_deploy(local, same, everything=True).upload_count == len(local)


def test_delete_threshold_needs_both_many_objects_and_a_large_share():
    def plan(deletes, remote):
        return Plan((), tuple(f"f{n}" for n in range(deletes)), 0, remote)

    assert not plan(20, 22).too_many_deletes(20, 10)  # few: a small site may lose most of its feeds
    assert not plan(30, 1000).too_many_deletes(20, 10)  # 3% of a large bucket
    assert not plan(100, 1000).too_many_deletes(20, 10)
    assert plan(101, 1000).too_many_deletes(20, 10)
    assert plan(1, 10).too_many_deletes(0, 0) and not plan(0, 10).too_many_deletes(0, 0)


def test_the_readme_table_says_what_the_policy_does():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Deployment", 1)[1].split("\n## ", 1)[0]
    for kind in KINDS:
        row = rf"^\|[^\n]*{re.escape(kind.name)}[^\n]*`{re.escape(kind.cache_control)}`"
        assert re.search(row, section, re.M), kind
    for ext, media_type in MEDIA_TYPES.items():
        assert f"`.{ext}`" in section and f"`{media_type}; charset=utf-8`" in section, ext


def test_without_boto3_deploy_says_to_install_the_extra(tmp_path):
    blocker = tmp_path / "blocker"
    (blocker / "boto3").mkdir(parents=True)
    (blocker / "boto3" / "__init__.py").write_text("raise ImportError('No module named boto3')\n")
    out = tmp_path / "out"
    assert build(out, "--records", str(SEEDS), "--quiet") == 0
    result = run_cli("deploy", str(out), "s3://feeds/site", env={"PYTHONPATH": str(blocker)})
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "frfeeds: error: frfeeds deploy needs boto3: install frfeeds[deploy] (pip install 'frfeeds[deploy]')"]


def test_a_folder_that_is_not_a_tree_and_a_bad_target_are_usage_errors(tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "notes.txt").write_text("mine")
    result = run_cli("deploy", str(tmp_path / "home"), "s3://feeds/site", env=ACCESS)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert "is not a feed tree (it has no .frfeeds-tree)" in result.stderr
    result = run_cli("deploy", str(tmp_path / "home"), "s3://Feeds", env=ACCESS)
    assert result.returncode == 2 and result.stderr.startswith("frfeeds: error: TARGET must be s3://bucket/prefix")
    result = run_cli("deploy", str(tmp_path / "home"), env={**ACCESS, "FRFEEDS_DEPLOY_TARGET": "feeds"})
    assert result.returncode == 2 and "FRFEEDS_DEPLOY_TARGET must be s3://bucket/prefix" in result.stderr


# --- against a real S3-compatible server ---------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class S3Server:
    """moto's S3-compatible server, a separate process on 127.0.0.1; its request log
    (one line per request: ``"PUT /bucket/key HTTP/1.1" 200``) tells what a deploy sent."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = folder / f"moto-{self.port}.log"
        self.output = open(self.log, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.output, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, self.log.read_text()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "moto server did not start:\n" + self.log.read_text()
                time.sleep(0.1)
        import boto3

        self.client = boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS["AWS_ACCESS_KEY_ID"],
                                   aws_secret_access_key=ACCESS["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")

    def env(self, **more: str) -> dict:
        return {**ACCESS, "AWS_ENDPOINT_URL": self.endpoint, **more}

    def bucket(self) -> str:
        name = f"feeds-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(Bucket=name)
        return name

    def requests(self, bucket: str, method: str) -> list[str]:
        """The keys of the requests of a method on a bucket so far, in the order served."""
        found = re.findall(rf'"{method} /{bucket}/(\S*) HTTP/1\.1" 2\d\d', self.log.read_text())
        return [key.split("?", 1)[0] for key in found]

    def objects(self, bucket: str, prefix: str) -> dict[str, bytes]:
        """Every object under prefix/ by path relative to it, with its bytes."""
        found = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/"):
            for item in page.get("Contents", ()):
                data = self.client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                found[item["Key"][len(prefix) + 1:]] = data
        return dict(sorted(found.items()))

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        self.output.close()


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    server = S3Server(tmp_path_factory.mktemp("s3"))
    yield server
    server.stop()


def deploy(s3: S3Server, *args: str, **env: str) -> subprocess.CompletedProcess:
    return run_cli("deploy", *args, env={"HOME": os.environ.get("HOME", "/"), **s3.env(**env)})


def uploaded(result: subprocess.CompletedProcess) -> tuple[int, int, int]:
    """(uploaded, unchanged, deleted) from deploy's summary line."""
    summary = r"frfeeds: deployed \S+ to s3://\S+: ([\d,]+) uploaded, ([\d,]+) unchanged, ([\d,]+) deleted\n"
    match = re.fullmatch(summary, result.stdout)
    assert match and result.returncode == 0, result.stdout + result.stderr
    return tuple(int(number.replace(",", "")) for number in match.groups())


@pytest.fixture
def records(tmp_path):
    folder = tmp_path / "records"
    shutil.copytree(shared_path("seeds"), folder)
    return folder


def built(out: Path, records: Path) -> dict[str, bytes]:
    assert build(out, "--records", str(records), "--quiet") == 0
    return tree(out)


@pytest.mark.slow
def test_deploys_then_changes_only_what_changed_heads_last(s3, tmp_path, records):
    bucket, out = s3.bucket(), tmp_path / "out"
    first = built(out, records)
    assert uploaded(deploy(s3, str(out), f"s3://{bucket}/site")) == (len(first), 0, 0)
    assert s3.objects(bucket, "site") == first  # the marker (.frfeeds-tree) stays home
    for path in first:  # every object's headers, as the policy says
        head = s3.client.head_object(Bucket=bucket, Key=f"site/{path}")
        expected = headers_for(path, path in sealed_archives(first))
        assert (head["ContentType"], head["CacheControl"]) == tuple(vars(expected).values()), path

    puts = len(s3.requests(bucket, "PUT"))
    assert uploaded(deploy(s3, str(out), f"s3://{bucket}/site")) == (0, len(first), 0)
    assert len(s3.requests(bucket, "PUT")) == puts  # nothing sent

    # headers another tool set are replaced by --all, which puts every file again
    s3.client.copy_object(Bucket=bucket, Key="site/feeds/all.atom", CopySource=f"{bucket}/site/feeds/all.atom",
                          ContentType="text/plain", MetadataDirective="REPLACE")
    assert uploaded(deploy(s3, str(out), f"s3://{bucket}/site")) == (0, len(first), 0)
    assert uploaded(deploy(s3, str(out), f"s3://{bucket}/site", "--all")) == (len(first), 0, 0)
    head = s3.client.head_object(Bucket=bucket, Key="site/feeds/all.atom")
    assert head["ContentType"] == "application/atom+xml; charset=utf-8"
    puts = len(s3.requests(bucket, "PUT"))

    # one record edited: exactly the files whose bytes changed go up, heads after pages, index last
    record = next(path for path in sorted(records.iterdir()) if "cbsnews" in path.read_text())
    record.write_text(record.read_text().replace('title: "', 'title: "Edited ', 1))
    second = built(out, records)
    changed = {path for path in second if first.get(path) != second[path]}
    assert 0 < len(changed) < len(second) and "index.html" in changed
    dry = deploy(s3, str(out), f"s3://{bucket}/site", "--dry-run")
    assert dry.returncode == 0 and dry.stdout.splitlines()[-1].startswith(
        f"frfeeds: dry run: would deploy {out} to s3://{bucket}/site: {len(changed)} to upload,")
    assert [line.split()[:2] for line in dry.stdout.splitlines()[:-1]] == [
        ["upload", path] for path in sorted(changed, key=lambda path: (upload_rank(path), path))]
    # the dry run changed nothing
    assert len(s3.requests(bucket, "PUT")) == puts and s3.objects(bucket, "site") == first
    assert uploaded(deploy(s3, str(out), f"s3://{bucket}/site")) == (len(changed), len(second) - len(changed), 0)
    sent = [key.removeprefix("site/") for key in s3.requests(bucket, "PUT")[puts:]]
    assert sorted(sent) == sorted(changed)
    ranks = [upload_rank(path) for path in sent]
    assert ranks == sorted(ranks) and ranks[-1] == 2, sent
    assert s3.objects(bucket, "site") == second

    # a provider's only record removed: its feed's files go, after the uploads
    only = next(path for path in sorted(records.iterdir()) if "nytimes" in path.read_text())
    only.unlink()
    third = built(out, records)
    gone = set(second) - set(third)
    assert gone and all(path.startswith("feeds/providers/nytimes.com.") for path in gone)
    puts = len(s3.requests(bucket, "PUT"))
    counts = uploaded(deploy(s3, str(out), f"s3://{bucket}/site"))
    assert counts[2] == len(gone) and s3.objects(bucket, "site") == third
    log = s3.log.read_text()  # DeleteObjects, once the uploads were done
    assert log.count(f'"POST /{bucket}?delete HTTP/1.1" 200') == 1
    assert log.rindex(f'"PUT /{bucket}/site/') < log.rindex(f'"POST /{bucket}?delete')


@pytest.mark.slow
def test_the_delete_threshold_refuses_without_force_and_changes_nothing(s3, tmp_path, records):
    bucket, out = s3.bucket(), tmp_path / "out"
    first = built(out, records)
    assert uploaded(deploy(s3, str(out), f"s3://{bucket}/site"))[0] == len(first)
    for path in sorted(records.iterdir())[:2]:
        path.unlink()
    second = built(out, records)
    gone = set(first) - set(second)
    assert len(gone) > 2
    puts = len(s3.requests(bucket, "PUT"))
    refused = deploy(s3, str(out), f"s3://{bucket}/site", FRFEEDS_DEPLOY_MAX_DELETES="2")
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr == (f"frfeeds: error: refusing to delete {len(gone)} of the {len(first)} objects under "
                              f"s3://{bucket}/site (more than 2 and more than 10% of them); nothing was changed: check "
                              "the tree and the target, or pass --force\n")
    assert len(s3.requests(bucket, "PUT")) == puts and s3.objects(bucket, "site") == first
    forced = deploy(s3, str(out), f"s3://{bucket}/site", "--force", FRFEEDS_DEPLOY_MAX_DELETES="2")
    assert uploaded(forced)[2] == len(gone) and s3.objects(bucket, "site") == second


@pytest.mark.slow
def test_the_config_file_gives_target_and_limits(s3, tmp_path, records):
    bucket, out = s3.bucket(), tmp_path / "out"
    built(out, records)
    config = tmp_path / "frfeeds.toml"
    config.write_text(f'[deploy]\ntarget = "s3://{bucket}/from-file"\nendpoint = "{s3.endpoint}"\n'
                      'region = "us-east-1"\nmax_deletes = 0\nmax_delete_percent = 0\n', encoding="utf-8")
    result = run_cli("deploy", str(out), "--config", str(config), env=ACCESS)  # no AWS_ENDPOINT_URL: the file's
    assert uploaded(result)[0] > 0 and s3.objects(bucket, "from-file") == tree(out)
    (out / "feeds" / "all.rss").unlink()  # a tree missing a file: with max_deletes = 0, refused
    result = run_cli("deploy", str(out), "--config", str(config), env=ACCESS)
    assert result.returncode == 1 and "refusing to delete 1 of the" in result.stderr


@pytest.mark.slow
def test_errors_are_one_line_and_exit_1(s3, tmp_path):
    out = tmp_path / "out"
    assert build(out, "--records", str(SEEDS), "--quiet") == 0
    nowhere = str(tmp_path / "none")
    no_credentials = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SHARED_CREDENTIALS_FILE": nowhere,
                      "AWS_CONFIG_FILE": nowhere, "AWS_EC2_METADATA_DISABLED": "true", "HOME": str(tmp_path)}
    cases = {
        "no credentials for S3: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY": run_cli(
            "deploy", str(out), f"s3://{s3.bucket()}/site", env={**s3.env(), **no_credentials}),
        "bucket feeds-missing does not exist at " + s3.endpoint: deploy(s3, str(out), "s3://feeds-missing/site"),
        f"cannot reach http://127.0.0.1:{free_port()}": None,
    }
    down = next(key for key in cases if key.startswith("cannot reach"))
    cases[down] = deploy(s3, str(out), "s3://feeds/site", AWS_ENDPOINT_URL=down.split()[-1])
    for expected, result in cases.items():
        assert result.returncode == 1 and result.stdout == "", (expected, result.stdout, result.stderr)
        assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.startswith(f"frfeeds: error: {expected}"), result.stderr


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory, make_corpus):
    """A tree of hundreds of files (172 feeds) from 3,000 generated records: its deploy takes seconds."""
    folder = tmp_path_factory.mktemp("big")
    subprocess.run([sys.executable, str(make_corpus), "3000", str(folder / "records")], check=True,
                   capture_output=True)
    out = folder / "out"
    assert build(out, "--records", str(folder / "records"), "--quiet", "--no-cache") == 0
    assert len(tree(out)) > 600
    return out


def wait_for_puts(s3: S3Server, bucket: str, count: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while len(s3.requests(bucket, "PUT")) < count:
        assert process.poll() is None, "the deploy ended before it could be stopped"
        assert time.monotonic() < deadline
        time.sleep(0.02)


def settled_objects(s3, bucket, prefix):
    """The objects under prefix once the server has finished what it was sent: a PUT the
    killed client had sent may still complete (a busy machine), so listed until two
    listings half a second apart agree."""
    objects = s3.objects(bucket, prefix)
    for _ in range(20):
        time.sleep(0.5)
        again = s3.objects(bucket, prefix)
        if again == objects:
            return objects
        objects = again
    return objects


@pytest.mark.slow
def test_a_deploy_killed_midway_is_finished_by_a_rerun(s3, big_tree):
    bucket = s3.bucket()
    files = tree(big_tree)
    process = subprocess.Popen([sys.executable, "-m", "frfeeds.cli", "deploy", str(big_tree), f"s3://{bucket}/site"],
                               env={**os.environ, **s3.env()}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for_puts(s3, bucket, 100, process)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    halfway = settled_objects(s3, bucket, "site")
    assert 100 <= len(halfway) < len(files)
    assert not {"index.html", "feeds.opml"} & set(halfway)  # the heads wait for what they link
    assert all(files[path] == data for path, data in halfway.items())  # every object put is whole

    counts = uploaded(deploy(s3, str(big_tree), f"s3://{bucket}/site"))
    assert counts == (len(files) - len(halfway), len(halfway), 0)
    assert s3.objects(bucket, "site") == files


@pytest.mark.slow
def test_the_server_going_down_midway_is_one_line_and_exit_1(tmp_path, big_tree):
    server = S3Server(tmp_path)
    try:
        bucket = server.bucket()
        process = subprocess.Popen(
            [sys.executable, "-m", "frfeeds.cli", "deploy", str(big_tree), f"s3://{bucket}/site"],
            env={**os.environ, **server.env()}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_puts(server, bucket, 100, process)
    finally:
        server.stop()
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1 and stdout == "" and len(stderr.splitlines()) == 1, stderr
    assert re.fullmatch(rf"frfeeds: error: cannot reach {server.endpoint}: .* \([\d,]+ of [\d,]+ files uploaded, "
                        r"nothing deleted; run the same deploy again to finish\)\n", stderr), stderr


@pytest.mark.slow
def test_the_real_corpus_and_a_wrong_tree_refused_by_default(s3, tmp_path):
    """The shared corpus deployed whole, headers right on every object; a deploy of
    another, smaller tree to the same target (the wrong folder) is refused as is."""
    bucket, out = s3.bucket(), tmp_path / "out"
    files = built(out, shared_path("corpus", "records"))
    assert uploaded(deploy(s3, str(out), f"s3://{bucket}/news"))[0] == len(files)
    assert s3.objects(bucket, "news") == files
    listed = s3.client.list_objects_v2(Bucket=bucket, Prefix="news/feeds/providers/", MaxKeys=50)["Contents"]
    for item in listed:
        head = s3.client.head_object(Bucket=bucket, Key=item["Key"])
        path = item["Key"].removeprefix("news/")
        expected = headers_for(path, path in sealed_archives(files))
        assert (head["ContentType"], head["CacheControl"]) == tuple(vars(expected).values())
    small = tmp_path / "small"
    assert build(small, "--records", str(SEEDS), "--quiet") == 0
    refused = deploy(s3, str(small), f"s3://{bucket}/news")
    assert refused.returncode == 1 and "refusing to delete" in refused.stderr and "(more than 20 and more than 10%" \
        in refused.stderr
    assert s3.objects(bucket, "news") == files

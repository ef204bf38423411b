#!/usr/bin/env python3
"""Load-test the app as deployed: the Procfile's gunicorn on 127.0.0.1, driven by wrk.

    python benchmarks/serve.py [--records N] [--workers W] [--path /feeds/ai.atom] [--seconds S]

Generates N records with ../shared/bench/make_corpus.py (kept under bench-data/ for
reuse) and fills a parse cache for them (``frfeeds build``) unless it exists, then
starts the Procfile command with that warm cache and measures:

- the time from starting gunicorn to the first full answer for the path;
- with wrk (Debian package ``wrk``): full responses, full gzip responses and 304s
  (If-None-Match), each as requests per second and p50/p99 latency;
- the same full responses while 20 slow clients trickle their request headers one
  byte a second (as a slowloris attack, or a mobile client on a bad link, would);
- the memory of the master and every worker: RSS, and PSS (pages shared since the
  preload fork divided among their sharers).

``--queries`` measures served queries after the rest (``measure_queries``): req/s of
the file ``/feeds/all.atom``, of one query asked again and again (rendered once, then
from the memo: a cached query), and of a distinct query at every request (wrk with a Lua
script giving each request its own ``min_quality``: every one rendered, 50 entries each,
after a scan of every published record: an uncached query, the worst case).

``--compare-sync`` runs everything a second time with gunicorn's sync workers (the
Procfile's command with ``--worker-class sync --threads 1``), side by side in one run.

``--compare-nginx`` measures, side by side in one run on the same machine, full, gzip
and 304 answers from the Procfile's gunicorn directly, through nginx as the caching
proxy of deploy/nginx/proxy.conf.template in front of it, and from nginx serving the
built tree with deploy/nginx/static.conf.template (Debian package ``nginx``); then the
app's rates over nginx's static ones (issue 18's targets) and the memory of gunicorn's
master and workers.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAKE_CORPUS = REPO.parent / "shared" / "bench" / "make_corpus.py"


def corpus(n: int) -> Path:
    folder = REPO / "bench-data" / f"records-{n}"
    if not folder.is_dir():
        subprocess.run([sys.executable, str(MAKE_CORPUS), str(n), str(folder)], check=True)
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_command() -> str:
    line = next(line for line in (REPO / "Procfile").read_text().splitlines() if line.startswith("web:"))
    return line.removeprefix("web:").strip()


def request(port: int, path: str, headers: dict | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.getheaders())
    finally:
        connection.close()


def wrk(port: int, path: str, seconds: int, headers: dict, timeout: float | None = None,
        script: Path | None = None) -> dict:
    """wrk's figures; with a Lua script that makes each request's path (its own query)."""
    command = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency"] + (["-s", str(script)] if script else [])
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True,
                            timeout=timeout).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
        "p50": latency.get("50"),
        "p99": latency.get("99"),
        "errors": int(errors[1]) if errors else 0,
    }


def slow_clients(port: int, path: str, count: int, stop: threading.Event) -> list[threading.Thread]:
    """count connections sending a request's headers one byte a second until stop."""
    def trickle():
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: {'a' * 200}".encode()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                for byte in request:
                    if stop.wait(1):
                        return
                    sock.sendall(bytes([byte]))
        except OSError:
            return

    threads = [threading.Thread(target=trickle, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


def memory_mib(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of one process, in MiB."""
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    return tuple(int(re.search(rf"^{name}:\s+(\d+) kB", rollup, re.M)[1]) / 1024 for name in ("Rss", "Pss"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--path", default="/feeds/ai.atom")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--compare-sync", action="store_true", help="also measure gunicorn's sync workers")
    parser.add_argument("--compare-nginx", action="store_true",
                        help="only: gunicorn direct, through the nginx caching proxy, and nginx serving the built tree")
    parser.add_argument("--queries", action="store_true", help="also measure a file, a cached and an uncached query")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install wrk)")
    if args.compare_nginx and nginx_binary() is None:
        parser.error("nginx is not installed (apt-get install nginx)")

    records = corpus(args.records)
    port = free_port()
    home = REPO / "bench-data" / "home"
    home.mkdir(parents=True, exist_ok=True)
    cache = REPO / "bench-data" / f"serve-cache-{args.records}"
    if not cache.is_dir():  # warm the parse cache, as a deployment's build step would
        subprocess.run([str(Path(sys.executable).parent / "frfeeds"), "build",
                        str(REPO / "bench-data" / f"serve-out-{args.records}"), "--records", str(records),
                        "--cache", str(cache), "--quiet"], check=True)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": str(args.workers), "HOME": str(home),
           "FRFEEDS_RECORDS": str(records), "FRFEEDS_BASE_URL": f"http://127.0.0.1:{port}", "FRFEEDS_CACHE": str(cache)}
    if args.compare_nginx:
        out = REPO / "bench-data" / f"serve-out-{args.records}"
        subprocess.run([str(Path(sys.executable).parent / "frfeeds"), "build", str(out), "--records", str(records),
                        "--cache", str(cache), "--base-url", f"http://127.0.0.1:{port}", "--quiet"], check=True,
                       stdout=subprocess.DEVNULL)
        compare_nginx(procfile_command(), env, port, out, args)
        return 0
    setups = [("Procfile", procfile_command())]
    if args.compare_sync:
        setups.append(("sync workers", procfile_command() + " --worker-class sync --threads 1"))
    for name, command in setups:
        print(f"{name}: {command}")
        measure(command, env, port, args)
    return 0


def measure(command: str, env: dict, port: int, args: argparse.Namespace) -> None:
    log = open(REPO / "bench-data" / "gunicorn.log", "w")
    started = time.perf_counter()
    server = subprocess.Popen(["bash", "-c", f"exec {command} --access-logfile /dev/null"],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while True:  # the first full answer for the path, counted from gunicorn's start
            try:
                status, headers = request(port, args.path)
                if status == 200:
                    break
            except OSError:
                time.sleep(0.05)
            if server.poll() is not None:
                raise SystemExit("gunicorn exited; see bench-data/gunicorn.log")
        first = time.perf_counter() - started
        etag = headers["ETag"]
        print(f"  {args.records} records (warm parse cache), {args.workers} workers: first answer for {args.path} "
              f"{first:.2f} s after starting gunicorn ({headers['Content-Length']} bytes)")
        runs = {
            "full": lambda: wrk(port, args.path, args.seconds, {}),
            "full, gzip": lambda: wrk(port, args.path, args.seconds, {"Accept-Encoding": "gzip"}),
            "304": lambda: wrk(port, args.path, args.seconds, {"If-None-Match": etag}),
            "full, 20 slow": lambda: while_slow(port, args),
        }
        for name, run in runs.items():
            result = run()
            print(f"  {name:<13} {result['rps']:>9.0f} req/s"
                  f"   p50 {str(result['p50']):>8}   p99 {str(result['p99']):>8}"
                  f"   non-2xx/3xx {result['errors']}")
        if args.queries:
            measure_queries(port, args)
        print_memory(server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        log.close()


def print_memory(master: int) -> None:
    """RSS and PSS of gunicorn's master and each of its workers."""
    workers = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    rss, pss = memory_mib(master)
    print(f"  master: RSS {rss:.0f} MiB, PSS {pss:.0f} MiB")
    for pid in workers:
        rss, pss = memory_mib(int(pid))
        print(f"  worker {pid}: RSS {rss:.0f} MiB, PSS {pss:.0f} MiB")


def nginx_binary() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def start_nginx(name: str, template: str, values: dict[str, str]) -> subprocess.Popen:
    """nginx with one of deploy/nginx/'s templates, filled in as envsubst would; its
    files under bench-data/nginx-NAME/."""
    folder = REPO / "bench-data" / f"nginx-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    text = (REPO / "deploy" / "nginx" / template).read_text()
    for key, value in values.items():
        text = text.replace("${" + key + "}", value)
    (folder / "frfeeds.conf").write_text(text)
    temp = "".join(f"    {kind}_temp_path {folder / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                          "scgi"))
    user = "user root root;\n" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(
        f"{user}worker_processes auto;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\n"
        "events { worker_connections 1024; }\n"
        f"http {{\n    access_log off;\n{temp}    include {folder / 'frfeeds.conf'};\n}}\n")
    return subprocess.Popen([nginx_binary(), "-p", str(folder), "-c", str(folder / "nginx.conf"),
                             "-e", str(folder / "error.log"), "-g", "daemon off;"], start_new_session=True)


def compare_nginx(command: str, env: dict, port: int, out: Path, args: argparse.Namespace) -> None:
    """The same path's full, gzip and 304 answers: gunicorn direct, through the caching
    proxy, and nginx serving the built tree; one table."""
    log = open(REPO / "bench-data" / "gunicorn.log", "w")
    server = subprocess.Popen(["bash", "-c", f"exec {command} --access-logfile /dev/null"],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    proxy_port, static_port = free_port(), free_port()
    nginxes = [
        start_nginx("proxy", "proxy.conf.template", {
            "FRFEEDS_LISTEN": f"127.0.0.1:{proxy_port}", "FRFEEDS_APP_1": f"127.0.0.1:{port}",
            "FRFEEDS_APP_2": f"127.0.0.1:{port}",
            "FRFEEDS_CACHE_DIR": str(REPO / "bench-data" / "nginx-proxy" / "cache")}),
        start_nginx("static", "static.conf.template", {"FRFEEDS_LISTEN": f"127.0.0.1:{static_port}",
                                                       "FRFEEDS_ROOT": str(out)}),
    ]
    try:
        while True:
            try:
                if request(port, args.path)[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
            if server.poll() is not None:
                raise SystemExit("gunicorn exited; see bench-data/gunicorn.log")
        servers = {"gunicorn direct": port, "nginx caching proxy": proxy_port, "nginx static tree": static_port}
        results: dict[str, dict[str, dict]] = {}
        for name, where in servers.items():
            status, headers = request(where, args.path)
            assert status == 200, (name, status)
            runs = {"full": {}, "full, gzip": {"Accept-Encoding": "gzip"}, "304": {"If-None-Match": headers["ETag"]}}
            results[name] = {run: wrk(where, args.path, args.seconds, extra) for run, extra in runs.items()}
        print(f"  {args.records} records, {args.workers} gunicorn workers, GET {args.path}, wrk -t2 -c32 "
              f"{args.seconds} s each (req/s, p50 / p99; non-2xx/3xx)")
        print(f"  {'':<12}" + "".join(f"{name:>34}" for name in servers))
        for run in ("full", "full, gzip", "304"):
            cells = [results[name][run] for name in servers]
            print(f"  {run:<12}" + "".join(
                f"{cell['rps']:>10.0f} {str(cell['p50']):>8} / {str(cell['p99']):>8}; {cell['errors']:<3}"
                for cell in cells))
        direct = results["gunicorn direct"]
        for name in list(servers)[1:]:
            print(f"  {name} / direct: " + ", ".join(
                f"{run} {results[name][run]['rps'] / direct[run]['rps']:.1f}x" for run in direct))
        static = results["nginx static tree"]
        print("  the app / nginx static tree (issue 18: full >= 0.25x, 304 >= 0.12x): " + ", ".join(
            f"{run} {direct[run]['rps'] / static[run]['rps']:.2f}x" for run in direct))
        print_memory(server.pid)
    finally:
        for process in nginxes + [server]:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
        log.close()


#: A distinct query at each request: each wrk thread its own residue of min_quality.
DISTINCT_QUERIES_LUA = """
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
function init(args)
  n = 0
end
function request()
  n = n + 1
  return wrk.format(nil, "%s?min_quality=" .. (-1000000 + n * 8 + id))
end
"""


def measure_queries(port: int, args: argparse.Namespace, base: str = "/feeds/all.atom") -> None:
    """req/s for a file, a cached query and an uncached (distinct each request) query."""
    script = REPO / "bench-data" / "distinct-queries.lua"
    script.write_text(DISTINCT_QUERIES_LUA % base)
    cached = "/feeds/all.atom?min_quality=0"
    status, _ = request(port, cached)
    assert status == 200, status
    runs = {
        "file": lambda: wrk(port, "/feeds/all.atom", args.seconds, {}),
        "cached query": lambda: wrk(port, cached, args.seconds, {}),
        "uncached query": lambda: wrk(port, "/feeds/all.atom", args.seconds, {}, script=script),
    }
    for name, run in runs.items():
        result = run()
        print(f"  {name:<14} {result['rps']:>9.0f} req/s   p50 {str(result['p50']):>8}   p99 {str(result['p99']):>8}"
              f"   non-2xx/3xx {result['errors']}")


def while_slow(port: int, args: argparse.Namespace) -> dict:
    """Full responses measured while 20 slow clients hold connections open."""
    stop = threading.Event()
    threads = slow_clients(port, args.path, 20, stop)
    time.sleep(2)
    try:
        return wrk(port, args.path, args.seconds, {}, timeout=args.seconds + 20)
    except subprocess.TimeoutExpired:
        return {"rps": 0.0, "p50": "stalled", "p99": "stalled", "errors": 0}
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)


if __name__ == "__main__":
    sys.exit(main())

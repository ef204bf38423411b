"""A real WebSub hub for the tests: flask-websub's ``Hub`` (subscription with intent
verification, the content fetch with its Link header check, distribution to callbacks),
served on 127.0.0.1 by werkzeug: ``python websub_hub.py PORT DB``.

flask-websub runs its work as Celery tasks; Celery (and a broker) would be a service of
its own, so ``ThreadTasks`` runs each task in a thread instead, retries included, as
a Celery worker would. ``GET /published`` lists the hub.topic of every publish request
received, in order: how the tests count announcements.
"""

from __future__ import annotations

import sys
import threading
import time
from types import SimpleNamespace

from flask import Flask, jsonify, request
from flask_websub.hub import Hub, SQLite3HubStorage
from werkzeug.serving import make_server


class _Retry(Exception):
    def __init__(self, countdown: float) -> None:
        super().__init__(countdown)
        self.countdown = countdown


class _Task:
    def __init__(self, function, bind: bool, max_retries: int) -> None:
        self.function, self.bind, self.max_retries = function, bind, max_retries

    def delay(self, *args):
        threading.Thread(target=self._run, args=(args, 0), daemon=True).start()

    def _run(self, args, retries: int) -> None:
        if not self.bind:
            self.function(*args)
            return
        context = SimpleNamespace(request=SimpleNamespace(retries=retries))

        def retry(countdown: float = 0.0):
            raise _Retry(countdown)

        context.retry = retry
        try:
            self.function(context, *args)
        except _Retry as again:
            if retries < self.max_retries:
                time.sleep(again.countdown)
                self._run(args, retries + 1)


class ThreadTasks:
    """What flask-websub asks of a Celery app: ``task(**options)`` and periodic tasks."""

    def task(self, bind: bool = False, max_retries: int | None = None, **_options):
        return lambda function: _Task(function, bind, max_retries or 0)

    def add_periodic_task(self, *args, **kwargs):
        pass


def main() -> None:
    port, db = int(sys.argv[1]), sys.argv[2]
    app = Flask("websub-hub")
    app.config["PUBLISH_SUPPORTED"] = True
    hub = Hub(SQLite3HubStorage(db), ThreadTasks(), BACKOFF_BASE=0.2, MAX_ATTEMPTS=3, REQUEST_TIMEOUT=5)
    published: list[str] = []

    @app.before_request
    def count_publish():
        if request.method == "POST" and request.form.get("hub.mode") == "publish":
            published.append(request.form.get("hub.topic", ""))

    @app.get("/published")
    def listed():
        return jsonify(published)

    app.register_blueprint(hub.build_blueprint(url_prefix="/hub"))
    server = make_server("127.0.0.1", port, app, threaded=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

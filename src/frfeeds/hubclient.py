"""WebSub, the HTTP side: tell hubs that feeds changed (``hub.mode=publish``).

The client is ``requests`` (maintained, ubiquitous; Session keeps one connection per hub
alive across a batch of feeds). Each hub is told in its own thread, each feed URL in
one form-encoded POST with ``hub.url`` (the PubSubHubbub 0.4 name most hubs read) and
``hub.topic`` (WebSub's, which others such as flask-websub read). A request that
fails for want of the hub (no connection, a timeout, a 5xx) is tried again with
exponential backoff; a 4xx is the hub's answer and is not. Everything ends by a
deadline: a hub never holds up a build, nor the app, for longer than ``budget``
seconds, and nothing here raises.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import requests

from frfeeds.announce import Outcome

#: Seconds to connect, and to wait for an answer, per request.
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 3.0
#: Tries of one request, and the first pause between them (doubled each time).
ATTEMPTS = 3
BACKOFF = 0.25
#: Default bound of a whole announcement, in seconds.
BUDGET = 8.0


def publish(hubs: Sequence[str], feed_urls: Sequence[str], budget: float = BUDGET) -> tuple[Outcome, ...]:
    """Tell every hub of every feed URL, the hubs at once; at most ``budget`` seconds."""
    if not hubs or not feed_urls:
        return tuple(Outcome(hub, 0, 0) for hub in hubs if feed_urls)
    deadline = time.monotonic() + budget
    outcomes: dict[str, Outcome] = {}
    threads = [threading.Thread(target=lambda hub=hub: outcomes.__setitem__(hub, _publish_to(hub, feed_urls, deadline)),
                                name="frfeeds-websub", daemon=True) for hub in hubs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()) + 0.5)
    return tuple(outcomes.get(hub) or Outcome(hub, 0, len(feed_urls), f"no answer within {budget:g} s")
                 for hub in hubs)


def _publish_to(hub: str, feed_urls: Sequence[str], deadline: float) -> Outcome:
    announced, error = 0, None
    with requests.Session() as session:
        for url in feed_urls:
            error = _post(session, hub, url, deadline)
            if error is not None:
                break  # the hub is away, or refuses: the next URL would fare the same
            announced += 1
    return Outcome(hub, announced, len(feed_urls), error)


def _post(session: requests.Session, hub: str, url: str, deadline: float) -> str | None:
    """None once the hub accepted url (2xx), else why not."""
    pause, error = BACKOFF, "no time left"
    for attempt in range(ATTEMPTS):
        left = deadline - time.monotonic()
        if left <= 0.05:
            return error
        try:
            response = session.post(hub, data={"hub.mode": "publish", "hub.url": url, "hub.topic": url},
                                    timeout=(min(CONNECT_TIMEOUT, left), min(READ_TIMEOUT, left)),
                                    allow_redirects=False)
        except requests.RequestException as exc:
            error = _reason(exc)
        else:
            if 200 <= response.status_code < 300:
                return None
            error = f"HTTP {response.status_code} for {url}"
            if response.status_code < 500:
                return error
        if attempt + 1 < ATTEMPTS:
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause *= 2
    return error


def _reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        cause = exc.args[0] if exc.args else exc
        reason = getattr(cause, "reason", None)
        text = str(reason or cause)
        return "connection refused" if "refused" in text.lower() else f"cannot connect ({type(exc).__name__})"
    return f"{type(exc).__name__}: {exc}"

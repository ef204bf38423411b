"""What a build sends its worker processes (the files to parse, the documents to render
with their entries' summaries) comes back equal, pickled without dataclasses.fields()."""

import dataclasses
import datetime as dt
import pickle

import pytest

from frfeeds.archive import split
from frfeeds.catalog import DocumentLink, Feed
from frfeeds.read.scan import RecordFile
from frfeeds.records import Provider, Summary, Topic

WHEN = dt.datetime(2021, 5, 17, 4, 8, tzinfo=dt.timezone.utc)
PROVIDER = Provider("Example", "example.com", "https://example.com/logo.png")


def summary(number: int) -> Summary:
    return Summary(f"news/{number}.md", f"https://example.com/{number}", WHEN - dt.timedelta(hours=number),
                   None if number % 2 else WHEN, PROVIDER, "video" if number % 3 else None, number, True, False,
                   (Topic("ai", "AI"), Topic("computer-vision", "Computer Vision")), f"{number:016x}")


def documents() -> list[object]:
    feed = Feed("feeds/ai", "topic", "AI", "Stories on AI, newest first", tuple(summary(n) for n in range(7)),
                links=(DocumentLink("hub", "https://hub.example/"),))
    archived = split(feed, 2, 2)
    return [archived.head, *archived.archives, RecordFile("news/ü 1.md", 4200, 1_700_000_000_123_456_789, "", "r/")]


@pytest.mark.parametrize("value", documents(), ids=lambda value: type(value).__name__)
def test_a_value_sent_to_a_worker_comes_back_equal(value, monkeypatch):
    data = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)

    def no_fields(*args, **kwargs):
        raise AssertionError("dataclasses.fields() called while pickling")

    monkeypatch.setattr(dataclasses, "fields", no_fields)
    back = pickle.loads(data)
    assert pickle.dumps(back, pickle.HIGHEST_PROTOCOL) == data
    monkeypatch.undo()
    assert back == value and type(back) is type(value)


def test_a_state_of_other_fields_is_refused():
    with pytest.raises(ValueError):
        summary(1).__setstate__(("news/1.md",))

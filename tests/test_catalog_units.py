"""catalog.select and catalog.build_catalog on Summaries built here: no files, no CLI.

Summaries come from summary() below, so that a field added to Summary is one edit.
"""

from __future__ import annotations

import datetime as dt
import itertools

from frfeeds.catalog import EPOCH, Feed, Selection, build_catalog, newest_first, select
from frfeeds.records import Provider, Summary, Topic

UTC = dt.timezone.utc
MAY = dt.datetime(2021, 5, 17, 4, 8, tzinfo=UTC)


def day(n: int) -> dt.datetime:
    return MAY + dt.timedelta(days=n)


def summary(
    url: str = "https://example.com/a",
    *,
    path: str | None = None,
    published: dt.datetime = MAY,
    updated: dt.datetime | None = None,
    is_published: bool = True,
    is_removed: bool = False,
    provider: tuple[str, str] = ("Example", "example.com"),
    topics: tuple[tuple[str, str], ...] = (("ai", "AI"),),
    **more,
) -> Summary:
    """A Summary with the usual values; ``more`` sets any other field by name."""
    path = path if path is not None else url.rsplit("/", 1)[-1] + ".md"
    fields = dict(
        path=path,
        url=url,
        published_at=published,
        updated_at=updated,
        type=None,
        quality=None,
        is_published=is_published,
        is_removed=is_removed,
        provider=Provider(*provider),
        topics=tuple(Topic(slug, label) for slug, label in topics),
        digest=f"digest of {path}",  # not read by the catalog
    )
    fields.update(more)
    return Summary(**fields)


def paths(records) -> list[str]:
    return [record.path for record in records]


# select --------------------------------------------------------------------------


def test_select_keeps_one_record_per_url_the_one_updated_last_in_any_order():
    url = "https://example.com/same"
    copies = [summary(url, path="z-old.md", updated=day(1)), summary(url, path="a-new.md", updated=day(2)),
              summary(url, path="m-plain.md")]
    for order in itertools.permutations(copies):
        selection = select(order)
        assert paths(selection.records) == ["a-new.md"]
        assert (selection.duplicates, selection.unpublished, selection.removed) == (2, 0, 0)


def test_select_goes_by_update_not_by_publication():
    url = "https://example.com/same"
    updated_last = summary(url, path="a.md", published=day(0), updated=day(5))
    published_last = summary(url, path="b.md", published=day(3))
    assert paths(select([updated_last, published_last]).records) == ["a.md"]
    assert paths(select([published_last, updated_last]).records) == ["a.md"]


def test_select_breaks_ties_by_path_never_by_order():
    url = "https://example.com/same"
    copies = [summary(url, path=name, updated=day(1)) for name in ("a.md", "c.md", "b.md")]
    for order in itertools.permutations(copies):
        assert paths(select(order).records) == ["c.md"]  # the greatest path, as a build does


def test_select_counts_unpublished_and_removed_apart():
    records = [
        summary("https://example.com/a"),
        summary("https://example.com/b", is_published=False),
        summary("https://example.com/c", is_removed=True),
        summary("https://example.com/d", is_removed=True, is_published=False),  # removed wins
        summary("https://example.com/e", is_removed=False),
    ]
    assert select(records) == Selection((records[0], records[4]), unpublished=1, duplicates=0, removed=2)


def test_include_unpublished_publishes_them_but_never_removed_ones():
    records = [summary("https://example.com/a"), summary("https://example.com/b", is_published=False),
               summary("https://example.com/c", is_removed=True, is_published=False)]
    selection = select(records, include_unpublished=True)
    assert selection == Selection((records[0], records[1]), unpublished=0, duplicates=0, removed=1)


def test_a_newer_unpublished_or_removed_copy_withdraws_the_story():
    url = "https://example.com/retracted"
    for withdrawn in ({"is_published": False}, {"is_removed": True}):
        records = [summary(url, path="v1.md"), summary(url, path="v2.md", updated=day(3), **withdrawn),
                   summary("https://example.com/other")]
        selection = select(records)
        assert paths(selection.records) == ["other.md"]
        assert selection.duplicates == 1 and selection.unpublished + selection.removed == 1


def test_an_older_unpublished_copy_does_not_withdraw_the_story():
    url = "https://example.com/story"
    records = [summary(url, path="v1.md", is_published=False), summary(url, path="v2.md", updated=day(1))]
    assert select(records) == Selection((records[1],), unpublished=0, duplicates=1, removed=0)


def test_selection_is_in_url_order_whatever_the_input_order():
    records = [summary(f"https://example.com/{name}") for name in "cab"]
    for order in itertools.permutations(records):
        assert [record.url for record in select(order).records] == [f"https://example.com/{n}" for n in "abc"]
    assert select([]) == Selection((), 0, 0, 0)


# build_catalog -------------------------------------------------------------------


def test_catalog_has_all_then_topics_then_providers_each_sorted():
    records = [
        summary("https://example.com/1", topics=(("robotics", "Robotics"), ("ai", "AI"))),
        summary("https://news.example.org/2", provider=("Example News", "news.example.org"),
                topics=(("computer-vision", "Computer Vision"),)),
        summary("https://b.example.net/3", provider=("B", "b.example.net"), topics=()),
    ]
    feeds = build_catalog(records, limit=50)
    assert [(feed.path, feed.kind, feed.title) for feed in feeds] == [
        ("feeds/all", "all", "All news"),
        ("feeds/ai", "topic", "AI"),
        ("feeds/computer-vision", "topic", "Computer Vision"),
        ("feeds/robotics", "topic", "Robotics"),
        ("feeds/providers/b.example.net", "provider", "B"),
        ("feeds/providers/example.com", "provider", "Example"),
        ("feeds/providers/news.example.org", "provider", "Example News"),
    ]
    by_path = {feed.path: feed for feed in feeds}
    assert by_path["feeds/all"].description == "Every story, newest first"
    assert by_path["feeds/ai"].description == "Stories on AI, newest first"
    assert by_path["feeds/providers/news.example.org"].description == "Stories from Example News (news.example.org), newest first"
    assert by_path["feeds/all"].entries == (records[2], records[0], records[1])  # one date: by id (URL)
    assert by_path["feeds/robotics"].entries == by_path["feeds/ai"].entries == (records[0],)
    assert by_path["feeds/providers/b.example.net"].entries == (records[2],)


def test_entries_newest_first_ties_by_id_ascending():
    dates = {"https://example.com/5": 5, "https://example.com/2": 4, "https://example.com/3": 4,
             "https://example.com/1": 1, "https://example.com/4": 4, "https://example.com/0": 2}
    records = [summary(url, published=day(n), path=f"{i}.md") for i, (url, n) in enumerate(dates.items())]
    expected = ["5", "2", "3", "4", "0", "1"]
    for order in (records, records[::-1]):
        assert [r.url.rsplit("/", 1)[1] for r in newest_first(order)] == expected
        for feed in build_catalog(order, limit=50):
            assert [r.url.rsplit("/", 1)[1] for r in feed.entries] == expected, feed.path


def test_newest_is_by_publication_date_not_update():
    old_but_updated = summary("https://example.com/old", published=day(0), updated=day(9))
    new = summary("https://example.com/new", published=day(1))
    (feed, *_) = build_catalog([old_but_updated, new], limit=50)
    assert feed.entries == (new, old_but_updated)
    assert feed.updated == day(9)  # the newest update among the entries, never the clock


def test_limit_applies_to_each_feed_apart():
    ai = [summary(f"https://example.com/ai{n}", published=day(n)) for n in range(5)]
    vision = [summary(f"https://example.com/cv{n}", published=day(n - 10), provider=("Other", "other.org"),
                      topics=(("computer-vision", "Computer Vision"),)) for n in range(3)]
    feeds = {feed.path: feed for feed in build_catalog(ai + vision, limit=2)}
    assert feeds["feeds/all"].entries == (ai[4], ai[3])
    assert feeds["feeds/ai"].entries == (ai[4], ai[3])
    assert feeds["feeds/computer-vision"].entries == (vision[2], vision[1])  # older, still its own newest
    assert feeds["feeds/providers/other.org"].entries == (vision[2], vision[1])
    assert all(len(feed.entries) <= 2 for feed in feeds.values())


def test_topic_label_is_the_most_used_spelling_over_every_record():
    spellings = ["A.I.", "ai", "ai", "AI"]  # the newest first; "ai" is most used
    records = [summary(f"https://example.com/{n}", published=day(-n), topics=(("ai", label),))
               for n, label in enumerate(spellings)]
    feeds = {feed.path: feed for feed in build_catalog(records, limit=1)}
    assert feeds["feeds/ai"].title == "ai"  # counted beyond the limit's one entry
    assert feeds["feeds/ai"].entries == (records[0],)


def test_label_ties_go_to_the_first_in_sorted_order():
    for labels in (("ai", "AI"), ("AI", "ai")):
        records = [summary(f"https://example.com/{n}", topics=(("ai", label),)) for n, label in enumerate(labels)]
        assert build_catalog(records, limit=50)[1].title == "AI"  # "AI" < "ai"


def test_providers_are_grouped_by_domain_named_by_most_used_name():
    records = [
        summary("https://example.com/1", provider=("Example", "example.com")),
        summary("https://example.com/2", provider=("Example Inc", "example.com")),
        summary("https://example.com/3", provider=("Example Inc", "example.com")),
        summary("https://example.org/4", provider=("Example", "example.org")),  # same name, other domain
    ]
    providers = {feed.path: feed for feed in build_catalog(records, limit=50) if feed.kind == "provider"}
    assert sorted(providers) == ["feeds/providers/example.com", "feeds/providers/example.org"]
    assert providers["feeds/providers/example.com"].title == "Example Inc"
    assert len(providers["feeds/providers/example.com"].entries) == 3
    assert providers["feeds/providers/example.org"].title == "Example"


def test_no_records_give_one_empty_feed_dated_at_the_epoch():
    assert build_catalog([], limit=50) == (Feed("feeds/all", "all", "All news", "Every story, newest first", ()),)
    assert build_catalog([], limit=50)[0].updated == EPOCH


def test_select_then_catalog_publishes_each_story_once():
    url = "https://example.com/twice"
    records = [summary(url, path="a.md"), summary(url, path="b.md", updated=day(1)),
               summary("https://example.com/draft", is_published=False)]
    (all_feed, *rest) = build_catalog(select(records).records, limit=50)
    assert paths(all_feed.entries) == ["b.md"]
    assert [feed.path for feed in rest] == ["feeds/ai", "feeds/providers/example.com"]

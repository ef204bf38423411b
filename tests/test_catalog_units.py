"""catalog.select and catalog.build_catalog (with the feeds.* settings) on Summaries built
here: no files, no CLI.

Summaries come from summary() below, so that a field added to Summary is one edit.
"""

from __future__ import annotations

import datetime as dt
import itertools

from frfeeds.catalog import EPOCH, Feed, Selection, build_catalog, newest_first, select
from frfeeds.config.loading import load_settings
from frfeeds.query import Query
from frfeeds.records import Provider, Summary, Topic
from frfeeds.settings import KINDS, CustomFeed, Feeds

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
    assert by_path["feeds/providers/news.example.org"].description == (
        "Stories from Example News (news.example.org), newest first")
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


# the feeds.* settings ----------------------------------------------------------------


def custom(slug: str, title: str | None = None, description: str | None = None, **query) -> CustomFeed:
    return CustomFeed(slug, title or slug.title(), Query.from_mapping(query, slug), description)


def kinds_of(feeds) -> list[tuple[str, str]]:
    return [(feed.kind, feed.path) for feed in feeds]


MIXED = [
    summary("https://example.com/1", published=day(3), topics=(("ai", "AI"), ("robotics", "Robotics"))),
    summary("https://example.com/2", published=day(2), type="video", quality=70, topics=(("ai", "AI"),)),
    summary("https://tv.example.org/3", published=day(1), provider=("TV", "tv.example.org"), type="video",
            quality=40, topics=(("azure", "Azure"),)),
    summary("https://tv.example.org/4", published=day(-20), provider=("TV", "tv.example.org"), type="article",
            quality=90, topics=(("power-apps", "Power Apps"),)),
    summary("https://example.com/5", published=day(-40), quality=None, topics=(("azure", "Azure"),)),
]


def test_kinds_choose_the_built_in_feeds_and_custom_ones_are_always_made():
    ai_videos = custom("ai-videos", topics=["AI"], types=["video"])
    every = kinds_of(build_catalog(MIXED, 50, Feeds(custom=(ai_videos,))))
    assert every == [("all", "feeds/all"), ("custom", "feeds/ai-videos"), ("topic", "feeds/ai"),
                     ("topic", "feeds/azure"), ("topic", "feeds/power-apps"), ("topic", "feeds/robotics"),
                     ("provider", "feeds/providers/example.com"), ("provider", "feeds/providers/tv.example.org")]
    for kinds in itertools.chain.from_iterable(itertools.combinations(KINDS, n) for n in range(4)):
        feeds = kinds_of(build_catalog(MIXED, 50, Feeds(kinds=kinds, custom=(ai_videos,))))
        wanted = {"all": "all", "topics": "topic", "providers": "provider"}
        assert feeds == [item for item in every if item[0] == "custom" or
                         any(item[0] == wanted[kind] for kind in kinds)], kinds


def test_the_default_feeds_settings_make_what_the_catalog_always_made():
    assert build_catalog(MIXED, 2, Feeds()) == build_catalog(MIXED, 2)
    assert all(feed.query is None for feed in build_catalog(MIXED, 2))


def test_min_entries_counts_every_published_story_not_only_the_newest_limit():
    records = [summary(f"https://example.com/ai{n}", published=day(n)) for n in range(3)]
    records += [summary(f"https://other.org/cv{n}", published=day(n), provider=("Other", "other.org"),
                        topics=(("computer-vision", "Computer Vision"),)) for n in range(2)]
    feeds = {feed.path: feed for feed in build_catalog(records, 1, Feeds(min_entries=3))}
    assert sorted(feeds) == ["feeds/ai", "feeds/all", "feeds/providers/example.com"]  # 3 stories each
    assert len(feeds["feeds/ai"].entries) == 1  # made for 3 stories, holding the newest one
    assert [feed.path for feed in build_catalog(records, 1, Feeds(min_entries=2))] == [
        "feeds/all", "feeds/ai", "feeds/computer-vision", "feeds/providers/example.com", "feeds/providers/other.org"]


def test_min_entries_spares_the_all_feed_and_custom_feeds():
    nothing = custom("nothing", types=["podcast"])
    feeds = build_catalog(MIXED[:1], 50, Feeds(min_entries=5, custom=(nothing,)))
    assert kinds_of(feeds) == [("all", "feeds/all"), ("custom", "feeds/nothing")]
    assert feeds[1].entries == () and feeds[1].updated == EPOCH  # its URL stays; it is empty
    assert kinds_of(build_catalog([], 50, Feeds(custom=(nothing,)))) == [("all", "feeds/all"),
                                                                    ("custom", "feeds/nothing")]


def test_include_and_exclude_topics_choose_topic_feeds_only():
    def topics(settings):
        return [feed.path for feed in build_catalog(MIXED, 50, settings) if feed.kind == "topic"]

    assert topics(Feeds(include_topics=("ai", "azure"))) == ["feeds/ai", "feeds/azure"]
    assert topics(Feeds(exclude_topics=("ai", "power-apps"))) == ["feeds/azure", "feeds/robotics"]
    assert topics(Feeds(include_topics=("ai", "azure"), exclude_topics=("azure",))) == ["feeds/ai"]  # exclude wins
    assert topics(Feeds(include_topics=("no-such-topic",))) == []
    feeds = {feed.path: feed for feed in build_catalog(MIXED, 50, Feeds(include_topics=("robotics",)))}
    assert len(feeds["feeds/all"].entries) == len(MIXED)  # the stories stay in the other feeds
    assert len(feeds["feeds/providers/tv.example.org"].entries) == 2


def test_include_and_exclude_take_labels_as_settings_read_them():
    settings = load_settings({"FRFEEDS_FEEDS_INCLUDE_TOPICS": "Power Apps, AI", "FRFEEDS_FEEDS_EXCLUDE_TOPICS": "ai"})
    topics = [feed.path for feed in build_catalog(MIXED, 50, settings.feeds) if feed.kind == "topic"]
    assert topics == ["feeds/power-apps"]


def test_custom_feeds_hold_what_their_query_selects_newest_first_in_the_settings_order():
    chosen = (
        custom("videos", types=["video"]),
        custom("apps", "Azure and Power Apps, quality 60 or more", "The best", topics=["Azure", "Power Apps"],
               min_quality=60),
        custom("ai-videos", "AI videos", topics=["AI"], types=["video"]),
        custom("tv-or-ai", providers=["tv.example.org"], topics=["ai"]),  # across fields: both must hold
    )
    feeds = build_catalog(MIXED, 50, Feeds(custom=chosen))
    by_path = {feed.path: feed for feed in feeds}
    assert [feed.path for feed in feeds if feed.kind == "custom"] == ["feeds/videos", "feeds/apps", "feeds/ai-videos",
                                                                      "feeds/tv-or-ai"]
    def urls(path):
        return [record.url.rsplit("/", 1)[1] for record in by_path[path].entries]

    assert urls("feeds/videos") == ["2", "3"]
    assert urls("feeds/apps") == ["4"]  # 3 is Azure at 40; 5 is Azure without a quality
    assert urls("feeds/ai-videos") == ["2"]
    assert urls("feeds/tv-or-ai") == []
    apps = by_path["feeds/apps"]
    assert (apps.kind, apps.title, apps.description, apps.query) == (
        "custom", "Azure and Power Apps, quality 60 or more", "The best", chosen[1].query)
    assert by_path["feeds/ai-videos"].description == "AI videos, newest first"  # none given


def test_custom_feeds_keep_the_newest_limit():
    feeds = build_catalog(MIXED, 2, Feeds(custom=(custom("typed", types=["video", "article"]),)))
    assert [record.url for record in feeds[1].entries] == ["https://example.com/2", "https://tv.example.org/3"]


def test_since_counts_back_from_the_newest_record_never_the_clock():
    recent = custom("recent", since="21 days")
    feeds = build_catalog(MIXED, 50, Feeds(custom=(recent,)))  # 2021's stories: the clock would select none
    assert [record.url.rsplit("/", 1)[1] for record in feeds[1].entries] == ["1", "2", "3"]  # day(-20) is 23 days old
    newest = summary("https://example.com/new", published=day(-17))
    older = [record for record in MIXED if record.published_at < day(0)]
    feeds = build_catalog(older + [newest], 50, Feeds(custom=(recent,)))
    assert [record.url.rsplit("/", 1)[1] for record in feeds[1].entries] == ["new", "4"]  # day(-40): 23 days older
    exact = build_catalog(MIXED, 50, Feeds(custom=(custom("exact", since="23 days"),)))
    assert [record.url.rsplit("/", 1)[1] for record in exact[1].entries] == ["1", "2", "3", "4"]  # 23 days: in


def test_a_custom_slug_takes_the_name_and_the_topic_gets_topic_added():
    records = MIXED + [summary("https://example.com/6", published=day(4), topics=(("ai-topic", "AI topic"),)),
                       summary("https://example.com/7", published=day(5),
                               topics=(("ai", "AI"), ("ai-topic", "AI topic")))]
    chosen = (custom("ai", "My AI", types=["video"]),)
    feeds = build_catalog(records, 50, Feeds(custom=chosen))
    by_path = {feed.path: feed for feed in feeds}
    assert len(by_path) == len(feeds)  # no two feeds share a path
    assert by_path["feeds/ai"].kind == "custom" and by_path["feeds/ai"].title == "My AI"
    topic = by_path["feeds/ai-topic"]  # the topic AI, merged with "AI topic" as two spellings of one slug are
    assert topic.kind == "topic" and [record.url.rsplit("/", 1)[1] for record in topic.entries] == ["7", "6", "1", "2"]
    chain = build_catalog(records, 50, Feeds(custom=chosen + (custom("ai-topic", types=["video"]),)))
    paths_ = [feed.path for feed in chain]
    assert len(set(paths_)) == len(paths_) and "feeds/ai-topic-topic" in paths_
    assert "feeds/ai-topic" not in [feed.path for feed in chain if feed.kind == "topic"]
    excluded = build_catalog(records, 50, Feeds(exclude_topics=("ai",), custom=chosen))  # by the topic's own slug
    ai_topic = {f.path: f for f in excluded}["feeds/ai-topic"]
    assert [record.url.rsplit("/", 1)[1] for record in ai_topic.entries] == ["7", "6"]


def test_custom_feeds_see_only_what_select_publishes():
    draft = summary("https://example.com/draft", is_published=False, type="video")
    gone = summary("https://example.com/gone", is_removed=True, type="video")
    chosen = Feeds(custom=(custom("videos", types=["video"]),))
    assert build_catalog(select([draft, gone, MIXED[1]]).records, 50, chosen)[1].entries == (MIXED[1],)
    with_drafts = build_catalog(select([draft, gone, MIXED[1]], include_unpublished=True).records, 50, chosen)
    assert with_drafts[1].entries == (MIXED[1], draft)

"""What a feed says about itself and its publisher, the same in every format and page:
its title (the ``site.feed_title`` template applied), its home page, its icon and logo.

Provider feeds show the provider's logo (``provider.images``); every other feed the
site's icon and logo. A site-relative logo (``/img/x.png``) is kept so in the records
(the parse cache never depends on the settings) and resolved here against ``site.url``;
without one it is left out, and unresolved_logos() names the records for the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

from frfeeds.archive import head_path
from frfeeds.catalog import Feed
from frfeeds.records import Summary
from frfeeds.render.links import document_url
from frfeeds.render.outputs import PAGE
from frfeeds.settings import RenderSettings, Site


@dataclass(frozen=True, slots=True)
class Masthead:
    #: The feed's title in every format: the site's feed_title template applied.
    title: str
    #: Absolute URL of the feed's own page (``BASE/feeds/ai.html``; an archive's: its feed's).
    page: str
    #: The alternate link and home_page_url: ``site.url`` when set, else the page.
    home: str
    #: A square image (Atom icon, JSON icon and favicon, the page's icon), or None.
    icon: str | None
    #: A wide one (Atom logo), or None.
    logo: str | None

    @property
    def image(self) -> str | None:
        """RSS ``<image>``: the logo, else the icon."""
        return self.logo or self.icon


def feed_title(feed: Feed, site: Site) -> str:
    # config.table._feed_title allows {site} and {feed} only, so this cannot fail
    return site.title_template().format(site=site.title, feed=feed.title)


def masthead(feed: Feed, settings: RenderSettings) -> Masthead:
    site = settings.site
    # an archive's page is its feed's; a query's, the feed's page with the query
    page = document_url(settings.base_url, head_path(feed), PAGE.extension, feed.url_query)
    if feed.kind == "provider":
        logo = provider_logo(feed.entries, site)
        icon = logo
    else:
        icon, logo = site.icon, site.logo
    return Masthead(feed_title(feed, site), page, site.url or page, icon, logo)


def provider_logo(entries: Iterable[Summary], site: Site) -> str | None:
    """The logo of the newest entry that has a usable one (entries come newest first,
    ties by id): the same records give the same logo."""
    for entry in entries:
        logo = resolve(entry.provider.logo, site)
        if logo is not None:
            return logo
    return None


def resolve(logo: str | None, site: Site) -> str | None:
    """An absolute logo as it is; a site-relative one against site.url, or None."""
    if logo is None or not logo.startswith("/"):
        return logo
    return urljoin(site.url, logo) if site.url else None


def unresolved_logos(records: Iterable[Summary], site: Site) -> Iterator[Summary]:
    """The published records whose provider logo is site-relative while site.url is unset."""
    if site.url:
        return iter(())
    return (record for record in records if record.provider.logo and record.provider.logo.startswith("/"))

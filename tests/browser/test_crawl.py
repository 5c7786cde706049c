"""The crawler: every link of the demo portal leads somewhere, and every page has a title.

Breadth-first from the front door and every demo community's home, over the real server of the browser
session (SQLite only; the rest of the suite covers PostgreSQL): every same-site <a href>, <link href>,
<script src>, <img src>, htmx hx-get and GET form action is requested. Each must answer 200 (after
redirects); each HTML page must have a non-empty <title>. Once signed out, then signed in (through the
sign-in form, with its CSRF field) as community staff and as a district administrator, so that the
workspace pages are covered too.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx

from tests.browser.conftest import DEMO_PASSWORD, DEMO_PORTALS, DISTRICT_ADMIN, SLUG, STAFF, LiveServer

MAX_PAGES = 800  # the district admin's crawl reached 414 pages on 2026-12-01 (22 sort links on each of 5 dashboards)
CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')
# Links that change state or leave the session (all of them POST-only anyway) are never followed.
SKIP = re.compile(r"/logout$")


class Links(HTMLParser):
    """The same-site GET targets of a page, and its <title>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.targets: list[str] = []
        self.fragments: list[str] = []  # htmx swaps these into the page: not pages of their own
        self.title: str | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "title":
            self._in_title, self.title = True, self.title or ""
        for name in {"a": ("href",), "link": ("href",), "script": ("src",), "img": ("src",), "source": ("src",),
                     "iframe": ("src",)}.get(tag, ()):
            if found.get(name):
                self.targets.append(found[name])  # type: ignore[arg-type]
        if found.get("hx-get"):
            self.fragments.append(found["hx-get"])  # type: ignore[arg-type]
        if tag == "form" and (found.get("method") or "get").lower() == "get" and found.get("action"):
            self.targets.append(found["action"])  # type: ignore[arg-type]

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = (self.title or "") + data


@dataclass
class Crawl:
    client: httpx.Client
    origin: str
    seen: set[str] = field(default_factory=set)
    broken: list[str] = field(default_factory=list)
    pages: int = 0

    def normalize(self, referrer: str, target: str) -> tuple[str, bool] | None:
        """The absolute URL to fetch (no fragment), and whether only its status counts (not its links)."""
        if target.startswith(("mailto:", "tel:", "javascript:", "data:", "#")):
            return None
        parts = urlsplit(urljoin(referrer, target.strip()))
        if parts.scheme not in ("http", "https") or f"{parts.scheme}://{parts.netloc}" != self.origin:
            return None  # another site: not ours to check
        if SKIP.search(parts.path):
            return None
        query = parse_qsl(parts.query, keep_blank_values=True)
        # A language switch is the same page in the other language: check it answers, without following it
        # (it would switch the whole crawl's language cookie).
        check_only = any(name == "lang" for name, _ in query)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), "")), check_only

    def run(self, starts: list[str]) -> None:
        queue: deque[tuple[str, str]] = deque((self.origin + path, "(start)") for path in starts)
        self.seen.update(url for url, _ in queue)
        while queue and self.pages < MAX_PAGES:
            url, referrer = queue.popleft()
            self.pages += 1
            try:
                response = self.client.get(url)
            except httpx.HTTPError as exc:
                self.broken.append(f"{url} ← {referrer}: {exc!r}")
                continue
            if response.status_code != 200:
                self.broken.append(f"{url} ← {referrer}: {response.status_code}")
                continue
            if not response.headers.get("content-type", "").startswith("text/html"):
                continue
            links = Links()
            links.feed(response.text)
            if not (links.title or "").strip():
                self.broken.append(f"{url} ← {referrer}: no <title>")
            page_url = str(response.url)
            for target, fragment in [(t, False) for t in links.targets] + [(t, True) for t in links.fragments]:
                found = self.normalize(page_url, target)
                if found is None or found[0] in self.seen:
                    continue
                self.seen.add(found[0])
                if found[1] or fragment:
                    self.check(found[0], page_url)
                else:
                    queue.append((found[0], page_url))
        assert not queue, f"more than {MAX_PAGES} pages: raise MAX_PAGES or look for a link that loops"

    def check(self, url: str, referrer: str) -> None:
        """Fetch without keeping what the answer sets (a language switch would stick otherwise)."""
        self.pages += 1
        response = httpx.get(url, cookies=dict(self.client.cookies), follow_redirects=True, timeout=30)
        if response.status_code != 200:
            self.broken.append(f"{url} ← {referrer}: {response.status_code}")


def crawl(client: httpx.Client, live_server: LiveServer, starts: list[str]) -> Crawl:
    done = Crawl(client, live_server.base_url)
    done.run(starts)
    return done


def starts() -> list[str]:
    return ["/", *(f"/t/{slug}/" for slug in DEMO_PORTALS)]


def test_every_public_link_answers_and_every_page_has_a_title(live_server: LiveServer) -> None:
    with httpx.Client(follow_redirects=True, timeout=30) as client:
        done = crawl(client, live_server, starts())
    assert not done.broken, f"{len(done.broken)} broken link(s) of {done.pages} pages:\n" + "\n".join(done.broken)
    assert done.pages > 30, f"only {done.pages} pages crawled: the crawler does not find the links"
    assert f"{live_server.base_url}/t/{SLUG}/results" in done.seen
    assert f"{live_server.base_url}/static/portal.css" in done.seen


def sign_in(client: httpx.Client, live_server: LiveServer, slug: str, username: str) -> None:
    form = client.get(live_server.url(f"/t/{slug}/login"))
    token = CSRF_FIELD.search(form.text)
    assert token, "the sign-in form has no CSRF field"
    answer = client.post(live_server.url(f"/t/{slug}/login"), follow_redirects=False, data={
        "username": username, "password": DEMO_PASSWORD, "next": f"/t/{slug}/me", "_csrf_token": token.group(1)})
    assert answer.status_code == 303, answer.text[:500]


def test_every_link_of_a_staff_workspace_answers(live_server: LiveServer) -> None:
    with httpx.Client(follow_redirects=True, timeout=30) as client:
        sign_in(client, live_server, SLUG, STAFF)
        done = crawl(client, live_server, [f"/t/{SLUG}/me", f"/t/{SLUG}/"])
        still_signed_in = client.get(live_server.url(f"/t/{SLUG}/me"), follow_redirects=False).status_code
    assert not done.broken, f"{len(done.broken)} broken link(s) of {done.pages} pages:\n" + "\n".join(done.broken)
    workspace = [url for url in done.seen if f"/t/{SLUG}/staff/" in url or f"/t/{SLUG}/me/" in url]
    assert workspace, "the crawl signed in as staff reached no workspace page"
    assert still_signed_in == 200, "the crawl signed itself out"


def test_every_link_of_a_district_dashboard_answers(live_server: LiveServer) -> None:
    with httpx.Client(follow_redirects=True, timeout=30) as client:
        sign_in(client, live_server, "xixia", DISTRICT_ADMIN)
        done = crawl(client, live_server, ["/t/xixia/me", "/t/xixia/admin"])
    assert not done.broken, f"{len(done.broken)} broken link(s) of {done.pages} pages:\n" + "\n".join(done.broken)
    assert any("/t/xixia/admin/" in url for url in done.seen), "the crawl reached no administrator's page"


def test_the_crawler_reports_a_broken_link_with_its_referrer(live_server: LiveServer) -> None:
    """The crawler itself can fail: an unknown page, and a page's link to it, are both reported."""
    crawler = Crawl(httpx.Client(follow_redirects=True, timeout=30), live_server.base_url)
    with crawler.client:
        crawler.run([f"/t/{SLUG}/no-such-page"])
        crawler.check(live_server.url(f"/t/{SLUG}/results/not-a-topic?lang=en"), "(a test)")
    assert crawler.broken == [f"{live_server.base_url}/t/{SLUG}/no-such-page ← (start): 404",
                              f"{live_server.base_url}/t/{SLUG}/results/not-a-topic?lang=en ← (a test): 404"]
    assert crawler.normalize(live_server.url("/t/x/"), "https://example.com/") is None
    assert crawler.normalize(live_server.url("/t/x/a"), "b#top") == (live_server.url("/t/x/b"), False)
    assert crawler.normalize(live_server.url("/t/x/"), "?lang=en") == (live_server.url("/t/x/?lang=en"), True)
    assert crawler.normalize(live_server.url("/t/x/"), "/t/x/logout") is None

"""District and street administrators in the portal: the dashboard over the communities below, escalated
concerns, and onboarding a new community, through the test client."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient
from litestar import Litestar

from tests.conftest import Auth, http_client
from tests.helpers import BASE, NEW_COMMUNITY, WATER, file, sign_in, submit, text_of, topic_at

pytestmark = pytest.mark.usefixtures("world")

def row_of(html: str, slug: str) -> str:
    found = re.search(rf'<tr data-community="{slug}">(.*?)</tr>', html, re.S)
    assert found, f"no row for {slug}"
    return found.group(1)


def concerns_received(html: str, slug: str) -> int:
    return int(re.findall(r'<td class="num">(\d+)</td>', row_of(html, slug))[0])


def order_of(html: str) -> list[str]:
    return re.findall(r'<tr data-community="([^"]+)">', html)


async def file_in_comm_b(client: AsyncClient, auth: Auth, title: str = "乙小区9号楼门禁坏了") -> dict:
    answer = await client.post("/api/v1/tenants/comm-b/concerns", headers=await auth("bstaff"), json={
        **WATER, "title": title, "category": "safety"})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_the_dashboard_shows_every_community_below_with_figures_that_move(client: AsyncClient,
                                                                                 auth: Auth) -> None:
    await sign_in(client, "district-a", "dadmin")
    before = await client.get("/t/district-a/admin")
    assert before.status_code == 200 and "<title>" in before.text
    assert "甲社区" in before.text and "乙社区" in before.text and "甲街道" in row_of(before.text, "comm-a")
    assert concerns_received(before.text, "comm-b") == 0
    await file_in_comm_b(client, auth)
    after = await client.get("/t/district-a/admin")
    assert concerns_received(after.text, "comm-b") == 1 and concerns_received(after.text, "comm-a") == 0
    assert "安全隐患" in text_of(after)  # the concerns-by-category chart
    assert "<svg" in after.text and "<script" not in after.text.split("</head>")[1]  # charts without a script
    # A period before the concern: it is not counted.
    old = await client.get("/t/district-a/admin", params={"from": "2020-01-01", "to": "2020-12-31"})
    assert old.status_code == 200 and concerns_received(old.text, "comm-b") == 0
    bad = await client.get("/t/district-a/admin", params={"from": "2026-05-01", "to": "2026-04-01"})
    assert bad.status_code == 422 and 'id="to-error"' in bad.text and 'aria-describedby="to-error"' in bad.text


async def test_sorting_by_a_column_changes_the_order(client: AsyncClient, auth: Auth) -> None:
    await file_in_comm_b(client, auth)
    await sign_in(client, "district-a", "dadmin")
    in_tree = await client.get("/t/district-a/admin")
    assert order_of(in_tree.text) == ["comm-a", "comm-b"]
    most = await client.get("/t/district-a/admin", params={"sort": "concerns_received", "dir": "desc"})
    assert order_of(most.text) == ["comm-b", "comm-a"] and 'aria-sort="descending"' in most.text
    fewest = await client.get("/t/district-a/admin", params={"sort": "concerns_received", "dir": "asc"})
    assert order_of(fewest.text) == ["comm-a", "comm-b"]
    assert "sort=concerns_received" in in_tree.text  # the column headers link to the sorted table
    odd = await client.get("/t/district-a/admin", params={"sort": "password_hash"})  # not an allowed column
    assert odd.status_code == 200 and order_of(odd.text) == ["comm-a", "comm-b"]


async def test_the_dashboard_is_for_administrators_of_that_tree(app: Litestar) -> None:
    for username in ("cstaff", "badmin"):
        async with http_client(app) as client:
            await sign_in(client, "district-a", username)
            assert (await client.get("/t/district-a/admin")).status_code == 403, username
    async with http_client(app) as client:
        answer = await client.get("/t/district-a/admin")
        assert answer.status_code == 302 and "/t/district-a/login" in answer.headers["location"]
        await sign_in(client, "street-a", "sstaff")  # a street sees its own communities
        street = await client.get("/t/street-a/admin")
        assert street.status_code == 200 and order_of(street.text) == ["comm-a", "comm-b"]


async def test_an_escalated_concern_is_sent_back_only_with_instructions_then_taken_over(
        client: AsyncClient, auth: Auth, app: Litestar) -> None:
    concern = await file(client, await auth("resident"), {"title": "两个社区之间的路灯不亮"})
    escalated = await client.post(f"{BASE}/concerns/{concern['id']}/triage", headers=await auth("cstaff"),
                                  json={"action": "escalate", "reason": "路灯归街道管"})
    assert escalated.status_code == 200, escalated.text
    await sign_in(client, "street-a", "sstaff")
    listing = await client.get("/t/street-a/admin/escalations")
    assert listing.status_code == 200 and "两个社区之间的路灯不亮" in listing.text and "路灯归街道管" in listing.text
    assert "13812341234" not in listing.text  # the street sees the resident's number masked at most

    url = "/t/street-a/admin/escalations"
    empty = await submit(client, url, f"{url}/{concern['id']}/send-back", {"instructions": "  "})
    assert empty.status_code == 422
    assert f'id="instructions-{concern["id"]}-error"' in empty.text
    assert f'aria-describedby="instructions-{concern["id"]}-error"' in empty.text
    still = await client.get(f"{BASE}/concerns/{concern['id']}", headers=await auth("cstaff"))
    assert still.json()["status"] == "escalated"

    # The tenant wall: another district's administrator cannot touch it.
    async with http_client(app) as other:
        await sign_in(other, "district-b", "badmin")
        refused = await submit(other, "/t/district-b/admin/escalations",
                               f"/t/district-b/admin/escalations/{concern['id']}/take-over", {})
        assert refused.status_code == 404
    async with http_client(app) as community:
        await sign_in(community, "street-a", "cstaff")
        assert (await community.get(url)).status_code == 403

    taken = await submit(client, url, f"{url}/{concern['id']}/take-over", {})
    assert taken.status_code == 303 and taken.headers["location"].startswith(url)
    after = await client.get(taken.headers["location"])
    assert "两个社区之间的路灯不亮" not in after.text and 'class="notice"' in after.text
    original = await client.get(f"{BASE}/concerns/{concern['id']}", headers=await auth("cstaff"))
    assert original.json()["status"] == "taken_over"
    again = await submit(client, url, f"{url}/{concern['id']}/take-over", {})
    assert again.status_code == 409


async def test_an_escalated_concern_sent_back_goes_back_with_the_instructions(client: AsyncClient,
                                                                               auth: Auth) -> None:
    concern = await file(client, await auth("resident"))
    await client.post(f"{BASE}/concerns/{concern['id']}/triage", headers=await auth("cstaff"),
                      json={"action": "escalate", "reason": "需要街道协调"})
    await sign_in(client, "street-a", "sstaff")
    url = "/t/street-a/admin/escalations"
    sent = await submit(client, url, f"{url}/{concern['id']}/send-back", {"instructions": "请社区先召集楼栋长协商"})
    assert sent.status_code == 303
    back = (await client.get(f"{BASE}/concerns/{concern['id']}", headers=await auth("cstaff"))).json()
    assert back["status"] == "accepted" and back["instructions"] == "请社区先召集楼栋长协商"


async def test_onboarding_a_community_creates_its_portal_plugins_and_first_staff(client: AsyncClient, auth: Auth,
                                                                                 app: Litestar) -> None:
    await sign_in(client, "street-a", "dadmin")
    form = await client.get("/t/street-a/admin/onboard")
    assert form.status_code == 200 and 'name="plugins" value="liaison_station"' in form.text
    assert 'for="username"' in form.text and 'value="community"' in form.text
    created = await submit(client, "/t/street-a/admin/onboard", "/t/street-a/admin/onboard", NEW_COMMUNITY)
    assert created.status_code == 303, created.text[:2000]
    assert created.headers["location"] == "/t/street-a/admin/onboard/comm-c"
    summary = await client.get(created.headers["location"])
    assert summary.status_code == 200 and "丙社区王主任" in summary.text and "社区工作人员" in summary.text

    tenant = (await client.get("/api/v1/tenants/comm-c", headers=await auth("admin"))).json()
    assert tenant["parent"] == "street-a" and tenant["plugins"] == ["liaison_station"]
    async with http_client(app) as staff:
        await sign_in(staff, "comm-c", "cstaff-c", "first-pass-123")
        workspace = await staff.get("/t/comm-c/me")
        assert workspace.status_code == 200 and "/t/comm-c/staff/inbox" in workspace.text
        elsewhere = await staff.get("/t/comm-a/me")  # staff of comm-c only, not of its neighbours
        assert elsewhere.status_code == 200 and "/staff/inbox" not in elsewhere.text
    # The district dashboard counts the new community too.
    await sign_in(client, "district-a", "dadmin")
    assert "comm-c" in order_of((await client.get("/t/district-a/admin")).text)


async def test_onboarding_is_for_those_who_may_open_a_tenant(app: Litestar) -> None:
    for username in ("cstaff", "badmin", "sstaff"):  # street staff may not open tenants (tenant.create_child)
        async with http_client(app) as client:
            await sign_in(client, "street-a", username)
            assert (await client.get("/t/street-a/admin/onboard")).status_code == 403, username


async def test_a_taken_slug_creates_nothing_and_says_so_next_to_the_field(client: AsyncClient, auth: Auth) -> None:
    await sign_in(client, "street-a", "dadmin")
    taken = await submit(client, "/t/street-a/admin/onboard", "/t/street-a/admin/onboard",
                         {**NEW_COMMUNITY, "slug": "comm-b"})
    assert taken.status_code == 422 and 'id="slug-error"' in taken.text and 'aria-describedby="slug-error' in taken.text
    assert 'value="丙社区"' in taken.text and 'value="cstaff-c"' in taken.text  # the input is kept
    token = await client.post("/api/v1/auth/token", json={"username": "cstaff-c", "password": "first-pass-123"})
    assert token.status_code == 401  # no user was created
    bad = await submit(client, "/t/street-a/admin/onboard", "/t/street-a/admin/onboard",
                       {**NEW_COMMUNITY, "slug": "Not A Slug"})
    assert bad.status_code == 422 and 'id="slug-error"' in bad.text


async def test_a_taken_username_creates_no_tenant(client: AsyncClient, auth: Auth) -> None:
    await sign_in(client, "street-a", "dadmin")
    taken = await submit(client, "/t/street-a/admin/onboard", "/t/street-a/admin/onboard",
                         {**NEW_COMMUNITY, "username": "cstaff"})
    assert taken.status_code == 422 and 'id="username-error"' in taken.text
    assert "cstaff" in text_of(taken)
    assert (await client.get("/t/comm-c/")).status_code == 404
    assert (await client.get("/api/v1/tenants/comm-c", headers=await auth("admin"))).status_code == 404
    short = await submit(client, "/t/street-a/admin/onboard", "/t/street-a/admin/onboard",
                         {**NEW_COMMUNITY, "password": "short"})
    assert short.status_code == 422 and 'id="password-error"' in short.text
    assert (await client.get("/t/comm-c/")).status_code == 404


async def test_escalations_come_a_page_at_a_time_and_a_refusal_stays_on_its_page(
        client: AsyncClient, auth: Auth, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("core.portal.admin.ESCALATIONS_PER_PAGE", 2)
    concerns = [await file(client, await auth("resident"), {"title": f"上报的第{n}件事"}) for n in range(3)]
    for concern in concerns:
        escalated = await client.post(f"{BASE}/concerns/{concern['id']}/triage", headers=await auth("cstaff"),
                                      json={"action": "escalate", "reason": "需要街道协调"})
        assert escalated.status_code == 200, escalated.text
    await sign_in(client, "street-a", "sstaff")
    url = "/t/street-a/admin/escalations"
    first, second = await client.get(url), await client.get(f"{url}?p=2")
    ids = {c["id"] for c in concerns}
    on_first = {i for i in ids if f'id="concern-{i}"' in first.text}
    on_second = {i for i in ids if f'id="concern-{i}"' in second.text}
    assert len(on_first) == 2 and len(on_second) == 1 and on_first | on_second == ids
    assert f'href="{url}?p=2" rel="next"' in first.text and f'href="{url}?p=1" rel="prev"' in second.text
    (last,) = on_second
    refused = await submit(client, f"{url}?p=2", f"{url}/{last}/send-back?p=2", {"instructions": " "})
    assert refused.status_code == 422 and f'id="instructions-{last}-error"' in refused.text


async def test_the_category_chart_draws_each_bar_against_the_largest(client: AsyncClient, auth: Auth) -> None:
    resident = await auth("resident")
    for category in ("public_facilities", "public_facilities", "environment"):
        await file(client, resident, {"category": category})
    await sign_in(client, "district-a", "dadmin")
    html = (await client.get("/t/district-a/admin")).text
    chart = html.split('id="by-category"', 1)[1].split("</section>", 1)[0]
    widths = dict(re.findall(r'<span>([^<]+)</span>\s*<span aria-hidden="true"><span class="fill" '
                             r'style="display:block; width: ([\d.]+)%"', chart))
    assert widths == {"公共设施": "100.0", "小区环境": "50.0"}


async def test_a_refused_onboarding_names_every_field_and_keeps_what_was_typed(client: AsyncClient) -> None:
    await sign_in(client, "street-a", "dadmin")
    refused = await submit(client, "/t/street-a/admin/onboard", "/t/street-a/admin/onboard",
                           {**NEW_COMMUNITY, "slug": "Bad Slug!", "password": "short"})
    assert refused.status_code == 422
    for field in ("slug", "password"):
        assert f'id="{field}-error"' in refused.text, field
    assert 'value="short"' in refused.text and 'value="Bad Slug!"' in refused.text
    assert (await client.get("/t/comm-c/")).status_code == 404


async def test_each_row_and_the_totals_are_the_apis_figures(client: AsyncClient, auth: Auth) -> None:
    """The dashboard and /stats read one set of figure definitions: a community's row is its own figures, the
    totals the district's roll-up."""
    topic_id, _ = await topic_at(client, auth, "completed")
    rated = await client.post(f"{BASE}/topics/{topic_id}/ratings", json={"score": 4}, headers=await auth("resident"))
    assert rated.status_code == 201, rated.text
    await file_in_comm_b(client, auth)
    await sign_in(client, "district-a", "dadmin")
    html = (await client.get("/t/district-a/admin")).text
    admin = await auth("dadmin")

    def shown(value: float | None) -> str:
        return "—" if value is None else f"{value:.1f}"

    for slug in ("comm-a", "comm-b"):
        own = (await client.get(f"/api/v1/tenants/{slug}/stats", headers=admin)).json()["own"]
        cells = [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r'<td class="num">(.*?)</td>', row_of(html, slug))]
        assert cells == [str(own["concerns_received"]), str(own["resolved_directly"]), str(own["topics"]),
                         str(own["consultations_held"]), str(own["matters_completed"]),
                         shown(own["median_days_to_completion"]), str(own["overdue_action_items"]),
                         shown(own["average_rating"])], slug
    assert row_of(html, "comm-a").count("—") == 0  # comm-a's row has every figure, the median and rating too
    rollup = (await client.get("/api/v1/tenants/district-a/stats", headers=admin)).json()
    totals = dict(re.findall(r"<div><dt>([^<]+)</dt><dd>([^<]+)</dd></div>", html.split('id="totals"', 1)[1]))
    assert totals["收到诉求"] == str(rollup["rollup"]["concerns_received"]) == "2"
    assert totals["办成实事（件）"] == str(rollup["rollup"]["matters_completed"]) == "1"

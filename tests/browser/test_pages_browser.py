"""Pages that help instead of fight, in real headless Chromium on the demo: the district dashboard read on a phone
(no name stacked one character per line), a district administrator reaching a street's escalation and taking it
over (the resident's tracking page then says where it is handled), dates typed the Chinese way in a browser whose
locale would show mm/dd/yyyy, and the front door's tree indented by level.

Runs on SQLite only (the server of tests/browser/conftest.py). Screenshots are saved under tests/artifacts/."""

from __future__ import annotations

import html
import re

import httpx
from jinja2 import Environment, FileSystemLoader
from playwright.sync_api import expect

from core.portal.i18n import gettext_for
from core.portal.setup import HERE, local_time
from tests.browser.conftest import DEMO_PASSWORD, DESK, DISTRICT_ADMIN, PHONE_390, SLUG, LiveServer, shot, sign_in

DISTRICT = "xixia"  # 西夏区
STREET = "beijingxilu"  # 北京西路街道, above 建设巷社区




def escalate_a_concern(server: LiveServer, title: str) -> dict:
    """A grid worker files a concern in 建设巷社区 and its staff pass it up to the street (through the API)."""
    with httpx.Client(base_url=server.base_url, timeout=30) as api:
        def headers(username: str) -> dict[str, str]:
            token = api.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
            assert token.status_code == 200, token.text
            return {"Authorization": f"Bearer {token.json()['access_token']}"}

        base = f"/api/v1/tenants/{SLUG}/concerns"
        filed = api.post(base, headers=headers("jsx_grid"), json={
            "title": title, "category": "public_facilities", "place": "银巴小区与梦园小区之间",
            "channel": "grid_worker", "resident_name": "住户", "description": "两个小区之间的路段晚上没有路灯。"})
        assert filed.status_code == 201, filed.text
        concern = filed.json()
        triaged = api.post(f"{base}/{concern['id']}/triage", headers=headers("jsx_staff"),
                           json={"action": "escalate", "reason": "路段归街道管"})
        assert triaged.status_code == 200, triaged.text
        return concern


def test_the_district_dashboard_on_a_phone_never_stacks_a_name_one_character_per_line(
        new_page) -> None:  # type: ignore[no-untyped-def]
    page, problems = new_page(PHONE_390)
    sign_in(page, DISTRICT_ADMIN, DISTRICT)
    page.goto(f"/t/{DISTRICT}/admin")
    table = page.locator("#communities")
    expect(table).to_be_visible()
    # Every name and heading of the table on one line, at least as wide as its characters: measured, not assumed.
    measured = page.evaluate("""() => [...document.querySelectorAll(
            '#communities thead th a, #communities tbody th a, #communities tbody td:nth-child(2)')].map(el => {
        const style = getComputedStyle(el), text = el.textContent.trim();
        const range = document.createRange(); range.selectNodeContents(el);
        const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
        return {text, lines, width: el.getBoundingClientRect().width, font: parseFloat(style.fontSize)};
    })""")
    assert len(measured) >= 10, measured
    for cell in measured:
        if not cell["text"]:
            continue
        assert cell["lines"] == 1, f"{cell['text']!r} wraps over {cell['lines']} lines"
        assert cell["width"] >= 0.9 * cell["font"] * min(len(cell["text"]), 4), cell
    # The table scrolls inside its frame; the page itself does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    frame = page.locator("#communities").locator("xpath=..")
    assert frame.evaluate("el => el.scrollWidth > el.clientWidth"), "the wide table should scroll in its frame"
    expect(page.locator(".table-hint")).to_be_visible()
    shot(page, "dashboard-phone-390")
    assert not problems.messages, "\n".join(problems.messages)


def test_a_district_reaches_a_streets_escalation_and_the_resident_sees_who_handles_it(
        new_page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    title = "两小区之间路段没有路灯"
    concern = escalate_a_concern(live_server, title)
    page, problems = new_page(DESK)
    sign_in(page, DISTRICT_ADMIN, DISTRICT)
    page.goto(f"/t/{DISTRICT}/admin")
    waiting = page.locator(f'#escalations-below li[data-tenant="{STREET}"]')
    expect(waiting).to_contain_text("北京西路街道")
    page.locator("#escalations-below").get_by_role("link", name="在一个列表中查看下级全部待处理的上报诉求").click()
    page.wait_for_url(re.compile(r"/admin/escalations/below$"))
    card = page.locator("article.card", has=page.get_by_role("heading", name=title))
    expect(card).to_contain_text("北京西路街道")
    expect(card).to_contain_text("建设巷社区")
    card.get_by_role("link", name=re.compile("接办或退回")).click()
    page.wait_for_url(re.compile(rf"/t/{STREET}/admin/escalations"))
    at_street = page.locator("article.card", has=page.get_by_role("heading", name=title))
    with page.expect_navigation():
        at_street.get_by_role("button", name="接办").click()
    notice = page.locator(".notice[role=status]")
    expect(notice).to_be_visible()
    new_reference = re.search(r"[A-Z]+-\d{4}-\d{6}", notice.inner_text())
    assert new_reference, notice.inner_text()
    shot(page, "escalation-taken-over-by-the-district")

    resident, more = new_page(PHONE_390)
    resident.goto(f"/t/{SLUG}/track/{concern['tracking_code']}")
    handled = resident.locator("#handled-above")
    expect(handled).to_contain_text("北京西路街道")
    expect(handled).to_contain_text(new_reference.group(0))
    resident.get_by_role("link", name="到那里查看进度").click()
    resident.wait_for_url(re.compile(rf"/t/{STREET}/track/"))
    expect(resident.locator("section.card h2")).to_contain_text(new_reference.group(0))
    assert not problems.messages + more.messages, "\n".join(problems.messages + more.messages)


def _field(kind: str) -> str:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
    env.filters["local_time"] = local_time
    module = env.get_template("_when.html").make_module({"_": gettext_for("zh_CN")})
    return str(module.when("when", "时间", kind))


def test_dates_are_typed_the_chinese_way_even_in_an_english_browser(new_page) -> None:  # type: ignore[no-untyped-def]
    page, problems = new_page(PHONE_390, locale="en-US")
    sign_in(page, DISTRICT_ADMIN, DISTRICT)
    page.goto(f"/t/{DISTRICT}/admin")
    start = page.locator("#from")
    expect(start).to_have_attribute("type", "text")
    expect(start).to_have_attribute("placeholder", "2026-12-02")
    start.fill("12/05/2026")  # what an American picker would have made of it: the browser holds it back
    assert start.evaluate("el => el.validity.patternMismatch")
    # Chromium's bubble adds the field's title under its own words: the Chinese format, whatever the locale.
    expect(start).to_have_attribute("title", "请按 2026-12-02 的格式填写")
    start.fill("2026年1月1日")
    page.fill("#to", "2026-12-05")
    with page.expect_navigation():
        page.get_by_role("button", name="查看").click()
    expect(page.locator("main p.muted").first).to_contain_text("2026-01-01 – 2026-12-05")
    expect(page.locator("#from")).to_have_value("2026年1月1日")
    # The browser's own pattern engine (the `v` flag) takes the patterns, and a date and time typed as people
    # here write it passes; an invalid pattern would be ignored silently, so it is compiled here, in Chromium.
    for kind, good, bad in (("datetime", "2026-12-05 14:30", "12/05/2026 2:30 PM"), ("date", "2026-12-05", "05.12."),
                            ("month", "2026年12月", "Dec 2026")):
        found = re.search(r'pattern="([^"]*)"', _field(kind))
        assert found
        verdict = page.evaluate("([p, good, bad]) => { const re = new RegExp(`^(?:${p})$`, 'v');"
                                " return [re.test(good), re.test(bad)]; }", [html.unescape(found.group(1)), good, bad])
        assert verdict == [True, False], (kind, verdict)
    assert not problems.messages, "\n".join(problems.messages)


def test_the_front_doors_tree_is_indented_by_level(new_page) -> None:  # type: ignore[no-untyped-def]
    page, problems = new_page(PHONE_390)
    page.goto("/")
    lefts = [page.locator(f'#tenant-tree a[href="/t/{slug}/"]').bounding_box()["x"]  # type: ignore[index]
             for slug in ("yinchuan", DISTRICT, STREET, SLUG)]
    assert lefts == sorted(lefts) and len(set(lefts)) == 4, lefts
    assert lefts[1] - lefts[0] >= 12, "each level is indented visibly"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "front-door-tree")
    assert not problems.messages, "\n".join(problems.messages)

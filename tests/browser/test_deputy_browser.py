"""A deputy's reception at 阅海苑's courtyard station, on a phone and at a desk: sign in, read the schedule, record
a reception with two requests (one onto the duty list, one handed to the community), a refused field first and
nothing typed lost, update the duty item and read it in the timeline; the community's staff find the concern in
their inbox."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESK, PHONE_390, no_horizontal_scroll, shot, sign_in

DEPUTY, STAFF, SLUG = "yuehai_deputy", "yuehai_staff", "yuehai"  # tenants/demo.yaml
STATION = "阅海苑庭院联络站"
SIZES = {"phone": PHONE_390, "desk": DESK}






@pytest.mark.parametrize("size", ["phone", "desk"])
def test_a_deputy_records_a_reception_and_follows_its_duty_item(new_page, size: str) -> None:  # type: ignore[no-untyped-def]
    own, handed = f"单元门口台阶破损（{size}）", f"东门路灯不亮（{size}）"
    page, problems = new_page(SIZES[size])
    sign_in(page, DEPUTY, SLUG)
    page.goto(f"/t/{SLUG}/deputy")
    expect(page.locator("#upcoming")).to_contain_text(STATION)
    expect(page.locator("#past")).to_contain_text(STATION)
    assert no_horizontal_scroll(page), "the duty list scrolls sideways"

    page.get_by_role("link", name="记录接待").first.click()
    expect(page.locator("h1")).to_have_text("记录接待")
    station = page.locator("#station option", has_text=STATION).get_attribute("value")
    page.select_option("#station", station)
    page.fill("#visitor_name", "刘大爷")
    page.fill("#visitor_phone", "13655556666")
    page.fill("#requests-0-title", own)
    page.fill("#requests-0-description", "5号楼单元门口台阶破损，老人进出容易摔倒。")
    page.select_option("#requests-0-route", "duty_list")
    page.fill("#requests-1-description", "东门外两盏路灯坏了，晚上看不清路。")
    page.select_option("#requests-1-route", "concern")
    page.get_by_role("button", name="再加一条诉求").click()  # a third block, left empty: not sent
    expect(page.locator("#requests-2-title")).to_be_visible()
    assert no_horizontal_scroll(page), "the reception form scrolls sideways"
    with page.expect_navigation():
        page.get_by_role("button", name="保存接待记录").click()
    expect(page.locator("#requests-1-title-error")).to_contain_text("标题")  # the request without its title
    expect(page.locator("#requests-0-title")).to_have_value(own)  # and nothing typed is lost
    expect(page.locator("#requests-1-description")).to_have_value("东门外两盏路灯坏了，晚上看不清路。")
    expect(page.locator("#visitor_phone")).to_have_value("13655556666")
    page.fill("#requests-1-title", handed)
    shot(page, f"deputy-reception-{size}")
    with page.expect_navigation():
        page.get_by_role("button", name="保存接待记录").click()
    expect(page.locator("#recorded")).to_contain_text("1 条列入您的履职清单，1 条转交社区办理")
    expect(page.locator("main")).not_to_contain_text(handed)
    expect(page.locator("main")).not_to_contain_text("13655556666")  # masked: 136****6666
    expect(page.locator("main")).to_contain_text("136****6666")

    page.get_by_role("link", name=own).click()
    expect(page.locator("h1")).to_have_text(own)
    page.select_option("#note_kind", "research")
    page.fill("#note_text", "现场查看台阶，需整体修补")
    with page.expect_navigation():
        page.get_by_role("button", name="保存记录").click()
    expect(page.locator("#item-state")).to_have_text("调研中")
    page.select_option("#note_kind", "result")
    page.fill("#note_text", "社区已修补台阶")
    with page.expect_navigation():
        page.get_by_role("button", name="保存记录").click()
    page.select_option("#feedback_score", "5")
    page.fill("#feedback_text", "台阶修好了")
    with page.expect_navigation():
        page.get_by_role("button", name="记录群众评价").click()
    timeline = page.locator("#timeline")
    for step in ("接待中收到", "现场查看台阶，需整体修补", "社区已修补台阶", "台阶修好了", "阅海社区人大代表"):
        expect(timeline).to_contain_text(step)
    expect(page.locator("#item-state")).to_have_text("已办结")
    assert no_horizontal_scroll(page), "the item page scrolls sideways"
    shot(page, f"deputy-item-{size}")

    staff, staff_problems = new_page(SIZES[size])
    sign_in(staff, STAFF, SLUG)
    staff.goto(f"/t/{SLUG}/staff/inbox")
    expect(staff.locator("main")).to_contain_text(handed)
    expect(staff.locator("main")).not_to_contain_text(own)
    # The one refusal was the form's own (422, shown next to its field); nothing else went wrong.
    seen = [m for m in problems.messages + staff_problems.messages if "HTTP 422" not in m and "status of 422" not in m]
    assert not seen, "\n".join(seen)

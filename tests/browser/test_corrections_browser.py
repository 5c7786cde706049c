"""Correcting mistakes in real headless Chromium on the demo: a resident edits then withdraws a concern; staff
correct another's category, see only the next step's form open on its topic, reschedule a meeting, and reassign an
action item picking its owner from a list. Runs on SQLite only (tests/browser/conftest.py)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import DESK, PHONE, RESIDENT, SLUG, STAFF, sign_in
from tests.browser.test_portal_browser import _submit


def _open_forms(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("details.step-form[open]").evaluate_all("nodes => nodes.map(n => n.dataset.form)")


def _file(page, title: str) -> str:  # type: ignore[no-untyped-def]
    page.goto(f"/t/{SLUG}/concerns/new")
    page.fill("#title", title)
    page.fill("#description", f"{title}，已经好几天了。")
    page.select_option("#category", "public_facilities")
    _submit(page, "form[action$='/concerns/new']")
    found = re.search(r"/me/concerns/([0-9a-f-]{36})", page.url)
    assert found, page.url
    return found.group(1)


def test_a_resident_edits_and_withdraws_and_staff_correct_reschedule_and_reassign(  # type: ignore[no-untyped-def]
        new_page) -> None:
    resident, resident_problems = new_page(PHONE)
    sign_in(resident, RESIDENT)
    mistaken = _file(resident, "9号楼前井盖松动")
    resident.locator("summary", has_text="修改我的诉求").click()
    resident.fill("#edit-title", "9号楼前井盖松动有响声")
    _submit(resident, "form[action$='/edit']")
    expect(resident.locator("h1")).to_have_text("9号楼前井盖松动有响声")
    resident.locator("summary", has_text="撤回我的诉求").click()
    resident.fill("#withdraw-reason", "物业已经修好了")
    _submit(resident, "form[action$='/withdraw']")
    expect(resident.locator("dd.status")).to_have_text("已撤回")
    expect(resident.locator("#correct")).to_have_count(0)

    title = "10号楼楼道灯不亮"
    concern = _file(resident, title)
    staff, problems = new_page(DESK)
    sign_in(staff, STAFF)
    staff.goto(f"/t/{SLUG}/staff/inbox")
    expect(staff.locator("main li.card", has=staff.locator("h3", has_text="9号楼前井盖")).first).to_have_count(0)
    row = staff.locator("main li.card", has=staff.locator("h3", has_text=title))
    row.locator("form", has=staff.locator("input[name=action][value=accept]")).locator("button").click()
    expect(row.locator(".notice")).to_be_visible()
    # The accepted concern is in the topic form's list without a reload (htmx, out of band).
    expect(staff.locator("#accepted-list .concern-pick", has_text=title)).to_be_visible()

    # Its category was wrong: staff correct it with a reason.
    staff.goto(f"/t/{SLUG}/staff/concerns/{concern}")
    staff.locator("summary", has_text="分类或地点填错了").click()
    staff.select_option("#correct-category", "safety")
    staff.fill("#correct-reason", "楼道照明属安全隐患")
    _submit(staff, "form[action$='/correction']")
    expect(staff.locator("#timeline-heading + ol")).to_contain_text("楼道照明属安全隐患")

    staff.goto(f"/t/{SLUG}/staff/inbox")
    staff.locator(".concern-pick", has_text=title).locator("input[name=concern_ids]").check()
    staff.fill("#topic-title", "10号楼楼道照明")
    _submit(staff, "form[action$='/staff/topics']")
    assert re.search(r"/staff/topics/[0-9a-f-]{36}", staff.url), staff.url
    expect(staff.locator("#current-step")).to_contain_text("拟定议题")
    assert _open_forms(staff) == ["research"]
    expect(staff.locator("#schedule-venue")).to_be_hidden()  # folded until it is the next step

    # A meeting still to come, then moved with a reason.
    staff.locator("#form-schedule summary").click()
    staff.select_option("#schedule-mechanism", index=0)
    staff.fill("#schedule-venue", "党群服务中心")
    # A date and time the browser's locale would write (mm/dd/yyyy) is refused by its field, the form kept as typed.
    staff.fill("#schedule-starts_at", "03/01/2030 7:30 PM")
    seen = len(problems.messages)
    with staff.expect_navigation():
        staff.locator("form[action$='/meetings'] button[type=submit]").click()
    refused = problems.messages[seen:]
    assert refused and all("422" in m and "/meetings" in m for m in refused), refused
    del problems.messages[seen:]  # the refusal asked for, not a fault
    expect(staff.locator("#schedule-starts_at-error")).to_contain_text("开始时间")
    expect(staff.locator("#schedule-starts_at-error")).to_contain_text("2026-12-02 14:30")
    expect(staff.locator("#schedule-starts_at")).to_have_value("03/01/2030 7:30 PM")
    expect(staff.locator("#schedule-venue")).to_have_value("党群服务中心")
    assert staff.locator("#schedule-starts_at").get_attribute("type") == "text"
    staff.fill("#schedule-starts_at", "2030-03-01 19:30")
    _submit(staff, "form[action$='/meetings']")
    expect(staff.locator("main")).to_contain_text("2030-03-01 19:30")
    assert _open_forms(staff) == []  # waiting for the meeting
    staff.locator("summary", has_text="协商会改期").first.click()
    staff.locator("form[action$='/reschedule'] input[name=starts_at]").fill("2030年3月2日 19:30")
    staff.locator("form[action$='/reschedule'] textarea[name=reason]").fill("与社区活动时间冲突")
    _submit(staff, "form[action$='/reschedule']")
    expect(staff.locator("main")).to_contain_text("与社区活动时间冲突")

    # A meeting held already (recorded afterwards), its decision, the result, an action item for the company.
    staff.locator("#form-schedule summary").click()
    staff.fill("#schedule-venue", "红色议事亭")
    staff.fill("#schedule-starts_at", "2026-01-05 19:30")
    _submit(staff, "form[action$='/meetings']")
    assert _open_forms(staff) == ["minutes"]
    staff.fill("#minutes-minutes", "物业到会，同意更换灯具。")
    _submit(staff, "form[action*='/minutes']")
    assert _open_forms(staff) == ["decision"]
    staff.fill("#decision-text", "物业三天内更换10号楼楼道灯。")
    staff.check("#decision-consensus")
    _submit(staff, "form[action*='/decision']")
    assert _open_forms(staff) == ["publish"]
    _submit(staff, "form[action$='/publish']")
    assert _open_forms(staff) == ["action"]
    staff.fill("#action-title", "更换10号楼楼道灯")
    staff.fill("#action-owner_org", "宁夏鑫盛物业服务有限公司")
    expect(staff.locator("#action-owner_user option[value=xinsheng_property]")).to_contain_text("宁夏鑫盛物业服务有限公司")
    staff.select_option("#action-owner_user", "xinsheng_property")
    staff.fill("#action-due_date", "2030-01-31")
    _submit(staff, "form[action$='/actions']")
    expect(staff.locator(".action-title")).to_contain_text("(宁夏鑫盛物业服务有限公司)")

    # Handed to the community's own staff instead, picked by display name.
    staff.locator("summary", has_text="改派执行事项").click()
    reassign = staff.locator("form[action$='/reassign']")
    expect(reassign.locator("option[value=jsx_staff]")).to_contain_text("建设巷社区党委书记")  # by display name
    reassign.locator("select[name=owner_user]").select_option("jsx_staff")
    reassign.locator("textarea[name=reason]").fill("物业人手不足，社区先行处理")
    _submit(staff, "form[action$='/reassign']")
    expect(staff.locator(".action-title")).to_contain_text("(建设巷社区党委书记)")
    expect(staff.locator("main")).to_contain_text("执行事项已改派")
    assert mistaken
    assert not problems.messages and not resident_problems.messages, "\n".join(
        problems.messages + resident_problems.messages)

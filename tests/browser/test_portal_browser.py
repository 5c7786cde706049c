"""The portal in real headless Chromium, on the demo: public pages on a phone and a desk, the language
switch, a resident raising a concern with a photo from a phone and following it, staff taking a concern
through the six steps, a published result's progress bars, a staff member's workspace and a district
administrator's dashboard.

Runs on SQLite only (the server of tests/browser/conftest.py); the rest of the suite covers PostgreSQL.
Screenshots are saved under tests/artifacts/."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import (
    DESK,
    DISTRICT_ADMIN,
    PHONE,
    RESIDENT,
    SLUG,
    STAFF,
    no_horizontal_scroll,
    shot,
    sign_in,
)

WATER_MACHINE = "小区北边增设直饮水机"  # the demo's completed case in 建设巷社区 (tenants/demo_cases.py)
REFERENCE = re.compile(r"^JSX-\d{4}-\d{6}$")






@pytest.mark.parametrize("size", ["phone", "desk"])
def test_home_shows_figures_and_latest_results(new_page, size: str) -> None:  # type: ignore[no-untyped-def]
    page, problems = new_page(PHONE if size == "phone" else DESK)
    response = page.goto(f"/t/{SLUG}/")
    assert response is not None and response.status == 200
    assert "建设巷社区" in page.title() and page.title().strip(" ·")
    expect(page.locator("h1")).to_have_text("建设巷社区")
    figures = page.locator("dl.figures dd")
    expect(figures).to_have_count(4)
    assert int(figures.first.inner_text()) >= 1, "the demo held consultations this year"
    results = page.locator("article.result")
    assert results.count() >= 1, "the demo's published results are missing from the home page"
    expect(results.first.locator("[role=progressbar]").first).to_be_visible()
    assert no_horizontal_scroll(page), f"the home page scrolls sideways at {size} size"
    page.wait_for_load_state("networkidle")
    shot(page, f"home-{size}")
    assert not problems.messages, "\n".join(problems.messages)


def test_language_switch_sticks_to_the_next_page(new_page) -> None:  # type: ignore[no-untyped-def]
    page, problems = new_page(DESK)
    page.goto(f"/t/{SLUG}/")
    nav = page.locator("header nav")
    expect(nav).to_contain_text("首页")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_role("link", name="English").click()
    expect(nav).to_contain_text("Home")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    nav.get_by_role("link", name="Results").click()
    page.wait_for_url(re.compile(r"/results$"))
    expect(nav).to_contain_text("Home")
    expect(page.locator("h1")).not_to_contain_text("结果")
    page.get_by_role("link", name="中文").click()
    expect(nav).to_contain_text("首页")
    assert not problems.messages, "\n".join(problems.messages)


def _photo(folder: Path) -> Path:
    path = folder / "roof.jpg"
    image = Image.new("RGB", (320, 240), (90, 140, 200))
    for x in range(80, 240):
        for y in range(100, 180):
            image.putpixel((x, y), (160, 110, 60))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    path.write_bytes(buffer.getvalue())
    return path


def test_resident_files_a_concern_with_a_photo_and_follows_it(  # type: ignore[no-untyped-def]
        new_page, tmp_path: Path) -> None:
    page, problems = new_page(PHONE)
    sign_in(page, RESIDENT)
    page.goto(f"/t/{SLUG}/me")
    page.locator(f'a[href="/t/{SLUG}/concerns/new"]').first.click()
    page.wait_for_url(re.compile(r"/concerns/new$"))
    assert no_horizontal_scroll(page), "the concern form scrolls sideways on a phone"

    page.fill("#title", "15号楼单元门禁坏了")
    page.fill("#description", "15号楼2单元的门禁刷卡没反应，老人进出不方便。")
    page.select_option("#category", index=1)
    compound = page.locator("#compound")
    if compound.count():  # picking the compound loads its buildings (htmx)
        compound.select_option(label="银巴小区")
        expect(page.locator("#building option", has_text="15号楼")).to_have_count(1)
        page.locator("#building").select_option(label="银巴小区 15号楼")
    page.fill("#place", "2单元门口")
    page.set_input_files("#photos", str(_photo(tmp_path)))
    shot(page, "concern-form-phone")
    with page.expect_navigation():
        page.locator("form.form button[type=submit]").click()

    assert re.search(r"/me/concerns/[0-9a-f-]{36}\?filed=1$", page.url), \
        f"not filed: {page.url} {page.locator('.error').all_inner_texts()}"
    notice = page.locator(".notice")
    expect(notice).to_be_visible()
    reference = notice.locator("strong").first.inner_text().strip()
    assert REFERENCE.match(reference), reference
    photo = page.locator(".photos img").first
    expect(photo).to_be_visible()
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", photo.element_handle())
    shot(page, "concern-filed-phone")

    notice.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/t/{SLUG}/track/{reference}-[2-9A-HJ-NP-Z]{{4}}$"))  # the tracking code
    expect(page.locator("h2")).to_contain_text(reference)
    expect(page.locator("h2")).to_contain_text("15号楼单元门禁坏了")
    expect(page.locator("dd.status")).not_to_be_empty()
    # The public page never shows who filed it.
    assert "柳先生" not in page.locator("main").inner_text() and "13812341234" not in page.content()
    shot(page, "concern-tracked-phone")
    assert not problems.messages, "\n".join(problems.messages)


def test_a_completed_result_shows_its_progress_bars(new_page) -> None:  # type: ignore[no-untyped-def]
    page, problems = new_page(DESK)
    page.goto(f"/t/{SLUG}/results")
    page.get_by_role("link", name=WATER_MACHINE).first.click()
    page.wait_for_url(re.compile(rf"/t/{SLUG}/results/[0-9a-f-]{{36}}$"))
    assert WATER_MACHINE in page.title()
    bars = page.get_by_role("progressbar")
    assert bars.count() >= 1, "the result shows no action item"
    for index in range(bars.count()):
        expect(bars.nth(index)).to_have_attribute("aria-valuenow", "100")
        expect(bars.nth(index)).to_be_visible()
    page.wait_for_load_state("networkidle")
    shot(page, "result-desk")
    page.set_viewport_size(PHONE)
    assert no_horizontal_scroll(page), "the result page scrolls sideways on a phone"
    shot(page, "result-phone")
    assert not problems.messages, "\n".join(problems.messages)


def test_staff_workspace_lists_their_pages(new_page) -> None:  # type: ignore[no-untyped-def]
    page, problems = new_page(DESK)
    sign_in(page, STAFF)
    page.goto(f"/t/{SLUG}/me")
    assert page.title().strip()
    entries = page.locator("main ul.board a")
    hrefs = [entries.nth(i).get_attribute("href") for i in range(entries.count())]
    assert f"/t/{SLUG}/staff/inbox" in hrefs and f"/t/{SLUG}/staff/topics" in hrefs, hrefs
    shot(page, "workspace-desk")
    page.locator(f'a[href="/t/{SLUG}/staff/topics"]').first.click()
    page.wait_for_load_state("networkidle")
    assert page.title().strip()
    shot(page, "staff-topics-desk")
    assert not problems.messages, "\n".join(problems.messages)


def test_district_dashboard_shows_the_communities_figures(new_page) -> None:  # type: ignore[no-untyped-def]
    page, problems = new_page(DESK)
    sign_in(page, DISTRICT_ADMIN, "xixia")
    response = page.goto("/t/xixia/admin")
    assert response is not None and response.status == 200, response and response.status
    assert page.title().strip()
    main = page.locator("main")
    expect(main).to_contain_text("建设巷社区")  # a community below 西夏区, with its figures
    expect(main).to_contain_text("梦园社区")
    table = main.locator("table").first
    expect(table).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(2)  # 建设巷社区 and 梦园社区, the communities of 西夏区
    page.wait_for_load_state("networkidle")
    shot(page, "district-dashboard-desk")
    assert not problems.messages, "\n".join(problems.messages)


def _submit(page, form: str) -> None:  # type: ignore[no-untyped-def]
    """Send the form matched by `form` and check the page that comes back shows no message of refusal."""
    with page.expect_navigation():
        page.locator(form).locator("button[type=submit]").first.click()
    errors = page.locator("main .error").all_inner_texts()
    assert not errors, f"{form} refused on {page.url}: {errors}"


def test_staff_take_a_residents_concern_through_the_six_steps(  # type: ignore[no-untyped-def]
        new_page, tmp_path: Path) -> None:
    """A resident files from a phone; staff triage it, draft a topic, research, meet, decide and publish; the
    property company reports the action item done; the public result page shows its bar at 100%."""
    title, topic_title, action_title = "11号楼前路灯不亮", "11号楼前路灯维修", "更换11号楼前路灯"
    resident, resident_problems = new_page(PHONE)
    sign_in(resident, RESIDENT)
    resident.goto(f"/t/{SLUG}/concerns/new")
    resident.fill("#title", title)
    resident.fill("#description", "11号楼前的路灯坏了一个多月，晚上很黑。")
    resident.select_option("#category", index=1)
    resident.set_input_files("#photos", str(_photo(tmp_path)))
    _submit(resident, "form[action$='/concerns/new']")
    reference = resident.locator(".notice strong").first.inner_text().strip()
    code = resident.locator(".notice a strong").inner_text().strip()

    staff, problems = new_page(DESK)
    sign_in(staff, STAFF)
    # 1 collect: accept it in the triage inbox (htmx swaps the row)
    staff.goto(f"/t/{SLUG}/staff/inbox")
    # The card whose heading is the concern (other cards may list it among their likely duplicates).
    row = staff.locator("main li.card", has=staff.locator("h3", has_text=title))
    row.locator("form", has=staff.locator("input[name=action][value=accept]")).locator("button").click()
    expect(row.locator(".notice")).to_be_visible()
    # 2 draft a topic from it
    staff.reload()
    staff.locator(".concern-pick", has_text=title).locator("input[name=concern_ids]").check()
    staff.fill("#topic-title", topic_title)
    _submit(staff, "form[action$='/staff/topics']")
    if not re.search(r"/staff/topics/[0-9a-f-]{36}", staff.url):
        staff.goto(f"/t/{SLUG}/staff/topics")
        staff.get_by_role("link", name=topic_title).click()
    topic_url = staff.url.split("?")[0]
    topic_id = topic_url.rstrip("/").rsplit("/", 1)[-1]
    # 3 research
    staff.fill("#research-findings", "现场查看：灯泡损坏，线路完好。")
    _submit(staff, "form[action$='/research']")
    # 4 consult: schedule a meeting, its minutes, the decision
    staff.select_option("#schedule-mechanism", index=0)
    staff.fill("#schedule-venue", "党群服务中心")
    staff.fill("#schedule-starts_at", "2026-01-05 19:30")  # typed as written here, read on Beijing time
    _submit(staff, "form[action$='/meetings']")
    staff.fill("#minutes-minutes", "居民代表、物业到会，同意更换路灯。")
    _submit(staff, "form[action*='/minutes']")
    staff.fill("#decision-text", "由物业一周内更换11号楼前路灯。")
    staff.check("#decision-consensus")
    _submit(staff, "form[action*='/decision']")
    # 5 publish
    _submit(staff, "form[action$='/publish']")
    # 6 supervise: an action item for the property company
    staff.fill("#action-title", action_title)
    staff.fill("#action-owner_org", "宁夏鑫盛物业服务有限公司")
    staff.select_option("#action-owner_user", "xinsheng_property")  # picked from those who can act
    staff.fill("#action-due_date", "2030年1月31日")
    _submit(staff, "form[action$='/actions']")
    shot(staff, "staff-topic-desk")

    company, company_problems = new_page(PHONE)
    sign_in(company, "xinsheng_property")
    company.goto(f"/t/{SLUG}/actions")
    item = company.locator("main article, main section, main li", has_text=action_title).first
    item.locator("input[name=percent]").fill("100")
    item.locator("input[name=note]").or_(item.locator("textarea[name=note]")).first.fill("已更换，夜间亮灯正常。")
    with company.expect_navigation():
        item.locator("form[action$='/progress'] button[type=submit]").click()
    assert not company.locator("main .error").all_inner_texts()
    item = company.locator("main article, main section, main li", has_text=action_title).first
    with company.expect_navigation():
        item.locator("form[action$='/complete'] button[type=submit]").click()
    assert not company.locator("main .error").all_inner_texts()

    # The public result page shows the finished action item; the resident's code follows it.
    public, public_problems = new_page(PHONE)
    public.goto(f"/t/{SLUG}/results/{topic_id}")
    expect(public.locator("h1")).to_contain_text(topic_title)
    bar = public.get_by_role("progressbar", name=action_title)
    expect(bar).to_have_attribute("aria-valuenow", "100")
    shot(public, "six-steps-result-phone")
    public.goto(f"/t/{SLUG}/track/{code}")
    expect(public.locator("h2")).to_contain_text(reference)
    for seen in (resident_problems, problems, company_problems, public_problems):
        assert not seen.messages, "\n".join(seen.messages)

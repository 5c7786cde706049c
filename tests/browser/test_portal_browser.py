"""The portal in real headless Chromium, on the demo: public pages on a phone and a desk, the language
switch, a resident raising a concern with a photo from a phone and following it, a published result's
progress bars, a staff member's workspace and a district administrator's dashboard.

Runs on SQLite only (the server of tests/browser/conftest.py); the rest of the suite covers PostgreSQL.
Screenshots are saved under tests/artifacts/."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD, DESK, DISTRICT_ADMIN, PHONE, RESIDENT, SLUG, STAFF, shot

WATER_MACHINE = "小区北边增设直饮水机"  # the demo's completed case in 建设巷社区 (tenants/demo_cases.py)
REFERENCE = re.compile(r"^JSX-\d{4}-\d{6}$")


def no_horizontal_scroll(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def sign_in(page, username: str, slug: str = SLUG) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/t/{slug}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    assert "/login" not in page.url, f"still on the sign-in page: {page.locator('.error').all_inner_texts()}"


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
    reference = notice.locator("strong").inner_text().strip()
    assert REFERENCE.match(reference), reference
    photo = page.locator(".photos img").first
    expect(photo).to_be_visible()
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", photo.element_handle())
    shot(page, "concern-filed-phone")

    notice.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/t/{SLUG}/track/{reference}$"))
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

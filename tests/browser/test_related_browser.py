"""Others reported this too, in real headless Chromium on the demo: one resident raises a matter through the form;
another, typing the same matter, is shown it as they type (htmx), joins it with "我也遇到了" and finds it under
their concerns. Runs on SQLite only (tests/browser/conftest.py); tests/related covers both databases."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import DESK, PHONE, SLUG, shot, sign_in

ELEVATOR = "12号楼电梯经常停运"


def test_a_resident_joins_the_concern_another_raised_instead_of_raising_it_again(  # type: ignore[no-untyped-def]
        new_page) -> None:
    first, problems = new_page(DESK)
    sign_in(first, "zhang_rep")
    first.goto(f"/t/{SLUG}/concerns/new")
    first.fill("#title", ELEVATOR)
    first.fill("#description", "12号楼的电梯这个月停了好几次，老人上下楼很困难。")
    first.select_option("#category", "public_facilities")
    with first.expect_navigation():
        first.locator("form.form button[type=submit]").click()
    assert re.search(r"/me/concerns/[0-9a-f-]{36}\?filed=1$", first.url), first.locator(".error").all_inner_texts()

    page, seen = new_page(PHONE)
    sign_in(page, "li_party")
    page.goto(f"/t/{SLUG}/concerns/new")
    page.locator("#title").press_sequentially("12号楼电梯老是停运", delay=30)
    line = page.locator("#similar li", has_text=ELEVATOR)
    expect(page.locator("#similar h2")).to_have_text("其他居民也反映过")
    expect(line).to_contain_text("0 人附议")
    assert "老人上下楼" not in page.locator("#similar").inner_text()  # the summary, never the description
    shot(page, "similar-concerns-phone")
    line.get_by_role("button", name="我也遇到了").click()
    expect(line.locator(".notice")).to_have_text("已附议，办理进展会通知您")
    expect(line).to_contain_text("1 人附议")
    shot(page, "similar-joined-phone")

    page.goto(f"/t/{SLUG}/me/concerns")
    expect(page.locator("#joined")).to_contain_text(ELEVATOR)
    assert not problems.messages and not seen.messages, "\n".join(problems.messages + seen.messages)

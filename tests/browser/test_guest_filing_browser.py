"""A resident on a phone with no account raises one concern: from the filing page to the sign-in prompt, its
link to the form by phone, a code by SMS (in development, read from /dev/outbox), and the tracker with the code
to keep and the way to join."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, SLUG, shot

NUMBER = "13600008888"


def _code(page) -> str:  # type: ignore[no-untyped-def]
    """The newest code sent to NUMBER, as /dev/outbox shows what would have gone out."""
    for _ in range(50):
        sent = [m for m in page.request.get("/dev/outbox").json()
                if m["kind"] == "verification.code" and m["to"] == NUMBER]
        if sent:
            found = re.search(r"\d{6}", sent[0]["body"])
            assert found, sent[0]["body"]
            return found.group(0)
        page.wait_for_timeout(100)
    raise AssertionError("no code reached /dev/outbox")


def test_a_resident_without_an_account_raises_one_concern_on_a_phone(new_page) -> None:  # type: ignore[no-untyped-def]
    page, problems = new_page(PHONE)
    page.goto(f"/t/{SLUG}/concerns/new")
    assert "/login" in page.url, page.url
    page.get_by_role("link", name="不注册，用手机验证码反映一次").click()
    expect(page.locator("h1")).to_have_text("不注册，用手机验证码反映一次")
    page.fill("#title", "小区东门的路灯不亮")
    page.fill("#description", "东门外的两盏路灯坏了一周，晚上进出看不清台阶。")
    page.select_option("#category", index=1)
    page.fill("#phone", NUMBER)
    with page.expect_navigation():
        page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#code-sent")).to_be_visible()
    expect(page.locator("#title")).to_have_value("小区东门的路灯不亮")  # the form came back as typed
    page.fill("#code", _code(page))
    page.check("input[name=accept_privacy]")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "scrolls sideways"
    shot(page, "concern-by-phone")
    with page.expect_navigation():
        page.get_by_role("button", name="提交", exact=True).click()
    assert re.search(rf"/t/{SLUG}/track/JSX-\d{{4}}-\d{{6}}-[A-Z0-9]{{4}}\?filed=1$", page.url), \
        f"not filed: {page.url} {page.locator('.error').all_inner_texts()}"
    expect(page.locator("#filed")).to_be_visible()
    expect(page.locator("#tracking-code")).to_have_text(re.compile(r"^JSX-\d{4}-\d{6}-[A-Z0-9]{4}$"))
    expect(page.locator("main")).not_to_contain_text(NUMBER)
    expect(page.get_by_role("link", name=re.compile("用同一手机号注册"))).to_have_attribute("href", f"/t/{SLUG}/join")
    assert not problems.messages, "\n".join(problems.messages)

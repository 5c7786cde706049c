"""A new resident on a phone: opens the join page (as the notice board's QR code does), gets a code by SMS
(in development, read from /dev/outbox), joins, files a concern; forgets the password and resets it by a code;
downloads their data and erases their account."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, SLUG, shot

NUMBER = "13600007777"


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


def test_a_new_resident_joins_files_and_resets_the_password(new_page) -> None:  # type: ignore[no-untyped-def]
    page, problems = new_page(PHONE)
    qr = page.request.get(f"/t/{SLUG}/join/qr.svg")
    assert qr.ok and "<svg" in qr.text()
    page.goto(f"/t/{SLUG}/join")
    expect(page.locator("h1")).to_contain_text("加入建设巷社区")
    expect(page.locator("#privacy-notice")).to_contain_text("手机号")
    page.fill("#code-phone", NUMBER)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#code-sent")).to_be_visible()
    page.fill("#code", _code(page))
    page.fill("#name", "周阿姨")
    page.fill("#password", "银杏叶落满了整个院子")
    page.check("input[name=accept_privacy]")
    shot(page, "join-phone")
    with page.expect_navigation():
        page.get_by_role("button", name="加入", exact=True).click()
    assert page.url.endswith(f"/t/{SLUG}/concerns/new"), page.url
    expect(page.locator("header .who")).to_have_text("周阿姨")
    page.fill("#title", "单元门禁坏了")
    page.fill("#description", "三号楼一单元的门禁刷卡没有反应，已经两天了。")
    page.select_option("#category", index=1)
    with page.expect_navigation():
        page.locator("form.form button[type=submit]").click()
    assert re.search(r"/me/concerns/[0-9a-f-]{36}\?filed=1$", page.url), \
        f"not filed: {page.url} {page.locator('.error').all_inner_texts()}"
    # Signed out, the password forgotten: a code by SMS sets a new one
    with page.expect_navigation():  # signing out lands on the home page: let it load before going on
        page.get_by_role("button", name="退出").click()
    page.goto(f"/t/{SLUG}/login")
    page.get_by_role("link", name="忘记密码？").click()
    page.fill("#code-phone", NUMBER)
    before = _code(page)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#code-sent")).to_be_visible()
    for _ in range(50):  # the reset code, not the joining one
        if (code := _code(page)) != before:
            break
        page.wait_for_timeout(100)
    page.fill("#code", code)
    page.fill("#password", "梧桐叶也落满了整个院子")
    with page.expect_navigation():
        page.get_by_role("button", name="设置新密码").click()
    expect(page.locator("#reset-done")).to_be_visible()
    page.goto(f"/t/{SLUG}/login")
    page.fill("#username", NUMBER)
    page.fill("#password", "梧桐叶也落满了整个院子")
    with page.expect_navigation():
        page.locator("form.form button[type=submit]").first.click()
    expect(page.locator("header .who")).to_have_text("周阿姨")
    # Their data, downloaded; then the account erased
    page.locator("header .who").click()
    page.get_by_role("link", name="我的个人信息：下载或注销").click()
    expect(page.locator("main")).to_contain_text("单元门禁坏了")
    with page.expect_download() as download:
        page.locator("#download").click()
    assert NUMBER in download.value.path().read_text(encoding="utf-8")
    page.fill("#password", "梧桐叶也落满了整个院子")
    page.check("input[name=confirm]")
    page.get_by_role("button", name="注销账号").click()
    expect(page.locator("#erased")).to_be_visible()
    expect(page.locator("header")).to_contain_text("登录")
    assert not problems.messages, "\n".join(problems.messages)

"""A grid worker files without signal, in real headless Chromium on the demo, on a 390-px phone: the field page and
the notice for other pages come from the service worker, three filings with photos (made smaller on the phone)
wait in IndexedDB across closing and reopening the browser (a persistent profile), and coming back online sends
them: exactly three concerns with their photos. A filing the server refuses (its category removed meanwhile) shows
why, is edited and sent again; a filing sent again after its answer was lost files nothing twice; signing out
clears what the device kept.

Runs on SQLite only (the server of tests/browser/conftest.py). Screenshots are saved under tests/artifacts/."""

from __future__ import annotations

import io
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_PASSWORD,
    PHONE_390,
    SLUG,
    LiveServer,
    no_horizontal_scroll,
    shot,
)

GRID = "jsx_grid"  # grid worker of 建设巷社区
FIELD = f"/t/{SLUG}/field"
CACHE = f"yishi-{SLUG}-v1"


@pytest.fixture(scope="module")
def playwright() -> Iterator[object]:
    """Playwright itself (not one browser): each test opens and closes a persistent profile, as a phone's browser is."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as running:
        yield running


@pytest.fixture
def phone(playwright, live_server: LiveServer, tmp_path: Path):  # type: ignore[no-untyped-def]
    """`phone()` opens the browser on a profile kept in tmp_path (call it again after closing: the same profile);
    `phone(offline=True)` opens it without network."""
    opened = []

    def launch(offline: bool = False):  # type: ignore[no-untyped-def]
        context = playwright.chromium.launch_persistent_context(  # type: ignore[attr-defined]
            str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, viewport=PHONE_390,
            base_url=live_server.base_url, locale="zh-CN", is_mobile=True, has_touch=True, offline=offline)
        context.set_default_timeout(20_000)
        opened.append(context)
        return context

    yield launch
    for context in opened:
        context.close()  # a no-op for one the test closed already


def api_headers(api: httpx.Client, username: str) -> dict[str, str]:
    token = api.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def titled(server: LiveServer, marker: str) -> list[dict]:
    """The tenant's concerns whose title carries `marker`, as staff read them through the API."""
    with httpx.Client(base_url=server.base_url, timeout=30) as api:
        answer = api.get(f"/api/v1/tenants/{SLUG}/concerns", params={"limit": 100},
                         headers=api_headers(api, "jsx_staff"))
        assert answer.status_code == 200, answer.text
        return [c for c in answer.json()["items"] if marker in c["title"]]


def photo_sizes(server: LiveServer, concerns: list[dict]) -> list[tuple[int, int]]:
    """Every photo of these concerns as the server keeps it: its width and height."""
    with httpx.Client(base_url=server.base_url, timeout=30) as api:
        headers = api_headers(api, "jsx_staff")
        sizes = []
        for concern in concerns:
            for photo_id in concern["photos"]:
                got = api.get(f"/api/v1/tenants/{SLUG}/concerns/{concern['id']}/photos/{photo_id}", headers=headers)
                assert got.status_code == 200
                sizes.append(Image.open(io.BytesIO(got.content)).size)
        return sizes


def until(page, script: str, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    """Wait until an (async) script in the page answers true: an explicit state, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script):
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout:.0f} s: {script}")
        page.wait_for_timeout(200)


def sign_in_and_keep_the_field_page(context) -> object:  # type: ignore[no-untyped-def]
    """Sign in as the grid worker, online, until the service worker has kept the field page and controls it."""
    page = context.new_page()
    page.goto(f"/t/{SLUG}/login")
    page.fill("#username", GRID)
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    assert "/login" not in page.url
    until(page, "navigator.serviceWorker.ready.then(() => true)")
    # Kept for offline as soon as the grid worker is signed in, before they ever open it.
    until(page, f"caches.open('{CACHE}').then(c => c.match('{FIELD}')).then(Boolean)")
    page.goto(FIELD)
    until(page, "Boolean(navigator.serviceWorker.controller)")
    expect(page.locator("#field-form[data-ready]")).to_be_attached()
    return page


def photo(folder: Path, name: str, size: tuple[int, int], colour: str) -> str:
    path = folder / name
    Image.new("RGB", size, colour).save(path, "JPEG", quality=95)
    return str(path)


def fill(page, title: str, category: str = "public_facilities", photos: list[str] | None = None) -> None:  # type: ignore[no-untyped-def]
    page.fill("#resident_name", "王阿姨")
    page.fill("#resident_phone", "13900001111")
    page.fill("#title", title)
    page.fill("#description", f"{title}：楼道里没有信号，网格员先记在手机上。")
    page.select_option("#category", category)
    page.fill("#place", "3号楼地下室")
    if photos:
        page.set_input_files("#photos", photos)
    page.click("#field-form button[type=submit]")


def test_three_filings_made_offline_survive_a_restart_and_file_three_concerns_with_photos(
        phone, live_server: LiveServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    marker = uuid.uuid4().hex[:6]
    context = phone()
    page = sign_in_and_keep_the_field_page(context)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))
    expect(page.locator("#recent-synced")).to_contain_text("上次同步")
    # Installable: Chromium finds the manifest, its icon and a service worker controlling the page.
    cdp = context.new_cdp_session(page)
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    cdp.detach()

    context.set_offline(True)
    page.reload()  # from the service worker's copy: the network is gone
    expect(page.locator("#net-state")).to_contain_text("当前没有网络")
    big = photo(tmp_path, "big.jpg", (3000, 2000), "navy")
    small = photo(tmp_path, "small.jpg", (640, 480), "olive")
    for n, photos in enumerate([[big], [big, small], [small]], start=1):
        fill(page, f"离线{marker}第{n}件", photos=photos)
        expect(page.locator('#queue-list li[data-state="waiting"]')).to_have_count(n)
    expect(page.locator("#queue-list")).to_contain_text("待上传")
    assert no_horizontal_scroll(page), "the queue scrolls sideways on a phone"
    shot(page, "offline-queue")
    other = context.new_page()
    other.goto(f"/t/{SLUG}/results")  # a page that needs the network says so, in Chinese
    expect(other.locator("h1")).to_have_text("没有网络")
    assert no_horizontal_scroll(other)
    context.close()  # the browser is closed with nothing sent
    assert titled(live_server, marker) == []

    context = phone(offline=True)  # reopened without signal (from its first moment: the worker starts at once)
    page = context.new_page()
    page.goto(FIELD)
    # Nothing was lost with the browser closed. (The service worker may already be sending: Background Sync
    # wakes it as the browser starts, before Playwright's offline mode reaches it.)
    expect(page.locator("#queue-list li")).to_have_count(3)
    assert set(page.locator("#queue-list li").evaluate_all("items => items.map(i => i.dataset.state)")) <= {
        "waiting", "sent"}
    expect(page.locator("#recent-synced")).to_contain_text("上次同步")  # the recent concerns read offline
    context.set_offline(False)  # the connection returns: the page sends what waits
    expect(page.locator('#queue-list li[data-state="sent"]')).to_have_count(3)
    expect(page.locator("#queue-list .reference a")).to_have_count(3)
    shot(page, "offline-sent")
    assert errors == [], errors

    filed = titled(live_server, marker)
    assert sorted(c["title"] for c in filed) == [f"离线{marker}第{n}件" for n in (1, 2, 3)]
    assert sorted(len(c["photos"]) for c in filed) == [1, 1, 2]
    sides = photo_sizes(live_server, filed)
    assert max(max(size) for size in sides) == 1600 and (640, 480) in sides, sides  # 3000 × 2000 made 1600 × 1067
    assert {c["channel"] for c in filed} == {"grid_worker"} and {c["resident_name"] for c in filed} == {"王阿姨"}
    expect(page.locator("#recent-list")).to_contain_text(f"离线{marker}第3件")

    # The answer to a send was lost (say the signal dropped right then): sent again, it files nothing twice.
    page.evaluate("""async () => {
        const [first] = await YishiOffline.filings(document.getElementById('field-form').dataset.slug);
        await YishiOffline.put({...first, state: 'waiting'});
    }""")
    page.reload()
    expect(page.locator('#queue-list li[data-state="sent"]')).to_have_count(3)
    assert len(titled(live_server, marker)) == 3

    # Signing out clears what the device kept: the queue, the recent concerns, the pages kept for offline.
    with page.expect_navigation():
        page.click("form[data-sign-out] button[type=submit]")
    # (The next page registers the worker afresh, which may keep the shell and the notice again: never the field page.)
    until(page, f"YishiOffline.filings('{SLUG}').then(f => f.length === 0)")
    until(page, f"YishiOffline.recent('{SLUG}').then(r => !r)")
    until(page, f"caches.match('{FIELD}').then(kept => !kept)")


def test_a_filing_refused_meanwhile_says_why_and_is_sent_again_once_edited(
        phone, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    marker = uuid.uuid4().hex[:6]
    code = f"gone_{marker}"
    with httpx.Client(base_url=live_server.base_url, timeout=30) as api:
        added = api.post(f"/api/v1/tenants/{SLUG}/categories", headers=api_headers(api, "jsx_staff"),
                         json={"code": code, "name": f"临时分类{marker}"})
        assert added.status_code == 201, added.text
    context = phone()
    page = sign_in_and_keep_the_field_page(context)
    context.set_offline(True)
    page.reload()
    fill(page, f"退回{marker}", category=code)
    expect(page.locator('#queue-list li[data-state="waiting"]')).to_have_count(1)

    # Meanwhile the category is removed (there is no page for it: straight from the database).
    database = live_server.env["YISHI_DATABASE_URL"].split("///", 1)[1]
    with sqlite3.connect(database) as db:
        assert db.execute("DELETE FROM concern_category WHERE code = ?", (code,)).rowcount == 1

    context.set_offline(False)
    page.click("#upload-now")
    refused = page.locator('#queue-list li[data-state="refused"]')
    expect(refused).to_have_count(1)
    expect(refused.locator(".reason")).to_contain_text("未知分类")
    assert no_horizontal_scroll(page)
    shot(page, "offline-refused")
    assert titled(live_server, marker) == []

    # Signing out would drop it from the phone: the portal asks first (declined here, so nothing changes).
    asked: list[str] = []

    def decline(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)  # handled as it opens: the click itself waits for the form's outcome
    page.click("form[data-sign-out] button[type=submit]")
    deadline = time.monotonic() + 20
    while not asked and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert asked and "1 条填报没有上传" in asked[0], asked
    expect(page.locator("form[data-sign-out]")).to_be_visible()
    expect(refused).to_have_count(1)

    refused.locator("button.edit").click()
    expect(page.locator("#title")).to_have_value(f"退回{marker}")
    page.select_option("#category", "public_facilities")
    page.click("#field-form button[type=submit]")
    expect(page.locator('#queue-list li[data-state="sent"]')).to_have_count(1)
    expect(page.locator('#queue-list li[data-state="refused"]')).to_have_count(0)
    [concern] = titled(live_server, marker)
    assert concern["category"] == "public_facilities"

"""Browser tests: the real application under Granian, loaded with the demo, driven by headless Chromium.

One server for the whole browser session: a fresh SQLite database in a temporary folder, `yishi migrate`
and `yishi demo` run into it (the demo tenants of tenants/demo.yaml and the article's cases), then
`granian --interface asgi --factory core.app:create_app` on a free port. These tests run on SQLite only;
the rest of the suite covers PostgreSQL.

Chromium is Debian's package at /usr/bin/chromium (`make test` installs it when missing); Playwright only
drives it, it never downloads a browser. Screenshots go to tests/artifacts/ (ignored by git).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]
DEMO_PASSWORD = "yishi-demo"
START_TIMEOUT = 60.0

# Demo users (tenants/demo.yaml, README "Demo logins").
RESIDENT = "liu_resident"  # resident of 建设巷社区
STAFF = "jsx_staff"  # community staff of 建设巷社区
DISTRICT_ADMIN = "xixia_admin"  # district admin of 西夏区
SLUG = "jianshexiang"
DEMO_PORTALS = ("jianshexiang", "mengyuan", "yuehai", "shangqiao")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    base_url: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def url(self, path: str) -> str:
        return self.base_url + path

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def _yishi(env: dict[str, str], *args: str) -> None:
    command = [sys.executable, "-c", "from core.cli import main; main()", *args]
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"yishi {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):  # no worker outlives its leader
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("browser")
    env = {
        **os.environ,
        "YISHI_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'yishi.db'}",
        "YISHI_MEDIA_DIR": str(folder / "media"),
        "YISHI_PASSWORD_HASH": "cheapest",
        "PYTHONPATH": str(REPO),
    }
    for name in ("YISHI_MIGRATIONS_DATABASE_URL", "YISHI_PORTAL_DOMAIN"):
        env.pop(name, None)
    _yishi(env, "migrate")
    _yishi(env, "demo")
    port = _free_port()
    log_path = folder / "granian.log"
    args = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--workers", "1", "--no-access-log", "--working-dir", str(REPO),
            "core.app:create_app"]
    with open(log_path, "wb") as log:  # a session of its own, so that stopping it reaches the workers too
        process = subprocess.Popen(args, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = LiveServer(f"http://127.0.0.1:{port}", env, log_path, process)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"granian exited with {process.returncode}:\n{server.log_tail()}")
            with contextlib.suppress(OSError), urllib.request.urlopen(server.url("/ready"), timeout=2) as response:
                if response.status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"granian not ready after {START_TIMEOUT:.0f} s:\n{server.log_tail()}")
            time.sleep(0.2)
        yield server
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def browser(live_server: LiveServer) -> Iterator[object]:
    """Chromium for one module: Playwright's sync API runs an event loop in this thread while it is open,
    so it must be closed before the suite's asyncio tests run (module scope ends it with the module)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Problems:
    """Console errors and uncaught exceptions seen by a page."""

    messages: list[str] = field(default_factory=list)

    def watch(self, page) -> None:  # type: ignore[no-untyped-def]
        page.on("console", lambda message: message.type == "error" and self.messages.append(
            f"console: {message.text} {message.location.get('url', '')} (on {page.url})"))
        page.on("pageerror", lambda error: self.messages.append(f"pageerror: {error} ({page.url})"))
        page.on("response", lambda response: response.status >= 400
                and self.messages.append(f"HTTP {response.status}: {response.url} (on {page.url})"))
        # net::ERR_ABORTED is the browser cancelling a request itself, as it does for an image still loading when
        # the page moves on (a button clicked before a photo arrived): not the server failing. A server that
        # fails answers 4xx/5xx (above) or drops the connection (another net:: error, kept).
        page.on("requestfailed", lambda request: request.failure != "net::ERR_ABORTED" and self.messages.append(
            f"request failed: {request.url} {request.failure} (on {page.url})"))


PHONE = {"width": 360, "height": 740}
PHONE_390 = {"width": 390, "height": 844}  # a larger phone, as the walks ask
DESK = {"width": 1280, "height": 800}


def sign_in(page, username: str, slug: str = SLUG) -> None:  # type: ignore[no-untyped-def]
    """Sign `username` in on the portal of `slug` with the demo password, landing anywhere but the sign-in page."""
    page.goto(f"/t/{slug}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    assert "/login" not in page.url, f"still on the sign-in page: {page.locator('.error').all_inner_texts()}"


def no_horizontal_scroll(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.fixture
def new_page(browser, live_server: LiveServer):  # type: ignore[no-untyped-def]
    """`new_page(viewport)` → (page, problems): a fresh context (no cookies) at that size, errors collected."""
    contexts = []

    def make(viewport: dict[str, int] = PHONE, locale: str = "zh-CN"):  # type: ignore[no-untyped-def]
        context = browser.new_context(viewport=viewport, base_url=live_server.base_url, locale=locale,
                                      is_mobile=viewport["width"] < 600, has_touch=viewport["width"] < 600)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        problems = Problems()
        problems.watch(page)
        return page, problems

    yield make
    for context in contexts:
        context.close()


def shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """A full-page screenshot under tests/artifacts/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

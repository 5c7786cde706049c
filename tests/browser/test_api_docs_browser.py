"""The API docs page (/schema/swagger) works with no internet: every request to another host is refused, and
Swagger UI still loads from the app itself and lists every operation of the served schema."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlsplit

from tests.browser.conftest import DESK, LiveServer, shot

METHODS = ("get", "post", "put", "patch", "delete")


def _operation_count(live_server: LiveServer) -> int:
    with urllib.request.urlopen(live_server.url("/schema/openapi.json"), timeout=30) as response:
        schema = json.load(response)
    return sum(1 for item in schema["paths"].values() for method in item if method in METHODS)


def test_swagger_ui_lists_every_operation_offline(new_page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page, problems = new_page(DESK)
    local = urlsplit(live_server.base_url).netloc
    refused: list[str] = []

    def offline(route) -> None:  # type: ignore[no-untyped-def]
        if urlsplit(route.request.url).netloc == local:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    page.context.route("**/*", offline)
    page.goto("/schema/swagger", wait_until="domcontentloaded", timeout=60_000)
    page.locator(".opblock").first.wait_for(timeout=60_000)
    expected = _operation_count(live_server)
    assert expected > 100  # the whole API, not a stub
    assert page.locator(".opblock").count() == expected
    assert page.locator(".opblock-summary-path", has_text="/api/v1/tenants/{slug}/concerns").count() >= 1
    # Swagger UI itself, not a fallback: its title and the version of the schema it read.
    assert "议事" in page.locator(".info .title").inner_text()
    shot(page, "api-docs-offline")
    assert refused == [], refused  # script, styles, icon: none from another host
    csp_refusals = [m for m in problems.messages if "Content Security Policy" in m or "Refused to" in m]
    assert not csp_refusals and not [m for m in problems.messages if "pageerror" in m], problems.messages


def test_one_operation_opens_with_its_error_body(new_page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    """Opening an operation shows the documented refusals (problem details) beside its answer."""
    page, _problems = new_page(DESK)
    local = urlsplit(live_server.base_url).netloc
    page.context.route("**/*", lambda route: route.continue_() if urlsplit(route.request.url).netloc == local
                       else route.abort("internetdisconnected"))
    page.goto("/schema/swagger", wait_until="domcontentloaded", timeout=60_000)
    summary = page.locator(".opblock-summary", has=page.locator(".opblock-summary-path[data-path='/api/v1/me']"))
    summary.first.click(timeout=60_000)
    responses = page.locator(".opblock.is-open .responses-table .response-col_status")
    responses.first.wait_for()
    statuses = {text.strip() for text in responses.all_inner_texts()}
    assert {"200", "401", "422"} <= statuses, statuses

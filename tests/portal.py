"""Helpers for portal page tests: sign in through the form, and post forms with the CSRF token as a browser does."""

from __future__ import annotations

import re
from typing import Any

from httpx import AsyncClient, Response

PASSWORD = "password-123"
CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def csrf_token(client: AsyncClient, page_url: str) -> str:
    """The token a page's forms carry (the page also sets the matching cookie)."""
    page = await client.get(page_url)
    found = CSRF_FIELD.search(page.text)
    assert found, f"{page_url} has no form with a CSRF token (status {page.status_code})"
    return found.group(1)


async def submit(client: AsyncClient, page_url: str, action: str, data: dict[str, Any],
                 files: Any = None) -> Response:
    """Fill in the form of `page_url` and post it to `action`, as the browser would."""
    token = await csrf_token(client, page_url)
    return await client.post(action, data={**data, "_csrf_token": token}, files=files)


async def sign_in(client: AsyncClient, slug: str, username: str, password: str = PASSWORD) -> Response:
    answer = await submit(client, f"/t/{slug}/login", f"/t/{slug}/login",
                          {"username": username, "password": password, "next": f"/t/{slug}/me"})
    assert answer.status_code == 303, answer.text[:500]
    return answer


def text_of(response: Response) -> str:
    """The page's visible text, roughly: tags dropped, whitespace squeezed (for `in` checks)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))

"""Concern lists page by cursor beside offset: every row once, in the sort asked for, whatever is filed meanwhile."""

from __future__ import annotations

import base64
import json

import pytest
from httpx import AsyncClient

from tests.conftest import Auth
from tests.helpers import BASE, file

pytestmark = pytest.mark.usefixtures("world")

KEYED_SORTS = ["-created_at", "created_at", "-updated_at", "updated_at", "reference", "category", "status"]
CATEGORIES = ["environment", "public_facilities", "safety"]


async def _file_some(client: AsyncClient, auth: Auth, count: int) -> list[str]:
    staff = await auth("cstaff")
    return [(await file(client, staff, {"title": f"第{n}号楼道灯不亮", "category": CATEGORIES[n % 3]}))["id"]
            for n in range(count)]


async def _by_cursor(client: AsyncClient, headers: dict, query: str, limit: int) -> tuple[list[str], list[dict]]:
    ids, pages, cursor = [], [], None
    while True:
        url = f"{BASE}/concerns?{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        ids += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids, pages
        assert len(pages) < 20, "the cursor never reached the last page"


@pytest.mark.parametrize("sort", KEYED_SORTS)
async def test_paging_by_cursor_lists_every_concern_once_in_the_order_offset_does(
        client: AsyncClient, auth: Auth, sort: str) -> None:
    filed = await _file_some(client, auth, 7)
    staff = await auth("cstaff")
    whole = (await client.get(f"{BASE}/concerns?sort={sort}&limit=200", headers=staff)).json()
    assert whole["total"] == len(whole["items"]) and set(filed) <= {c["id"] for c in whole["items"]}
    assert whole["next_cursor"] is None  # all of them on one page
    ids, pages = await _by_cursor(client, staff, f"sort={sort}", 3)
    assert ids == [c["id"] for c in whole["items"]]
    assert [len(p["items"]) for p in pages[:-1]] == [3] * (len(pages) - 1) and 1 <= len(pages[-1]["items"]) <= 3
    assert pages[0]["total"] == len(ids)  # the first page is read by offset 0, and counted
    assert all(p["total"] is None for p in pages[1:])  # after a cursor nothing is counted


async def test_a_concern_filed_between_pages_shifts_no_row_onto_the_next(client: AsyncClient, auth: Auth) -> None:
    await _file_some(client, auth, 5)
    staff = await auth("cstaff")
    first = (await client.get(f"{BASE}/concerns?limit=2", headers=staff)).json()
    newest = (await file(client, staff, {"title": "新反映：电梯异响"}))["id"]
    rest, _ = await _by_cursor(client, staff, f"cursor={first['next_cursor']}&sort=-created_at", 2)
    shown = [c["id"] for c in first["items"]] + rest
    assert newest not in shown and len(shown) == len(set(shown)) == first["total"]
    # By offset, the new one would push the second page's first row back onto it: what the cursor saves.
    second_by_offset = (await client.get(f"{BASE}/concerns?limit=2&offset=2", headers=staff)).json()
    assert second_by_offset["items"][0]["id"] == first["items"][1]["id"]


async def test_filters_hold_across_cursor_pages(client: AsyncClient, auth: Auth) -> None:
    await _file_some(client, auth, 7)
    staff = await auth("cstaff")
    ids, _ = await _by_cursor(client, staff, "category=safety&sort=reference", 1)
    whole = (await client.get(f"{BASE}/concerns?category=safety&sort=reference&limit=200", headers=staff)).json()
    assert ids == [c["id"] for c in whole["items"]] and len(ids) >= 2


@pytest.mark.parametrize(("query", "field"), [
    ("cursor=not-a-cursor", "cursor"),
    ("cursor=" + base64.urlsafe_b64encode(b'["-created_at", 5, []]').decode().rstrip("="), "cursor"),
    ("cursor=" + base64.urlsafe_b64encode(json.dumps(["-created_at", "2026-01-01T00:00:00", "x"]).encode()).decode(),
     "cursor"),
    ("cursor=" + base64.urlsafe_b64encode(b"\xff\xfe").decode(), "cursor"),
    ("sort=light&cursor=anything", "cursor"),
    ("offset=2&cursor=anything", "offset"),
])
async def test_a_cursor_that_is_not_ours_is_refused_with_a_message(client: AsyncClient, auth: Auth, query: str,
                                                                   field: str) -> None:
    response = await client.get(f"{BASE}/concerns?{query}", headers=await auth("cstaff"))
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] == field and ("游标" in error["message"] or "cursor 与 offset" in error["message"])


async def test_a_cursor_made_for_another_sort_is_refused(client: AsyncClient, auth: Auth) -> None:
    await _file_some(client, auth, 3)
    staff = await auth("cstaff")
    cursor = (await client.get(f"{BASE}/concerns?sort=reference&limit=1", headers=staff)).json()["next_cursor"]
    assert cursor
    refused = await client.get(f"{BASE}/concerns?sort=-created_at&cursor={cursor}", headers=staff)
    assert refused.status_code == 422 and "另一种排序" in refused.text
    # The light sort follows the clock: it pages by offset and offers no cursor.
    light = (await client.get(f"{BASE}/concerns?sort=light&limit=1", headers=staff)).json()
    assert light["next_cursor"] is None and light["total"] >= 3

"""Duplicates on the staff pages (both databases): the inbox counts each row's likely duplicates, the concern page
lists them and the related concerns with their scores, merges the selected ones with a reason, shows a merged
duplicate where it went with an undo button for a day, and its timeline shows the events."""

from __future__ import annotations

import datetime
import re

import pytest
from httpx import AsyncClient
from litestar import Litestar

from core import clock
from core.related import similarity
from core.related.similarity import Text
from tests.conftest import Auth
from tests.helpers import BASE, file, sign_in, submit, text_of
from tests.platform.test_query_counts import counting
from tests.related.test_merging import CLUTTER, LAMP, LAMP_AGAIN, LAMP_THIRD, LAMPS_AROUND, T0

pytestmark = pytest.mark.usefixtures("world")
INBOX = "/t/comm-a/staff/inbox"
HOUR = datetime.timedelta(hours=1)


def _page(concern_id: str) -> str:
    return f"/t/comm-a/staff/concerns/{concern_id}"


def _score(a: dict, b: dict) -> float:
    return similarity.score(Text.of(a["title"], a["description"], category=a["category"]),
                            Text.of(b["title"], b["description"], category=b["category"]))


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def _status(client: AsyncClient, auth: Auth, concern_id: str) -> dict:
    answer = await client.get(f"{BASE}/concerns/{concern_id}", headers=await auth("cstaff"))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_the_inbox_shows_each_concerns_likely_duplicates(client: AsyncClient, auth: Auth) -> None:
    lamp = await file(client, await auth("resident"), LAMP)
    again = await file(client, await auth("neighbour"), LAMP_AGAIN)
    third = await file(client, await auth("neighbour"), LAMP_THIRD)
    clutter = await file(client, await auth("neighbour"), CLUTTER)
    await sign_in(client, "comm-a", "cstaff")
    inbox = await client.get(INBOX)
    assert inbox.status_code == 200
    # Each row, from its opening to its own closing tag (the only one at the start of a line).
    rows = {m.group(1): m.group(2) for m in re.finditer(r'<li class="card" id="concern-([0-9a-f-]+)">(.*?)\n</li>',
                                                         inbox.text, re.S)}
    assert set(rows) == {lamp["id"], again["id"], third["id"], clutter["id"]}
    likely = sum(1 for other in (LAMP_AGAIN, LAMP_THIRD) if _score(LAMP, other) >= similarity.SHOWN)
    assert likely == 2  # the texts are alike enough for any sane threshold
    row = _text(rows[lamp["id"]])
    assert "疑似重复 2 条" in row and again["reference"] in row and third["reference"] in row
    assert f"相似度 {_score(LAMP, LAMP_AGAIN):.2f}" in row
    assert "疑似重复" not in rows[clutter["id"]]
    assert f'href="{_page(lamp["id"])}#related-heading"' in rows[lamp["id"]]


async def test_the_inbox_finds_its_duplicates_in_as_many_queries_for_a_few_rows_as_for_many(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    async def queries() -> int:
        await client.get(INBOX)  # warm: grants cached
        with counting(app) as statements:
            page = await client.get(INBOX)
        assert page.status_code == 200 and "疑似重复" in text_of(page)
        return len(statements)

    await sign_in(client, "comm-a", "cstaff")
    for body in (LAMP, LAMP_AGAIN):
        await file(client, await auth("neighbour"), body)
    few = await queries()
    for body in (LAMP_THIRD, LAMPS_AROUND, CLUTTER, LAMP, LAMP_AGAIN, LAMP_THIRD):
        await file(client, await auth("neighbour"), body)
    assert await queries() == few


async def test_staff_merge_the_selected_duplicates_on_the_concern_page_and_undo_it(
        client: AsyncClient, auth: Auth) -> None:
    with clock.frozen(T0):
        lamp = await file(client, await auth("resident"), LAMP)
        again = await file(client, await auth("neighbour"), LAMP_AGAIN)
        third = await file(client, await auth("neighbour"), LAMP_THIRD)
        around = await file(client, await auth("neighbour"), LAMPS_AROUND)
        await sign_in(client, "comm-a", "cstaff")
        page = await client.get(_page(lamp["id"]))
    assert page.status_code == 200
    shown = text_of(page)
    assert "疑似重复与相关诉求" in shown
    for other, body in ((again, LAMP_AGAIN), (third, LAMP_THIRD), (around, LAMPS_AROUND)):
        expected = _score(LAMP, body)
        assert (f'id="duplicate-{other["id"]}"' in page.text) == (expected >= similarity.RELATED)
        if expected >= similarity.RELATED:
            label = "疑似重复" if expected >= similarity.SHOWN else "相关诉求"
            assert re.search(rf"{label}\s*</span>\s*{other['reference']}", page.text), label
            assert f'<a href="{_page(other["id"])}">' in page.text
            assert f"相似度 {expected:.2f}" in shown
    assert "办理过程" in shown and "反映诉求" in shown  # the timeline

    # Nothing chosen: said next to the list, nothing merged.
    with clock.frozen(T0 + HOUR):
        refused = await submit(client, _page(lamp["id"]), f"{_page(lamp['id'])}/merge", {"reason": "同一盏灯"})
    assert refused.status_code == 422 and 'id="duplicates-error"' in refused.text
    assert "请选择要合并的重复诉求" in text_of(refused) and "同一盏灯" in refused.text
    with clock.frozen(T0 + HOUR):
        merged = await submit(client, _page(lamp["id"]), f"{_page(lamp['id'])}/merge",
                              {"duplicates": [again["id"], third["id"]], "reason": "同一盏灯"})
        assert merged.status_code == 303 and merged.headers["location"].endswith("?notice=merged"), merged.text[:500]
        survivor_page = await client.get(merged.headers["location"])
    assert (await _status(client, auth, again["id"]))["status"] == "merged"
    assert (await _status(client, auth, third["id"]))["status"] == "merged"
    shown = text_of(survivor_page)
    assert "已合并" in shown and "已合并到本诉求的重复诉求" in shown
    assert again["reference"] in shown and third["reference"] in shown
    assert "附议人数 1" in shown  # the neighbour, once for both duplicates

    with clock.frozen(T0 + 2 * HOUR):
        duplicate_page = await client.get(_page(again["id"]))
    shown = text_of(duplicate_page)
    assert f"已合并至 {lamp['reference']}" in shown and "撤销合并" in shown
    assert f'action="{_page(again["id"])}/unmerge"' in duplicate_page.text
    assert f'href="{_page(lamp["id"])}"' in duplicate_page.text
    assert "合并办理" in shown and "同一盏灯" in shown  # the timeline: the merge, its survivor and its reason
    assert 'name="duplicates"' not in duplicate_page.text  # a merged duplicate takes in no others

    with clock.frozen(T0 + 3 * HOUR):
        undone = await submit(client, _page(again["id"]), f"{_page(again['id'])}/unmerge", {})
        assert undone.status_code == 303 and undone.headers["location"].endswith("?notice=unmerged")
        after = await client.get(undone.headers["location"])
    assert (await _status(client, auth, again["id"]))["status"] == "submitted"
    shown = text_of(after)
    assert "已撤销合并" in shown and "已合并至" not in shown and "撤销合并" in shown  # the timeline's entry

    # A day later the other merge stands: no undo button, and the form is refused with its reason.
    with clock.frozen(T0 + 26 * HOUR):
        late = await client.get(_page(third["id"]))
        assert "合并已超过一天，不能再撤销" in text_of(late)
        assert f'action="{_page(third["id"])}/unmerge"' not in late.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', late.text).group(1)  # type: ignore[union-attr]
    with clock.frozen(T0 + 26 * HOUR):
        refused = await client.post(f"{_page(third['id'])}/unmerge", data={"_csrf_token": token})
    assert refused.status_code == 409 and "合并已超过一天" in text_of(refused)
    assert (await _status(client, auth, third["id"]))["status"] == "merged"


async def test_only_staff_merge_and_never_across_the_tenant_wall(client: AsyncClient, auth: Auth) -> None:
    lamp = await file(client, await auth("resident"), LAMP)
    again = await file(client, await auth("neighbour"), LAMP_AGAIN)
    await sign_in(client, "comm-a", "cstaff")
    token = re.search(r'name="_csrf_token" value="([^"]+)"',  # type: ignore[union-attr]
                      (await client.get(_page(lamp["id"]))).text).group(1)
    await sign_in(client, "comm-b", "bstaff")
    other = await client.post(f"/t/comm-b/staff/concerns/{lamp['id']}/merge",
                              data={"duplicates": [again["id"]], "_csrf_token": token})
    assert other.status_code in (403, 404)
    assert (await client.get(f"/t/comm-b/staff/concerns/{lamp['id']}")).status_code == 404
    await sign_in(client, "comm-a", "resident")
    refused = await client.post(f"{_page(lamp['id'])}/merge", data={"duplicates": [again["id"]], "_csrf_token": token})
    assert refused.status_code == 403
    assert (await _status(client, auth, again["id"]))["status"] == "submitted"

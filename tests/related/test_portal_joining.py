"""The filing form as a resident types: the open concerns alike shown in a partial (public summaries, status,
supporters; nothing personal), joined with one button, listed under "我的诉求"; the form files without it."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient, Response

from tests.conftest import Auth
from tests.helpers import csrf_token, sign_in, submit, text_of
from tests.related.matters import LAMP, ROOF, file_in

pytestmark = pytest.mark.usefixtures("world")
NEW = "/t/comm-a/concerns/new"
SIMILAR = "/t/comm-a/concerns/similar"


async def htmx_post(client: AsyncClient, url: str, data: dict | None = None) -> Response:
    """A POST as htmx sends it from the filing form: its CSRF token in the header the page's <body> sets."""
    token = await csrf_token(client, NEW)
    return await client.post(url, data=data or {}, headers={"hx-request": "true", "x-csrftoken": token})


async def test_the_form_asks_as_the_resident_types(client: AsyncClient) -> None:
    # With no account there is no one to join as: the form by phone asks nothing as one types.
    by_phone = await client.get("/t/comm-a/concerns/new/by-phone")
    assert by_phone.status_code == 200 and 'id="title"' in by_phone.text and SIMILAR not in by_phone.text
    await sign_in(client, "comm-a", "neighbour")
    form = (await client.get(NEW)).text
    for field in ("title", "description"):
        tag = re.search(rf'<(?:input|textarea) id="{field}"[^>]*>', form).group(0)
        assert f'hx-post="{SIMILAR}"' in tag and 'hx-trigger="input changed delay:600ms"' in tag, tag
        assert 'hx-target="#similar"' in tag and 'hx-params="title,description,category,compound,building"' in tag
    assert '<div id="similar"' in form
    assert 'method="post" action="/t/comm-a/concerns/new"' in form  # without JavaScript, it simply files


async def test_the_partial_shows_the_open_concerns_alike_and_nothing_personal(client: AsyncClient,
                                                                              auth: Auth) -> None:
    roof = await file_in(client, "comm-a", await auth("resident"), {
        **ROOF, "description": "楼顶垃圾漏水，我是柳先生，电话13812341234"})
    await file_in(client, "comm-a", await auth("grid"), {
        **ROOF, "title": "王秀英反映14号楼楼顶垃圾漏水", "description": "联系王秀英 13900001111",
        "resident_name": "王秀英", "resident_phone": "13900001111"})
    await file_in(client, "comm-b", await auth("bstaff"), {**ROOF, "title": "乙社区14号楼楼顶垃圾漏水"})
    await sign_in(client, "comm-a", "neighbour")
    answer = await htmx_post(client, SIMILAR, {"title": "14号楼楼顶垃圾", "description": "楼顶漏水",
                                               "category": "", "compound": "", "building": ""})
    assert answer.status_code == 200, answer.text[:500]
    shown = text_of(answer)
    assert "其他居民也反映过" in shown and ROOF["title"] in shown and "已提交，待受理" in shown
    assert shown.count("0 人附议") == 2 and answer.text.count(">我也遇到了</button>") == 2
    assert f'hx-post="/t/comm-a/concerns/{roof["id"]}/support"' in answer.text
    assert "<html" not in answer.text  # a fragment, not a page
    for personal in ("柳", "13812341234", "王秀英", "13900001111", "联系", "电话", "乙社区"):
        assert personal not in answer.text, personal
    # Nothing alike, nothing shown: not even the heading.
    nothing = await htmx_post(client, SIMILAR, {"title": "东门路灯", "description": ""})
    assert nothing.status_code == 200 and "其他居民也反映过" not in nothing.text
    # What would not file (a compound that is not one) shows nothing, and no error: the form says it on sending.
    garbled = await htmx_post(client, SIMILAR, {"title": ROOF["title"], "description": "", "building": "x" * 40,
                                                "category": "no_such"})
    assert garbled.status_code == 200 and "其他居民也反映过" not in garbled.text


async def test_me_too_joins_and_the_concern_is_listed_as_joined(client: AsyncClient, auth: Auth) -> None:
    roof = await file_in(client, "comm-a", await auth("resident"), ROOF)
    await sign_in(client, "comm-a", "neighbour")
    joined = await htmx_post(client, f"/t/comm-a/concerns/{roof['id']}/support")
    assert joined.status_code == 200, joined.text[:500]
    assert "已附议，办理进展会通知您" in text_of(joined) and "1 人附议" in text_of(joined)
    assert f'id="similar-{roof["id"]}"' in joined.text and "</button>" not in joined.text
    listed = await client.get("/t/comm-a/me/concerns")
    section = listed.text[listed.text.index('id="joined"'):]
    assert "我附议的诉求" in section and ROOF["title"] in section and "已提交，待受理" in section
    assert ROOF["description"] not in listed.text
    again = await htmx_post(client, SIMILAR, {"title": ROOF["title"], "description": ""})
    assert "您已附议这条诉求" in text_of(again) and "</button>" not in again.text
    tracked = await client.get(f"/t/comm-a/track/{roof['tracking_code']}")  # the count is public
    assert "1 人附议" in text_of(tracked)
    await sign_in(client, "comm-a", "resident")  # and its reporter sees it on their concern
    assert "1 人附议" in text_of(await client.get(f"/t/comm-a/me/concerns/{roof['id']}"))
    await sign_in(client, "comm-a", "neighbour")

    # Withdrawn from the list, with a plain form (no JavaScript needed).
    withdrawn = await submit(client, "/t/comm-a/me/concerns", f"/t/comm-a/concerns/{roof['id']}/support/withdraw", {})
    assert withdrawn.status_code == 303 and withdrawn.headers["location"].startswith("/t/comm-a/me/concerns")
    after = await client.get(withdrawn.headers["location"])
    assert "已撤回附议" in text_of(after) and ROOF["title"] not in after.text[after.text.index('id="joined"'):]
    count = await client.get(f"/api/v1/tenants/comm-a/concerns/{roof['id']}", headers=await auth("cstaff"))
    assert count.json()["supporters"] == 0


async def test_joining_without_htmx_lands_on_ones_concerns(client: AsyncClient, auth: Auth) -> None:
    roof = await file_in(client, "comm-a", await auth("resident"), ROOF)
    await sign_in(client, "comm-a", "neighbour")
    answer = await submit(client, NEW, f"/t/comm-a/concerns/{roof['id']}/support", {})
    assert answer.status_code == 303 and answer.headers["location"] == "/t/comm-a/me/concerns?joined=1#joined"
    listed = await client.get(answer.headers["location"])
    assert "已附议，办理进展会通知您" in text_of(listed) and ROOF["title"] in listed.text


async def test_ones_own_or_a_closed_concern_is_refused_where_the_button_was(client: AsyncClient,
                                                                             auth: Auth) -> None:
    roof = await file_in(client, "comm-a", await auth("resident"), ROOF)
    lamp = await file_in(client, "comm-a", await auth("resident"), LAMP)
    resolved = await client.post(f"/api/v1/tenants/comm-a/concerns/{lamp['id']}/triage", headers=await auth("cstaff"),
                                 json={"action": "resolve_directly", "note": "已修好"})
    assert resolved.status_code == 200
    await sign_in(client, "comm-a", "resident")
    mine = await htmx_post(client, SIMILAR, {"title": ROOF["title"], "description": ""})
    assert "这是您反映的诉求" in text_of(mine) and "</button>" not in mine.text
    own = await htmx_post(client, f"/t/comm-a/concerns/{roof['id']}/support")
    assert own.status_code == 409 and "这是您自己反映的诉求，无需附议" in text_of(own)
    assert own.headers["hx-retarget"] == f"#similar-{roof['id']} .join-state"
    await sign_in(client, "comm-a", "neighbour")
    closed = await htmx_post(client, f"/t/comm-a/concerns/{lamp['id']}/support")
    assert closed.status_code == 409 and "已直接办结" in text_of(closed)
    theirs = await file_in(client, "comm-b", await auth("bstaff"), ROOF)
    across = await htmx_post(client, f"/t/comm-a/concerns/{theirs['id']}/support")
    assert across.status_code == 404


async def test_the_portal_speaks_english_too(client: AsyncClient, auth: Auth) -> None:
    await file_in(client, "comm-a", await auth("resident"), ROOF)
    await sign_in(client, "comm-a", "neighbour")
    await client.get(f"{NEW}?lang=en")
    answer = await htmx_post(client, SIMILAR, {"title": ROOF["title"], "description": ""})
    shown = text_of(answer)
    assert "Other residents reported this too" in shown and "Me too" in shown and "0 joined" in shown


async def test_who_files_for_a_resident_sees_what_is_raised_and_joins_nothing(client: AsyncClient,
                                                                              auth: Auth) -> None:
    await file_in(client, "comm-a", await auth("resident"), ROOF)
    await sign_in(client, "comm-a", "grid")
    answer = await htmx_post(client, SIMILAR, {"title": ROOF["title"], "description": ""})
    shown = text_of(answer)
    assert ROOF["title"] in shown and "提交前请看看居民反映的是否就是其中一件" in shown
    assert "</button>" not in answer.text  # joining would make the grid worker, not the resident, its supporter


async def test_signed_out_while_typing_shows_nothing(client: AsyncClient, auth: Auth) -> None:
    await file_in(client, "comm-a", await auth("resident"), ROOF)
    token = await csrf_token(client, "/t/comm-a/login")
    answer = await client.post(SIMILAR, data={"title": ROOF["title"], "description": ""},
                               headers={"hx-request": "true", "x-csrftoken": token})
    assert answer.status_code == 200 and ROOF["title"] not in answer.text and "<form" not in answer.text

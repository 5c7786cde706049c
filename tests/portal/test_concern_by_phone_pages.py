"""The portal's form for raising one concern without an account: offered from the sign-in page, a code asked for
with the form kept as typed, refusals next to their fields, the tracker showing what was filed (never the phone),
a double submit filing once, and joining later with the phone listing it under one's concerns."""

from __future__ import annotations

import re
from typing import Any

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select

from core.concerns.models import Concern
from core.notifications.models import Notification
from core.tenancy.scope import tenant_session
from tests.helpers import submit, text_of

pytestmark = pytest.mark.usefixtures("world")
PAGE = "/t/comm-a/concerns/new/by-phone"
PHONE = "13700007777"
NAME = "司马先生"
LAMP = {"title": "北门路灯不亮", "description": "北门路灯坏了一周，晚上进出看不清路。", "category": "public_facilities",
        "place": "北门"}


async def _code(app: Litestar) -> str:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        row = await scope.session.scalar(select(Notification).where(
            Notification.kind == "verification.code", Notification.address == PHONE)
            .order_by(Notification.created_at.desc()).limit(1))
        assert row is not None
        return str(row.params["code"])


async def _concerns(app: Litestar) -> list[Concern]:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        return list((await scope.session.scalars(select(Concern))).all())


def _hidden(page_text: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page_text)
    assert found, f"the form has no {name}"
    return found.group(1)


async def _asked(client: AsyncClient) -> tuple[dict[str, Any], str]:
    """The form filled in and a code asked for: what it sends, and the page it came back as."""
    page = await client.get(PAGE)
    form = {**LAMP, "phone": PHONE, "name": NAME, "form_key": _hidden(page.text, "form_key"),
            "privacy_version": _hidden(page.text, "privacy_version")}
    sent = await submit(client, PAGE, f"{PAGE}/code", form)
    assert sent.status_code == 200 and 'id="code-sent"' in sent.text, sent.text[:500]
    assert 'value="北门路灯不亮"' in sent.text and f'value="{PHONE}"' in sent.text  # kept as typed
    return form, sent.text


async def test_the_sign_in_page_offers_it_and_the_filer_lands_on_the_tracker(client: AsyncClient,
                                                                              app: Litestar) -> None:
    asked = await client.get("/t/comm-a/concerns/new")
    assert asked.status_code in (302, 303) and asked.headers["location"].startswith("/t/comm-a/login")
    login = await client.get(asked.headers["location"])
    assert f'href="{PAGE}"' in login.text and "不注册，用手机验证码反映一次" in text_of(login)
    page = await client.get(PAGE)
    assert page.status_code == 200 and "甲社区隐私政策" in text_of(page) and 'formaction="' in page.text

    form, _ = await _asked(client)
    done = await submit(client, PAGE, PAGE, {**form, "code": await _code(app), "accept_privacy": "on"})
    assert done.status_code == 303, done.text[:800]
    [concern] = await _concerns(app)
    assert (concern.filed_by_id, concern.resident_id, concern.resident_phone) == (None, None, PHONE)
    assert done.headers["location"] == f"/t/comm-a/track/{concern.tracking_code}?filed=1"
    tracker = await client.get(done.headers["location"])
    assert tracker.status_code == 200 and 'id="filed"' in tracker.text
    assert concern.tracking_code in text_of(tracker) and concern.reference in text_of(tracker)
    assert 'href="/t/comm-a/join"' in tracker.text
    assert PHONE not in tracker.text and NAME not in tracker.text

    # Joining with that phone lists it under the resident's own concerns.
    await submit(client, "/t/comm-a/join", "/t/comm-a/join/code", {"phone": PHONE})
    version = _hidden((await client.get("/t/comm-a/join")).text, "privacy_version")
    joined = await submit(client, "/t/comm-a/join", "/t/comm-a/join", {
        "phone": PHONE, "code": await _code(app), "name": NAME, "password": "Qp7-harbour-lantern",
        "privacy_version": version, "accept_privacy": "on"})
    assert joined.status_code == 303, joined.text[:500]
    mine = await client.get("/t/comm-a/me/concerns")
    assert mine.status_code == 200 and concern.reference in text_of(mine)
    # Signed in, the form by phone sends them to their own.
    again = await client.get(PAGE)
    assert again.status_code in (302, 303) and again.headers["location"] == "/t/comm-a/concerns/new"


async def test_refusals_are_shown_by_their_fields_and_a_double_submit_files_once(client: AsyncClient,
                                                                                app: Litestar) -> None:
    form, _ = await _asked(client)
    refused = await submit(client, PAGE, PAGE, {**form, "title": " ", "category": "", "code": "12"})
    assert refused.status_code == 422
    for field in ("title", "category", "code", "accept_privacy"):
        assert f'id="{field}-error"' in refused.text, field
    assert f'value="{PHONE}"' in refused.text and f'value="{NAME}"' in refused.text
    assert await _concerns(app) == []
    right = {**form, "code": await _code(app), "accept_privacy": "on"}
    first = await submit(client, PAGE, PAGE, right)  # the refusal spent no code
    second = await submit(client, PAGE, PAGE, right)  # the same form sent twice
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert len(await _concerns(app)) == 1
    edited = await submit(client, PAGE, PAGE, {**right, "title": "改过的标题"})  # back, edited, sent again
    assert edited.status_code == 409 and 'id="form-error"' in edited.text
    assert _hidden(edited.text, "form_key") != right["form_key"]  # a fresh form, for a new concern
    spent = await submit(client, PAGE, PAGE, {**right, "form_key": "another-form", "title": "再说一件事"})
    assert spent.status_code == 422 and 'id="code-error"' in spent.text
    assert len(await _concerns(app)) == 1


async def test_only_a_community_offers_it(client: AsyncClient) -> None:
    assert (await client.get("/t/street-a/concerns/new/by-phone")).status_code == 404
    assert 'id="by-phone"' not in (await client.get("/t/street-a/login")).text
    bad = await submit(client, PAGE, f"{PAGE}/code", {**LAMP, "phone": "123"})
    assert bad.status_code == 422 and 'id="phone-error"' in bad.text

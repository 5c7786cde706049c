"""Residents file once without an account, by a code sent to their phone: the concern names the phone and no
account, the answer is its tracking code (never the phone), the code is spent by the filing, every bad field is
named before it is; joining (or signing in by code) later with that phone claims it, in that community only."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select

from core import clock
from core.concerns.models import Concern
from core.events import WorkflowEvent
from core.notifications.models import Notification
from core.tenancy.scope import tenant_session
from tests.conftest import Auth

pytestmark = pytest.mark.usefixtures("world")

PHONE, OTHER = "13700005555", "13700006666"
NAME = "欧阳女士"
GOOD = "Qp7-harbour-lantern"
STAFF = {"comm-a": "cstaff", "comm-b": "bstaff", "street-a": "sstaff"}
# A title that names the person and their phone: the public never reads either.
CONCERN = {"title": f"{NAME}反映：13700005555 楼下路灯不亮", "description": "3号楼北侧路灯坏了两周，晚上看不清台阶。",
           "category": "public_facilities", "place": "3号楼北侧"}


async def _code(app: Litestar, phone: str = PHONE, slug: str = "comm-a") -> str:
    async with tenant_session(app, slug, STAFF[slug]) as scope:
        row = await scope.session.scalar(select(Notification).where(
            Notification.kind == "verification.code", Notification.address == phone)
            .order_by(Notification.created_at.desc()).limit(1))
        assert row is not None
        return str(row.params["code"])


async def _version(client: AsyncClient, slug: str = "comm-a") -> str:
    return str((await client.get(f"/api/v1/tenants/{slug}/public/privacy")).json()["version"])


async def _ask(client: AsyncClient, phone: str = PHONE, slug: str = "comm-a", purpose: str = "file") -> None:
    asked = await client.post(f"/api/v1/tenants/{slug}/public/verification-codes",
                              json={"phone": phone, "purpose": purpose})
    assert asked.status_code == 202, asked.text


async def _body(client: AsyncClient, app: Litestar, phone: str = PHONE, slug: str = "comm-a",
                **overrides: Any) -> dict[str, Any]:
    await _ask(client, phone, slug)
    return {**CONCERN, "phone": phone, "code": await _code(app, phone, slug), "name": NAME,
            "privacy_version": await _version(client, slug), "accept_privacy": True} | overrides


async def _file(client: AsyncClient, body: dict[str, Any], slug: str = "comm-a", **headers: str) -> Any:
    return await client.post(f"/api/v1/tenants/{slug}/public/concerns", json=body, headers=headers)


async def _concerns(app: Litestar, slug: str = "comm-a") -> list[Concern]:
    async with tenant_session(app, slug, STAFF[slug]) as scope:
        return list((await scope.session.scalars(select(Concern).order_by(Concern.created_at))).all())


async def _join(client: AsyncClient, app: Litestar, phone: str = PHONE, slug: str = "comm-a") -> dict[str, str]:
    await _ask(client, phone, slug, "join")
    joined = await client.post(f"/api/v1/tenants/{slug}/public/join", json={
        "phone": phone, "code": await _code(app, phone, slug), "name": NAME, "password": GOOD,
        "privacy_version": await _version(client, slug), "accept_privacy": True})
    assert joined.status_code == 201, joined.text
    return {"Authorization": f"Bearer {joined.json()['access_token']}"}


async def _mine(client: AsyncClient, headers: dict[str, str], slug: str = "comm-a") -> list[str]:
    listed = await client.get(f"/api/v1/tenants/{slug}/concerns", headers=headers)
    assert listed.status_code == 200, listed.text
    return [c["reference"] for c in listed.json()["items"]]


async def test_a_resident_files_by_code_with_no_account_and_the_answer_is_the_tracking_code(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    filed = await _file(client, await _body(client, app))
    assert filed.status_code == 201, filed.text
    answer = filed.json()
    assert set(answer) == {"reference", "status", "tracking_code", "track"} and answer["status"] == "submitted"
    assert answer["tracking_code"].startswith(answer["reference"] + "-")
    assert answer["track"] == f"/t/comm-a/track/{answer['tracking_code']}"
    assert PHONE not in filed.text and NAME not in filed.text
    [concern] = await _concerns(app)
    assert (concern.reference, concern.channel, concern.filed_by_id, concern.resident_id) == (
        answer["reference"], "portal", None, None)
    assert (concern.resident_phone, concern.resident_name) == (PHONE, NAME)

    # The filer follows it by the code; the public reads neither the phone nor the name.
    tracked = await client.get(f"/api/v1/tenants/comm-a/public/concerns/{answer['tracking_code']}")
    assert tracked.status_code == 200 and tracked.json()["reference"] == answer["reference"]
    assert PHONE not in tracked.text and NAME not in tracked.text and "路灯不亮" in tracked.json()["summary"]
    page = await client.get(answer["track"])
    assert page.status_code == 200 and answer["reference"] in page.text
    assert PHONE not in page.text and NAME not in page.text
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        events = (await scope.session.scalars(select(WorkflowEvent).where(
            WorkflowEvent.subject_id == concern.id))).all()
    assert [(e.action, e.actor_id) for e in events] == [("concern.filed", None)]
    assert events[0].payload == {"channel": "portal", "by_phone": True, "privacy_version": await _version(client)}
    # Staff see it with the phone masked (or shown to whom may read it) and no account as its filer.
    staff = (await client.get("/api/v1/tenants/comm-a/concerns", headers=await auth("grid"))).json()["items"]
    assert [c["reference"] for c in staff] == []  # a grid worker sees only what they filed
    listed = (await client.get("/api/v1/tenants/comm-a/concerns", headers=await auth("cstaff"))).json()["items"]
    assert [(c["reference"], c["filed_by"], c["channel"]) for c in listed] == [(answer["reference"], "", "portal")]


async def test_the_code_is_spent_by_the_filing_and_a_wrong_or_expired_one_files_nothing(
        app: Litestar, client: AsyncClient) -> None:
    body = await _body(client, app)
    wrong = await _file(client, body | {"code": "000000" if body["code"] != "000000" else "111111"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "code"
    assert await _concerns(app) == []
    assert (await _file(client, body)).status_code == 201  # a wrong try does not spend it
    again = await _file(client, body | {"title": "再反映一件事"})
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "code"
    assert len(await _concerns(app)) == 1  # one concern for one code

    moment = clock.now() + datetime.timedelta(minutes=2)
    with clock.frozen(moment):
        late = await _body(client, app)
    with clock.frozen(moment + datetime.timedelta(minutes=5, seconds=1)):
        expired = await _file(client, late)
    assert expired.status_code == 422 and expired.json()["errors"][0]["field"] == "code"
    unasked = await _file(client, late | {"phone": OTHER})
    assert unasked.status_code == 422 and unasked.json()["errors"][0]["field"] == "code"
    assert len(await _concerns(app)) == 1
    with clock.frozen(moment + datetime.timedelta(minutes=2)):
        second = await _body(client, app)  # a new code: a second concern
        assert (await _file(client, second)).status_code == 201
    assert len(await _concerns(app)) == 2


async def test_every_bad_field_is_named_at_once_and_the_code_is_not_spent(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    body = await _body(client, app)
    theirs = (await client.get("/api/v1/tenants/comm-b/compounds", headers=await auth("bstaff"))).json()[0]["id"]
    refused = await _file(client, body | {"title": "  ", "description": "", "category": "no_such", "phone": "12345",
                                          "code": "abc", "accept_privacy": False, "compound": theirs})
    assert refused.status_code == 422, refused.text
    assert {e["field"] for e in refused.json()["errors"]} == {
        "title", "description", "category", "phone", "code", "accept_privacy", "compound"}
    long_name = await _file(client, body | {"name": "名" * 51})
    assert long_name.status_code == 422 and [e["field"] for e in long_name.json()["errors"]] == ["name"]
    old = await _file(client, body | {"privacy_version": "0123456789ab"})
    assert old.status_code == 409 and old.json()["errors"][0]["field"] == "accept_privacy"
    assert await _concerns(app) == []
    assert (await _file(client, body | {"name": None})).status_code == 201  # the refusals spent nothing
    assert (await _concerns(app))[0].resident_name is None  # a name is optional


async def test_only_a_community_takes_a_concern_by_phone(app: Litestar, client: AsyncClient) -> None:
    body = await _body(client, app, slug="street-a")
    refused = await _file(client, body, slug="street-a")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "tenant"
    assert await _concerns(app, "street-a") == []
    unknown = await _file(client, body, slug="nowhere")
    assert unknown.status_code == 404


async def test_a_retry_with_the_same_idempotency_key_files_once(app: Litestar, client: AsyncClient) -> None:
    body = await _body(client, app)
    first = await _file(client, body, **{"Idempotency-Key": "guest-1"})
    retry = await _file(client, body, **{"Idempotency-Key": "guest-1"})
    assert first.status_code == retry.status_code == 201 and first.json() == retry.json()
    other = await _file(client, body | {"title": "另一件事"}, **{"Idempotency-Key": "guest-1"})
    assert other.status_code == 409 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert len(await _concerns(app)) == 1


async def test_joining_with_the_phone_claims_its_concerns_and_no_others(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    mine = (await _file(client, await _body(client, app))).json()["reference"]
    theirs = (await _file(client, await _body(client, app, OTHER))).json()["reference"]
    # A grid worker's filing for a resident with the same phone is theirs to keep: it was not filed by the phone.
    for_them = await client.post("/api/v1/tenants/comm-a/concerns", headers=await auth("grid"), json={
        **CONCERN, "resident_name": NAME, "resident_phone": PHONE, "channel": "grid_worker"})
    assert for_them.status_code == 201, for_them.text
    headers = await _join(client, app)
    assert await _mine(client, headers) == [mine]
    me = await client.get("/api/v1/me", headers=headers)
    concerns = {c.reference: c for c in await _concerns(app)}
    assert concerns[mine].resident_id is not None and str(concerns[mine].resident_id) == me.json()["id"]
    assert concerns[theirs].resident_id is None and concerns[for_them.json()["reference"]].resident_id is None
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        claimed = (await scope.session.scalars(select(WorkflowEvent).where(
            WorkflowEvent.action == "concern.claimed"))).all()
    assert [(e.subject_id, e.payload, str(e.actor_id)) for e in claimed] == [
        (concerns[mine].id, {}, me.json()["id"])]
    detail = await client.get(f"/api/v1/tenants/comm-a/concerns/{concerns[mine].id}", headers=headers)
    assert detail.status_code == 200 and detail.json()["reference"] == mine


async def test_another_communitys_concern_is_claimed_only_on_joining_that_community(
        app: Litestar, client: AsyncClient) -> None:
    there = (await _file(client, await _body(client, app, slug="comm-b"), slug="comm-b")).json()["reference"]
    headers = await _join(client, app)
    assert await _mine(client, headers) == []
    assert (await client.get("/api/v1/tenants/comm-b/concerns", headers=headers)).status_code == 403
    assert [c.resident_id for c in await _concerns(app, "comm-b")] == [None]
    with clock.frozen(clock.now() + datetime.timedelta(minutes=2)):
        moved = await _join(client, app, slug="comm-b")
    assert await _mine(client, moved, "comm-b") == [there]


async def test_a_resident_who_files_without_signing_in_gets_it_on_signing_in_by_code(
        app: Litestar, client: AsyncClient) -> None:
    await _join(client, app)
    with clock.frozen(clock.now() + datetime.timedelta(minutes=2)) as stopped:
        filed = (await _file(client, await _body(client, app))).json()["reference"]
        stopped.advance(datetime.timedelta(minutes=2))
        await _ask(client, purpose="sign_in")
        signed = await client.post("/api/v1/auth/code-token", json={"phone": PHONE, "code": await _code(app)})
    assert signed.status_code == 200, signed.text
    assert await _mine(client, {"Authorization": f"Bearer {signed.json()['access_token']}"}) == [filed]

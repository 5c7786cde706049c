"""A tenant's webhooks: registered by its staff (the secret shown once), told of the tenant's events as signed JSON
by the real worker, retried when the receiver fails, out of reach of every other tenant."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import clock
from core.db import TenantContext, column_values
from core.errors import InvalidInput
from core.notifications.fanout import fan_out
from core.notifications.models import Notification
from core.notifications.outbox import add
from core.notifications.webhooks import WebhookIn, check, sign, verify_signature, webhook_rows
from core.tenancy.scope import tenant_session
from tests.conftest import Auth
from tests.helpers import BASE, accepted_concern
from tests.notifications.standins import WebhookReceiver

WORLD = pytest.mark.usefixtures("world")
HOOKS = f"{BASE}/webhooks"


async def _register(client: AsyncClient, auth: Auth, url: str, **body: Any) -> dict:
    response = await client.post(HOOKS, json={"url": url, **body}, headers=await auth("cstaff"))
    assert response.status_code == 201, response.text
    return response.json()


async def _rows(app: Litestar) -> list[Notification]:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        return list((await scope.session.scalars(select(Notification).where(Notification.channel == "webhook")
                                                 .order_by(Notification.created_at, Notification.kind))).all())


@WORLD
async def test_staff_register_a_webhook_and_see_its_secret_only_once(client: AsyncClient, auth: Auth,
                                                                     receiver: WebhookReceiver) -> None:
    created = await _register(client, auth, receiver.url, kinds=["concern.accepted"], description="企业微信机器人")
    assert len(created["secret"]) == 64 and created["kinds"] == ["concern.accepted"] and created["active"] is True
    listed = await client.get(HOOKS, headers=await auth("cstaff"))
    assert listed.status_code == 200
    assert listed.json() == [{"id": created["id"], "url": receiver.url, "kinds": ["concern.accepted"],
                              "active": True, "description": "企业微信机器人"}]
    assert created["secret"] not in listed.text
    refused = await client.post(HOOKS, json={"url": receiver.url}, headers=await auth("resident"))
    assert refused.status_code == 403


@WORLD
async def test_an_event_reaches_each_webhook_signed_and_the_receivers_check_accepts_it(
        app: Litestar, client: AsyncClient, auth: Auth, drain: Any, receiver: WebhookReceiver) -> None:
    everything = await _register(client, auth, receiver.url + "?hook=all")
    accepted_only = await _register(client, auth, receiver.url + "?hook=accepted", kinds=["concern.accepted"])
    concern = await accepted_concern(client, auth)
    await fan_out(app.state)  # the staff's concern.new, which the webhook that receives every kind gets too
    await drain()
    secrets = {"/hooks/yishi?hook=all": everything["secret"], "/hooks/yishi?hook=accepted": accepted_only["secret"]}
    got = sorted((r.path, json.loads(r.body)["kind"]) for r in receiver.received)
    assert got == [("/hooks/yishi?hook=accepted", "concern.accepted"), ("/hooks/yishi?hook=all", "concern.accepted"),
                   ("/hooks/yishi?hook=all", "concern.new")]
    rows = {str(row.id): row for row in await _rows(app)}
    for request in receiver.received:
        headers, payload = request.headers, json.loads(request.body)
        assert verify_signature(secrets[request.path], headers["x-yishi-timestamp"], headers["x-yishi-signature"],
                                request.body, now=clock.now().timestamp())
        assert headers["x-yishi-delivery"] == payload["id"] and rows[payload["id"]].status == "sent"
        assert set(payload) == {"id", "kind", "tenant", "subject", "body", "link", "params", "sent_at"}
        assert payload["tenant"] == "comm-a" and concern["reference"] in payload["body"]
        assert "柳" not in request.body.decode() and "13812341234" not in request.body.decode()
        assert not verify_signature(secrets[request.path], headers["x-yishi-timestamp"],
                                    headers["x-yishi-signature"], request.body.replace(b"comm-a", b"comm-b"),
                                    now=clock.now().timestamp())
    [accepted] = [json.loads(r.body) for r in receiver.received if r.path.endswith("accepted")]
    assert accepted["subject"] == "诉求已受理" and accepted["link"].endswith(f"/t/comm-a/me/concerns/{concern['id']}")
    assert accepted["link"].startswith("http")


def test_the_check_refuses_a_tampered_body_an_old_or_future_timestamp_and_another_secret() -> None:
    body, now = b'{"id":"1","kind":"concern.new"}', 1_800_000_000
    good = sign("s3cret", now - 60, body)
    assert verify_signature("s3cret", str(now - 60), good, body, now=now)
    assert not verify_signature("s3cret", str(now - 60), good, body + b" ", now=now)
    assert not verify_signature("another", str(now - 60), good, body, now=now)
    assert not verify_signature("s3cret", str(now - 59), good, body, now=now)  # the timestamp is signed too
    old = sign("s3cret", now - 301, body)
    assert not verify_signature("s3cret", str(now - 301), old, body, now=now)  # a replay, past the window
    future = sign("s3cret", now + 301, body)
    assert not verify_signature("s3cret", str(now + 301), future, body, now=now)
    assert verify_signature("s3cret", str(now - 301), old, body, now=now, window=600)
    assert not verify_signature("s3cret", "yesterday", good, body, now=now)
    assert not verify_signature("s3cret", str(now - 60), "", body, now=now)


@WORLD
async def test_a_receiver_answering_500_leaves_the_row_waiting_and_a_later_run_delivers_it(
        app: Litestar, client: AsyncClient, auth: Auth, drain: Any, receiver: WebhookReceiver) -> None:
    receiver.statuses = [500]
    await _register(client, auth, receiver.url, kinds=["concern.accepted"])
    await accepted_concern(client, auth)
    await drain()
    [row] = await _rows(app)
    assert row.status == "pending" and row.attempts == 1 and "HTTP 500" in (row.last_error or "")
    await asyncio.sleep(2.5)  # the job engine's first backoff: 2 s
    await drain()
    [row] = await _rows(app)
    assert row.status == "sent" and row.attempts == 2 and row.last_error is None
    first, second = receiver.received
    assert first.headers["x-yishi-delivery"] == second.headers["x-yishi-delivery"] == str(row.id)  # dedupe by it


@WORLD
async def test_another_tenants_staff_can_neither_see_nor_delete_it_and_a_deleted_one_is_sent_nothing(
        app: Litestar, client: AsyncClient, auth: Auth, drain: Any, receiver: WebhookReceiver) -> None:
    hook = await _register(client, auth, receiver.url)
    other = await auth("bstaff")
    assert (await client.get("/api/v1/tenants/comm-b/webhooks", headers=other)).json() == []
    theirs = await client.delete(f"/api/v1/tenants/comm-b/webhooks/{hook['id']}", headers=other)
    missing = await client.delete(f"/api/v1/tenants/comm-b/webhooks/{uuid.uuid4()}", headers=other)
    assert theirs.status_code == missing.status_code == 404 and theirs.json() == missing.json()
    assert (await client.get(HOOKS, headers=other)).status_code == 403  # no role in comm-a, as on every route
    assert (await client.delete(f"{HOOKS}/{hook['id']}", headers=other)).status_code == 403
    assert [h["id"] for h in (await client.get(HOOKS, headers=await auth("cstaff"))).json()] == [hook["id"]]
    await accepted_concern(client, auth)
    deleted = await client.delete(f"{HOOKS}/{hook['id']}", headers=await auth("cstaff"))
    assert deleted.status_code == 204
    await drain()
    assert receiver.received == [] and {row.status for row in await _rows(app)} == {"skipped"}
    assert (await client.get(HOOKS, headers=await auth("cstaff"))).json() == []


@WORLD
@pytest.mark.parametrize(("body", "field"), [
    ({"url": "ftp://example.org/hook"}, "url"),
    ({"url": "javascript:alert(1)"}, "url"),
    ({"url": "example.org/hook"}, "url"),
    ({"url": "https://example.org/" + "a" * 300}, "url"),
    ({"url": "https://example.org/hook", "kinds": ["concern.nonsense"]}, "kinds"),
])
async def test_a_bad_url_or_kind_is_refused_naming_the_field(client: AsyncClient, auth: Auth, body: dict,
                                                              field: str) -> None:
    response = await client.post(HOOKS, json=body, headers=await auth("cstaff"))
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert (await client.get(HOOKS, headers=await auth("cstaff"))).json() == []


def test_production_takes_only_https() -> None:
    check(WebhookIn(url="http://10.0.0.8/hook"), production=False)
    check(WebhookIn(url="https://oa.example.gov.cn/hook"), production=True)
    with pytest.raises(InvalidInput) as refused:
        check(WebhookIn(url="http://10.0.0.8/hook"), production=True)
    assert refused.value.field == "url" and "https" in refused.value.message


@WORLD
async def test_an_event_is_written_once_per_webhook_even_though_their_recipient_is_null(
        app: Litestar, client: AsyncClient, auth: Auth, receiver: WebhookReceiver) -> None:
    await _register(client, auth, receiver.url + "?a")
    await _register(client, auth, receiver.url + "?b")
    await accepted_concern(client, auth)
    [row, *_] = accepted = [r for r in await _rows(app) if r.kind == "concern.accepted"]
    assert len(accepted) == 2 and len({r.webhook_id for r in accepted}) == 2
    with pytest.raises(IntegrityError):  # a replayed event: the partial unique index refuses the copies
        async with tenant_session(app, "comm-a", "cstaff") as scope:
            ctx = TenantContext(scope.tenant.id, scope.tenant.path)
            rows = await webhook_rows(scope.session, ctx, "concern.accepted", dict(row.params),
                                      dedup_key=str(row.event_id), event_id=row.event_id, link=row.link)
            assert len(rows) == 2
            await add(scope.session, [column_values(row) for row in rows])
    assert len([r for r in await _rows(app) if r.kind == "concern.accepted"]) == 2

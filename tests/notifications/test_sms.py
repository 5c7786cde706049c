"""SMS through Aliyun's SendSms, against a local stand-in that checks each request as Aliyun does: the signature
recomputed from the query it received, the template and its variables; what it refuses is retried."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select

from core.notifications.channels import Address, DeliveryError, Message
from core.notifications.delivery import Deliverer
from core.notifications.models import Notification
from core.notifications.sms import Sms, percent_encode, signature
from core.settings import Settings
from core.tenancy.scope import tenant_session
from tests.conftest import Auth
from tests.helpers import accepted_concern
from tests.notifications.standins import SmsProvider


@pytest.fixture
def channel_settings(sms: SmsProvider) -> dict[str, Any]:
    return {"sms_url": sms.url}


def _message(**params: str) -> Message:
    return Message(notification_id=uuid.uuid4(), kind="concern.accepted", subject="诉求已受理", body="…",
                   link=None, unsubscribe=None, params=params)


async def _sms_rows(app: Litestar) -> list[Notification]:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        return list((await scope.session.scalars(select(Notification).where(Notification.channel == "sms"))).all())


def test_the_encoding_and_signature_are_aliyuns() -> None:
    # Aliyun's documented example (the DescribeRegions request of its signature guide, secret "testsecret").
    params = {"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML", "SignatureMethod": "HMAC-SHA1",
              "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureVersion": "1.0",
              "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26"}
    assert signature("testsecret", params) == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
    assert percent_encode("a b*c~d/é") == "a%20b%2Ac~d%2F%C3%A9"


async def test_a_correctly_signed_request_is_accepted_and_says_only_the_templates_variables(sms: SmsProvider) -> None:
    channel = Sms(Settings(sms_url=sms.url))
    message = _message(title="北边再装一台直饮水机 * 西北角~居民每天步行七分钟取水，冬天路滑，老人孩子尤其不便",
                       reference="JSX-2026-000001", tenant="甲社区", reason="", venue="红色议事亭")
    biz_id = await channel.send(message, Address(phone="13812341234"))
    [request] = sms.accepted
    assert biz_id.split("^")[0] == "000001" and sms.refused == []
    assert (request["PhoneNumbers"], request["SignName"], request["TemplateCode"], request["OutId"]) == (
        "13812341234", "议事", "SMS_YISHI_CONCERN_ACCEPTED", str(message.notification_id))
    sent = json.loads(request["TemplateParam"])
    assert set(sent) == {"title", "reference", "tenant"}  # the template's variables, nothing else of the facts
    assert len(sent["title"]) == 35 and sent["title"] == message.params["title"][:35]


async def test_a_wrong_secret_or_an_unknown_template_is_refused_with_the_providers_code(sms: SmsProvider) -> None:
    wrong = sms.url.replace(sms.access_key_secret, "not-the-secret")
    with pytest.raises(DeliveryError, match="SignatureDoesNotMatch"):
        await Sms(Settings(sms_url=wrong)).send(_message(title="t", reference="r", tenant="甲社区"),
                                                Address(phone="13812341234"))
    with pytest.raises(DeliveryError, match="isv.SMS_TEMPLATE_ILLEGAL"):
        await Sms(Settings(sms_url=sms.url, sms_templates='{"concern.accepted": "SMS_NOT_APPROVED"}')).send(
            _message(title="t", reference="r", tenant="甲社区"), Address(phone="13812341234"))
    assert sms.accepted == [] and sms.refused == ["SignatureDoesNotMatch", "isv.SMS_TEMPLATE_ILLEGAL"]


async def test_the_template_codes_aliyun_approved_are_configured_per_kind(sms: SmsProvider) -> None:
    sms.templates["SMS_465912345"] = ["reference", "tenant", "title"]
    channel = Sms(Settings(sms_url=sms.url, sms_templates='{"concern.accepted": "SMS_465912345"}'))
    await channel.send(_message(title="t", reference="r", tenant="甲社区"), Address(phone="13812341234"))
    assert [r["TemplateCode"] for r in sms.accepted] == ["SMS_465912345"]
    with pytest.raises(ValueError, match="YISHI_SMS_TEMPLATES"):
        Settings.from_env({"YISHI_SMS_TEMPLATES": '["SMS_465912345"]'})


async def test_a_provider_that_cannot_be_reached_is_a_delivery_error() -> None:
    channel = Sms(Settings(sms_url="aliyun://id:secret@127.0.0.1:9?sign=议事&scheme=http"))
    with pytest.raises(DeliveryError, match="SMS: Connect"):
        await channel.send(_message(title="t", reference="r", tenant="甲社区"), Address(phone="13812341234"))


@pytest.mark.usefixtures("world")
async def test_a_residents_accepted_concern_reaches_their_phone_through_the_worker(
        app: Litestar, client: AsyncClient, auth: Auth, drain: Any, sms: SmsProvider) -> None:
    concern = await accepted_concern(client, auth)
    await drain()
    [row] = await _sms_rows(app)
    [request] = sms.accepted
    assert row.status == "sent" and row.provider_message_id is not None and row.attempts == 1
    assert request["OutId"] == str(row.id) and request["PhoneNumbers"] == "13812341234"
    params = json.loads(request["TemplateParam"])
    assert params == {"title": row.params["title"][:35], "reference": concern["reference"], "tenant": "甲社区"}
    assert "直饮水机" in params["title"]
    assert "柳" not in request["TemplateParam"]  # the resident's own name is not a variable of any template


@pytest.mark.usefixtures("world")
async def test_a_wrong_secret_leaves_the_row_waiting_and_the_right_one_delivers_it(
        app: Litestar, client: AsyncClient, auth: Auth, sms: SmsProvider) -> None:
    await accepted_concern(client, auth)
    [row] = await _sms_rows(app)
    settings: Settings = app.state.settings
    wrong = Sms(dataclasses.replace(settings, sms_url=sms.url.replace(sms.access_key_secret, "leaked-and-rotated")))
    with pytest.raises(DeliveryError, match="SignatureDoesNotMatch"):
        await Deliverer(app.state, {"sms": wrong}).deliver(row.tenant_id, row.id)
    [row] = await _sms_rows(app)
    assert row.status == "pending" and row.attempts == 1 and "SignatureDoesNotMatch" in (row.last_error or "")
    assert await Deliverer(app.state, {"sms": Sms(settings)}).deliver(row.tenant_id, row.id) == "sent"
    [row] = await _sms_rows(app)
    assert row.status == "sent" and row.last_error is None and row.attempts == 2
    assert [r["OutId"] for r in sms.accepted] == [str(row.id)]


@pytest.mark.usefixtures("world")
async def test_a_throttled_send_is_retried_by_the_worker_after_its_backoff(
        app: Litestar, client: AsyncClient, auth: Auth, drain: Any, sms: SmsProvider) -> None:
    sms.fail_next = 1
    await accepted_concern(client, auth)
    await drain()
    [row] = await _sms_rows(app)
    assert row.status == "pending" and "isv.BUSINESS_LIMIT_CONTROL" in (row.last_error or "")
    assert sms.refused == ["isv.BUSINESS_LIMIT_CONTROL"] and sms.accepted == []
    await asyncio.sleep(2.5)  # the job engine's first backoff: 2 s
    await drain()
    [row] = await _sms_rows(app)
    assert row.status == "sent" and row.attempts == 2 and len(sms.accepted) == 1

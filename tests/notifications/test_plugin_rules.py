"""Plugins add their own rules: a deputy hears of new duty-list items from a reception; a CPPCC research group
of its training and of a department's answer; a department of a problem referred to it."""

from __future__ import annotations

import sys
import types
from types import SimpleNamespace
from typing import Any

import pytest
from httpx import AsyncClient

from core.hookspecs import hookimpl
from core.notifications.channels import Address, Message
from core.notifications.delivery import channels
from core.notifications.rules import Rule, concern_facts, reporters
from core.plugins import Plugins
from core.settings import Settings
from tests.conftest import Auth
from tests.helpers import CITY, LIAISON, TODAY, cppcc_topic, reception, station


async def _kinds(client: AsyncClient, auth: Auth, who: str) -> list[str]:
    response = await client.get("/api/v1/me/notifications", headers=await auth(who))
    assert response.status_code == 200, response.text
    return [item["kind"] for item in response.json()["items"]]


@pytest.mark.usefixtures("world")
async def test_a_deputy_hears_of_duty_items_staff_recorded_for_them_not_of_their_own(
        client: AsyncClient, auth: Auth) -> None:
    site = await station(client, auth)
    recorded = await client.post(f"{LIAISON}/receptions", headers=await auth("cstaff"), json={
        "station": site["id"], "deputy": "deputy2", "held_at": "2026-07-20T09:30:00+08:00", "residents_received": 3,
        "requests": [{"title": f"诉求{i}", "description": "楼道灯坏了", "category": "environment",
                      "resident_name": "居民"} for i in range(2)]})
    assert recorded.status_code == 201, recorded.text
    items = (await client.get("/api/v1/me/notifications", headers=await auth("deputy2"))).json()["items"]
    assert [i["kind"] for i in items] == ["liaison.duty_item"] * 2
    assert all(i["subject"] == "新的履职事项" and i["link"] == "/t/comm-a/deputy" for i in items)
    before = await _kinds(client, auth, "deputy")
    await reception(client, auth, deputy="deputy", requests=1)  # the deputy records their own reception
    assert await _kinds(client, auth, "deputy") == before  # nobody is told of what they did themselves


@pytest.mark.usefixtures("world")
async def test_a_research_group_hears_of_training_and_a_department_of_its_problem(
        client: AsyncClient, auth: Auth) -> None:
    topic_id = await cppcc_topic(client, auth)
    admin = await auth("admin")
    trained = await client.post(f"{CITY}/topics/{topic_id}/trainings", headers=admin,
                                json={"date": TODAY.isoformat(), "title": "物业管理条例"})
    assert trained.status_code == 201, trained.text
    [training] = (await client.get("/api/v1/me/notifications", headers=await auth("member"))).json()["items"]
    assert training["kind"] == "cppcc.training" and "物业管理条例" in training["body"]
    assert training["link"] == f"/t/city-a/cppcc/topics/{topic_id}"
    assert await _kinds(client, auth, "member2") == []  # not in the research group
    granted = await client.post("/api/v1/tenants/city-a/members", headers=admin,
                                json={"user": "zhujian", "role": "department"})
    assert granted.status_code == 201, granted.text
    problem = await client.post(f"{CITY}/topics/{topic_id}/problems", headers=await auth("member"), json={
        "text": "某小区物业合同到期未续", "kind": "individual", "department": "zhujian"})
    assert problem.status_code == 201, problem.text
    assert await _kinds(client, auth, "zhujian") == ["cppcc.referred"]
    answered = await client.post(f"{CITY}/problems/{problem.json()['id']}/answer", headers=await auth("zhujian"),
                                 json={"answer": "已督促选聘物业"})
    assert answered.status_code == 200, answered.text
    assert sorted(await _kinds(client, auth, "member")) == ["cppcc.answered", "cppcc.training"]


def _plugin(name: str, **hooks: Any) -> str:
    module = types.ModuleType(name)
    module.NAME = name  # type: ignore[attr-defined]
    for attribute, value in hooks.items():
        setattr(module, attribute, hookimpl(value))
    sys.modules[name] = module
    return name


class Pigeon:
    """A channel a plugin adds: it keeps what it was given."""

    name, per_second = "pigeon", 100.0

    def __init__(self) -> None:
        self.sent: list[tuple[Message, Address]] = []

    def configured(self) -> bool:
        return True

    async def send(self, message: Message, to: Address) -> str:
        self.sent.append((message, to))
        return f"pigeon-{len(self.sent)}"


def test_a_plugins_rules_apply_only_where_it_is_enabled_and_its_channels_join_the_core_s() -> None:
    rule = Rule("concern.accept", "pigeon.accepted", reporters, concern_facts,
                texts={"zh-CN": ("信鸽", "{reference}"), "en": ("Pigeon", "{reference}")})
    pigeon = Pigeon()

    def yishi_notification_rules() -> list[Any]:
        return [rule]

    def yishi_notification_channels(settings: Any) -> list[Any]:
        return [pigeon]

    plugins = Plugins(builtin=[_plugin("pigeon_post", yishi_notification_rules=yishi_notification_rules,
                                       yishi_notification_channels=yishi_notification_channels)],
                      entry_point_group=None)
    assert plugins.notification_rules(SimpleNamespace(plugins=["pigeon_post"])) == [rule]
    assert plugins.notification_rules(SimpleNamespace(plugins=[])) == []
    found = channels(Settings(), plugins)
    assert found["pigeon"] is pigeon and {"email", "sms", "webhook"} <= set(found)

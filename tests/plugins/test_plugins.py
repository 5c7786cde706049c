"""The plugin system: loading (built-in and entry point), per-tenant switching, hook isolation, meta-tests."""

from __future__ import annotations

import ast
import asyncio
import logging
import sys
import types
from pathlib import Path

import pytest
from httpx import AsyncClient

from core import hookspecs
from core.app import create_app
from core.hookspecs import hookimpl
from core.plugins import Plugins
from tests.conftest import ROOT, Auth, DatabaseUnderTest, http_client
from tests.helpers import BASE, WATER, topic_at

SAMPLE = ROOT / "tests" / "sample_plugin"
HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("yishi_"))


def _module(name: str, **functions) -> types.ModuleType:  # type: ignore[no-untyped-def]
    module = types.ModuleType(name)
    module.NAME = name
    for attribute, value in functions.items():
        setattr(module, attribute, value)
    sys.modules[name] = module
    return module


# --- meta-tests ---------------------------------------------------------------------------------------------

def test_every_hook_is_documented_in_docs_plugins_md() -> None:
    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    assert HOOKS and all(f"`{hook}(" in text for hook in HOOKS), [h for h in HOOKS if f"`{h}(" not in text]
    for hook in HOOKS:
        assert getattr(hookspecs, hook).__doc__, hook


def test_every_hook_has_a_test() -> None:
    tests = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py")
                    if p.name != "test_plugins.py")
    this = Path(__file__).read_text(encoding="utf-8")
    test_bodies = "".join(ast.get_source_segment(this, node) or "" for node in ast.parse(this).body
                          if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and node.name.startswith("test_")
                          and node.name not in ("test_every_hook_has_a_test", "test_every_hook_is_documented_in_docs_plugins_md"))
    missing = [hook for hook in HOOKS if hook not in test_bodies and hook not in tests]
    assert not missing, missing


# --- loading -------------------------------------------------------------------------------------------------

def test_a_hookimpl_that_matches_no_hook_fails_at_start_up() -> None:
    @hookimpl
    def yishi_register_rulez(register) -> None:  # type: ignore[no-untyped-def]
        """The misspelled hook under test: its body never matters, pluggy must refuse its name."""

    _module("typo_plugin", yishi_register_rulez=yishi_register_rulez)
    with pytest.raises(Exception, match="yishi_register_rulez"):
        Plugins(builtin=["typo_plugin"], entry_point_group=None)


def test_a_plugin_route_outside_the_tenant_prefix_is_refused() -> None:
    from litestar import Controller

    class Loose(Controller):
        path = "/api/v1/everything"

    @hookimpl
    def yishi_register_routes(register) -> None:  # type: ignore[no-untyped-def]
        register(Loose)

    _module("loose_plugin", yishi_register_routes=yishi_register_routes)
    with pytest.raises(RuntimeError, match="must start with"):
        Plugins(builtin=["loose_plugin"], entry_point_group=None)


def test_the_sample_third_party_plugin_loads_through_its_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(SAMPLE))
    plugins = Plugins()
    assert "sample" in plugins.names and "liaison_station" in plugins.names
    assert plugins.info["sample"].version == "0.0.1"
    assert "sample.hello" in plugins.contributions.actions  # yishi_register_rules
    assert plugins.contributions.mechanisms["sample_circle"] == ("示例议事圈", "sample")  # yishi_register_mechanisms
    assert "sample" in plugins.contributions.routes  # yishi_register_routes
    assert "sample" not in Plugins(entry_point_group=None).names


@pytest.mark.usefixtures("world")
async def test_the_sample_plugin_works_only_where_enabled(database: DatabaseUnderTest, auth: Auth,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(SAMPLE))
    app = create_app(database.settings)
    import yishi_sample_plugin

    yishi_sample_plugin.HEARD.clear()
    async with http_client(app) as client:
        token = (await client.post("/api/v1/auth/token", json={"username": "cstaff", "password": "password-123"})).json()
        staff = {"Authorization": f"Bearer {token['access_token']}"}
        assert (await client.get(f"{BASE}/sample/hello", headers=staff)).status_code == 404
        enabled = await client.patch(BASE, json={"plugins": ["liaison_station", "sample"]}, headers=staff)
        assert enabled.status_code == 200, enabled.text
        hello = await client.get(f"{BASE}/sample/hello", headers=staff)
        assert hello.status_code == 200 and hello.json() == {"hello": "甲社区"}
        await client.post(f"{BASE}/concerns", json=WATER, headers=staff)  # yishi_on_event, comm-a enabled it
        token_b = (await client.post("/api/v1/auth/token", json={"username": "bstaff", "password": "password-123"})).json()
        await client.post("/api/v1/tenants/comm-b/concerns", json=WATER,
                          headers={"Authorization": f"Bearer {token_b['access_token']}"})
    assert yishi_sample_plugin.HEARD == ["comm-a:concern.filed"]
    await app.state.engine.dispose()


@pytest.mark.usefixtures("world")
async def test_switching_a_plugin_off_removes_its_routes(client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    assert (await client.get(f"{BASE}/liaison/stations", headers=staff)).status_code == 200
    assert (await client.get("/api/v1/tenants/comm-b/liaison/stations", headers=await auth("bstaff"))).status_code == 404
    off = await client.patch(BASE, json={"plugins": []}, headers=staff)
    assert off.status_code == 200 and off.json()["plugins"] == []
    gone = await client.get(f"{BASE}/liaison/stations", headers=staff)
    assert gone.status_code == 404 and "liaison_station" in gone.json()["detail"]


@pytest.mark.usefixtures("world")
async def test_enabling_an_unknown_plugin_names_the_installed_ones(client: AsyncClient, auth: Auth) -> None:
    response = await client.patch(BASE, json={"plugins": ["red_lantern"]}, headers=await auth("cstaff"))
    assert response.status_code == 422
    assert "red_lantern" in response.json()["detail"] and "liaison_station" in response.json()["detail"]


def test_the_cores_mechanisms_register_like_a_plugins_and_no_plugin_takes_their_codes() -> None:
    bare = Plugins(builtin=(), entry_point_group=None)
    assert bare.names == () and bare.mechanism_names() == {"monthly": "每月一议事", "on_demand": "有事来商量"}

    @hookimpl
    def yishi_register_mechanisms(register) -> None:  # type: ignore[no-untyped-def]
        register("monthly", "每月一议")

    _module("greedy_plugin", yishi_register_mechanisms=yishi_register_mechanisms)
    with pytest.raises(RuntimeError, match="mechanism monthly is core's"):
        Plugins(builtin=["greedy_plugin"], entry_point_group=None)


@pytest.mark.usefixtures("world")
async def test_an_app_without_plugins_has_none_of_their_mechanisms(app, client: AsyncClient, auth: Auth,  # type: ignore[no-untyped-def]
                                                                   database: DatabaseUnderTest) -> None:
    """`app` (the session's) was built first, with the built-in plugins; comm-a has liaison_station switched on."""
    meeting = {"mechanism": "liaison_station", "venue": "庭院", "starts_at": "2026-07-25T19:00:00+08:00"}
    topic, _ = await topic_at(client, auth, "researching")
    held = await client.post(f"{BASE}/topics/{topic}/meetings", headers=await auth("cstaff"), json=meeting)
    assert held.status_code == 201 and held.json()["mechanism_name"] == "庭院联络站议事会"
    bare = create_app(database.settings, Plugins(builtin=(), entry_point_group=None))
    async with http_client(bare) as bare_client:
        bare_auth = Auth(bare_client)
        topic, _ = await topic_at(bare_client, bare_auth, "researching")
        refused = await bare_client.post(f"{BASE}/topics/{topic}/meetings", headers=await bare_auth("cstaff"),
                                         json=meeting)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["message"] == "协商形式须为 monthly, on_demand 之一"
        # The public calendar names a meeting by the mechanisms of the app serving it.
        feed = await bare_client.get("/t/comm-a/meetings.ics")
        assert feed.status_code == 200 and "庭院联络站议事会" not in feed.text and "liaison_station：" in feed.text
    await bare.state.engine.dispose()
    assert "庭院联络站议事会：" in (await client.get("/t/comm-a/meetings.ics")).text


@pytest.mark.usefixtures("world")
async def test_a_raising_plugin_never_touches_tenants_without_it(database: DatabaseUnderTest,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    @hookimpl
    async def yishi_on_event(session, tenant, event) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    _module("broken_plugin", yishi_on_event=yishi_on_event)
    app = create_app(database.settings, Plugins(builtin=["plugins.liaison_station", "broken_plugin"],
                                                entry_point_group=None))
    async with http_client(app) as client:
        async def headers(user: str) -> dict[str, str]:
            body = (await client.post("/api/v1/auth/token", json={"username": user, "password": "password-123"})).json()
            return {"Authorization": f"Bearer {body['access_token']}"}

        fine = await client.post("/api/v1/tenants/comm-b/concerns", json=WATER, headers=await headers("bstaff"))
        assert fine.status_code == 201
        staff = await headers("cstaff")
        await client.patch(BASE, json={"plugins": ["broken_plugin"]}, headers=staff)
        with caplog.at_level(logging.ERROR, logger="yishi.plugins"):
            refused = await client.post(f"{BASE}/concerns", json=WATER, headers=staff)
        assert refused.status_code == 500 and "Traceback" not in refused.text
        assert any("plugin broken_plugin failed" in r.getMessage() for r in caplog.records)
        listed = (await client.get(f"{BASE}/concerns", headers=staff)).json()
        assert listed["total"] == 0  # the refused change left nothing behind
    await app.state.engine.dispose()


def test_plugin_migrations_are_on_their_own_branch() -> None:
    folders = Plugins(entry_point_group=None).contributions.migrations  # yishi_migrations
    assert [f.parent.name for f in folders] == ["cppcc_consultation", "liaison_station", "red_pavilion"]
    for folder in folders:
        revision = sorted(folder.glob("*.py"))[0].read_text(encoding="utf-8")  # the branch's first
        assert f"branch_labels = ('{folder.parent.name}',)" in revision and "enable_tenant_wall" in revision


def test_plugin_cli_commands_join_yishi() -> None:
    import click

    from core.cli import main

    @click.command("hello-plugin")
    def hello() -> None:
        click.echo("你好")

    @hookimpl
    def yishi_cli(group) -> None:  # type: ignore[no-untyped-def]
        group.add_command(hello)

    _module("cli_plugin", yishi_cli=yishi_cli)
    plugins = Plugins(builtin=["cli_plugin"], entry_point_group=None)
    from click.testing import CliRunner

    from core.cli import Invocation

    assert CliRunner().invoke(main, ["hello-plugin"], obj=Invocation(plugins)).output == "你好\n"
    assert "hello-plugin" in CliRunner().invoke(main, ["--help"], obj=Invocation(plugins)).output
    # The command is the invocation's: `yishi` itself, and an invocation without the plugin, never hold it.
    assert "hello-plugin" not in main.commands
    assert CliRunner().invoke(main, ["hello-plugin"]).exit_code == 2


@pytest.mark.usefixtures("clean")
async def test_plugins_list_and_demo_hook(yishi) -> None:  # noqa: F811
    demo = await asyncio.to_thread(yishi, "demo")  # runs every plugin's yishi_demo
    assert "case liaison_station.yuehai_rubbish: closed" in demo.output
    listed = await asyncio.to_thread(yishi, "plugins", "list")
    assert "liaison_station 1.0.0" in listed.output and "yuehai" in listed.output


@pytest.mark.usefixtures("world")
async def test_a_guard_refuses_a_command_and_statistics_join_the_tenants(database: DatabaseUnderTest) -> None:
    from core.errors import Conflict

    @hookimpl
    async def yishi_workflow_guard(session, tenant, topic, command, to_state) -> None:  # type: ignore[no-untyped-def]
        if command == "publish":
            raise Conflict("本社区规定：公开前须经党委审定")

    @hookimpl
    async def yishi_statistics(session, tenant, date_from, date_to) -> dict:  # type: ignore[no-untyped-def]
        return {"checked": 1}

    _module("rules_plugin", yishi_workflow_guard=yishi_workflow_guard, yishi_statistics=yishi_statistics)
    app = create_app(database.settings, Plugins(builtin=["plugins.liaison_station", "plugins.red_pavilion",
                                                         "rules_plugin"], entry_point_group=None))
    async with http_client(app) as client:
        auth = Auth(client)
        staff = await auth("cstaff")
        topic_id, _ = await topic_at(client, auth, "deliberated")
        assert (await client.post(f"{BASE}/topics/{topic_id}/publish", headers=staff)).status_code == 200
        other, _ = await topic_at(client, auth, "deliberated")
        await client.patch(BASE, json={"plugins": ["rules_plugin", "red_pavilion"]}, headers=staff)
        refused = await client.post(f"{BASE}/topics/{other}/publish", headers=staff)
        assert refused.status_code == 409 and "党委审定" in refused.json()["detail"]
        state = (await client.get(f"{BASE}/topics/{other}", headers=staff)).json()["topic"]["state"]
        assert state == "deliberated"
        stats = (await client.get(f"{BASE}/stats", headers=staff)).json()
        assert stats["plugins"] == {"rules_plugin": {"checked": 1},
                                    "red_pavilion": {"sessions_held": 0, "party_member_participations": 0}}
        other_stats = (await client.get("/api/v1/tenants/comm-b/stats", headers=await auth("bstaff"))).json()
        assert other_stats["plugins"] == {}
    await app.state.engine.dispose()


async def test_every_installed_plugin_erases_its_old_phones_even_where_it_is_switched_off() -> None:
    erased: list[tuple[str, object]] = []

    def erasing(name: str, count: int):  # type: ignore[no-untyped-def]
        @hookimpl
        async def yishi_erase_old_phones(session, tenant, closed_before) -> int:  # type: ignore[no-untyped-def]
            erased.append((name, closed_before))
            return count
        return yishi_erase_old_phones

    _module("keeper_one", yishi_erase_old_phones=erasing("keeper_one", 2))
    _module("keeper_two", yishi_erase_old_phones=erasing("keeper_two", 3))
    plugins = Plugins(builtin=["keeper_one", "keeper_two"], entry_point_group=None)
    tenant = types.SimpleNamespace(plugins=[])  # neither is on here: what they kept while on is erased anyway
    assert await plugins.erase_old_phones(None, tenant, "cutoff") == 5
    assert sorted(erased) == [("keeper_one", "cutoff"), ("keeper_two", "cutoff")]

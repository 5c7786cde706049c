"""The operator command `yishi`: migrations, manifests (idempotent), users and grants, on each backend."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from core.db import ALL_TENANTS, tenant_tables
from tenants import DEMO_MANIFEST

pytestmark = pytest.mark.usefixtures("clean")


def test_migrate_is_repeatable(yishi) -> None:
    for _ in range(2):
        result = yishi("migrate")
        assert result.exit_code == 0, result.output


def test_demo_manifest_applies_idempotently(yishi) -> None:
    first = yishi("tenants", "apply", str(DEMO_MANIFEST))
    assert first.exit_code == 0, first.output
    assert "tenant jianshexiang" in first.output and "building jianshexiang/银巴小区/14号楼" in first.output
    again = yishi("tenants", "apply", str(DEMO_MANIFEST))
    assert again.exit_code == 0 and "新建 0，更新 0" in again.output


async def test_demo_replays_the_articles_cases_through_the_api(yishi, client) -> None:
    first = await asyncio.to_thread(yishi, "demo")
    assert first.exit_code == 0, first.output
    for case, step in [("drinking_water", "completed"), ("roof_rubbish", "completed"),
                       ("chargers_and_cameras", "completed"), ("poplar_tree", "completed"),
                       ("basketball_court", "executing"), ("time_limits", "set by 西夏区"),
                       ("reopened_concern", "reopened"),
                       ("related_concerns", "5 about charging accepted, a lift reported twice"),
                       ("late_concerns", "filed 3 days and 20 hours ago, unanswered"),
                       ("liaison_station.yuehai_rubbish", "closed"),
                       ("liaison_station.yuehai_parking", "received"),
                       ("red_pavilion.jianshexiang_pavilion", "2 sessions held, next monthly planned"),
                       ("cppcc_consultation.wuzhong_property_management",
                        "22 compounds, 68 problems, 3 aspects, 4 recommendations"),
                       ("cppcc_consultation.wangdu_shoe_ip", "symposium held, 2 recommendations adopted")]:
        assert f"case {case}: {step}" in first.output
    second = await asyncio.to_thread(yishi, "demo")
    assert "case time_limit_sweep: concern.auto_escalated 1, concern.deadline_warning 1" in first.output
    assert second.exit_code == 0 and second.output.count(": skipped") == 13  # 9 core cases + the plugins' 4
    assert "case time_limit_sweep: nothing due" in second.output
    results = (await client.get("/api/v1/tenants/jianshexiang/public/results")).json()
    assert results["total"] == 3 and {r["state"] for r in results["items"]} == {"completed"}
    court = (await client.get("/api/v1/tenants/mengyuan/public/results")).json()["items"][0]
    assert court["state"] == "executing" and court["actions"][0]["percent"] == 60
    figures = (await client.get("/api/v1/tenants/jianshexiang/public/stats")).json()
    assert figures["consultations_held"] == 3 and figures["matters_completed"] == 3
    headers = {"Authorization": "Bearer " + (await client.post("/api/v1/auth/token", json={
        "username": "jsx_staff", "password": "yishi-demo"})).json()["access_token"]}
    limits = (await client.get("/api/v1/tenants/jianshexiang/time-limits", headers=headers)).json()
    concerns = (await client.get("/api/v1/tenants/jianshexiang/concerns", headers=headers)).json()["items"]
    drain = next(c for c in concerns if c["title"] == "14号楼下水道返味")
    assert (drain["status"], drain["reopened"], drain["deadlines"]["light"]) == ("accepted", 1, "green")
    # The sweep escalated the lift nobody answered for three days to 北京西路街道; the lamp is yellow.
    lift = next(c for c in concerns if c["title"] == "3号楼电梯停运")
    lamp = next(c for c in concerns if c["title"] == "小区东门路灯不亮")
    assert (lift["status"], lift["escalated_to"]) == ("escalated", "beijingxilu")
    assert (lamp["status"], lamp["light"]) == ("submitted", "yellow")
    assert {row["resolve"]["source"]["name"] for row in limits["limits"]} == {"西夏区"}
    # The five ways 银巴小区's residents wrote of charging e-bikes: one topic suggested, and this month's hot topic.
    suggested = (await client.get("/api/v1/tenants/jianshexiang/topics/suggestions", headers=headers)).json()
    assert [(s["count"], s["where"]) for s in suggested] == [(5, "银巴小区 11、14号楼")]
    hot = (await client.get("/api/v1/tenants/beijingxilu/related/hot", headers={
        "Authorization": "Bearer " + (await client.post("/api/v1/auth/token", json={
            "username": "bjxl_staff", "password": "yishi-demo"})).json()["access_token"]})).json()
    # The month's hot topic is the suggested five and the article's 飞线充电 concern, already handled this month
    # (suggestions are made of accepted concerns only; a month's hot topics of all it received).
    assert set(suggested[0]["concern_ids"]) <= set(hot["topics"][0]["concern_ids"])
    handled = set(hot["topics"][0]["concern_ids"]) - set(suggested[0]["concern_ids"])
    assert {(c["title"], c["status"]) for c in concerns if c["id"] in handled} == {("电动车飞线充电，监控有盲区", "completed")}
    tree = (await client.get("/api/v1/tenants/shangqiao/public/results")).json()["items"][0]
    assert {a["owner_org"] for a in tree["actions"]} == {"利通区住建局", "利通区自然资源局"}
    # Issue 16's own check: a resident typing "14号楼楼顶垃圾漏水" in 建设巷社区 is shown the roof-rubbish concern
    # (handled, so shown, not to join); the five residents' words for 充电难 are one topic suggested.
    resident = {"Authorization": "Bearer " + (await client.post("/api/v1/auth/token", json={
        "username": "zhang_rep", "password": "yishi-demo"})).json()["access_token"]}
    shown = (await client.post("/api/v1/tenants/jianshexiang/concerns/similar", headers=resident,
                               json={"title": "14号楼楼顶垃圾漏水", "description": ""})).json()
    roof = next(c for c in concerns if c["title"] == "楼顶建筑垃圾长期堆放，下雨天漏水")
    assert shown[0]["id"] == roof["id"] and shown[0]["status"] == "completed" and not shown[0]["joinable"]


async def test_demo_tree_matches_the_article(yishi, app) -> None:
    from sqlalchemy import select

    from core.tenancy.models import Tenant

    assert (await asyncio.to_thread(yishi, "demo")).exit_code == 0  # the CLI runs its own event loop
    async with app.state.sessionmaker() as session:
        rows = {t.slug: t for t in (await session.scalars(select(Tenant))).all()}
    chain = ["yinchuan", "xixia", "beijingxilu", "jianshexiang"]
    for parent, child in zip(chain, chain[1:], strict=False):
        assert rows[child].parent_id == rows[parent].id
    assert rows["shangqiao"].kind == "community" and rows["shengli"].kind == "town"
    assert rows["yuehai"].path.startswith(rows["jinfeng"].path)
    assert rows["wuzhong"].parent_id is None


def test_users_create_and_grant(yishi) -> None:
    assert yishi("demo").exit_code == 0
    created = yishi("users", "create", "new_staff", "--password", "long-enough", "--name", "新同事",
                    "--phone", "13800001111")
    assert created.exit_code == 0, created.output
    granted = yishi("users", "grant", "new_staff", "community_staff", "mengyuan")
    assert granted.exit_code == 0 and "已授予" in granted.output
    again = yishi("users", "grant", "new_staff", "community_staff", "mengyuan")
    assert "已拥有" in again.output
    admin = yishi("users", "grant", "new_staff", "platform_admin")
    assert admin.exit_code == 0, admin.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("users", "create", "x", "--password", "long-enough"), "用户名"),
        (("users", "create", "someone", "--password", "short"), "密码"),
        (("users", "create", "someone", "--password", "long-enough", "--phone", "12345"), "手机号"),
        (("users", "grant", "ghost", "resident", "mengyuan"), "没有用户"),
        (("users", "grant", "admin", "resident"), "须指定租户"),
        (("users", "grant", "admin", "platform_admin", "mengyuan"), "不要指定租户"),
        (("users", "grant", "admin", "mayor", "mengyuan"), "未知角色"),
        (("users", "grant", "admin", "resident", "nowhere"), "没有租户"),
    ],
)
def test_bad_operator_input_exits_2_with_a_message(yishi, args: tuple[str, ...], message: str) -> None:
    assert yishi("demo").exit_code == 0
    result = yishi(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_a_manifest_cannot_move_a_tenant_or_carry_unknown_keys(yishi, tmp_path: Path) -> None:
    assert yishi("demo").exit_code == 0
    moved = tmp_path / "moved.yaml"
    moved.write_text("parent: jinfeng\ntenants:\n  - {slug: manchengbeijie, name: 满城北街街道, kind: street}\n"
                     "  - {slug: beijingxilu, name: 北京西路街道, kind: street}\n", encoding="utf-8")
    result = yishi("tenants", "apply", str(moved))
    assert result.exit_code == 2 and "不能移动" in result.output
    typo = tmp_path / "typo.yaml"
    typo.write_text("tenants:\n  - {slug: abc, name: 某市, kind: city, colour: red}\n", encoding="utf-8")
    result = yishi("tenants", "apply", str(typo))
    assert result.exit_code != 0 and "colour" in result.output


def test_citus_plan_prints_reference_tables_first_and_the_plugins_tables_too(yishi) -> None:
    result = yishi("citus", "plan")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("SELECT")]
    assert lines[:2] == ["SELECT create_reference_table('tenant');", "SELECT create_reference_table('user_account');"]
    distributed = [line for line in lines if "create_distributed_table" in line]
    assert any("'duty_item'" in line for line in distributed)  # a plugin's (the liaison station's) table
    assert all("colocate_with" in line for line in distributed[1:])


_TABLE_NAMED = re.compile(r'\b(?:FROM|JOIN|UPDATE|INTO)\s+"?([a-z0-9_]+)"?', re.IGNORECASE)


async def test_every_statement_of_the_demo_on_a_tenant_table_names_its_tenant(yishi: Any) -> None:
    """Citus sends a statement to one tenant's shard by the `tenant_id` it carries: the whole demo replay — the
    article's cases through the API, the plugins', the sweep, the fan-out — is recorded, and every statement on a
    tenant table names `tenant_id`, except those marked as reading across tenants by design (`ALL_TENANTS`: a
    person's own roles and inbox in every tenant, the platform's sweeps), which Citus runs on every shard."""
    tenant = set(tenant_tables())
    unnamed: Counter[str] = Counter()
    recorded: list[int] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if not set(_TABLE_NAMED.findall(statement)) & tenant:
            return
        recorded.append(1)
        if "tenant_id" not in statement and not (context is not None and context.execution_options.get(ALL_TENANTS)):
            unnamed[" ".join(statement.split())[:240]] += 1

    event.listen(Engine, "before_cursor_execute", record)
    try:
        result = await asyncio.to_thread(yishi, "demo")
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert result.exit_code == 0, result.output
    assert len(recorded) > 1000  # the replay's statements on tenant tables were seen
    assert not unnamed, "\n".join(f"{n} × {s}" for s, n in unnamed.most_common())

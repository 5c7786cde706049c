"""The CPPCC research consultation done whole in the portal: the office's plan and topics (research group picked
by name), the guard shown and kept, visits by community, symposia, the problem list, recommendations and
follow-up, the department's own page for its answers, the outcome report page; refusals name each bad field
and keep what was typed; one event per change; another tenant sees none of it."""

from __future__ import annotations

import datetime

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core import clock
from core.events import WorkflowEvent
from tests.conftest import Auth
from tests.helpers import cppcc_topic, sign_in, submit, text_of

pytestmark = pytest.mark.usefixtures("world")
DAY = clock.today()
PORTAL = "/t/city-a/cppcc"
MADE = ["cppcc.plan_created", "cppcc.topic_created"]  # the events of cppcc_topic()'s plan and topic


async def _grant(client: AsyncClient, auth: Auth, username: str, role: str) -> None:
    granted = await client.post("/api/v1/tenants/city-a/members", headers=await auth("admin"),
                                json={"user": username, "role": role})
    assert granted.status_code == 201, granted.text


async def _actions(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(WorkflowEvent.action).where(WorkflowEvent.action.like("cppcc.%"))
                                  .order_by(WorkflowEvent.seq))
        return [row[0] for row in rows]


async def test_the_office_makes_the_plan_and_a_topic_with_its_group_picked_by_name(
        client: AsyncClient, auth: Auth, owner_engine: AsyncEngine) -> None:
    await _grant(client, auth, "deputy", "cppcc_member")  # 甲代表, who is also a CPPCC member here
    await sign_in(client, "city-a", "admin")
    refused = await submit(client, PORTAL, f"{PORTAL}/plans", {"year": "二〇二四", "title": " "})
    assert refused.status_code == 422
    body = text_of(refused)
    assert "年度：请填写四位数年份" in body and "计划名称不能为空" in body and 'value="二〇二四"' in refused.text
    made = await submit(client, PORTAL, f"{PORTAL}/plans", {"year": str(DAY.year), "title": "甲市政协年度协商计划"})
    assert made.status_code == 303 and made.headers["location"].endswith("?done=plan")
    again = await submit(client, PORTAL, f"{PORTAL}/plans", {"year": str(DAY.year), "title": "重复的计划"})
    assert again.status_code == 409 and f"{DAY.year} 年的协商计划已存在" in text_of(again)
    assert 'value="重复的计划"' in again.text
    overview = await client.get(PORTAL)
    assert "年度协商计划已制定" not in text_of(overview)  # the notice is only after the change
    assert "甲代表" in text_of(overview) and ">deputy<" not in overview.text  # the member picked by name
    plan_id = overview.text.split(f"{PORTAL}/plans/")[1].split("/topics")[0]
    empty = await submit(client, PORTAL, f"{PORTAL}/plans/{plan_id}/topics", {"title": ""})
    assert empty.status_code == 422
    assert "专题名称不能为空" in text_of(empty) and "调研组至少要有一名政协委员" in text_of(empty)
    topic = await submit(client, PORTAL, f"{PORTAL}/plans/{plan_id}/topics",
                         {"title": "规范和加强小区物业管理", "members": ["deputy", "member"]})
    assert topic.status_code == 303
    page = await client.get(topic.headers["location"])
    assert page.status_code == 200
    assert "甲代表、member" in text_of(page)
    assert "专题已确定，调研组已组建" in text_of(page)
    assert await _actions(owner_engine) == ["cppcc.plan_created", "cppcc.topic_created"]


async def test_the_topic_page_shows_the_guard_and_visits_wait_for_training(client: AsyncClient, auth: Auth,
                                                                           owner_engine: AsyncEngine) -> None:
    topic_id = await cppcc_topic(client, auth)
    await sign_in(client, "city-a", "member")
    url = f"{PORTAL}/topics/{topic_id}"
    page = await client.get(url)
    body = text_of(page)
    assert "不学习就不调研、不调研就不协商" in body and 'id="visit-locked"' in page.text
    assert 'id="visit-form"' not in page.text and "未解锁" in body
    visit = {"community": "comm-b", "date": DAY.isoformat(), "compounds": "乙小区", "findings": "物业低散乱"}
    early = await submit(client, url, f"{url}/visits", visit)
    assert early.status_code == 409 and "不学习就不调研" in text_of(early) and "物业低散乱" in early.text
    bad = await submit(client, url, f"{url}/trainings", {"date": "5月6日", "title": ""})
    assert bad.status_code == 422
    assert "日期：请填写有效日期" in text_of(bad) and "学习内容不能为空" in text_of(bad) and 'value="5月6日"' in bad.text
    trained = await submit(client, url, f"{url}/trainings", {"date": DAY.isoformat(), "title": "物业管理法律法规",
                                                            "attendees": ["member"]})
    assert trained.status_code == 303
    page = await client.get(url)
    assert 'id="visit-form"' in page.text and 'id="visit-locked"' not in page.text
    assert '<option value="comm-b"' in page.text and "乙社区" in page.text  # picked by name, below the city
    too_early = await submit(client, url, f"{url}/visits",
                             {**visit, "date": (DAY - datetime.timedelta(days=3)).isoformat()})
    assert too_early.status_code == 409 and "不学习就不调研" in text_of(too_early)
    wrong = await submit(client, url, f"{url}/visits", {**visit, "community": "street-a", "compounds": " "})
    assert wrong.status_code == 422
    assert "调研的社区须在本级辖区之内" in text_of(wrong) and "至少记录一个走访的小区" in text_of(wrong)
    assert "物业低散乱" in wrong.text
    done = await submit(client, url, f"{url}/visits", {**visit, "compounds": "乙小区、丙小区"})
    assert done.status_code == 303
    page = text_of(await client.get(url))
    assert "乙社区" in page and "乙小区、丙小区" in page and " comm-b" not in page
    assert await _actions(owner_engine) == [*MADE, "cppcc.training", "cppcc.visited"]  # none of the refusals


async def test_symposia_problems_recommendations_follow_up_and_the_report(client: AsyncClient, auth: Auth,
                                                                          owner_engine: AsyncEngine) -> None:
    topic_id = await cppcc_topic(client, auth)
    await _grant(client, auth, "zhujian", "department")
    await sign_in(client, "city-a", "member")
    url = f"{PORTAL}/topics/{topic_id}"
    bad = await submit(client, url, f"{url}/symposia",
                       {"group": "", "date": DAY.isoformat(), "participants": "十几", "statements": "收费难"})
    assert bad.status_code == 422
    body = text_of(bad)
    assert "座谈对象" in body and "参会人数：请填写整数" in body and "每条发言须写明发言方和发言内容" in body
    assert "收费难" in bad.text
    held = await submit(client, url, f"{url}/symposia", {
        "group": "property_companies", "date": DAY.isoformat(), "participants": "6",
        "statements": "物业公司：停车难问题比较突出\n物业公司：物业费收缴不及时"})
    assert held.status_code == 303
    no_aspect = await submit(client, url, f"{url}/problems", {"text": "制度不完善", "kind": "common", "aspect": ""})
    assert no_aspect.status_code == 422 and "问题方面不能为空" in text_of(no_aspect) and "制度不完善" in no_aspect.text
    common = await submit(client, url, f"{url}/problems", {"text": "制度不完善", "kind": "common", "aspect": "体制机制"})
    assert common.status_code == 303
    page = await client.get(url)
    assert '<option value="zhujian">甲区住建局</option>' in page.text  # the department picked by its name
    no_department = await submit(client, url, f"{url}/problems", {"text": "合同到期", "kind": "individual"})
    assert no_department.status_code == 422 and "责任部门不能为空" in text_of(no_department)
    referred = await submit(client, url, f"{url}/problems",
                            {"text": "某小区合同到期", "kind": "individual", "department": "zhujian"})
    assert referred.status_code == 303 and "done=referred" in referred.headers["location"]
    page = await client.get(url)
    common_id = page.text.split('name="problem_ids" value="')[1].split('"')[0]
    unlinked = await submit(client, url, f"{url}/recommendations", {"text": "完善法规制度机制"})
    assert unlinked.status_code == 422 and "意见建议须对应本专题问题清单中的问题" in text_of(unlinked)
    assert "完善法规制度机制" in unlinked.text
    written = await submit(client, url, f"{url}/recommendations", {"text": "完善法规制度机制", "problem_ids": [common_id]})
    assert written.status_code == 303
    page = await client.get(url)
    assert "对应 1 个问题 · 体制机制" in text_of(page) and "待反馈" in text_of(page)
    recommendation_id = page.text.split('id="recommendation-')[1].split('"')[0]
    follow = f"{url}/recommendations/{recommendation_id}/follow-up"
    assert (await submit(client, url, follow, {"adopted": "yes"})).status_code == 403  # the office follows up
    await sign_in(client, "city-a", "admin")
    missing = await submit(client, url, follow, {"note": "已转市政府研究办理"})
    assert missing.status_code == 422 and "是否采纳" in text_of(missing) and "已转市政府研究办理" in missing.text
    followed = await submit(client, url, follow, {"adopted": "yes", "note": "已转市政府研究办理"})
    assert followed.status_code == 303
    report = await client.get(f"{url}/report")
    assert report.status_code == 200
    body = text_of(report)
    assert "甲市政协" in body and "专题协商成果报告：规范和加强小区物业管理" in body and "已转市政府研究办理" in body
    assert "停车难问题比较突出" in body and "甲区住建局" in body and "乙社区" not in body
    assert f'href="{url}/report.md"' in report.text and f'href="{url}/report.docx"' in report.text
    word = await client.get(f"{url}/report.docx")
    assert word.status_code == 200 and word.content[:2] == b"PK"
    assert await _actions(owner_engine) == [*MADE, "cppcc.symposium", "cppcc.problem_listed", "cppcc.referred",
                                            "cppcc.recommended", "cppcc.followed_up"]


async def test_the_department_answers_on_its_own_page(client: AsyncClient, auth: Auth) -> None:
    topic_id = await cppcc_topic(client, auth)
    await _grant(client, auth, "zhujian", "department")
    problem = await client.post(f"/api/v1/tenants/city-a/cppcc/topics/{topic_id}/problems", headers=await auth("member"),
                                json={"text": "某小区合同到期", "kind": "individual", "department": "zhujian"})
    assert problem.status_code == 201
    await sign_in(client, "city-a", "zhujian")
    overview = text_of(await client.get(PORTAL))
    assert "交办本部门的问题" in overview and "共 1 个交办问题，1 个待答复" in overview
    page = await client.get(f"{PORTAL}/referred")
    assert page.status_code == 200 and "某小区合同到期" in text_of(page) and "规范和加强小区物业管理" in text_of(page)
    action = f"{PORTAL}/problems/{problem.json()['id']}/answer"
    empty = await submit(client, f"{PORTAL}/referred", action, {"answer": "  "})
    assert empty.status_code == 422 and "答复不能为空" in text_of(empty)
    answered = await submit(client, f"{PORTAL}/referred", action, {"answer": "已督促选聘物业"})
    assert answered.status_code == 303
    amended = await submit(client, f"{PORTAL}/referred", action, {"answer": "已选聘新物业"})
    assert amended.status_code == 303
    page = text_of(await client.get(f"{PORTAL}/referred?done=answer"))
    assert "答复已记录" in page and "已选聘新物业" in page and "此前的答复" in page and "甲区住建局: 已督促选聘物业" in page
    await sign_in(client, "city-a", "member")
    assert "已选聘新物业" in text_of(await client.get(f"{PORTAL}/topics/{topic_id}"))
    assert (await client.get(f"{PORTAL}/referred")).status_code == 403  # a member is no department
    refused = await submit(client, f"{PORTAL}/topics/{topic_id}", action, {"answer": "越俎代庖"})
    assert refused.status_code == 403


async def test_another_tenant_reaches_none_of_it(client: AsyncClient, auth: Auth) -> None:
    topic_id = await cppcc_topic(client, auth)
    await sign_in(client, "district-b", "badmin")  # district-b enabled the plugin; the topic is city-a's
    other = f"/t/district-b/cppcc/topics/{topic_id}"
    assert (await client.get(other)).status_code == 404
    assert (await client.get(f"{other}/report")).status_code == 404
    for step, data in [("trainings", {"date": DAY.isoformat(), "title": "学"}),
                       ("problems", {"text": "x", "kind": "common", "aspect": "y"})]:
        response = await submit(client, "/t/district-b/cppcc", f"{other}/{step}", data)
        assert response.status_code in (403, 404), step
    assert "规范和加强小区物业管理" not in text_of(await client.get("/t/district-b/cppcc"))
    await sign_in(client, "comm-a", "resident")
    assert (await client.get(f"{PORTAL}/topics/{topic_id}/report")).status_code == 403

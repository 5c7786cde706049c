"""The CPPCC research consultation plugin: plan, research group, training before visits, problems,
recommendations, referrals answered, follow-up, and the outcome report (Markdown and Word)."""

from __future__ import annotations

import datetime
import io

import pytest
from docx import Document
from httpx import AsyncClient

from core import clock
from tests.conftest import Auth
from tests.helpers import CITY, cppcc_topic

pytestmark = pytest.mark.usefixtures("world")
DAY = clock.today()


async def test_no_research_visit_before_training(client: AsyncClient, auth: Auth) -> None:
    topic_id = await cppcc_topic(client, auth)
    member = await auth("member")
    visit = {"community": "comm-a", "date": DAY.isoformat(), "compounds": ["甲小区"], "findings": "看了"}
    early = await client.post(f"{CITY}/topics/{topic_id}/visits", json=visit, headers=member)
    assert early.status_code == 409 and "不学习就不调研" in early.json()["detail"]
    later_training = await client.post(f"{CITY}/topics/{topic_id}/trainings", headers=member, json={
        "date": (DAY + datetime.timedelta(days=1)).isoformat(), "title": "物业法规"})
    assert later_training.status_code == 201
    assert (await client.post(f"{CITY}/topics/{topic_id}/visits", json=visit, headers=member)).status_code == 409
    await client.post(f"{CITY}/topics/{topic_id}/trainings", json={"date": DAY.isoformat(), "title": "物业法规"},
                      headers=member)
    done = await client.post(f"{CITY}/topics/{topic_id}/visits", json=visit, headers=member)
    assert done.status_code == 201 and done.json()["counts"]["compounds_visited"] == 1


async def test_visits_stay_inside_the_plans_tenant_tree(client: AsyncClient, auth: Auth) -> None:
    topic_id = await cppcc_topic(client, auth)
    member = await auth("member")
    await client.post(f"{CITY}/topics/{topic_id}/trainings", json={"date": DAY.isoformat(), "title": "学"}, headers=member)
    for community in ("nowhere", "street-a"):
        response = await client.post(f"{CITY}/topics/{topic_id}/visits", headers=member, json={
            "community": community, "date": DAY.isoformat(), "compounds": ["x"], "findings": "y"})
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "community"


async def test_only_the_research_group_records(client: AsyncClient, auth: Auth) -> None:
    topic_id = await cppcc_topic(client, auth)
    body = {"date": DAY.isoformat(), "title": "学"}
    assert (await client.post(f"{CITY}/topics/{topic_id}/trainings", json=body,
                              headers=await auth("member2"))).status_code == 403
    assert (await client.post(f"{CITY}/topics/{topic_id}/trainings", json=body,
                              headers=await auth("resident"))).status_code == 403
    assert (await client.post(f"{CITY}/plans", json={"year": DAY.year, "title": "x"},
                              headers=await auth("member"))).status_code == 403


async def test_problems_recommendations_answers_and_the_report(client: AsyncClient, auth: Auth) -> None:
    topic_id = await cppcc_topic(client, auth)
    member, admin = await auth("member"), await auth("admin")
    await client.post(f"{CITY}/topics/{topic_id}/trainings", json={"date": DAY.isoformat(), "title": "学"}, headers=member)
    await client.post(f"{CITY}/topics/{topic_id}/visits", headers=member, json={
        "community": "comm-b", "date": DAY.isoformat(), "compounds": ["乙小区", "丙小区"], "findings": "物业低散乱"})
    symposium = await client.post(f"{CITY}/topics/{topic_id}/symposia", headers=member, json={
        "group": "property_companies", "date": DAY.isoformat(), "participants": 6,
        "statements": [{"who": "物业公司", "text": "收费难"}]})
    assert symposium.status_code == 201
    assert (await client.post(f"{CITY}/topics/{topic_id}/symposia", headers=member, json={
        "group": "aliens", "date": DAY.isoformat(), "participants": 1,
        "statements": [{"who": "x", "text": "y"}]})).status_code == 422
    common = await client.post(f"{CITY}/topics/{topic_id}/problems", headers=member,
                               json={"text": "制度不完善", "kind": "common", "aspect": "体制机制"})
    assert common.status_code == 201 and common.json()["kind_name"] == "共性问题"
    assert (await client.post(f"{CITY}/topics/{topic_id}/problems", headers=member,
                              json={"text": "x", "kind": "common"})).status_code == 422
    assert (await client.post(f"{CITY}/topics/{topic_id}/problems", headers=member,
                              json={"text": "x", "kind": "individual"})).status_code == 422
    await departments(client, auth)
    individual = (await client.post(f"{CITY}/topics/{topic_id}/problems", headers=member, json={
        "text": "某小区合同到期", "kind": "individual", "department": "zhujian"})).json()
    assert individual["department"] == "甲区住建局"
    assert (await client.post(f"{CITY}/problems/{individual['id']}/answer", json={"answer": "已处理"},
                              headers=member)).status_code == 403
    assert (await client.post(f"/api/v1/tenants/city-a/cppcc/problems/{common.json()['id']}/answer",
                              json={"answer": "x"}, headers=admin)).status_code == 404
    answered = await client.post(f"{CITY}/problems/{individual['id']}/answer", json={"answer": "已督促选聘物业"},
                                 headers=await auth("zhujian"))
    assert answered.status_code == 200 and answered.json()["answer"] == "已督促选聘物业"
    bad = await client.post(f"{CITY}/topics/{topic_id}/recommendations", headers=member,
                            json={"text": "建议", "problem_ids": []})
    assert bad.status_code == 422
    recommendation = (await client.post(f"{CITY}/topics/{topic_id}/recommendations", headers=member, json={
        "text": "完善法规制度机制", "problem_ids": [common.json()["id"]]})).json()
    followed = await client.post(f"{CITY}/recommendations/{recommendation['id']}/follow-up",
                                 json={"adopted": True, "note": "已采纳"}, headers=admin)
    assert followed.status_code == 200 and followed.json()["adopted"] is True
    detail = (await client.get(f"{CITY}/topics/{topic_id}", headers=member)).json()
    assert detail["counts"] == {"communities_visited": 1, "compounds_visited": 2, "symposia": 1, "problems": 2,
                                "individual_problems": 1, "aspects": 1, "recommendations": 1, "adopted": 1}
    report = await client.get(f"{CITY}/topics/{topic_id}/report.md", headers=member)
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/markdown")
    assert "走访社区 1 个、小区 2 个" in report.text and "完善法规制度机制（已采纳" in report.text
    word = await client.get(f"{CITY}/topics/{topic_id}/report.docx", headers=member)
    assert word.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(word.content)).paragraphs)
    assert "规范和加强小区物业管理" in text and "体制机制" in text


async def test_plans_belong_to_cities_and_districts_and_stay_there(client: AsyncClient, auth: Auth) -> None:
    await cppcc_topic(client, auth)
    assert (await client.post("/api/v1/tenants/district-b/cppcc/plans", json={"year": DAY.year, "title": "乙区计划"},
                              headers=await auth("badmin"))).status_code == 201
    assert (await client.get("/api/v1/tenants/district-b/cppcc/plans", headers=await auth("badmin"))).json()[0]["title"] == "乙区计划"
    duplicate = await client.post(f"{CITY}/plans", json={"year": DAY.year, "title": "again"}, headers=await auth("admin"))
    assert duplicate.status_code == 409
    assert (await client.get("/api/v1/tenants/comm-a/cppcc/plans", headers=await auth("cstaff"))).status_code == 404


async def test_another_tenants_cppcc_ids_are_404(client: AsyncClient, auth: Auth) -> None:
    topic_id = await cppcc_topic(client, auth)
    admin = await auth("admin")
    other = "/api/v1/tenants/district-b/cppcc"
    assert (await client.get(f"{other}/topics/{topic_id}", headers=admin)).status_code == 404
    assert (await client.post(f"{other}/topics/{topic_id}/trainings", json={"date": DAY.isoformat(), "title": "学"},
                              headers=admin)).status_code == 404
    assert (await client.get(f"{other}/topics/{topic_id}/report.md", headers=admin)).status_code == 404
    assert (await client.get(f"{CITY}/topics/{topic_id}", headers=await auth("badmin"))).status_code == 403


async def departments(client: AsyncClient, auth: Auth) -> None:
    """Two department accounts of the city: 甲区住建局 (zhujian) and another department (outsider)."""
    for username in ("zhujian", "outsider"):
        granted = await client.post("/api/v1/tenants/city-a/members", headers=await auth("admin"),
                                    json={"user": username, "role": "department"})
        assert granted.status_code == 201, granted.text


async def _referred(client: AsyncClient, auth: Auth) -> str:
    topic_id = await cppcc_topic(client, auth)
    member = await auth("member")
    await client.post(f"{CITY}/topics/{topic_id}/trainings", json={"date": DAY.isoformat(), "title": "学"},
                      headers=member)
    await departments(client, auth)
    problem = await client.post(f"{CITY}/topics/{topic_id}/problems", headers=member, json={
        "text": "某小区合同到期", "kind": "individual", "department": "zhujian"})
    assert problem.status_code == 201, problem.text
    return problem.json()["id"]


async def test_only_the_department_a_problem_was_referred_to_may_answer_it(client: AsyncClient,
                                                                          auth: Auth) -> None:
    problem_id = await _referred(client, auth)
    for someone in ("outsider", "admin"):  # another department of the city; the platform administrator
        refused = await client.post(f"{CITY}/problems/{problem_id}/answer", json={"answer": "越俎代庖"},
                                    headers=await auth(someone))
        assert refused.status_code == 403, someone
        assert refused.json()["detail"] == "只有交办的部门（甲区住建局）可以答复这个问题"
    assert (await client.post(f"{CITY}/problems/{problem_id}/answer", json={"answer": "已处理"},
                              headers=await auth("zhujian"))).status_code == 200


async def test_a_problem_is_referred_only_to_a_department_account_here(client: AsyncClient, auth: Auth) -> None:
    topic_id = await cppcc_topic(client, auth)
    member = await auth("member")
    await client.post(f"{CITY}/topics/{topic_id}/trainings", json={"date": DAY.isoformat(), "title": "学"},
                      headers=member)
    for department in ("住建局", "member2", "nobody"):
        refused = await client.post(f"{CITY}/topics/{topic_id}/problems", headers=member, json={
            "text": "x", "kind": "individual", "department": department})
        assert refused.status_code == 422 and refused.json()["detail"] == f"{department} 不是本级职能部门的账号"


async def test_a_second_answer_is_an_amendment_recorded_with_who_and_when(client: AsyncClient, auth: Auth) -> None:
    problem_id = await _referred(client, auth)
    department = await auth("zhujian")
    first = await client.post(f"{CITY}/problems/{problem_id}/answer", json={"answer": "已督促"}, headers=department)
    second = await client.post(f"{CITY}/problems/{problem_id}/answer", json={"answer": "已选聘新物业"},
                               headers=department)
    assert second.json()["answer"] == "已选聘新物业"
    assert second.json()["answered_at"] >= first.json()["answered_at"]
    history = await client.get(f"{CITY}/problems/{problem_id}/answers", headers=await auth("member"))
    assert history.status_code == 200
    assert [(a["answer"], a["answered_by"], a["amends"]) for a in history.json()] == [
        ("已督促", "甲区住建局", None), ("已选聘新物业", "甲区住建局", "已督促")]

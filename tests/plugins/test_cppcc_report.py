"""The CPPCC outcome report to print and to file: an A4 PDF whose Chinese text poppler reads back, and a Word
document in Chinese faces with the common problems' aspects as headings under their kind."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from docx import Document
from docx.document import Document as DocumentObject
from docx.oxml.ns import qn
from httpx import AsyncClient

from tests.conftest import Auth
from tests.helpers import CITY, TODAY, cppcc_topic, sign_in
from tests.publishing.test_documents import assert_printed_a4, pdf_text

pytestmark = pytest.mark.usefixtures("world")
MEMBER_NAME = "王建国委员"


async def recorded_topic(client: AsyncClient, auth: Auth) -> str:
    """A topic whose research group (member, renamed 王建国委员) recorded a visit, a symposium, problems of two
    aspects and one referred to a department, and a recommendation the office adopted."""
    topic_id = await cppcc_topic(client, auth)
    member, admin = await auth("member"), await auth("admin")
    renamed = await client.patch("/api/v1/me", json={"display_name": MEMBER_NAME}, headers=member)
    assert renamed.status_code == 200, renamed.text
    granted = await client.post("/api/v1/tenants/city-a/members", headers=admin,
                                json={"user": "zhujian", "role": "department"})
    assert granted.status_code == 201, granted.text
    day = TODAY.isoformat()
    bodies = [("trainings", {"date": day, "title": "学习物业管理条例"}),
              ("visits", {"community": "comm-b", "date": day, "compounds": ["乙小区", "丙小区"], "findings": "物业低散乱"}),
              ("symposia", {"group": "property_companies", "date": day, "participants": 6,
                            "statements": [{"who": "物业公司代表", "text": "物业费收缴率低"}]}),
              ("problems", {"text": "物业管理制度不完善", "kind": "common", "aspect": "体制机制"}),
              ("problems", {"text": "业委会组建率低", "kind": "common", "aspect": "基层治理"}),
              ("problems", {"text": "某小区物业合同到期", "kind": "individual", "department": "zhujian"})]
    problems = []
    for path, body in bodies:
        answer = await client.post(f"{CITY}/topics/{topic_id}/{path}", json=body, headers=member)
        assert answer.status_code == 201, answer.text
        if path == "problems":
            problems.append(answer.json()["id"])
    recommendation = await client.post(f"{CITY}/topics/{topic_id}/recommendations", headers=member, json={
        "text": "完善物业管理法规制度", "problem_ids": problems[:1]})
    assert recommendation.status_code == 201, recommendation.text
    followed = await client.post(f"{CITY}/recommendations/{recommendation.json()['id']}/follow-up",
                                 json={"adopted": True, "note": "市住建局已采纳"}, headers=admin)
    assert followed.status_code == 200, followed.text
    return topic_id


async def test_the_report_as_a_pdf_names_the_group_and_counts_everything(client: AsyncClient, auth: Auth,
                                                                         tmp_path: Path) -> None:
    topic_id = await recorded_topic(client, auth)
    answer = await client.get(f"{CITY}/topics/{topic_id}/report.pdf", headers=await auth("member"))
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert_printed_a4(answer.content, tmp_path)
    text = pdf_text(answer.content, tmp_path)
    assert f"甲市政协{TODAY.year}年专题协商成果报告" in text and "规范和加强小区物业管理" in text
    assert f"调研组：{MEMBER_NAME}" in text and "member" not in text
    assert "走访社区1个、小区2个；召开座谈会1场；梳理问题3个（个性问题1个，共性问题归为2个方面）" in text
    assert "提出意见建议1条，已采纳1条" in text
    assert "乙社区：乙小区、丙小区" in text and "comm-b" not in text  # the community by its name
    assert "与物业公司座谈（6人）" in text and "物业费收缴率低" in text
    assert text.index("体制机制") < text.index("物业管理制度不完善") < text.index("基层治理") < text.index("业委会组建率低")
    assert "甲区住建局" in text and "完善物业管理法规制度（已采纳：市住建局已采纳）" in text


async def test_the_portal_gives_the_same_pdf_to_the_research_group(client: AsyncClient, auth: Auth,
                                                                    tmp_path: Path) -> None:
    topic_id = await recorded_topic(client, auth)
    await sign_in(client, "city-a", "member")
    answer = await client.get(f"/t/city-a/cppcc/topics/{topic_id}/report.pdf")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert MEMBER_NAME in pdf_text(answer.content, tmp_path)
    assert (await client.get(f"/t/comm-a/cppcc/topics/{topic_id}/report.pdf")).status_code == 404  # not enabled


async def test_another_tenants_report_is_not_there(client: AsyncClient, auth: Auth) -> None:
    topic_id = await recorded_topic(client, auth)
    other = "/api/v1/tenants/district-b/cppcc"
    assert (await client.get(f"{other}/topics/{topic_id}/report.pdf", headers=await auth("admin"))).status_code == 404
    assert (await client.get(f"{CITY}/topics/{topic_id}/report.pdf", headers=await auth("badmin"))).status_code == 403
    await sign_in(client, "district-b", "badmin")
    assert (await client.get(f"/t/district-b/cppcc/topics/{topic_id}/report.pdf")).status_code == 404


def _east_asian_font(style) -> str | None:  # type: ignore[no-untyped-def]
    fonts = style.element.rPr.rFonts
    assert fonts.get(qn("w:eastAsiaTheme")) is None  # a theme font would override the one named
    return fonts.get(qn("w:eastAsia"))


async def test_the_word_report_is_a4_in_chinese_faces_with_aspects_under_common_problems(
        client: AsyncClient, auth: Auth) -> None:
    topic_id = await recorded_topic(client, auth)
    answer = await client.get(f"{CITY}/topics/{topic_id}/report.docx", headers=await auth("member"))
    assert answer.status_code == 200
    document: DocumentObject = Document(io.BytesIO(answer.content))
    section = document.sections[0]
    assert section.page_width is not None and section.page_height is not None
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)  # kept in twips
    assert _east_asian_font(document.styles["Normal"]) == "仿宋"
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3"):
        assert _east_asian_font(document.styles[name]) == "宋体"
    styles = [(p.text, p.style.name if p.style is not None else "") for p in document.paragraphs]
    assert (f"调研组：{MEMBER_NAME}", "Normal") in styles
    assert ("问题清单", "Heading 1") in styles and ("共性问题", "Heading 2") in styles
    aspect = styles.index(("体制机制", "Heading 3"))
    assert styles[aspect + 1] == ("物业管理制度不完善", "List Bullet")
    assert ("基层治理", "Heading 3") in styles

"""Documents people print: a meeting's minutes for staff and a published result for the notice board, each a
page with nothing interactive on it and an A4 PDF whose Chinese text poppler reads back."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from httpx import AsyncClient
from PIL import Image

from tests.conftest import Auth
from tests.helpers import BASE, sign_in, topic_at

pytestmark = pytest.mark.usefixtures("world")

RESIDENT_OPINION = "柳先生说装在北门内侧，电话13812341234"
OPINIONS = [{"group": "resident_rep", "text": RESIDENT_OPINION},
            {"group": "property_company", "text": "物业负责日常清洗滤芯"},
            {"group": "resident_rep", "text": "希望夜间也能取水"}]
VOTES = {"同意": 9, "反对": 2}
MINUTES = "讨论设备选型、位置规划和现场安装，柳先生到会发言"


async def decided_by_vote(client: AsyncClient, auth: Auth, publish: bool) -> tuple[str, str]:
    """A topic whose meeting recorded three opinions of two groups and decided by a vote of 9 to 2."""
    staff = await auth("cstaff")
    topic_id, ids = await topic_at(client, auth, "scheduled")
    minutes = await client.post(f"{BASE}/meetings/{ids['meeting']}/minutes", headers=staff, json={
        "minutes": MINUTES, "attendance": {"party_member": 5, "resident_rep": 6}, "opinions": OPINIONS})
    assert minutes.status_code in (200, 201), minutes.text
    decided = await client.post(f"{BASE}/meetings/{ids['meeting']}/decision", headers=staff, json={
        "text": "在小区北门内侧增设直饮水机一台", "method": "vote", "votes": VOTES, "eligible_voters": 12})
    assert decided.status_code in (200, 201), decided.text
    if publish:
        assert (await client.post(f"{BASE}/topics/{topic_id}/publish", headers=staff)).status_code == 200
    return topic_id, ids["meeting"]


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as poppler reads it, whitespace squeezed (a line may break anywhere in Chinese)."""
    source = tmp_path / "document.pdf"
    source.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True).stdout
    return re.sub(r"\s+", "", out.decode())


def first_page(pdf: bytes, tmp_path: Path) -> Image.Image:
    source = tmp_path / "page.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(source), str(tmp_path / "page")],
                   check=True)
    (picture,) = tmp_path.glob("page*.png")
    return Image.open(io.BytesIO(picture.read_bytes())).convert("L")


def assert_printed_a4(pdf: bytes, tmp_path: Path) -> None:
    assert pdf.startswith(b"%PDF")
    source = tmp_path / "info.pdf"
    source.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(source)], check=True, capture_output=True, text=True).stdout
    assert "(A4)" in info, info
    page = first_page(pdf, tmp_path)
    inked = sum(1 for value in page.getdata() if value < 128)  # type: ignore[attr-defined]
    assert inked > 500, "the first page is blank"  # a blank page inks its number only: a few dozen pixels


def assert_nothing_interactive(html: str) -> None:
    assert "<form" not in html and "<nav" not in html and "<button" not in html and "<script" not in html
    assert "/static/documents.css" in html


async def test_staff_print_a_held_meetings_minutes_as_a_page_and_a_pdf(client: AsyncClient, auth: Auth,
                                                                         tmp_path: Path) -> None:
    topic_id, meeting_id = await decided_by_vote(client, auth, publish=False)
    await sign_in(client, "comm-a", "cstaff")
    topic_page = await client.get(f"/t/comm-a/staff/topics/{topic_id}")
    assert f"/t/comm-a/staff/meetings/{meeting_id}/minutes.pdf" in topic_page.text
    page = await client.get(f"/t/comm-a/staff/meetings/{meeting_id}/minutes.html")
    assert page.status_code == 200, page.text[:500]
    assert_nothing_interactive(page.text)
    assert MINUTES in page.text and "居民代表" in page.text
    pdf = await client.get(f"/t/comm-a/staff/meetings/{meeting_id}/minutes.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert_printed_a4(pdf.content, tmp_path)
    text = pdf_text(pdf.content, tmp_path)
    assert "甲社区协商议事会议纪要" in text and "增设直饮水机" in text
    assert "讨论设备选型" in text and "物业负责日常清洗滤芯" in text
    assert "居民代表" in text and "物业公司" in text  # the groups by their names, not their codes
    assert "同意9票" in text and "共投11票" in text and "有表决权12人" in text


async def test_minutes_are_staffs_in_their_own_tenant_only(client: AsyncClient, auth: Auth) -> None:
    _topic_id, meeting_id = await decided_by_vote(client, auth, publish=False)
    await sign_in(client, "comm-b", "bstaff")
    for suffix in ("html", "pdf"):  # another community's staff: the meeting is not there
        assert (await client.get(f"/t/comm-b/staff/meetings/{meeting_id}/minutes.{suffix}")).status_code == 404
        assert (await client.get(f"/t/comm-a/staff/meetings/{meeting_id}/minutes.{suffix}")).status_code == 403
    client.cookies.clear()
    await sign_in(client, "comm-a", "resident")
    assert (await client.get(f"/t/comm-a/staff/meetings/{meeting_id}/minutes.pdf")).status_code == 403


async def test_a_meeting_without_minutes_has_none_to_print(client: AsyncClient, auth: Auth) -> None:
    _topic_id, ids = await topic_at(client, auth, "scheduled")
    await sign_in(client, "comm-a", "cstaff")
    missing = await client.get(f"/t/comm-a/staff/meetings/{ids['meeting']}/minutes.pdf")
    assert missing.status_code == 404 and "还没有记录纪要" in missing.text
    assert (await client.get("/t/comm-a/staff/meetings/not-an-id/minutes.html")).status_code == 404


async def test_the_public_prints_a_result_with_its_meeting_opinions_and_tally(client: AsyncClient, auth: Auth,
                                                                              tmp_path: Path) -> None:
    topic_id, _meeting_id = await decided_by_vote(client, auth, publish=True)
    result_page = await client.get(f"/t/comm-a/results/{topic_id}")
    assert f"/t/comm-a/results/{topic_id}/result.pdf" in result_page.text
    page = await client.get(f"/t/comm-a/results/{topic_id}/print")
    assert page.status_code == 200, page.text[:500]
    assert_nothing_interactive(page.text)
    pdf = await client.get(f"/t/comm-a/results/{topic_id}/result.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert_printed_a4(pdf.content, tmp_path)
    text = pdf_text(pdf.content, tmp_path)
    assert "甲社区协商结果公示" in text and "在小区北门内侧增设直饮水机一台" in text
    assert "2026-07-2815:00" in text  # the meeting's date and time, Beijing time
    assert "居民代表" in text and "希望夜间也能取水" in text and "物业负责日常清洗滤芯" in text
    assert "同意9票" in text and "反对2票" in text and "共投11票" in text
    for shown in (page.text, text):  # what the resident said of themselves stays out; the minutes' text too
        assert "13812341234" not in shown and "柳先生" not in shown and "讨论设备选型" not in shown
    assert "某先生说装在北门内侧" in text


async def test_an_unpublished_or_other_tenants_result_has_no_document(client: AsyncClient, auth: Auth) -> None:
    topic_id, _meeting_id = await decided_by_vote(client, auth, publish=False)
    for path in (f"/t/comm-a/results/{topic_id}/print", f"/t/comm-a/results/{topic_id}/result.pdf"):
        assert (await client.get(path)).status_code == 404
    assert (await client.post(f"{BASE}/topics/{topic_id}/publish", headers=await auth("cstaff"))).status_code == 200
    assert (await client.get(f"/t/comm-a/results/{topic_id}/result.pdf")).status_code == 200
    assert (await client.get(f"/t/comm-b/results/{topic_id}/result.pdf")).status_code == 404
    assert (await client.get("/t/comm-a/results/not-an-id/print")).status_code == 404

"""Nothing personal in public: one redaction for every public surface, public summaries, and tracking codes that
cannot be walked like the sequential references they extend."""

from __future__ import annotations

import json
import re
import unicodedata

import pytest
from httpx import AsyncClient
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.redaction import public_place, redact
from tests.conftest import Auth
from tests.helpers import BASE, O311, TODAY, file, filed, new_key, sign_in, submit, text_of

PHONES = ["13812341234", "138 1234 1234", "138-1234-1234", "138.1234.1234", "+86 138 1234 1234", "+8613812341234",
          "0086-138-1234-1234", "86 13812341234", "(+86) 138 1234 1234", "１３８１２３４１２３４", "＋８６ １３８－１２３４－１２３４",
          "138　1234　1234", "0951-1234567", "(0951)1234567", "010-12345678"]
FULL_WIDTH = str.maketrans("0123456789+-", "０１２３４５６７８９＋－")
CJK = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), max_size=12)
PUNCTUATION = st.sampled_from(["", "，", "：", "（", "）", "。", " ", "电话", "手机号"])


def _digits(text: str) -> str:
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", text))


# --- the redaction itself --------------------------------------------------------------------------------


@pytest.mark.parametrize("phone", PHONES)
def test_a_phone_number_in_any_form_is_taken_out_of_public_text(phone: str) -> None:
    public = redact(f"楼道漏水，请联系{phone}，谢谢")
    assert public == "楼道漏水，请联系***，谢谢"


@pytest.mark.parametrize(("typed", "public"), [
    ("身份证110101199003071234办理", "身份证***办理"),
    ("身份证 11010119900307123x", "身份证 ***"),
    ("邮箱 liu.ming@example.cn 联系", "邮箱 *** 联系"),
    ("邮箱ｌｉｕ＠ｅｘａｍｐｌｅ．ｃｎ", "邮箱***"),
    ("加微信：liuming88 详谈", "加微信：*** 详谈"),
    ("柳先生家楼上漏水", "某先生家楼上漏水"),
    ("欧阳女士反映", "某女士反映"),
])
def test_id_numbers_e_mail_chat_ids_and_surnames_are_taken_out(typed: str, public: str) -> None:
    assert redact(typed) == public


@pytest.mark.parametrize("text", ["三单元楼道漏水", "５天内在小区北侧增设直饮水机２台", "2024-2025年度供暖", "楼下阿姨说",
                                  "编号 JSX-2026-000123 已受理", "70吨垃圾，51户受影响", "10:00-12:00 议事"])
def test_everything_else_stays_as_it_was_typed(text: str) -> None:
    assert redact(text) == text


def test_the_residents_own_name_is_taken_out_wherever_it_appears() -> None:
    assert redact("柳明说 3号楼漏水，找柳明", ("柳明", None)) == "***说 3号楼漏水，找***"


@pytest.mark.parametrize(("place", "public"), [
    ("3单元502", None), ("502室", None), ("2-3-502", None), ("14号楼2单元301", "14号楼"), ("14号楼", "14号楼"),
    ("甲小区1号楼502王先生家", "甲小区1号楼"), ("银巴小区14号楼北侧", "银巴小区14号楼北侧"), ("1栋三单元1201室", "1栋"),
    ("小区北侧，柳先生 13812341234", "小区北侧，某先生 ***"), ("", None), (None, None),
])
def test_a_public_place_keeps_the_compound_and_building_not_the_flat(place: str | None, public: str | None) -> None:
    assert public_place(place) == public


@st.composite
def phone_forms(draw: st.DrawFn) -> str:
    """A mainland mobile as a resident might type it: grouped or not, any separator, any prefix, any width."""
    digits = "1" + draw(st.sampled_from("3456789")) + "".join(draw(st.lists(
        st.sampled_from("0123456789"), min_size=9, max_size=9)))
    separator = draw(st.sampled_from(["", " ", "-", ".", "　", " - "]))
    groups = draw(st.sampled_from([(11,), (3, 4, 4), (3, 8), (7, 4), (3, 3, 5)]))
    parts, at = [], 0
    for size in groups:
        parts.append(digits[at:at + size])
        at += size
    number = separator.join(parts)
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "0086", "0086-", "86", "86 ", "(+86)", "+86-"]))
    typed = prefix + number
    return typed.translate(FULL_WIDTH) if draw(st.booleans()) else typed


@settings(max_examples=300, deadline=None)
@given(before=CJK, lead=PUNCTUATION, phone=phone_forms(), trail=PUNCTUATION, after=CJK)
def test_a_random_phone_in_random_chinese_text_is_always_taken_out(before: str, lead: str, phone: str, trail: str,
                                                                   after: str) -> None:
    assume(redact(before) == before and redact(after) == after)
    public = redact(before + lead + phone + trail + after)
    assert _digits(public) == "", (phone, public)
    assert public.startswith(before) and public.endswith(after) and "***" in public


# --- public surfaces, through the app -----------------------------------------------------------------------

LEAKY = {"title": "楼道漏水，请联系柳先生 138-1234-1234", "description": "三单元502，柳先生，电话13812341234，身份证110101199003071234",
         "category": "drainage", "place": "甲小区3单元502柳先生家"}
SECRETS = ("13812341234", "138-1234-1234", "1234", "柳", "502", "110101199003071234", "三单元")


async def _published_leaky_topic(client: AsyncClient, auth: Auth) -> dict:
    """A concern full of personal data, and a topic whose staff quoted it in every text the public reads."""
    staff = await auth("cstaff")
    concern = await file(client, await auth("resident"), LEAKY)
    assert (await client.post(f"{BASE}/concerns/{concern['id']}/triage", json={"action": "accept"},
                              headers=staff)).status_code == 200
    topic = (await client.post(f"{BASE}/topics", json={"title": "楼道漏水（柳先生 138 1234 1234）",
                                                        "concern_ids": [concern["id"]]}, headers=staff)).json()
    steps = [
        ("research", {"kind": "site_visit", "date": TODAY.isoformat(), "participants": ["物业"], "findings": "屋面渗水"}),
        ("meetings", {"mechanism": "on_demand", "venue": "红色议事亭", "starts_at": "2026-07-28T15:00:00+08:00",
                      "agenda": "柳先生（13812341234）家漏水", "invitees": {"roles": ["property_company"]}}),
    ]
    for path, body in steps:
        answer = await client.post(f"{BASE}/topics/{topic['id']}/{path}", json=body, headers=staff)
        assert answer.status_code in (200, 201), answer.text
    meeting = answer.json()["id"]
    for path, body in (("minutes", {"minutes": "讨论维修", "attendance": {"property_company": 1}}),
                       ("decision", {"text": "物业三天内修好柳先生（138.1234.1234）家的屋面", "method": "consensus"})):
        answer = await client.post(f"{BASE}/meetings/{meeting}/{path}", json=body, headers=staff)
        assert answer.status_code in (200, 201), answer.text
    assert (await client.post(f"{BASE}/topics/{topic['id']}/publish", headers=staff)).status_code in (200, 201)
    action = await client.post(f"{BASE}/topics/{topic['id']}/actions", headers=staff, json={
        "title": "给柳先生 13812341234 修屋面", "owner_org": "宁夏鑫盛物业", "due_date": TODAY.isoformat()})
    assert action.status_code == 201, action.text
    return concern


def _shows(body: str, secret: str) -> bool:
    """Whether `secret` is in `body`; digits only as a number of their own, not inside a timestamp or an id."""
    if secret.isdigit():
        return re.search(rf"(?<![0-9a-fA-F]){secret}(?![0-9a-fA-F])", body) is not None
    return secret in body


@pytest.mark.usefixtures("world")
async def test_no_public_surface_shows_what_the_resident_typed(client: AsyncClient, auth: Auth) -> None:
    concern = await _published_leaky_topic(client, auth)
    code = concern["tracking_code"]
    public = {path: await client.get(path) for path in (
        f"{BASE}/public/concerns/{code}", f"/t/comm-a/track/{code}", f"{BASE}/public/results", "/t/comm-a/",
        "/t/comm-a/results", "/t/comm-a/meetings", "/t/comm-a/meetings.ics",
        *(f"{BASE}/public/open-data/{name}.{fmt}" for name in ("results", "actions") for fmt in ("csv", "json")),
        "/open311/v2/comm-a/requests.json", "/open311/v2/comm-a/requests.xml",
        f"/open311/v2/comm-a/requests/{concern['reference']}.json")}
    for path, answer in public.items():
        assert answer.status_code == 200, (path, answer.text[:500])
        body = unicodedata.normalize("NFKC", answer.content.decode("utf-8-sig"))
        if path.endswith(".ics"):
            body = body.replace("\r\n ", "")  # unfolded (RFC 5545 §3.1)
        for secret in SECRETS:
            assert not _shows(body, secret), (path, secret)
    followed = public[f"{BASE}/public/concerns/{code}"].json()
    assert followed["summary"] == "楼道漏水，请联系某先生 ***"
    [request] = public[f"/open311/v2/comm-a/requests/{concern['reference']}.json"].json()
    assert request["description"] == followed["summary"] and request["address"] == "甲小区"


@pytest.mark.usefixtures("world")
async def test_staff_write_the_public_summary_and_may_not_put_personal_data_in_it(
        client: AsyncClient, auth: Auth, owner_engine: AsyncEngine) -> None:
    concern = await file(client, await auth("resident"), LEAKY)
    staff, path = await auth("cstaff"), f"{BASE}/concerns/{concern['id']}/public-summary"
    written = await client.put(path, json={"public_summary": "甲小区楼道漏水"}, headers=staff)
    assert written.status_code == 200, written.text
    assert written.json()["public_summary"] == "甲小区楼道漏水" and written.json()["public_summary_edited"] is True
    followed = (await client.get(f"{BASE}/public/concerns/{concern['tracking_code']}")).json()
    assert followed["summary"] == "甲小区楼道漏水"
    refused = await client.put(path, json={"public_summary": "联系 138 1234 1234"}, headers=staff)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "public_summary", refused.text
    assert (await client.put(path, json={"public_summary": "x"}, headers=await auth("resident"))).status_code == 403
    assert (await client.put(path, json={"public_summary": "长" * 121}, headers=staff)).status_code == 422
    reset = await client.put(path, json={"public_summary": None}, headers=staff)
    assert reset.json()["public_summary"] == "楼道漏水，请联系某先生 ***" and reset.json()["public_summary_edited"] is False
    async with owner_engine.connect() as conn:
        payloads = (await conn.execute(text("SELECT payload FROM workflow_event WHERE action = 'concern.public_summary'"
                                            " ORDER BY seq"))).scalars().all()
    assert [p if isinstance(p, dict) else json.loads(p) for p in payloads] == [
        {"public_summary": "甲小区楼道漏水"}, {"public_summary": None}]  # the refused one left none


@pytest.mark.usefixtures("world")
async def test_a_bare_reference_answers_as_an_unknown_one(client: AsyncClient, auth: Auth) -> None:
    concern = await file(client, await auth("resident"))
    reference, code = concern["reference"], concern["tracking_code"]
    assert re.fullmatch(rf"{reference}-[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{{4}}", code)
    unknown = await client.get(f"{BASE}/public/concerns/JSX-2099-999999-ABCD")
    assert unknown.status_code == 404
    wrong = code[:-1] + ("2" if code[-1] != "2" else "3")
    for guess in (reference, wrong, f"{reference}-", reference.rsplit("-", 1)[0]):
        answer = await client.get(f"{BASE}/public/concerns/{guess}")
        assert (answer.status_code, answer.json()["detail"]) == (404, unknown.json()["detail"]), guess
        page = await client.get(f"/t/comm-a/track/{guess}")
        assert page.status_code == 404 and "已提交" not in page.text
    assert (await client.get(f"{BASE}/public/concerns/{code.lower()}")).status_code == 200
    assert (await client.get(f"/t/comm-a/track/{code}")).status_code == 200
    # Open311 clients follow by reference, but what they read is the same public summary.
    assert (await client.get(f"/open311/v2/comm-a/requests/{reference}.json")).status_code == 200


@pytest.mark.usefixtures("world")
async def test_wrong_codes_are_throttled_per_client(client: AsyncClient, auth: Auth) -> None:
    concern = await file(client, await auth("resident"))
    for n in range(30):
        answer = await client.get(f"{BASE}/public/concerns/JSX-2026-{n:06d}-ABCD")
        assert answer.status_code == 404
    refused = await client.get(f"{BASE}/public/concerns/{concern['tracking_code']}")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "秒后再试" in refused.json()["detail"]
    page = await client.get(f"/t/comm-a/track/{concern['tracking_code']}")
    assert page.status_code == 429 and "已提交" not in page.text


@pytest.mark.usefixtures("world")
async def test_the_filer_is_given_the_tracking_code_and_a_retry_gives_it_again(client: AsyncClient,
                                                                               auth: Auth) -> None:
    resident = await auth("resident")
    first = await file(client, resident, **{"Idempotency-Key": "leak-1"})
    again = await file(client, resident, **{"Idempotency-Key": "leak-1"})
    assert again == first and first["tracking_code"].startswith(first["reference"] + "-")
    mine = (await client.get(f"{BASE}/concerns/{first['id']}", headers=resident)).json()
    assert mine["tracking_code"] == first["tracking_code"]
    await sign_in(client, "comm-a", "resident")
    page = await client.get(f"/t/comm-a/me/concerns/{first['id']}")
    assert first["tracking_code"] in text_of(page)


@pytest.mark.usefixtures("world")
async def test_open311_shows_the_public_the_summary_and_the_building_only(
        app: Litestar, client: AsyncClient) -> None:
    reference = await filed(client, await new_key(app), description="柳先生 13812341234 反映\n三单元502楼上漏水",
                            address_string="甲小区2-3-502")
    [request] = (await client.get(f"{O311}/requests/{reference}.json")).json()
    assert request["description"] == "*** *** 反映" and request["address"] == "甲小区"  # 柳先生 is the resident


@pytest.mark.usefixtures("world")
async def test_staff_write_the_public_summary_in_the_inbox(client: AsyncClient, auth: Auth) -> None:
    concern = await file(client, await auth("resident"), LEAKY)
    await sign_in(client, "comm-a", "cstaff")
    inbox, action = "/t/comm-a/staff/inbox", f"/t/comm-a/staff/concerns/{concern['id']}/public-summary"
    assert "楼道漏水，请联系某先生 ***" in text_of(await client.get(inbox))  # what the public reads now
    refused = await submit(client, inbox, action, {"public_summary": "请联系 13812341234"})
    assert refused.status_code == 422 and f'id="public-summary-{concern["id"]}-error"' in refused.text
    saved = await submit(client, inbox, action, {"public_summary": "甲小区楼道漏水"})
    assert saved.status_code == 303
    followed = (await client.get(f"{BASE}/public/concerns/{concern['tracking_code']}")).json()
    assert followed["summary"] == "甲小区楼道漏水"

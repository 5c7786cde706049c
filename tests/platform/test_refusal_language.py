"""Refusals speak the reader's language: the API answers in Chinese, the portal in the language the reader chose,
and the catalogue checker finds a refusal that could not be translated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from httpx import AsyncClient

from core.errors import Conflict, NotFound
from core.i18n import Label
from core.portal.i18n import gettext_for
from core.portal.messages import mismatched, refusals
from tests.conftest import Auth
from tests.helpers import BASE, file, sign_in, submit, text_of

CJK = re.compile(r"[\u4e00-\u9fff]")
INBOX = "/t/comm-a/staff/inbox"


def test_parameters_labels_and_lists_are_shown_in_the_readers_language() -> None:
    words = {"没有{what}：{names}": "No {what}: {names}", "小区": "compound", "楼栋": "building", "、": ", "}
    refusal = NotFound("没有{what}：{names}", what=Label("小区"), names=[Label("小区"), Label("楼栋"), "3号"])
    assert refusal.message == str(refusal) == "没有小区：小区、楼栋、3号"
    assert refusal.in_language(lambda text: words.get(text, text)) == "No compound: compound, building, 3号"
    plain = NotFound("没有这个议题")
    assert plain.message == plain.in_language(lambda text: text) == "没有这个议题"


def test_the_english_catalogue_translates_a_state_machine_refusal_whole() -> None:
    refusal = Conflict("议题当前为「{state}」，{refusal}", state=Label("已公开结果"), refusal=Label("公开后不能撤回"))
    english = refusal.in_language(gettext_for("en"))
    assert not CJK.search(english), english
    assert gettext_for("en")("已公开结果") in english
    assert refusal.in_language(gettext_for("zh_CN")) == refusal.message == "议题当前为「已公开结果」，公开后不能撤回"


def test_the_checker_finds_refusals_that_cannot_be_translated(tmp_path: Path) -> None:
    module = tmp_path / "service.py"
    module.write_text(
        "from core.errors import Conflict, InvalidInput\nfrom core.i18n import Label\n"
        "def check(slug, message):\n"
        '    raise Conflict("租户 {slug} 已归档", slug=slug)\n'
        '    raise InvalidInput(f"没有租户 {slug}")\n'
        "    raise InvalidInput(message)\n"
        '    return Label("楼栋名称")\n',
        encoding="utf-8",
    )
    found, untranslatable = refusals([module])
    assert set(found) == {"租户 {slug} 已归档", "楼栋名称"}
    assert [where.split(": ", 1)[1] for where in untranslatable] == ["f'没有租户 {slug}'", "message"]


def test_every_service_refusal_is_a_literal_and_its_translation_keeps_the_placeholders() -> None:
    assert refusals()[1] == []
    assert mismatched() == []


@pytest.mark.usefixtures("world")
async def test_the_portal_shows_a_service_refusal_in_english_and_the_api_in_chinese(
        client: AsyncClient, auth: Auth) -> None:
    concern = await file(client, await auth("resident"))
    await sign_in(client, "comm-a", "cstaff")
    await client.get(f"{INBOX}?lang=en")  # the reader picks English; the cookie keeps it
    answer = await submit(client, INBOX, f"/t/comm-a/staff/concerns/{concern['id']}/triage",
                          {"action": "reject", "reason": " "})
    assert answer.status_code == 422
    error = re.search(rf'id="reject-reason-{concern["id"]}-error">([^<]+)<', answer.text)
    assert error, answer.text[:2000]
    en = gettext_for("en")
    assert error.group(1) == en("{label}不能为空").format(label=en("理由")) and not CJK.search(error.group(1))

    # A refusal with translated labels inside it: accepting twice.
    await submit(client, INBOX, f"/t/comm-a/staff/concerns/{concern['id']}/triage", {"action": "accept"})
    again = await submit(client, INBOX, f"/t/comm-a/staff/concerns/{concern['id']}/triage", {"action": "accept"})
    assert again.status_code == 409
    assert en("已受理") in text_of(again) and "诉求当前为" not in again.text

    api = await client.post(f"{BASE}/concerns/{concern['id']}/triage", json={"action": "accept"},
                            headers=await auth("cstaff"))
    assert api.status_code == 409 and api.json()["detail"] == "诉求当前为「已受理」，不能受理"

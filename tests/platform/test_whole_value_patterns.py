"""Every pattern that checks a whole value matches all of it: `$` also matches before a final newline, so a
phone number, a username or a slug with a newline after it once passed and was stored (the checks now use
`fullmatch`). One case per checker, and one through the API."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from core.accounts.services import EMAIL_RE, PHONE_RE, USERNAME_RE, phone_problems
from core.concerns.services import CATEGORY_CODE_RE
from core.errors import InvalidInput
from core.tenancy.services import REFERENCE_PREFIX_RE, SLUG_RE, validate_slug
from plugins.liaison_station.services import TIME_RE
from tests.conftest import Auth

CHECKED = [(PHONE_RE, "13812345678"), (USERNAME_RE, "grid_li"), (EMAIL_RE, "li@example.org"),
           (CATEGORY_CODE_RE, "ev_charging"), (SLUG_RE, "comm-a"), (REFERENCE_PREFIX_RE, "JSX"), (TIME_RE, "08:30")]


@pytest.mark.parametrize(("pattern", "good"), CHECKED, ids=[p.pattern for p, _ in CHECKED])
def test_a_value_with_a_newline_after_it_is_not_the_value(pattern, good) -> None:  # type: ignore[no-untyped-def]
    assert pattern.fullmatch(good)
    assert pattern.fullmatch(good + "\n") is None


def test_the_checkers_refuse_a_trailing_newline() -> None:
    assert phone_problems("13812345678\n")
    with pytest.raises(InvalidInput):
        validate_slug("comm-a\n")


@pytest.mark.usefixtures("world")
async def test_a_concern_filed_for_a_phone_with_a_newline_is_refused(client: AsyncClient, auth: Auth) -> None:
    answer = await client.post("/api/v1/tenants/comm-a/concerns", headers=await auth("grid"), json={
        "title": "楼道灯不亮", "description": "三单元楼道灯坏了", "category": "public_facilities",
        "resident_name": "王", "resident_phone": "13812345678\n", "channel": "grid_worker"})
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["resident_phone"]


@pytest.mark.usefixtures("world")
@pytest.mark.parametrize("key", ["phone_retention_months", "rates_min_concerns"])
@pytest.mark.parametrize("value", ["²", "٣", "12a", "0"])
async def test_a_number_setting_that_is_not_a_plain_number_is_refused(client: AsyncClient, auth: Auth, key: str,
                                                                      value: str) -> None:
    """'²' is a digit to Python (str.isdigit) but not a number int() reads: it once made a 500."""
    answer = await client.patch("/api/v1/tenants/comm-a", json={"portal": {key: value}}, headers=await auth("admin"))
    if value == "٣":  # an Arabic-Indic three is a decimal digit: int() reads it as 3, within the range
        assert answer.status_code == 200, answer.text
        return
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [f"portal.{key}"]

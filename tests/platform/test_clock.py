"""The one clock: now in UTC, the communities' days on Beijing time, and a clock tests can stop and move."""

from __future__ import annotations

import datetime

import pytest
from httpx import AsyncClient

from core import clock
from tests.conftest import Auth
from tests.helpers import BASE, file

UTC = datetime.UTC
# 17:00 UTC on 1 March is 01:00 on 2 March in Beijing: the two clocks name different days.
EVENING_UTC = datetime.datetime(2026, 3, 1, 17, 0, tzinfo=UTC)


def test_now_is_aware_utc_and_today_is_beijings_date() -> None:
    assert clock.now().tzinfo is UTC
    with clock.frozen(EVENING_UTC):
        assert clock.now() == EVENING_UTC and clock.today() == datetime.date(2026, 3, 2)


def test_a_day_runs_from_beijing_midnight_to_the_next() -> None:
    start, end = clock.day_range(datetime.date(2026, 3, 2), datetime.date(2026, 3, 2))
    assert start == datetime.datetime(2026, 3, 1, 16, 0, tzinfo=UTC) and end - start == datetime.timedelta(days=1)
    assert clock.day_start(datetime.date(2026, 3, 2)) == start


def test_a_stopped_clock_moves_only_when_told_and_runs_again_after() -> None:
    with clock.frozen(EVENING_UTC) as stopped:
        stopped.advance(datetime.timedelta(hours=1))
        assert clock.now() == EVENING_UTC + datetime.timedelta(hours=1)
        with clock.frozen(EVENING_UTC + datetime.timedelta(days=30)):
            assert clock.today() == datetime.date(2026, 4, 1)
        assert clock.now() == EVENING_UTC + datetime.timedelta(hours=1)  # the outer block's moment again
    assert clock.now() > EVENING_UTC + datetime.timedelta(days=200)
    with pytest.raises(ValueError), clock.frozen(datetime.datetime(2026, 3, 1, 17, 0)):
        raise AssertionError("a naive moment was frozen: it must be refused on entry")


@pytest.mark.usefixtures("world")
async def test_a_concern_filed_late_in_the_utc_evening_counts_on_the_beijing_day(client: AsyncClient,
                                                                                  auth: Auth) -> None:
    with clock.frozen(EVENING_UTC):
        await file(client, await auth("resident"))
    staff = await auth("cstaff")

    async def received(day: str) -> int:
        stats = await client.get(f"{BASE}/stats", params={"from": day, "to": day}, headers=staff)
        listed = await client.get(f"{BASE}/concerns", params={"created_from": day, "created_to": day}, headers=staff)
        assert stats.status_code == 200 and listed.status_code == 200, (stats.text, listed.text)
        assert stats.json()["own"]["concerns_received"] == listed.json()["total"]
        return listed.json()["total"]

    assert await received("2026-03-02") == 1
    assert await received("2026-03-01") == 0

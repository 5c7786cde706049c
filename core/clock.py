"""The one clock: what time it is (a seam tests can stop), the communities' days on Beijing time, and moments
shown on it without failing at the calendar's edges."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from zoneinfo import ZoneInfo

# The communities' time zone: a "day", a "month" or a "year" a person sees or types is one on this clock.
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class Stopped:
    """The clock stopped at `at` (aware, UTC) by `frozen`; a test moves it on with `advance`."""

    at: datetime.datetime

    def advance(self, by: datetime.timedelta) -> None:
        self.at += by


_stopped: Stopped | None = None


def now() -> datetime.datetime:
    """Now, aware, in UTC: what every stored moment is compared with and stamped from."""
    return _stopped.at if _stopped is not None else datetime.datetime.now(datetime.UTC)


def today() -> datetime.date:
    """The communities' date now (Beijing): from 16:00 UTC it is already tomorrow there."""
    return now().astimezone(LOCAL_TZ).date()


def day_start(day: datetime.date) -> datetime.datetime:
    """The moment `day` begins in the communities (Beijing midnight), aware."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=LOCAL_TZ)


def day_range(date_from: datetime.date, date_to: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The moments of the days `date_from` to `date_to`, both included, as a half-open [start, end)."""
    return day_start(date_from), day_start(date_to + datetime.timedelta(days=1))


def local(moment: datetime.datetime) -> datetime.datetime:
    """`moment` on Beijing time. A stored moment too close to year 1 or 9999 to shift (a legacy row, a typo that
    got in before inputs were bounded) is shown at the calendar's edge rather than breaking the page."""
    try:
        return moment.astimezone(LOCAL_TZ)
    except OverflowError:
        edge = datetime.datetime.max if moment.year > 1 else datetime.datetime.min
        return edge.replace(tzinfo=LOCAL_TZ)


@contextmanager
def frozen(moment: datetime.datetime) -> Iterator[Stopped]:
    """Stop the clock at `moment` for the block (tests move time instead of waiting); the block's `Stopped`
    moves it on. On leaving, the clock runs again, or goes back to where an outer block stopped it."""
    global _stopped
    if moment.tzinfo is None:
        raise ValueError("a frozen moment needs its time zone")
    outer, _stopped = _stopped, Stopped(moment.astimezone(datetime.UTC))
    try:
        yield _stopped
    finally:
        _stopped = outer

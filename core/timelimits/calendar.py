"""Working time: China's calendar (weekends, public holidays, 调休 make-up days) and a tenant's working hours,
and the deadlines and traffic lights of time limits counted in natural or in working time.

Definitions (also in docs/timelimits.md):

- A duration is ISO 8601 with days, hours, minutes (`P7D`, `PT2H`, `P1DT4H`, `PT90M`), more than nothing, in whole
  minutes, at most `MAX_DAYS` days. Years, months and weeks are refused: a month is not a fixed length.
- **Natural time**: the deadline is the start plus the duration, plainly (`P1D` is 24 hours later, across
  midnight, weekends and holidays alike).
- **Working time** counts only the working hours (default 08:30–12:00 and 14:30–18:00, Beijing time) of
  working days. A working day is what China's calendar says (the `chinese-calendar` package): Monday to Friday
  unless a public holiday, and a 调休 Saturday or Sunday that the State Council made a working day. A start
  outside the working hours (the evening, the lunch break, a weekend or a holiday) counts from the next working
  moment. Then the days of the duration move to the same time of day N working days later (`P7D` = 7 working
  days later at the same working moment, as 12345 centres count "7个工作日"), and its hours and minutes are
  working hours counted on from there, skipping what is not working time (`PT2H` from 11:30 is 16:00: half an
  hour before lunch, an hour and a half after it). A deadline that falls exactly at the end of a block of
  working hours is that end (18:00, not the next morning's 08:30).
- Years the package does not cover (it raises NotImplementedError outside them: 2004–2026 in version 1.11)
  fall back to weekends only: Monday to Friday work, Saturday and Sunday rest, no holidays nor 调休 days. Such
  deadlines are right again once a package release adds the year's calendar (the State Council publishes it
  each November).
- The traffic light: red once the deadline has passed; yellow when less than a quarter of the time limit is
  left (measured in the limit's own time: working minutes for a working-time limit); green before.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar
import msgspec

from core.clock import LOCAL_TZ
from core.errors import InvalidInput
from core.inputs import label

MAX_DAYS = 366  # a time limit longer than a year is a typing mistake (and would walk the calendar for ever)
# The hours of a duration, at most: 2,000 working hours at the least working hours a day (MIN_DAILY) stay within
# the days a deadline's walk through the calendar may take (_WALK_DAYS).
MAX_HOURS = 2000
MIN_DAILY = datetime.timedelta(hours=1)
_WALK_DAYS = 4000
# 08:30–12:00 and 14:30–18:00: the working hours of most community offices (and the platform's default).
DEFAULT_HOURS: tuple[tuple[datetime.time, datetime.time], ...] = (
    (datetime.time(8, 30), datetime.time(12, 0)), (datetime.time(14, 30), datetime.time(18, 0)))
LIGHTS = ("green", "yellow", "red")
_DAY = datetime.timedelta(days=1)
_SEARCH_DAYS = 60  # the longest run of days off is a week or so; two months of none is a calendar gone wrong

WorkingHours = tuple[tuple[datetime.time, datetime.time], ...]


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration with its days kept apart from its time: in working time `P1D` is a working day,
    `PT24H` twenty-four working hours."""

    text: str
    days: int
    time: datetime.timedelta

    @property
    def natural(self) -> datetime.timedelta:
        return datetime.timedelta(days=self.days) + self.time


@dataclass(frozen=True)
class Limit:
    """A time limit: a duration, counted in natural or in working time."""

    duration: Duration
    working: bool


def parse_duration(text: str, field: str) -> Duration:
    """`text` as a time limit's duration, or a refusal naming `field`. msgspec (already what decodes every
    request) parses ISO 8601 durations strictly and refuses years, months and weeks itself; the days are read
    from the part before `T` so that they stay days."""
    cleaned = text.strip().upper()
    try:
        whole = msgspec.convert(cleaned, datetime.timedelta)
        date_part = cleaned.split("T", 1)[0]
        days = msgspec.convert(date_part, datetime.timedelta).days if date_part not in ("P", "-P") else 0
    except msgspec.ValidationError:
        raise InvalidInput("{name}应为 ISO 8601 时长，以天、小时、分钟表示，如 PT2H、P7D、P1DT4H", field=field,
                           name=label(field)) from None
    if whole <= datetime.timedelta(0) or whole % datetime.timedelta(minutes=1):
        raise InvalidInput("{name}应为大于零的整分钟时长，如 PT30M", field=field, name=label(field))
    time = whole - datetime.timedelta(days=days)
    if whole > datetime.timedelta(days=MAX_DAYS) or time > datetime.timedelta(hours=MAX_HOURS):
        raise InvalidInput("{name}不能超过 {bound} 天或 {hours} 小时", field=field, name=label(field), bound=MAX_DAYS,
                           hours=MAX_HOURS)
    return Duration(cleaned, days, time)


# --- the calendar ----------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def is_working_day(day: datetime.date) -> bool:
    """Whether `day` is a working day in China: weekends and public holidays are not, 调休 days are. Outside the
    years the package covers: Monday to Friday (see the module's docstring)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def parse_hours(blocks: list[tuple[str, str]] | list[list[str]], field: str = "working_hours") -> WorkingHours:
    """Working hours typed as HH:MM pairs: at least one block, each ending after it starts, in order, none
    overlapping another, an hour a day or more."""
    if not blocks:
        raise InvalidInput("{name}至少要有一段", field=field, name=label(field))
    parsed: list[tuple[datetime.time, datetime.time]] = []
    for i, block in enumerate(blocks):
        where = f"{field}[{i}]"
        if len(block) != 2:
            raise InvalidInput("{name}每段应为开始和结束两个时间，如 08:30–12:00", field=where, name=label(field))
        try:
            start, end = (datetime.datetime.strptime(part, "%H:%M").time() for part in block)
        except (TypeError, ValueError):
            raise InvalidInput("{name}应为 HH:MM 格式的时间，如 08:30", field=where, name=label(field)) from None
        if end <= start:
            raise InvalidInput("{name}每段的结束须晚于开始", field=where, name=label(field))
        parsed.append((start, end))
    parsed.sort()
    for (_, end), (start, _) in zip(parsed, parsed[1:], strict=False):
        if start < end:
            raise InvalidInput("{name}的各段不能重叠", field=field, name=label(field))
    if daily(tuple(parsed)) < MIN_DAILY:
        raise InvalidInput("{name}每天合计至少 1 小时", field=field, name=label(field))
    return tuple(parsed)


def hours_text(hours: WorkingHours) -> list[list[str]]:
    return [[start.strftime("%H:%M"), end.strftime("%H:%M")] for start, end in hours]


def daily(hours: WorkingHours) -> datetime.timedelta:
    """The working time of one working day."""
    return sum((_span(start, end) for start, end in hours), datetime.timedelta(0))


def _span(start: datetime.time, end: datetime.time) -> datetime.timedelta:
    return datetime.datetime.combine(datetime.date.min, end) - datetime.datetime.combine(datetime.date.min, start)


@lru_cache(maxsize=4096)
def _blocks(day: datetime.date, hours: WorkingHours) -> tuple[tuple[datetime.datetime, datetime.datetime], ...]:
    """The working hours of `day` as moments, none on a day off (kept: every filing walks the same few days)."""
    if not is_working_day(day):
        return ()
    return tuple((datetime.datetime.combine(day, start, LOCAL_TZ), datetime.datetime.combine(day, end, LOCAL_TZ))
                 for start, end in hours)


def next_working_moment(moment: datetime.datetime, hours: WorkingHours) -> datetime.datetime:
    """`moment` itself in working hours, else when working time next begins. The blocks are half-open: at
    12:00 the morning's is over."""
    local = moment.astimezone(LOCAL_TZ)
    day = local.date()
    for _ in range(_SEARCH_DAYS):
        for start, end in _blocks(day, hours):
            if local < end:
                return max(local, start)
        day += _DAY
    raise RuntimeError(f"no working day within {_SEARCH_DAYS} days of {day}")


def _working_day_after(day: datetime.date, count: int) -> datetime.date:
    for _ in range(count):
        day += _DAY
        for _ in range(_SEARCH_DAYS):
            if is_working_day(day):
                break
            day += _DAY
    return day


def _add_working_time(moment: datetime.datetime, amount: datetime.timedelta,
                      hours: WorkingHours) -> datetime.datetime:
    """The earliest moment by which `amount` of working time has passed since `moment`, a working moment."""
    day = moment.date()
    for _ in range(_WALK_DAYS):
        for start, end in _blocks(day, hours):
            if moment >= end:
                continue
            moment = max(moment, start)
            if amount <= end - moment:
                return moment + amount
            amount -= end - moment
            moment = end
        day += _DAY
    raise RuntimeError("working time beyond the calendar's reach")


def add(start: datetime.datetime, duration: Duration, working: bool,
        hours: WorkingHours = DEFAULT_HOURS) -> datetime.datetime:
    """The deadline of a time limit of `duration` from `start` (aware), in UTC, by the definitions above."""
    if not working:
        return (start + duration.natural).astimezone(datetime.UTC)
    moment = next_working_moment(start, hours)
    if duration.days:
        # Same time of day: working days share the same hours, so a working moment lands on a working moment.
        moment = datetime.datetime.combine(_working_day_after(moment.date(), duration.days), moment.timetz())
    if duration.time:
        moment = _add_working_time(moment, duration.time, hours)
    return moment.astimezone(datetime.UTC)


def add_working(moment: datetime.datetime, amount: datetime.timedelta,
                hours: WorkingHours = DEFAULT_HOURS) -> datetime.datetime:
    """`moment` moved on by `amount` of working time (a deadline after a pause, say), in UTC; itself if none."""
    if amount <= datetime.timedelta(0):
        return moment
    return _add_working_time(next_working_moment(moment, hours), amount, hours).astimezone(datetime.UTC)


def working_between(start: datetime.datetime, end: datetime.datetime,
                    hours: WorkingHours = DEFAULT_HOURS) -> datetime.timedelta:
    """The working time from `start` to `end`; negative when `end` comes first."""
    if end < start:
        return -working_between(end, start, hours)
    a, b = start.astimezone(LOCAL_TZ), end.astimezone(LOCAL_TZ)
    total, day = datetime.timedelta(0), a.date()
    while day <= b.date():
        for block_start, block_end in _blocks(day, hours):
            overlap = min(b, block_end) - max(a, block_start)
            if overlap > datetime.timedelta(0):
                total += overlap
        day += _DAY
    return total


def remaining(now: datetime.datetime, deadline: datetime.datetime, working: bool,
              hours: WorkingHours = DEFAULT_HOURS) -> datetime.timedelta:
    """The time left until `deadline`, in the limit's own time (working time does not run at night or on
    holidays); negative once overdue."""
    return working_between(now, deadline, hours) if working else deadline - now


def fraction_left(start: datetime.datetime, now: datetime.datetime, deadline: datetime.datetime, working: bool,
                  hours: WorkingHours = DEFAULT_HOURS) -> float:
    """How much of the limit is left at `now`: 1 at the start, 0 at the deadline, below 0 after it."""
    total = remaining(start, deadline, working, hours)
    if total <= datetime.timedelta(0):
        return 0.0 if now < deadline else -1.0
    return remaining(now, deadline, working, hours) / total


def light(start: datetime.datetime, now: datetime.datetime, deadline: datetime.datetime, working: bool,
          hours: WorkingHours = DEFAULT_HOURS) -> str:
    """绿/黄/红: red once `deadline` has passed, yellow with less than a quarter of the limit left, else green."""
    if now >= deadline:
        return "red"
    return "yellow" if fraction_left(start, now, deadline, working, hours) < 0.25 else "green"


def turns_yellow_at(start: datetime.datetime, deadline: datetime.datetime, working: bool,
                    hours: WorkingHours = DEFAULT_HOURS) -> datetime.datetime:
    """The moment a quarter of the limit is left, fixed at filing so that a sweep compares moments instead of
    walking the calendar for every open concern."""
    total = remaining(start, deadline, working, hours)
    used = total - total / 4
    if not working:
        return start + used
    return _add_working_time(next_working_moment(start, hours), used, hours).astimezone(datetime.UTC)


def not_looser(child: Limit, parent: Limit, hours: WorkingHours = DEFAULT_HOURS) -> bool:
    """Whether `child` is at most as long as `parent`, whatever the start. Natural against natural: the shorter.
    Working against working: in working time, a working day being the day's working hours. Natural against
    working: a working-time limit is never shorter than the same length in natural time (P1D working is at least
    24 hours), so a natural limit no longer than it is tighter. Working against natural: never provably
    shorter (three days off make P2D working longer than P3D), so never tighter."""
    if child.working and not parent.working:
        return False
    if not child.working:
        return child.duration.natural <= parent.duration.natural
    per_day = daily(hours)
    return (child.duration.days * per_day + child.duration.time
            <= parent.duration.days * per_day + parent.duration.time)

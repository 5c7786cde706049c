"""Working time across China's calendar: the 2024 National Day week with its 调休 Sunday and Saturday, the lunch
break, a filing on a Friday evening or in a holiday, natural time across midnight, the lights, and refusals of
durations and working hours that cannot be (pure: no database)."""

from __future__ import annotations

import datetime

import pytest

from core.errors import InvalidInput
from core.timelimits.calendar import (
    DEFAULT_HOURS,
    Limit,
    add,
    fraction_left,
    is_working_day,
    light,
    next_working_moment,
    not_looser,
    parse_duration,
    parse_hours,
    remaining,
    turns_yellow_at,
    working_between,
)

BEIJING = datetime.timezone(datetime.timedelta(hours=8))


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2024) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=BEIJING)


def deadline(start: datetime.datetime, text: str, working: bool = True,
             hours: tuple = DEFAULT_HOURS) -> datetime.datetime:
    return add(start, parse_duration(text, "resolve"), working, hours).astimezone(BEIJING)


def test_the_2024_national_day_week_follows_the_state_councils_calendar() -> None:
    assert is_working_day(datetime.date(2024, 9, 29))  # a Sunday, made a working day (调休)
    assert is_working_day(datetime.date(2024, 10, 12))  # a Saturday, made a working day
    assert not any(is_working_day(datetime.date(2024, 10, d)) for d in range(1, 8))  # Tue 1st to Mon 7th
    assert not is_working_day(datetime.date(2024, 9, 28)) and not is_working_day(datetime.date(2024, 10, 13))
    assert is_working_day(datetime.date(2024, 10, 8))


def test_working_days_skip_the_holiday_week_and_count_the_make_up_days() -> None:
    # Monday 30 September, 10:00: the next working day is Tuesday 8 October.
    assert deadline(at(9, 30, 10), "P1D") == at(10, 8, 10)
    # Seven working days from then: 8, 9, 10, 11, 12 (the 调休 Saturday), 14, 15 October.
    assert deadline(at(9, 30, 10), "P7D") == at(10, 15, 10)
    # Friday 11 October: the next working day is the Saturday after it.
    assert deadline(at(10, 11, 9, 15), "P1D") == at(10, 12, 9, 15)
    assert deadline(at(10, 12, 17), "PT2H") == at(10, 14, 9, 30)  # on the 调休 Saturday itself: 1 h then, 1 h Monday
    # Saturday 28 September, a day off: counted from the 调休 Sunday's first working moment.
    assert next_working_moment(at(9, 28, 10), DEFAULT_HOURS) == at(9, 29, 8, 30)
    assert deadline(at(9, 28, 10), "P1D") == at(9, 30, 8, 30)


def test_the_lunch_break_is_not_working_time() -> None:
    assert deadline(at(11, 4, 11, 30), "PT2H") == at(11, 4, 16)  # 11:30–12:00, then 14:30–16:00
    early_afternoon = parse_hours([["08:30", "12:00"], ["14:00", "18:00"]])
    assert deadline(at(11, 4, 11, 30), "PT2H", hours=early_afternoon) == at(11, 4, 15, 30)
    assert deadline(at(11, 4, 12, 30), "PT1H") == at(11, 4, 15, 30)  # filed during lunch: from 14:30
    assert deadline(at(11, 4, 8, 30), "PT3H30M") == at(11, 4, 12)  # ends exactly at the morning's end
    assert deadline(at(11, 4, 8, 30), "PT7H") == at(11, 4, 18)  # a whole working day: that evening, not the morning after
    assert working_between(at(11, 4, 11), at(11, 4, 15)) == datetime.timedelta(hours=1, minutes=30)


def test_a_filing_on_a_friday_evening_counts_from_monday_morning() -> None:
    friday_evening = at(11, 1, 19)
    assert deadline(friday_evening, "PT2H") == at(11, 4, 10, 30)
    assert deadline(friday_evening, "P1D") == at(11, 5, 8, 30)
    assert deadline(friday_evening, "P1DT1H") == at(11, 5, 9, 30)
    assert deadline(friday_evening, "PT2H", working=False) == at(11, 1, 21)


def test_a_filing_during_the_holiday_counts_from_the_first_working_day_after_it() -> None:
    in_the_holiday = at(10, 3, 15)
    assert deadline(in_the_holiday, "PT2H") == at(10, 8, 10, 30)
    assert deadline(in_the_holiday, "P7D") == at(10, 16, 8, 30)  # 9, 10, 11, 12, 14, 15, 16 October
    assert deadline(in_the_holiday, "P1D", working=False) == at(10, 4, 15)  # natural time runs on holidays


def test_natural_time_is_plain_addition_across_midnight() -> None:
    assert deadline(at(10, 1, 22), "P1D", working=False) == at(10, 2, 22)
    assert deadline(at(12, 31, 23, 30), "PT2H", working=False) == at(1, 1, 1, 30, year=2025)
    assert add(at(10, 1, 22), parse_duration("P1D", "resolve"), False).tzinfo == datetime.UTC


def test_years_outside_the_packages_calendar_fall_back_to_weekends() -> None:
    assert is_working_day(datetime.date(2031, 1, 6)) and not is_working_day(datetime.date(2031, 1, 4))
    # Friday 3 January 2031, 17:00: the weekend is skipped as in any year, holidays unknown.
    assert deadline(at(1, 3, 17, year=2031), "PT2H") == at(1, 6, 9, 30, year=2031)


def test_the_traffic_light_turns_yellow_with_a_quarter_left_and_red_when_overdue() -> None:
    filed = at(11, 4, 8, 30)  # Monday; PT4H working: 08:30–12:00 and 14:30–15:00
    due = add(filed, parse_duration("PT4H", "respond"), True)
    assert due == at(11, 4, 15)
    assert light(filed, at(11, 4, 9), due, True) == "green"
    assert light(filed, at(11, 4, 11, 30), due, True) == "green"  # exactly a quarter (1 h) left
    assert light(filed, at(11, 4, 11, 45), due, True) == "yellow"
    assert light(filed, at(11, 4, 13), due, True) == "yellow"  # the lunch break uses none of the time
    assert remaining(at(11, 4, 13), due, True) == datetime.timedelta(minutes=30)
    assert light(filed, at(11, 4, 15), due, True) == "red"
    assert remaining(at(11, 4, 16), due, True) == -datetime.timedelta(hours=1)
    assert turns_yellow_at(filed, due, True) == at(11, 4, 11, 30)
    # Natural time: a quarter of PT4H is an hour.
    natural_due = add(filed, parse_duration("PT4H", "respond"), False)
    assert light(filed, at(11, 4, 11, 31), natural_due, False) == "yellow"
    assert turns_yellow_at(filed, natural_due, False) == at(11, 4, 11, 30)


def test_the_light_stands_still_over_a_weekend_in_working_time() -> None:
    filed = at(11, 1, 17)  # Friday 17:00, PT2H working: an hour on Friday, an hour on Monday
    due = add(filed, parse_duration("PT2H", "respond"), True)
    assert due == at(11, 4, 9, 30)
    assert fraction_left(filed, at(11, 1, 18), due, True) == 0.5
    assert fraction_left(filed, at(11, 3, 23), due, True) == 0.5
    assert light(filed, at(11, 3, 23), due, True) == "green"


@pytest.mark.parametrize("text", ["P1M", "P1Y", "P1W", "abc", "", "2 hours", "-PT2H", "PT0S", "PT30S", "P400D",
                                  "PT2001H", "PT1.5H30M", "P1D\x00"])
def test_a_bad_duration_is_refused_in_chinese_naming_its_field(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_duration(text, "limits[0].respond")
    assert refused.value.field == "limits[0].respond"
    assert "时长" in str(refused.value) or "天" in str(refused.value)


def test_durations_keep_days_apart_from_hours() -> None:
    day, hours = parse_duration("P1D", "f"), parse_duration("PT24H", "f")
    assert day.natural == hours.natural and (day.days, hours.days) == (1, 0)
    assert parse_duration(" p1dt2h ", "f").text == "P1DT2H"
    assert deadline(at(11, 4, 9), "P1D") == at(11, 5, 9)
    assert deadline(at(11, 4, 9), "PT24H") == at(11, 7, 12)  # 24 working hours: 6.5 + 7 + 7 + 3.5


@pytest.mark.parametrize(("blocks", "field"), [
    ([], "working_hours"), ([["08:30"]], "working_hours[0]"), ([["8.30", "12:00"]], "working_hours[0]"),
    ([["25:00", "26:00"]], "working_hours[0]"), ([["12:00", "08:30"]], "working_hours[0]"),
    ([["08:30", "12:00"], ["11:00", "18:00"]], "working_hours"), ([["08:30", "09:00"]], "working_hours"),
])
def test_bad_working_hours_are_refused(blocks: list, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_hours(blocks)
    assert refused.value.field == field


def test_the_longest_durations_reach_their_deadline_in_the_fewest_working_hours() -> None:
    one_hour = parse_hours([["09:00", "10:00"]])
    assert deadline(at(11, 4, 9), "PT2000H", hours=one_hour).year == 2032  # 2,000 working days on
    longest = deadline(at(11, 4, 9), "P366D")
    days = (longest.date() - datetime.date(2024, 11, 4)).days
    between = [datetime.date(2024, 11, 4) + datetime.timedelta(days=n) for n in range(1, days + 1)]
    assert longest.time() == datetime.time(9) and is_working_day(longest.date())
    assert sum(is_working_day(day) for day in between) == 366


def test_tighter_compares_natural_and_working_time_soundly() -> None:
    def limit(text: str, working: bool) -> Limit:
        return Limit(parse_duration(text, "f"), working)

    assert not_looser(limit("P5D", True), limit("P7D", True))
    assert not not_looser(limit("P8D", True), limit("P7D", True))
    assert not_looser(limit("PT7H", True), limit("P1D", True))  # a working day of 7 working hours
    assert not not_looser(limit("PT8H", True), limit("P1D", True))
    assert not_looser(limit("P7D", False), limit("P7D", True))  # natural time is never slower
    assert not not_looser(limit("P7D", True), limit("P10D", False))  # working time may take longer than it looks
    assert not_looser(limit("PT1H", False), limit("PT2H", False))
    assert not not_looser(limit("P2D", False), limit("P1D", False))

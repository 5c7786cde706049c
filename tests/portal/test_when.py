"""Dates typed into the portal's forms: the one parser (core/portal/when.py) reads what Chinese readers write, on
Beijing time, refuses anything else with a message naming the field, and the shared field (_when.html) lets the
browser send everything the parser reads."""

from __future__ import annotations

import datetime
import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment, FileSystemLoader

from core.clock import LOCAL_TZ
from core.errors import InvalidInput
from core.portal import when
from core.portal.i18n import gettext_for
from core.portal.setup import HERE, local_time

ZH = gettext_for("zh_CN")
FULL_WIDTH = str.maketrans("0123456789:-/.", "０１２３４５６７８９：－／．")


def field(kind: str, value: str = "", error: str | None = None) -> str:
    """The shared field as the portal renders it (its templates, its filter, Chinese)."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
    env.filters["local_time"] = local_time
    module = env.get_template("_when.html").make_module({"_": ZH})
    return str(module.when("starts_at", "开始时间", kind, value=value, error=error))


def browser_pattern(kind: str) -> re.Pattern[str]:
    """The field's `pattern`, anchored as the browser anchors it."""
    found = re.search(r'pattern="([^"]*)"', field(kind))
    assert found
    return re.compile(f"(?:{html.unescape(found.group(1))})")


PATTERNS = {kind: browser_pattern(kind) for kind in when.KINDS}
moments = st.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2100, 12, 31, 23, 59)
                       ).map(lambda m: m.replace(second=0, microsecond=0))


def written(moment: datetime.datetime, style: int, full_width: bool) -> tuple[str, str]:
    """The moment's date, and its date and time, as a person may write them."""
    y, m, d, hh, mm = moment.year, moment.month, moment.day, moment.hour, moment.minute
    dates = [f"{y}-{m:02}-{d:02}", f"{y}/{m}/{d}", f"{y}.{m}.{d}", f"{y}年{m}月{d}日", f"{y}年{m:02}月{d:02}号",
             f"{y}{m:02}{d:02}", f" {y} - {m} - {d} "]
    times = [f" {hh:02}:{mm:02}", f" {hh}:{mm:02}", f"T{hh:02}:{mm:02}", f" {hh}时{mm}分", f" {hh}点{mm}",
             f" {hh:02}:{mm:02}:00", f"  {hh}：{mm:02}"]
    day, time = dates[style % len(dates)], times[style // len(dates) % len(times)]
    if style % len(dates) in (3, 4) and style % 2:
        time = time.lstrip()  # 2026年12月5日14:30, directly after 日
    pair = (day, day + time)
    return tuple(p.translate(FULL_WIDTH) for p in pair) if full_width else pair  # type: ignore[return-value]


@given(moments, st.integers(0, 48), st.booleans())
def test_every_way_of_writing_a_moment_reads_as_that_moment_on_beijing_time(moment: datetime.datetime, style: int,
                                                                            full_width: bool) -> None:
    day, day_and_time = written(moment, style, full_width)
    assert when.parse(day, "date") == moment.date()
    read = when.parse(day_and_time, "datetime")
    assert read == moment.replace(tzinfo=LOCAL_TZ) and read.utcoffset() == datetime.timedelta(hours=8)
    assert local_time(read) == moment.strftime("%Y-%m-%d %H:%M")  # shown back as it was meant
    assert when.parse(when.shown(read, "datetime"), "datetime") == read
    # The browser lets through everything the server reads: the field's pattern never blocks a good value.
    assert PATTERNS["date"].fullmatch(day) and PATTERNS["datetime"].fullmatch(day_and_time)


@given(moments, st.sampled_from(["{y}-{m:02}", "{y}/{m}", "{y}.{m}", "{y}年{m}月", "{y}年{m:02}", "{y}{m:02}"]))
def test_every_way_of_writing_a_month_reads_as_its_first_day(moment: datetime.datetime, style: str) -> None:
    text = style.format(y=moment.year, m=moment.month)
    assert when.parse(text, "month") == moment.date().replace(day=1)
    assert PATTERNS["month"].fullmatch(text)


@given(st.text(max_size=60), st.sampled_from(when.KINDS))
def test_any_text_is_a_value_or_a_refusal_naming_the_field(text: str, kind: when.Kind) -> None:
    try:
        value = when.read(ZH, text, kind, field="starts_at", label="开始时间")
    except InvalidInput as exc:
        assert exc.status == 422 and exc.field == "starts_at" and exc.message.startswith("开始时间：")
        return
    assert value is None or isinstance(value, datetime.date)


@pytest.mark.parametrize(("text", "kind"), [
    ("12/05/2026 14:30", "datetime"),  # month first: ambiguous, refused
    ("05/12/2026", "date"),
    ("2026-12-05", "datetime"),  # the time is missing
    ("2026-12-05 24:00", "datetime"),
    ("2026-12-05 14:60", "datetime"),
    ("2026-02-30", "date"),
    ("2026-13", "month"),
    ("2026-12-05 14:30", "date"),  # a time where only a date goes
    ("明天下午", "datetime"),
    ("٢٠٢٦-١٢-٠٥", "date"),  # digits of another script
])
def test_what_is_no_such_value_is_refused_with_an_example(text: str, kind: when.Kind) -> None:
    with pytest.raises(InvalidInput) as refused:
        when.read(ZH, text, kind, field="when", label="日期")
    assert refused.value.field == "when" and when.EXAMPLES[kind] in refused.value.message
    assert refused.value.message.startswith("日期：")


def test_a_date_outside_the_platforms_years_says_so_and_an_empty_field_is_none_unless_required() -> None:
    with pytest.raises(InvalidInput, match="2000-01-01 至 2100-12-31"):
        when.read(ZH, "1999-12-31", "date", field="from", label="起始日期")
    assert when.read(ZH, "  ", "date", field="from", label="起始日期") is None
    with pytest.raises(InvalidInput, match="起始日期：必须填写"):
        when.read(ZH, "", "date", field="from", label="起始日期", required=True)
    with pytest.raises(InvalidInput, match=r"^Starts at: enter a date and time such as 2026-12-02 14:30"):
        when.read(gettext_for("en"), "x", "datetime", field="starts_at", label="Starts at")


def test_the_field_is_text_with_a_chinese_example_and_shows_a_moment_on_beijing_time() -> None:
    rendered = field("datetime", datetime.datetime(2026, 12, 5, 6, 30, tzinfo=datetime.UTC))
    assert 'type="text"' in rendered and 'type="datetime-local"' not in rendered
    assert 'placeholder="2026-12-02 14:30"' in rendered and 'value="2026-12-05 14:30"' in rendered
    assert "北京时间" in rendered and 'aria-describedby="starts_at-hint"' in rendered
    refused = field("date", "12/05/2026", error="开始时间：请按 2026-12-02 的格式填写日期")
    assert 'value="12/05/2026"' in refused  # what the person typed stays
    assert 'aria-invalid="true"' in refused and 'id="starts_at-error"' in refused
    assert not PATTERNS["date"].fullmatch("12/05/2026") and not PATTERNS["datetime"].fullmatch("2026-12-05")

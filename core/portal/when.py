"""Dates, times and months as people type them into the portal's forms (`_when.html`), read in one place: on the
communities' clock (Beijing time), in the forms Chinese readers write them, with a refusal naming the field.

A browser's own date pickers show the browser's locale (mm/dd/yyyy on an English Chromium), so the forms take
text instead, and this module is what that text may be:

- a date: 2026-12-02, 2026/12/2, 2026.12.02, 2026年12月2日 (or 号), 20261202;
- a date and time: one of those dates, then 14:30 (or 14：30, 14时30分, 14点30, 14点; seconds are dropped), after a
  space, a "T" (what an old link or a datetime-local field sends) or directly after 日;
- a month: 2026-12, 2026/12, 2026.12, 2026年12月, 202612.

Full-width digits and punctuation (what a Chinese input method types) count as their ASCII forms. Any other text,
month/day/year orders included (12/02/2026 is ambiguous), is refused.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable
from typing import Literal

from core.clock import LOCAL_TZ
from core.errors import InvalidInput
from core.inputs import FIRST_DAY, LAST_DAY
from core.portal.i18n import N_

Kind = Literal["date", "datetime", "month"]
KINDS: tuple[Kind, ...] = ("date", "datetime", "month")
EXAMPLES: dict[Kind, str] = {"date": "2026-12-02", "datetime": "2026-12-02 14:30", "month": "2026-12"}
# What a form shows when it has to refuse a value, in English (the catalogue translates it): the field's label
# goes first, so the person knows which one, and the example shows the form it takes.
REFUSALS: dict[Kind, str] = {
    "date": N_("{field}: enter a date such as {example}."),
    "datetime": N_("{field}: enter a date and time such as {example} (Beijing time)."),
    "month": N_("{field}: enter a month such as {example}."),
}
MISSING = N_("{field}: this is required.")
OUT_OF_RANGE = N_("{field}: enter a date from {first} to {last}.")
MAX_LENGTH = 40  # longer text is no date of ours, whatever it holds

_SEP = r"\s*[-/.]\s*"
_DATES = [
    re.compile(rf"(?P<y>\d{{4}}){_SEP}(?P<m>\d{{1,2}}){_SEP}(?P<d>\d{{1,2}})", re.ASCII),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?", re.ASCII),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})", re.ASCII),
]
_MONTHS = [
    re.compile(rf"(?P<y>\d{{4}}){_SEP}(?P<m>\d{{1,2}})", re.ASCII),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月?", re.ASCII),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})", re.ASCII),
]
_TIME = re.compile(r"(?P<H>\d{1,2})\s*(?:(?::|时|点)\s*(?P<M>\d{1,2})?\s*分?(?::(?P<S>\d{1,2}))?)", re.ASCII)
_BETWEEN = re.compile(r"\s*[Tt]?\s*", re.ASCII)


class NotAWhen(ValueError):
    """The text is not a date (time, month) of the kind asked for; `reason` says whether it is out of range."""

    def __init__(self, kind: Kind, reason: Literal["form", "range"] = "form") -> None:
        super().__init__(f"not a {kind} ({reason})")
        self.kind, self.reason = kind, reason


def _normal(raw: str) -> str:
    # NFKC turns full-width digits, "：", "－", "／" and the ideographic space into their ASCII forms.
    return unicodedata.normalize("NFKC", raw).strip()


def _day(kind: Kind, y: str, m: str, d: str) -> datetime.date:
    try:
        day = datetime.date(int(y), int(m), int(d))
    except ValueError:
        raise NotAWhen(kind) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise NotAWhen(kind, "range")
    return day


def _date_prefix(kind: Kind, text: str) -> tuple[datetime.date, str]:
    """The date at the start of `text` and what follows it."""
    for pattern in _DATES:
        found = pattern.match(text)
        if found:
            return _day(kind, found["y"], found["m"], found["d"]), text[found.end():]
    raise NotAWhen(kind)


def parse_date(raw: str) -> datetime.date:
    text = _normal(raw)
    day, rest = _date_prefix("date", text)
    if rest.strip():
        raise NotAWhen("date")
    return day


def parse_datetime(raw: str) -> datetime.datetime:
    """The moment, aware, on Beijing time."""
    text = _normal(raw)
    day, rest = _date_prefix("datetime", text)
    rest = rest[_BETWEEN.match(rest).end():]  # type: ignore[union-attr]  # matches the empty string at least
    found = _TIME.fullmatch(rest.strip())
    if not found:
        raise NotAWhen("datetime")
    hour, minute, second = int(found["H"]), int(found["M"] or 0), int(found["S"] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise NotAWhen("datetime")
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=LOCAL_TZ)


def parse_month(raw: str) -> datetime.date:
    """The month's first day."""
    text = _normal(raw)
    for pattern in _MONTHS:
        found = pattern.fullmatch(text)
        if found:
            return _day("month", found["y"], found["m"], "1")
    raise NotAWhen("month")


PARSERS: dict[Kind, Callable[[str], datetime.date | datetime.datetime]] = {
    "date": parse_date, "datetime": parse_datetime, "month": parse_month}


def parse(raw: str, kind: Kind) -> datetime.date | datetime.datetime:
    """`raw` read as `kind`; NotAWhen if it is none."""
    if len(raw) > MAX_LENGTH:
        raise NotAWhen(kind)
    return PARSERS[kind](raw)


def shown(value: datetime.date | datetime.datetime | None, kind: Kind) -> str:
    """A value as the form shows it again, in the form `parse` reads first (a moment on Beijing time)."""
    if value is None:
        return ""
    if kind == "month":
        return value.strftime("%Y-%m")
    if isinstance(value, datetime.datetime):
        return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def read(gettext: Callable[[str], str], raw: str | None, kind: Kind, *, field: str, label: str,
         required: bool = False) -> datetime.date | datetime.datetime | None:
    """A form's field `field` (shown as `label`) read as `kind`: None when left empty and not `required`, else
    a 422 refusal naming the field, in the reader's language (`gettext`), with an example of what it takes."""
    text = (raw or "").strip()
    if not text:
        if required:
            raise InvalidInput(gettext(MISSING).format(field=label), field=field)
        return None
    try:
        return parse(text, kind)
    except NotAWhen as exc:
        if exc.reason == "range":
            message = gettext(OUT_OF_RANGE).format(field=label, first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat())
        else:
            message = gettext(REFUSALS[kind]).format(field=label, example=EXAMPLES[kind])
        raise InvalidInput(message, field=field) from None

"""The figures kept as they change: each tenant's additive figures per Beijing day and month (`DayTally`), its own
and its subtree's, recounted by the fan-out of the event log for the days an event touched, and read by `/stats`,
`/public/stats` (a portal's home, open data's years), the dashboard and the rates (`core.reporting.rates`) in a
few dozen rows however many concerns there are, a row per community where a reader shows one.

Kept, not counted on reading:
- **Own day rows** are recounts: the fan-out (`follow`, in the transaction that moves the tenant's cursor, under its
  lock) finds the days a batch of events touched — each event's own day, the days of the concerns it is about or
  whose topic it is about (filing, response, deadline, closing, revisits: those they are counted on now and those
  `CountedConcern` recorded when they were last counted, which a moved deadline leaves), that topic's creation and
  completion days, its meetings' minutes, ratings' and follow-ups' days — and counts those days again from the
  rows (`recount`). A recount is idempotent: running it twice, or after a crash, gives the same rows.
- **Month rows and subtree rows** take the change: the new day minus the old, added to the tenant's own month
  and to the day and month of its own subtree rows and every ancestor's (each in that tenant, for Row-Level
  Security, root first so that two fan-outs lock in the same order). A district's year is then ~12 month rows and
  the days at the edges, read from its own rows: never the concerns, never a row per community.
- **Medians** come from histograms of whole minutes: each completed matter's from filing to completion (the figure
  is rounded to 0.1 day), each concern's to its response and to its closing (the rates', to 0.1 hour): exact to
  the minute is exact for them but within a minute of a rounding edge.
- **What is open now** (overdue action items, open follow-ups) is no sum of days: it stays a live count of a small
  indexed set (`ix_action_item_tenant_status_due`, `ix_topic_follow_up_tenant_status`).

`yishi stats rebuild [SLUG]` (`rebuild`) recounts a tenant's every day and its ancestors' subtree rows: after an
import, an upgrade, or anything that changed rows without an event.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, false, func, insert, or_, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.concerns.models import Concern
from core.db import TenantContext, table_of
from core.events import WorkflowEvent
from core.notifications.models import NotificationCursor
from core.reporting.models import CountedConcern, DayTally
from core.reporting.schemas import Figures
from core.tenancy.models import Tenant
from core.tenancy.scope import within
from core.timelimits.models import Revisit
from core.topics.models import FollowUp, Meeting, Rating, Topic

# Which concerns count (docs/rates.md): a duplicate merged into another is not a concern of its own (the survivor is
# counted, it is not, until the merge is undone); one its filer withdrew before triage was never handled.
COUNTED = Concern.status.not_in(("merged", "withdrawn"))
SATISFIED = ("satisfied", "basic")  # 满意 and 基本满意

COUNTS = ("concerns_received", "resolved_directly", "topics", "consultations_held", "matters_completed",
          "rating_total", "ratings", "follow_ups",
          # the rates' (core.reporting.rates)
          "respond_limits", "responded_in_time", "resolve_limits", "closed_in_time", "answered_solved", "said_solved",
          "rated", "satisfied", "revisits_asked", "revisits_answered", "reopened")
# Each histogram of minutes → how many: medians do not add up, histograms do.
HISTOGRAMS = ("minutes_to_completion", "minutes_to_respond", "minutes_to_resolve")
_TABLE = table_of(DayTally)
Key = tuple[bool, datetime.date]  # (a month's row, its day: the month's first)
RECORDED_AT_ONCE = 5000  # the concerns' days a rebuild writes per statement


def _histograms() -> dict[str, dict[int, int]]:
    return {name: {} for name in HISTOGRAMS}


@dataclass
class Part:
    """What adds up of a tenant's figures over some days: the counts, the histograms of minutes (to completion, to
    a response, to closing), and the concerns received by category."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    histograms: dict[str, dict[int, int]] = field(default_factory=_histograms)
    categories: dict[str, int] = field(default_factory=dict)

    def add(self, other: Part, sign: int = 1) -> None:
        for name, value in other.counts.items():
            self.counts[name] += sign * value
        for name, histogram in other.histograms.items():
            _add_to(self.histograms[name], histogram, sign)
        _add_to(self.categories, other.categories, sign)

    def __sub__(self, other: Part) -> Part:
        difference = Part(dict(self.counts), {name: dict(h) for name, h in self.histograms.items()},
                          dict(self.categories))
        difference.add(other, -1)
        return difference

    def __bool__(self) -> bool:
        return any(self.counts.values()) or any(self.histograms.values()) or bool(self.categories)

    def median_minutes(self, histogram: str) -> float | None:
        """The median of a histogram's minutes, as `statistics.median` gives it over what was counted."""
        counted = self.histograms[histogram]
        n = sum(counted.values())
        if not n:
            return None
        wanted, seen, middle = {(n - 1) // 2, n // 2}, 0, list[int]()
        for minutes in sorted(counted):
            count = counted[minutes]
            middle.extend(minutes for index in sorted(wanted) if seen <= index < seen + count)
            seen += count
        return sum(middle) / len(middle)

    def median_days(self) -> float | None:
        """The median of the days from filing to completion, rounded as the figure shows it."""
        minutes = self.median_minutes("minutes_to_completion")
        return round(minutes / 1440, 1) if minutes is not None else None

    def figures(self, overdue_action_items: int, follow_ups_open: int) -> Figures:
        c = self.counts
        return Figures(
            concerns_received=c["concerns_received"], resolved_directly=c["resolved_directly"], topics=c["topics"],
            consultations_held=c["consultations_held"], matters_completed=c["matters_completed"],
            median_days_to_completion=self.median_days(), overdue_action_items=overdue_action_items,
            average_rating=round(c["rating_total"] / c["ratings"], 2) if c["ratings"] else None,
            follow_ups=c["follow_ups"], follow_ups_open=follow_ups_open)


def _add_to(into: dict[Any, int], other: dict[Any, int], sign: int) -> None:
    """`other`'s counts added to `into`'s (`sign` -1: taken away); a count that comes to zero is no entry."""
    for key, count in other.items():
        left = into.get(key, 0) + sign * count
        if left:
            into[key] = left
        else:
            into.pop(key, None)


def _day(moment: datetime.datetime) -> datetime.date:
    return clock.local(moment).date()


def _month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


# --- counting from the rows -----------------------------------------------------------------------------------


def _on(column: Any, days: Sequence[datetime.date] | None) -> ColumnElement[bool]:
    """`column` falls on one of `days` (None: on any day), as few ranges as the days make."""
    if days is None:
        return column.is_not(None)
    ranges: list[list[datetime.date]] = []
    for day in sorted(days):
        if ranges and ranges[-1][1] + datetime.timedelta(days=1) == day:
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    return or_(*(and_(column >= lo, column < hi) for lo, hi in (clock.day_range(a, b) for a, b in ranges)))


async def recount(session: AsyncSession, days: Iterable[datetime.date] | None = None) -> dict[datetime.date, Part]:
    """The session's tenant's own figures on each of `days` (None: every day it has any), counted from the rows,
    as `reporting.services.tallies` counts them over a period."""
    wanted = None if days is None else sorted(set(days))
    parts: defaultdict[datetime.date, Part] = defaultdict(Part)

    def bump(moment: datetime.datetime | None, name: str, by: int = 1) -> None:
        if moment is not None:  # always: a NULL falls on no day
            parts[_day(moment)].counts[name] += by

    for filed, status, category in await session.execute(
            select(Concern.created_at, Concern.status, Concern.category).where(_on(Concern.created_at, wanted), COUNTED)):
        bump(filed, "concerns_received")
        if status == "resolved":
            bump(filed, "resolved_directly")
        by_category = parts[_day(filed)].categories
        by_category[category] = by_category.get(category, 0) + 1
    for (made,) in await session.execute(select(Topic.created_at).where(_on(Topic.created_at, wanted))):
        bump(made, "topics")
    for (held,) in await session.execute(
            select(Meeting.minutes_recorded_at).where(_on(Meeting.minutes_recorded_at, wanted))):
        bump(held, "consultations_held")
    for (done,) in await session.execute(select(Topic.completed_at).where(_on(Topic.completed_at, wanted))):
        bump(done, "matters_completed")
    for rated, score in await session.execute(select(Rating.created_at, Rating.score).where(_on(Rating.created_at, wanted))):
        bump(rated, "rating_total", score)
        bump(rated, "ratings")
    for (asked,) in await session.execute(select(FollowUp.created_at).where(_on(FollowUp.created_at, wanted))):
        bump(asked, "follow_ups")
    # A matter's minutes run from each of its concerns' filing to the topic's completion (as `tallies` counts).
    for filed, done in await session.execute(
            select(Concern.created_at, Topic.completed_at)
            .join(Topic, and_(Topic.tenant_id == Concern.tenant_id, Topic.id == Concern.topic_id))
            .where(_on(Topic.completed_at, wanted))):
        _tick(parts, "minutes_to_completion", filed, done)
    await _recount_rates(session, wanted, parts)
    return {day: parts.get(day, Part()) for day in wanted} if wanted is not None else dict(parts)


def _tick(parts: defaultdict[datetime.date, Part], histogram: str, began: datetime.datetime,
          ended: datetime.datetime | None) -> None:
    """One more in `histogram` of the day `ended`: the whole minutes from `began`."""
    if ended is None:  # not reached: a NULL falls on no day
        return
    counted = parts[_day(ended)].histograms[histogram]
    minutes = round((ended - began).total_seconds() / 60)
    counted[minutes] = counted.get(minutes, 0) + 1


async def _recount_rates(session: AsyncSession, wanted: list[datetime.date] | None,
                         parts: defaultdict[datetime.date, Part]) -> None:
    """The rates' counts and histograms on the `wanted` days (None: every day), each by the day its rate counts it
    by (docs/rates.md): one query per kind of day, each a range of an index."""

    def bump(moment: datetime.datetime | None, *names: str) -> None:
        if moment is None:  # not reached: a NULL falls on no day
            return
        for name in names:
            parts[_day(moment)].counts[name] += 1

    for filed, respond_by, responded in await session.execute(
            select(Concern.created_at, Concern.respond_by, Concern.responded_at)
            .where(_on(Concern.created_at, wanted), COUNTED, Concern.respond_by.is_not(None))):
        bump(filed, "respond_limits")
        if responded is not None and respond_by is not None and responded <= respond_by:
            bump(filed, "responded_in_time")
    not_rejected = Concern.status != "rejected"
    for resolve_by, closed in await session.execute(select(Concern.resolve_by, Concern.closed_at).where(
            _on(Concern.resolve_by, wanted), COUNTED, not_rejected)):
        bump(resolve_by, "resolve_limits")
        if closed is not None and resolve_by is not None and closed <= resolve_by:
            bump(resolve_by, "closed_in_time")
    for filed, responded in await session.execute(select(Concern.created_at, Concern.responded_at).where(
            _on(Concern.responded_at, wanted), COUNTED)):
        _tick(parts, "minutes_to_respond", filed, responded)
    for filed, closed in await session.execute(select(Concern.created_at, Concern.closed_at).where(
            _on(Concern.closed_at, wanted), COUNTED, not_rejected)):
        _tick(parts, "minutes_to_resolve", filed, closed)
    for answered, solved, satisfaction in await session.execute(
            select(Revisit.answered_at, Revisit.solved, Revisit.satisfaction).where(_on(Revisit.answered_at, wanted))):
        bump(answered, *(["answered_solved"] if solved is not None else []), *(["said_solved"] if solved else []),
             *(["rated"] if satisfaction is not None else []), *(["satisfied"] if satisfaction in SATISFIED else []))
    for asked, answered, solved in await session.execute(
            select(Revisit.asked_at, Revisit.answered_at, Revisit.solved).where(_on(Revisit.asked_at, wanted))):
        bump(asked, "revisits_asked", *(["revisits_answered"] if answered is not None else []),
             *(["reopened"] if solved is False else []))


@dataclass
class Touched:
    """What a batch of events may have changed: the days to recount, and the days now of each concern whose days
    moved (recorded once they are counted, so that the next change to it recounts the days it leaves)."""

    days: set[datetime.date]
    moved: dict[uuid.UUID, set[datetime.date]]


async def concern_days(session: AsyncSession,
                       concern_ids: Iterable[uuid.UUID] | None = None) -> dict[uuid.UUID, set[datetime.date]]:
    """The days each concern (None: every concern of the session's tenant) is counted on now: its filing,
    response, resolve deadline and closing, its revisits' asking and answer."""
    ids = None if concern_ids is None else list(concern_ids)
    if ids == []:
        return {}
    days: defaultdict[uuid.UUID, set[datetime.date]] = defaultdict(set)
    concerns = select(Concern.id, Concern.created_at, Concern.responded_at, Concern.resolve_by, Concern.closed_at)
    revisits = select(Revisit.concern_id, Revisit.asked_at, Revisit.answered_at)
    if ids is not None:
        concerns, revisits = concerns.where(Concern.id.in_(ids)), revisits.where(Revisit.concern_id.in_(ids))
    for query in (concerns, revisits):
        for concern_id, *moments in await session.execute(query):
            days[concern_id].update(_day(moment) for moment in moments if moment is not None)
    return dict(days)


async def touched_days(session: AsyncSession, events: Sequence[WorkflowEvent]) -> Touched:
    """The days whose figures `events` may have changed: each event's own, and those of the rows it is about — its
    concerns' days (those they are counted on now and those they were last counted on), its topic's creation and
    completion, the topic's concerns, minutes, ratings and follow-ups."""
    days = {_day(event.at) for event in events}
    concern_ids = {e.subject_id for e in events if e.subject_kind == "concern"}
    topic_ids = {e.topic_id for e in events if e.topic_id is not None} | {
        e.subject_id for e in events if e.subject_kind == "topic"}
    moments: list[datetime.datetime | None] = []
    if concern_ids:
        topic_ids.update(topic_id for topic_id in (await session.scalars(
            select(Concern.topic_id).where(Concern.id.in_(concern_ids)))).all() if topic_id is not None)
    if topic_ids:
        for made, done in await session.execute(select(Topic.created_at, Topic.completed_at)
                                                .where(Topic.id.in_(topic_ids))):
            moments += [made, done]
        for column, of_topic in ((Meeting.minutes_recorded_at, Meeting.topic_id),
                                 (Rating.created_at, Rating.topic_id), (FollowUp.created_at, FollowUp.topic_id)):
            moments.extend((await session.scalars(select(column).where(of_topic.in_(topic_ids)))).all())
        concern_ids.update((await session.scalars(select(Concern.id).where(Concern.topic_id.in_(topic_ids)))).all())
    now = await concern_days(session, concern_ids)
    before = {concern_id: {datetime.date.fromisoformat(day) for day in listed}
              for concern_id, listed in (await session.execute(select(CountedConcern.concern_id, CountedConcern.days)
                                                               .where(CountedConcern.concern_id.in_(concern_ids))))
              } if concern_ids else {}
    for counted in (*now.values(), *before.values()):
        days |= counted
    moved = {concern_id: counted for concern_id, counted in now.items() if before.get(concern_id) != counted}
    return Touched(days | {_day(moment) for moment in moments if moment is not None}, moved)


# --- the rows ---------------------------------------------------------------------------------------------------


def _histogram(stored: dict[str, Any] | None) -> dict[int, int]:
    return {int(minutes): count for minutes, count in (stored or {}).items()}


def _part(row: Any) -> Part:
    return Part({name: getattr(row, name) for name in COUNTS},
                {name: _histogram(getattr(row, name)) for name in HISTOGRAMS},
                dict(row.concerns_by_category or {}))


def _values(part: Part) -> dict[str, Any]:
    return {**part.counts, **{name: {str(m): c for m, c in sorted(part.histograms[name].items())} for name in HISTOGRAMS},
            "concerns_by_category": dict(sorted(part.categories.items()))}


async def _rows(session: AsyncSession, tenant_id: uuid.UUID, subtree: bool, keys: Iterable[Key] | None = None,
                locked: bool = False) -> dict[Key, DayTally]:
    query = select(DayTally).where(DayTally.tenant_id == tenant_id, DayTally.subtree == subtree)
    if keys is not None:
        wanted = set(keys)
        if not wanted:
            return {}
        query = query.where(or_(*(and_(DayTally.month == month, DayTally.day == day) for month, day in wanted)))
    if locked:  # in one order, as every fan-out takes them: no two wait on each other
        query = query.order_by(DayTally.month, DayTally.day).with_for_update()
    return {(row.month, row.day): row for row in (await session.scalars(query)).all()}


async def _add(session: AsyncSession, tenant_id: uuid.UUID, subtree: bool, changes: dict[Key, Part]) -> None:
    """Add `changes` to the session's tenant's rows: made (at zero) where missing, a second fan-out making the same
    row at once doing nothing, then locked, read and written."""
    now = clock.now()
    zero = _values(Part())
    statement = _insert(session)(_TABLE).on_conflict_do_nothing(index_elements=["tenant_id", "subtree", "month", "day"])
    await session.execute(statement, [{"tenant_id": tenant_id, "id": uuid.uuid4(), "subtree": subtree, "month": month,
                                       "day": day, **zero, "created_at": now, "updated_at": now}
                                      for month, day in sorted(changes)])
    rows = await _rows(session, tenant_id, subtree, changes, locked=True)
    for key, change in changes.items():
        row = rows[key]
        part = _part(row)
        part.add(change)
        for name, value in _values(part).items():
            setattr(row, name, value)
        row.updated_at = now
    await session.flush()


async def _replace(session: AsyncSession, tenant_id: uuid.UUID, subtree: bool, book: dict[Key, Part]) -> None:
    """The session's tenant's own (or subtree) rows become `book`."""
    await session.execute(delete(DayTally).where(DayTally.tenant_id == tenant_id, DayTally.subtree == subtree))
    now = clock.now()
    rows = [{"tenant_id": tenant_id, "id": uuid.uuid4(), "subtree": subtree, "month": month, "day": day,
             **_values(part), "created_at": now, "updated_at": now} for (month, day), part in book.items() if part]
    if rows:
        await session.execute(insert(_TABLE), rows)


def _book(days: dict[datetime.date, Part]) -> dict[Key, Part]:
    """Day parts as rows: each day's, and each month's sum."""
    book: dict[Key, Part] = {}
    for day, part in days.items():
        book[(False, day)] = part
        book.setdefault((True, _month(day)), Part()).add(part)
    return book


def _ancestors_and_self(tenant: Tenant) -> list[TenantContext]:
    """From the root down to `tenant`, each as a context to act in."""
    contexts, path = [], "/"
    for tenant_id in tenant.ancestor_ids:
        path = f"{path}{tenant_id.hex}/"
        contexts.append(TenantContext(tenant_id, path))
    return contexts


async def follow(session: AsyncSession, ctx: TenantContext, tenant: Tenant, events: Sequence[WorkflowEvent]) -> int:
    """Recount the days `events` touched in the session's tenant and carry the change up its tree, in the
    fan-out's transaction; how many days changed."""
    if not events:
        return 0
    touched = await touched_days(session, events)
    await _record(session, ctx.tenant_id, touched.moved)
    days = touched.days
    new = await recount(session, days)
    old = {day: _part(row) for (_, day), row in (await _rows(session, ctx.tenant_id, False,
                                                             [(False, d) for d in days], locked=True)).items()}
    changed = {day: new[day] - old.get(day, Part()) for day in days}
    changes = _book({day: change for day, change in changed.items() if change})
    if not changes:
        return 0
    # Own days take the recount as it is; months and every subtree row from here to the root take the change.
    await _replace_days(session, ctx.tenant_id, {day: new[day] for day, change in changed.items() if change})
    await _add(session, ctx.tenant_id, False, {key: part for key, part in changes.items() if key[0]})
    for up in _ancestors_and_self(tenant):  # root first: every fan-out locks the tree's rows in one order
        async with within(session, up):
            await _add(session, up.tenant_id, True, changes)
    return sum(1 for key in changes if not key[0])


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.bind is not None and session.bind.dialect.name == "postgresql" else sqlite_insert


async def _record(session: AsyncSession, tenant_id: uuid.UUID, concerns: dict[uuid.UUID, set[datetime.date]]) -> None:
    """Each concern's days as counted now, in the session's tenant (made, or replacing what was recorded)."""
    if not concerns:
        return
    now = clock.now()
    statement = _insert(session)(table_of(CountedConcern))
    statement = statement.on_conflict_do_update(index_elements=["tenant_id", "concern_id"], set_={
        "days": statement.excluded.days, "updated_at": statement.excluded.updated_at})
    await session.execute(statement, [{"tenant_id": tenant_id, "id": uuid.uuid4(), "concern_id": concern_id,
                                       "days": sorted(day.isoformat() for day in days), "created_at": now,
                                       "updated_at": now} for concern_id, days in sorted(concerns.items())])


async def _replace_days(session: AsyncSession, tenant_id: uuid.UUID, days: dict[datetime.date, Part]) -> None:
    rows = await _rows(session, tenant_id, False, [(False, day) for day in days])
    missing = {(False, day): Part() for day in days if (False, day) not in rows}
    if missing:
        await _add(session, tenant_id, False, missing)
        rows = await _rows(session, tenant_id, False, [(False, day) for day in days])
    now = clock.now()
    for day, part in days.items():
        row = rows[(False, day)]
        for name, value in _values(part).items():
            setattr(row, name, value)
        row.updated_at = now
    await session.flush()


# --- reading ----------------------------------------------------------------------------------------------------


def _ranges(date_from: datetime.date, date_to: datetime.date) -> list[ColumnElement[bool]]:
    """The rows that make up [date_from, date_to]: the whole months inside it, and the days outside those; only the
    ranges that hold any, each a range of the tenant's index."""
    first = date_from if date_from.day == 1 else _next_month(date_from)
    after = date_to + datetime.timedelta(days=1)
    end = after if after.day == 1 else _month(date_to)
    if first >= end:
        return [and_(DayTally.month == false(), DayTally.day >= date_from, DayTally.day <= date_to)]
    ranges = [and_(DayTally.month == true(), DayTally.day >= first, DayTally.day < end)]
    if date_from < first:
        ranges.append(and_(DayTally.month == false(), DayTally.day >= date_from, DayTally.day < first))
    if end <= date_to:
        ranges.append(and_(DayTally.month == false(), DayTally.day >= end, DayTally.day <= date_to))
    return ranges


def _period(date_from: datetime.date, date_to: datetime.date) -> ColumnElement[bool]:
    return or_(*_ranges(date_from, date_to))


_READ = [DayTally.subtree, *(getattr(DayTally, name) for name in COUNTS),
         *(getattr(DayTally, name) for name in HISTOGRAMS), DayTally.concerns_by_category]
# Rows whose histogram can have anything (a day no matter was completed on has no minutes to completion).
_MAY_HAVE = {"minutes_to_completion": DayTally.matters_completed > 0}


async def read(session: AsyncSession, tenant_id: uuid.UUID, date_from: datetime.date,
               date_to: datetime.date) -> tuple[Part, Part]:
    """The tenant's own figures for the days [date_from, date_to] and its subtree's, in one query of its rows."""
    own, tree = Part(), Part()
    for row in await session.execute(select(*_READ).where(DayTally.tenant_id == tenant_id,
                                                          _period(date_from, date_to))):
        (tree if row.subtree else own).add(_part(row))
    return own, tree


async def read_below(session: AsyncSession, date_from: datetime.date, date_to: datetime.date,
                     histograms: Sequence[str] = ("minutes_to_completion",)) -> dict[uuid.UUID, Part]:
    """The own figures for the days [date_from, date_to] of every tenant the session reads (a subtree it was
    widened to), by tenant: summed by the database, a row per tenant, and the `histograms` asked for of the rows
    that may have any. Never the concerns, whatever their number. One query per range of rows (the months, the
    days before and after them): an OR of ranges over many tenants is one the planner reads the whole table for."""
    sums = [func.sum(getattr(DayTally, name)) for name in COUNTS]
    parts: defaultdict[uuid.UUID, Part] = defaultdict(Part)
    for rows in _ranges(date_from, date_to):
        own = and_(DayTally.subtree == false(), rows)
        for tenant_id, *values in await session.execute(
                select(DayTally.tenant_id, *sums).where(own).group_by(DayTally.tenant_id)):
            parts[tenant_id].add(Part(dict(zip(COUNTS, (int(value or 0) for value in values), strict=True))))
        for name in histograms:
            for tenant_id, stored in await session.execute(
                    select(DayTally.tenant_id, getattr(DayTally, name)).where(own, _MAY_HAVE.get(name, true()))):
                _add_to(parts[tenant_id].histograms[name], _histogram(stored), 1)
    return dict(parts)


async def busiest(session: AsyncSession, month: datetime.date, limit: int) -> list[uuid.UUID]:
    """Of the tenants the session reads, the `limit` that received the most concerns in the month beginning on
    `month` (ties by id), from each one's own month row."""
    return list((await session.scalars(
        select(DayTally.tenant_id).where(DayTally.subtree == false(), DayTally.month == true(), DayTally.day == month,
                                         DayTally.concerns_received > 0)
        .order_by(DayTally.concerns_received.desc(), DayTally.tenant_id).limit(limit))).all())


async def read_months(session: AsyncSession, tenant_id: uuid.UUID, date_from: datetime.date,
                      date_to: datetime.date) -> dict[datetime.date, Part]:
    """The tenant's subtree figures for the days [date_from, date_to], by the month (its first day) they fall in."""
    months: defaultdict[datetime.date, Part] = defaultdict(Part)
    for row in await session.execute(select(DayTally.day, *_READ).where(
            DayTally.tenant_id == tenant_id, DayTally.subtree == true(), _period(date_from, date_to))):
        months[_month(row.day)].add(_part(row))
    return dict(months)


# --- rebuilding -------------------------------------------------------------------------------------------------


async def rebuild(session: AsyncSession, tenants: Sequence[Tenant]) -> int:
    """Recount every day of `tenants` from the rows, then the subtree rows of each of them and of their ancestors
    from the own rows below; how many tenants' own rows were counted. The session is an operator's, acting in
    each tenant in turn. Each tenant's recount holds its fan-out's cursor, so the two never interleave; a change
    another tenant's fan-out carries up meanwhile may be missed by the roll-ups rewritten here (run it again)."""
    targets: dict[uuid.UUID, Tenant] = {}
    for tenant in tenants:
        async with within(session, tenant):
            await session.execute(select(NotificationCursor.id).with_for_update())
            await _replace(session, tenant.id, False, _book(await recount(session)))
            await session.execute(delete(CountedConcern).where(CountedConcern.tenant_id == tenant.id))
            counted = list((await concern_days(session)).items())
            for start in range(0, len(counted), RECORDED_AT_ONCE):
                await _record(session, tenant.id, dict(counted[start:start + RECORDED_AT_ONCE]))
        for up in _ancestors_and_self(tenant):
            targets.setdefault(up.tenant_id, tenant)
    roots = {tenant.ancestor_ids[0] for tenant in tenants}
    sums: defaultdict[uuid.UUID, dict[Key, Part]] = defaultdict(dict)
    paths: dict[uuid.UUID, Tenant] = {}
    for root_id in roots:
        root = await session.get(Tenant, root_id)
        assert root is not None
        async with within(session, root, subtree=True):
            below = {t.id: t for t in (await session.scalars(select(Tenant).where(
                Tenant.path.startswith(root.path)))).all()}
            paths.update(below)
            for row in (await session.scalars(select(DayTally).where(DayTally.subtree == false()))).all():
                for up_id in below[row.tenant_id].ancestor_ids:
                    if up_id in targets:
                        sums[up_id].setdefault((row.month, row.day), Part()).add(_part(row))
    for up_id in sorted(targets, key=lambda t: paths[t].path):
        async with within(session, paths[up_id]):
            await _replace(session, up_id, True, sums.get(up_id, {}))
    return len(tenants)


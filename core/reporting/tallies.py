"""The figures kept as they change: each tenant's additive figures per Beijing day and month (`DayTally`), its own
and its subtree's, recounted by the fan-out of the event log for the days an event touched, and read by `/stats`,
`/public/stats` (a portal's home, open data's years) in a few dozen rows however many concerns or communities
there are.

Kept, not counted on reading:
- **Own day rows** are recounts: the fan-out (`follow`, in the transaction that moves the tenant's cursor, under its
  lock) finds the days a batch of events touched — each event's own day, the filing day of the concerns it is
  about or whose topic it is about, that topic's creation and completion days, its meetings' minutes, ratings' and
  follow-ups' days — and counts those days again from the rows (`recount`). A recount is idempotent: running it
  twice, or after a crash, gives the same rows.
- **Month rows and subtree rows** take the change: the new day minus the old, added to the tenant's own month
  and to the day and month of its own subtree rows and every ancestor's (each in that tenant, for Row-Level
  Security, root first so that two fan-outs lock in the same order). A district's year is then ~12 month rows and
  the days at the edges, read from its own rows: never the concerns, never a row per community.
- **Medians** come from a histogram of each completed matter's minutes from filing to completion (the figure is
  rounded to 0.1 day: exact to the minute is exact for it but within a minute of a rounding edge).
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
from core.reporting.models import DayTally
from core.reporting.rates import COUNTED
from core.reporting.schemas import Figures
from core.tenancy.models import Tenant
from core.tenancy.scope import within
from core.topics.models import FollowUp, Meeting, Rating, Topic

COUNTS = ("concerns_received", "resolved_directly", "topics", "consultations_held", "matters_completed",
          "rating_total", "ratings", "follow_ups")
_TABLE = table_of(DayTally)
Key = tuple[bool, datetime.date]  # (a month's row, its day: the month's first)


@dataclass
class Part:
    """What adds up of a tenant's figures over some days: the counts, the histogram of minutes to completion, and
    the concerns received by category."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    minutes: dict[int, int] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)

    def add(self, other: Part, sign: int = 1) -> None:
        for name, value in other.counts.items():
            self.counts[name] += sign * value
        _add_to(self.minutes, other.minutes, sign)
        _add_to(self.categories, other.categories, sign)

    def __sub__(self, other: Part) -> Part:
        difference = Part(dict(self.counts), dict(self.minutes), dict(self.categories))
        difference.add(other, -1)
        return difference

    def __bool__(self) -> bool:
        return any(self.counts.values()) or bool(self.minutes) or bool(self.categories)

    def median_days(self) -> float | None:
        """The median of the days to completion, as `statistics.median` gives it over the matters."""
        n = sum(self.minutes.values())
        if not n:
            return None
        wanted, seen, middle = {(n - 1) // 2, n // 2}, 0, list[int]()
        for minutes in sorted(self.minutes):
            count = self.minutes[minutes]
            middle.extend(minutes for index in sorted(wanted) if seen <= index < seen + count)
            seen += count
        return round(sum(middle) / len(middle) / 1440, 1)

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
        if done is None:  # not reached: a NULL falls on no day
            continue
        minutes = round((done - filed).total_seconds() / 60)
        histogram = parts[_day(done)].minutes
        histogram[minutes] = histogram.get(minutes, 0) + 1
    return {day: parts.get(day, Part()) for day in wanted} if wanted is not None else dict(parts)


async def touched_days(session: AsyncSession, events: Sequence[WorkflowEvent]) -> set[datetime.date]:
    """The days whose figures `events` may have changed: each event's own, and those of the rows it is about — its
    concerns' filing, its topic's creation and completion, the topic's concerns, minutes, ratings and follow-ups."""
    days = {_day(event.at) for event in events}
    concern_ids = {e.subject_id for e in events if e.subject_kind == "concern"}
    topic_ids = {e.topic_id for e in events if e.topic_id is not None} | {
        e.subject_id for e in events if e.subject_kind == "topic"}
    moments: list[datetime.datetime | None] = []
    if concern_ids:
        for filed, topic_id in await session.execute(
                select(Concern.created_at, Concern.topic_id).where(Concern.id.in_(concern_ids))):
            moments.append(filed)
            if topic_id is not None:
                topic_ids.add(topic_id)
    if topic_ids:
        for made, done in await session.execute(select(Topic.created_at, Topic.completed_at)
                                                .where(Topic.id.in_(topic_ids))):
            moments += [made, done]
        for column, of_topic in ((Concern.created_at, Concern.topic_id), (Meeting.minutes_recorded_at, Meeting.topic_id),
                                 (Rating.created_at, Rating.topic_id), (FollowUp.created_at, FollowUp.topic_id)):
            moments.extend((await session.scalars(select(column).where(of_topic.in_(topic_ids)))).all())
    return days | {_day(moment) for moment in moments if moment is not None}


# --- the rows ---------------------------------------------------------------------------------------------------


def _part(row: Any) -> Part:
    return Part({name: getattr(row, name) for name in COUNTS},
                {int(minutes): count for minutes, count in (row.minutes_to_completion or {}).items()},
                dict(row.concerns_by_category or {}))


def _values(part: Part) -> dict[str, Any]:
    return {**part.counts, "minutes_to_completion": {str(m): c for m, c in sorted(part.minutes.items())},
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
    statement = (pg_insert if session.bind is not None and session.bind.dialect.name == "postgresql"
                 else sqlite_insert)(_TABLE).on_conflict_do_nothing(index_elements=["tenant_id", "subtree", "month", "day"])
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
    days = await touched_days(session, events) if events else set()
    if not days:
        return 0
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


def _period(date_from: datetime.date, date_to: datetime.date) -> ColumnElement[bool]:
    """The rows that make up [date_from, date_to]: the whole months inside it, and the days outside those."""
    first = date_from if date_from.day == 1 else _next_month(date_from)
    after = date_to + datetime.timedelta(days=1)
    end = after if after.day == 1 else _month(date_to)
    if first >= end:
        return and_(DayTally.month == false(), DayTally.day >= date_from, DayTally.day <= date_to)
    return or_(and_(DayTally.month == true(), DayTally.day >= first, DayTally.day < end),
               and_(DayTally.month == false(), or_(and_(DayTally.day >= date_from, DayTally.day < first),
                                                   and_(DayTally.day >= end, DayTally.day <= date_to))))


_READ = [DayTally.subtree, *(getattr(DayTally, name) for name in COUNTS), DayTally.minutes_to_completion,
         DayTally.concerns_by_category]


async def read(session: AsyncSession, tenant_id: uuid.UUID, date_from: datetime.date,
               date_to: datetime.date) -> tuple[Part, Part]:
    """The tenant's own figures for the days [date_from, date_to] and its subtree's, in one query of its rows."""
    own, tree = Part(), Part()
    for row in await session.execute(select(*_READ).where(DayTally.tenant_id == tenant_id,
                                                          _period(date_from, date_to))):
        (tree if row.subtree else own).add(_part(row))
    return own, tree


async def read_below(session: AsyncSession, date_from: datetime.date,
                     date_to: datetime.date) -> dict[uuid.UUID, Part]:
    """The own figures for the days [date_from, date_to] of every tenant the session reads (a subtree it was
    widened to), by tenant: summed by the database, a row per tenant, and the histograms of the rows that have
    any (the days a matter was completed). Never the concerns, whatever their number."""
    own = and_(DayTally.subtree == false(), _period(date_from, date_to))
    sums = [func.sum(getattr(DayTally, name)) for name in COUNTS]
    parts = {tenant_id: Part(dict(zip(COUNTS, (int(value or 0) for value in values), strict=True)))
             for tenant_id, *values in await session.execute(
                 select(DayTally.tenant_id, *sums).where(own).group_by(DayTally.tenant_id))}
    for tenant_id, minutes in await session.execute(
            select(DayTally.tenant_id, DayTally.minutes_to_completion).where(own, DayTally.matters_completed > 0)):
        _add_to(parts[tenant_id].minutes, {int(m): count for m, count in (minutes or {}).items()}, 1)
    return parts


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


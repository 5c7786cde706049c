"""The figures counted from every row, as `/stats` and the rates counted them before they were kept: the independent
reference the kept figures (`core.reporting.tallies`, `core.reporting.rates`) are compared with, defined here and
nowhere in the app."""

from __future__ import annotations

import dataclasses
import datetime
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, func, null, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.concerns.models import Concern
from core.reporting.rates import rate
from core.reporting.schemas import Figures, RateFigures
from core.reporting.tallies import COUNTED
from core.timelimits.models import Revisit
from core.topics.models import ActionItem, FollowUp, Meeting, Rating, Topic


def _during(column: Any, lo: datetime.datetime, hi: datetime.datetime) -> ColumnElement[bool]:
    return and_(column >= lo, column < hi)


def _overdue(today: datetime.date) -> list[ColumnElement[bool]]:
    return [ActionItem.status == "open", ActionItem.due_date < today]


_FOLLOW_UP_OPEN = FollowUp.status == "open"


@dataclass
class Tally:
    """What one tenant's figures for a period are made of, in a form that adds up over tenants: counts, the
    ratings' sum and number (an average does not add up), the days each completed matter took (nor does a median)."""

    concerns_received: int = 0
    resolved_directly: int = 0
    topics: int = 0
    consultations_held: int = 0
    matters_completed: int = 0
    overdue_action_items: int = 0
    follow_ups: int = 0
    follow_ups_open: int = 0
    rating_total: int = 0
    ratings: int = 0
    days_to_completion: list[float] = field(default_factory=list)

    def __add__(self, other: Tally) -> Tally:
        return Tally(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in dataclasses.fields(self)})

    def figures(self) -> Figures:
        days = self.days_to_completion
        return Figures(
            concerns_received=self.concerns_received, resolved_directly=self.resolved_directly, topics=self.topics,
            consultations_held=self.consultations_held, matters_completed=self.matters_completed,
            median_days_to_completion=round(statistics.median(days), 1) if days else None,
            overdue_action_items=self.overdue_action_items,
            average_rating=round(self.rating_total / self.ratings, 2) if self.ratings else None,
            follow_ups=self.follow_ups, follow_ups_open=self.follow_ups_open)


def _counted(lo: datetime.datetime, hi: datetime.datetime,
             today: datetime.date) -> list[tuple[Any, list[ColumnElement[bool]], dict[str, Any]]]:
    """Every counted figure: the table, which of its rows (in the period [lo, hi), or open on `today`), and the
    Tally fields its aggregates fill. One grouped query each, whatever the number of tenants."""
    return [
        (Concern, [_during(Concern.created_at, lo, hi), COUNTED],
         {"concerns_received": func.count(), "resolved_directly": func.count().filter(Concern.status == "resolved")}),
        (Topic, [_during(Topic.created_at, lo, hi)], {"topics": func.count()}),
        (Meeting, [_during(Meeting.minutes_recorded_at, lo, hi)], {"consultations_held": func.count()}),
        (Topic, [_during(Topic.completed_at, lo, hi)], {"matters_completed": func.count()}),
        (ActionItem, _overdue(today), {"overdue_action_items": func.count()}),
        (Rating, [_during(Rating.created_at, lo, hi)], {"rating_total": func.sum(Rating.score), "ratings": func.count()}),
        (FollowUp, [_during(FollowUp.created_at, lo, hi)], {"follow_ups": func.count()}),
        (FollowUp, [_FOLLOW_UP_OPEN], {"follow_ups_open": func.count()}),
    ]


async def tallies(session: AsyncSession, date_from: datetime.date, date_to: datetime.date,
                  by_tenant: bool = True) -> dict[Any, Tally]:
    """The figures for the days [date_from, date_to] of every tenant the session reads (one tenant, or a subtree
    it was widened to), by tenant id; a tenant with nothing to count has no entry. Without `by_tenant`, all of
    them together under the key None, from plain aggregates (a group per tenant costs a district dearly)."""
    lo, hi = clock.day_range(date_from, date_to)
    by_key: defaultdict[Any, Tally] = defaultdict(Tally)

    def key(model: Any) -> Any:
        return model.tenant_id if by_tenant else null()

    for model, where, aggregates in _counted(lo, hi, clock.today()):
        query = select(key(model), *aggregates.values()).select_from(model).where(*where)
        for group, *values in await session.execute(query.group_by(model.tenant_id) if by_tenant else query):
            for name, value in zip(aggregates, values, strict=True):
                setattr(by_key[group], name, int(value or 0))
    # A matter's days run from each of its concerns' filing to the topic's completion.
    for group, filed, done in await session.execute(
            select(key(Concern), Concern.created_at, Topic.completed_at)
            .join(Topic, and_(Topic.tenant_id == Concern.tenant_id, Topic.id == Concern.topic_id))
            .where(_during(Topic.completed_at, lo, hi))):
        if done is not None:  # always, within a range
            by_key[group].days_to_completion.append((done - filed).total_seconds() / 86400)
    return dict(by_key)


def total(by_tenant: dict[Any, Tally]) -> Figures:
    """The figures of all those tenants together."""
    return sum(by_tenant.values(), Tally()).figures()


# --- the rates, as `core.reporting.rates` counted them before they were kept ----------------------------------------


@dataclass
class RateTally:
    """One tenant's rates for a period as counted from its rows: each rate's two counts, and each median's hours."""

    concerns_received: int = 0
    responded_in_time: int = 0
    response_counted: int = 0
    closed_in_time: int = 0
    due: int = 0
    said_solved: int = 0
    answered_solved: int = 0
    satisfied: int = 0
    rated: int = 0
    reopened: int = 0
    revisits_answered: int = 0
    revisits_asked: int = 0
    hours: dict[str, list[float]] = field(default_factory=lambda: {"respond": [], "resolve": []})

    def __add__(self, other: RateTally) -> RateTally:
        summed = RateTally(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                              for f in dataclasses.fields(self) if f.name != "hours"})
        summed.hours = {phase: self.hours[phase] + other.hours[phase] for phase in self.hours}
        return summed

    def figures(self) -> RateFigures:
        def median(phase: str) -> float | None:
            return round(statistics.median(self.hours[phase]), 1) if self.hours[phase] else None

        return RateFigures(
            concerns_received=self.concerns_received, response=rate(self.responded_in_time, self.response_counted),
            on_time=rate(self.closed_in_time, self.due), solved=rate(self.said_solved, self.answered_solved),
            satisfied=rate(self.satisfied, self.rated), reopened=rate(self.reopened, self.revisits_asked),
            revisited=rate(self.revisits_answered, self.revisits_asked),
            median_hours_to_respond=median("respond"), median_hours_to_resolve=median("resolve"))


async def rate_tallies(session: AsyncSession, date_from: datetime.date, date_to: datetime.date) -> dict[Any, RateTally]:
    """The rates for the days [date_from, date_to] of every tenant the session reads, by tenant id, counted from
    every concern and revisit with the clock's now (docs/rates.md)."""
    lo, hi = clock.day_range(date_from, date_to)
    now = clock.now()
    by_tenant: defaultdict[Any, RateTally] = defaultdict(RateTally)
    counted = [COUNTED]
    for tenant_id, respond_by, responded in await session.execute(
            select(Concern.tenant_id, Concern.respond_by, Concern.responded_at)
            .where(_during(Concern.created_at, lo, hi), *counted)):
        tally = by_tenant[tenant_id]
        tally.concerns_received += 1
        if respond_by is not None and (responded is not None or respond_by <= now):
            tally.response_counted += 1
        if respond_by is not None and responded is not None and responded <= respond_by:
            tally.responded_in_time += 1
    for tenant_id, resolve_by, closed in await session.execute(
            select(Concern.tenant_id, Concern.resolve_by, Concern.closed_at)
            .where(_during(Concern.resolve_by, lo, hi), Concern.status != "rejected", *counted)):
        if closed is not None or resolve_by <= now:
            by_tenant[tenant_id].due += 1
            by_tenant[tenant_id].closed_in_time += closed is not None and closed <= resolve_by
    for phase, end, where in (("respond", Concern.responded_at, []),
                              ("resolve", Concern.closed_at, [Concern.status != "rejected"])):
        for tenant_id, filed, ended in await session.execute(
                select(Concern.tenant_id, Concern.created_at, end).where(_during(end, lo, hi), *where, *counted)):
            by_tenant[tenant_id].hours[phase].append((ended - filed).total_seconds() / 3600)
    for tenant_id, asked, answered, solved, satisfaction in await session.execute(
            select(Revisit.tenant_id, Revisit.asked_at, Revisit.answered_at, Revisit.solved, Revisit.satisfaction)
            .where(or_(_during(Revisit.asked_at, lo, hi), _during(Revisit.answered_at, lo, hi)))):
        tally = by_tenant[tenant_id]
        if lo <= asked < hi:
            tally.revisits_asked += 1
            tally.revisits_answered += answered is not None
            tally.reopened += solved is False
        if answered is not None and lo <= answered < hi:
            tally.answered_solved += solved is not None
            tally.said_solved += solved is True
            tally.rated += satisfaction is not None
            tally.satisfied += satisfaction in ("satisfied", "basic")
    return dict(by_tenant)

"""The figures' tables: a tenant's additive figures per Beijing day and per month, its own and its subtree's, and the
days each concern was last counted on, kept by the fan-out of the event log (`core.reporting.tallies`) so that
reading them never counts the concerns."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from advanced_alchemy.types import GUID
from sqlalchemy import Boolean, Date, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JsonB, TenantOwned


class DayTally(TenantOwned, Base):
    """What a tenant's figures add up from for one day (or, `month`, the month beginning on `day`): its own
    (`subtree` False), or its own and every tenant's below (`subtree` True, what a district's roll-up reads)."""

    __tablename__ = "day_tally"
    # The one index a read takes: a tenant's own or subtree rows, months then days, in order.
    __table_args__ = (UniqueConstraint("tenant_id", "subtree", "month", "day"),)

    subtree: Mapped[bool] = mapped_column(Boolean)
    month: Mapped[bool] = mapped_column(Boolean)
    day: Mapped[datetime.date] = mapped_column(Date)
    concerns_received: Mapped[int] = mapped_column(Integer, default=0)
    resolved_directly: Mapped[int] = mapped_column(Integer, default=0)
    topics: Mapped[int] = mapped_column(Integer, default=0)
    consultations_held: Mapped[int] = mapped_column(Integer, default=0)
    matters_completed: Mapped[int] = mapped_column(Integer, default=0)
    rating_total: Mapped[int] = mapped_column(Integer, default=0)
    ratings: Mapped[int] = mapped_column(Integer, default=0)
    follow_ups: Mapped[int] = mapped_column(Integer, default=0)
    # Each completed matter's time from filing to completion, in whole minutes → how many: a median over any
    # range is read from these (medians do not add up; histograms do).
    minutes_to_completion: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    # The concerns received, by category code → how many (what a district's dashboard charts).
    concerns_by_category: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    # The rates (core.reporting.rates, docs/rates.md), each count on the day its rate counts it by: the concerns
    # received with a response limit and those responded to in time (by their filing day); those whose resolve
    # deadline falls on the day, not rejected, and those closed by it (by the deadline's day); the revisits
    # answered (by the answer's day) and asked (by the asking's day). What is not yet due is no count: it is
    # counted live from its small indexed set and taken off.
    respond_limits: Mapped[int] = mapped_column(Integer, default=0)
    responded_in_time: Mapped[int] = mapped_column(Integer, default=0)
    resolve_limits: Mapped[int] = mapped_column(Integer, default=0)
    closed_in_time: Mapped[int] = mapped_column(Integer, default=0)
    answered_solved: Mapped[int] = mapped_column(Integer, default=0)
    said_solved: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    revisits_asked: Mapped[int] = mapped_column(Integer, default=0)
    revisits_answered: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    # Minutes from filing to the response (by the response's day) and to closing (by the closing's day, not
    # rejected) → how many: the rates' medians.
    minutes_to_respond: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    minutes_to_resolve: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)


class CountedConcern(TenantOwned, Base):
    """The days a concern was last counted on (its filing, response, deadline and closing days, its revisits'):
    a deadline extended or a concern reopened moves them, and the fan-out recounts the days it left with those
    it reached."""

    __tablename__ = "counted_concern"
    __table_args__ = (UniqueConstraint("tenant_id", "concern_id"),)

    concern_id: Mapped[uuid.UUID] = mapped_column(GUID)
    days: Mapped[list[str]] = mapped_column(JsonB, default=list)  # ISO dates, in order

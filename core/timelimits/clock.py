"""Every concern's clock: its deadlines fixed at filing from the tenant's time limits, its traffic light, and when
the time-limit sweep next acts on it (`alert_at`, with the stage it reaches then).

A concern is in its respond phase until staff first act on it (accept, reject, resolve, escalate), then in its
resolve phase until it is closed. Each phase runs through the same stages: a reminder when it turns yellow, a
supervision notice (督办) from the level above when it turns red, and — where the policy says so — escalation
one level up after so many hours red. `alert_stage` is the last stage done; `alert_at` the moment of the next
(null when closed, paused, merged into another or nothing is left to do), so that the sweep reads only what is due.
"""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func

from core import clock
from core.concerns.models import Concern
from core.timelimits.calendar import turns_yellow_at
from core.timelimits.services import Policy, deadlines, policy_for

__all__ = ["policy_for"]

LIGHTS = ("red", "yellow", "green")  # the order lists sort by: red first
PHASES = ("respond", "resolve")
STAGES = ("yellow", "red", "escalate")
def started(policy: Policy, category: str, urgency: str, at: datetime.datetime) -> dict[str, Any]:
    """The clock's columns of a concern of `category` and `urgency` filed (or reopened) at `at`."""
    respond_by, resolve_by = deadlines(policy, category, urgency, at)
    respond = policy.value(category, urgency, "respond").limit
    resolve = policy.value(category, urgency, "resolve").limit
    columns = {
        "urgency": urgency, "respond_by": respond_by, "resolve_by": resolve_by,
        "respond_working": respond.working, "resolve_working": resolve.working,
        "respond_warn_at": turns_yellow_at(at, respond_by, respond.working, policy.hours),
        "resolve_warn_at": turns_yellow_at(at, resolve_by, resolve.working, policy.hours),
        "responded_at": None, "paused_at": None, "alert_stage": None,
    }
    columns["alert_at"] = columns["respond_warn_at"]
    return columns


def recategorised(concern: Concern, policy: Policy, old_category: str, start: datetime.datetime,
                  now: datetime.datetime, escalate_after: datetime.timedelta | None) -> None:
    """A concern put in another category runs to that category's limits from its clock's start (`start`: its
    filing, or its last reopening), keeping whatever pauses and extensions added to its deadlines; a phase already
    over keeps its deadline. A stage reached under the old limit that the new one has not reached is forgotten."""
    old, new = (deadlines(policy, category, concern.urgency, start) for category in (old_category, concern.category))
    for index, current in enumerate(PHASES):
        due = getattr(concern, f"{current}_by")
        if due is None or (current == "respond" and concern.responded_at is not None):
            continue
        limit = policy.value(concern.category, concern.urgency, current).limit
        due = new[index] + (due - old[index])  # what pauses and extensions added, carried over
        warn = turns_yellow_at(start, due, limit.working, policy.hours)
        setattr(concern, f"{current}_by", due)
        setattr(concern, f"{current}_warn_at", warn)
        setattr(concern, f"{current}_working", limit.working)
        if (concern.alert_stage or "").startswith(current) and (concern.paused_at or now) < due:
            concern.alert_stage = f"{current}_yellow" if warn <= (concern.paused_at or now) else None
    reschedule(concern, escalate_after)


def phase(concern: Concern) -> str:
    return "respond" if concern.responded_at is None else "resolve"


def light(concern: Concern, now: datetime.datetime) -> str | None:
    """绿/黄/红 of the phase the concern is in; None once closed or merged into another (its survivor's light is
    the one that counts), or for a concern from before time limits."""
    if concern.closed_at is not None or concern.status == "merged":
        return None
    current = phase(concern)
    due, warn = getattr(concern, f"{current}_by"), getattr(concern, f"{current}_warn_at")
    if due is None:
        return None
    moment = concern.paused_at or now  # a paused clock shows the light it stopped at
    if moment >= due:
        return "red"
    return "yellow" if warn is not None and moment >= warn else "green"


def due() -> ColumnElement[datetime.datetime]:
    """The deadline of the phase a concern is in, in SQL."""
    return case((Concern.responded_at.is_(None), Concern.respond_by), else_=Concern.resolve_by)


def light_rank(now: datetime.datetime) -> ColumnElement[int]:
    """The light as a number to sort by in SQL (0 red, 1 yellow, 2 green, 3 none), as `light` decides it."""
    warn = case((Concern.responded_at.is_(None), Concern.respond_warn_at), else_=Concern.resolve_warn_at)
    moment = func.coalesce(Concern.paused_at, now)
    return case((Concern.closed_at.is_not(None), 3), (Concern.status == "merged", 3), (due().is_(None), 3),
                (due() <= moment, 0), (warn <= moment, 1), else_=2)


def next_alert(concern: Concern, escalate_after: datetime.timedelta | None) -> tuple[str, datetime.datetime] | None:
    """The next stage the sweep must reach on the concern, and when; None when there is none (closed, paused,
    escalated and waiting for the level above, merged into another, no deadline, or every stage of its phase
    done)."""
    if concern.closed_at is not None or concern.paused_at is not None:
        return None
    # Escalated: the level above holds it, no alerts here until it is sent back. Merged: its survivor is handled
    # in its stead, until the merge is undone (core.related.merging).
    if concern.status in ("escalated", "merged"):
        return None
    current = phase(concern)
    due, warn = getattr(concern, f"{current}_by"), getattr(concern, f"{current}_warn_at")
    if due is None:
        return None
    moments = {"yellow": warn or due, "red": due}
    if escalate_after is not None:
        moments["escalate"] = due + escalate_after
    done = concern.alert_stage or ""
    for stage in STAGES:
        name = f"{current}_{stage}"
        if stage in moments and (not done.startswith(current) or STAGES.index(stage) > STAGES.index(done.split("_")[1])):
            return name, moments[stage]
    return None


def reschedule(concern: Concern, escalate_after: datetime.timedelta | None = None) -> None:
    """Set `alert_at` to the next stage's moment (after a stage is done, a response, a pause or a close)."""
    upcoming = next_alert(concern, escalate_after)
    concern.alert_at = upcoming[1] if upcoming else None


def responded(concern: Concern, at: datetime.datetime) -> None:
    """Staff acted on the concern for the first time: its respond phase ends, its resolve phase goes on."""
    if concern.responded_at is None:
        concern.responded_at = at
        concern.alert_stage = None
        reschedule(concern)


def closed(concern: Concern) -> None:
    concern.alert_at = None


def action_light(created_at: datetime.datetime, due_date: datetime.date, now: datetime.datetime) -> str:
    """An action item's light from its due date, as a concern's from its deadline: red once the due day is over,
    yellow with less than a quarter of the time from its creation to the end of that day left, green before."""
    end = clock.day_start(due_date + datetime.timedelta(days=1))
    if now >= end:
        return "red"
    return "yellow" if (end - now) * 4 < (end - created_at) else "green"

"""Writing notifications: one row per recipient and channel, with the job that delivers each (on PostgreSQL in
the same transaction; on SQLite handed over after commit). The people an event names are told in its own
transaction; a tenant's role holders by the fan-out from the event log (`core.notifications.fanout`), through the
same `tell`."""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Row, Select, bindparam, exists, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from core import clock
from core.accounts.models import RoleAssignment, User
from core.db import TenantContext, column_values, table_of
from core.events import WorkflowEvent
from core.notifications.messages import DEFAULT_LANGUAGE, LANGUAGES, render
from core.notifications.models import Notification, NotificationPreference, NotificationWebhook
from core.notifications.rules import Holders, Rule, rules_for
from core.notifications.webhooks import webhook_rows

QUEUE = "notifications"
DELIVER_TASK = "yishi:notifications.deliver"  # the job engine's name of the task
# Every message reaches the inbox; these are the channels a person may add, per kind.
CHANNELS = ("email", "sms", "webhook")
# Without a choice of their own: residents hear of their concern by SMS, staff get new concerns in a daily digest.
DEFAULT_CHANNELS: dict[str, tuple[str, ...]] = {
    "concern.accepted": ("sms",), "concern.rejected": ("sms",), "concern.resolved": ("sms",),
    "concern.escalated": ("sms",), "concern.in_topic": ("sms",), "concern.revisit": ("sms",), "topic.meeting_scheduled": ("sms",),
    "topic.result_published": ("sms",), "topic.action_completed": ("sms",), "concern.merged": ("sms",),
    "meeting.invited": ("sms", "email"), "meeting.rescheduled": ("sms", "email"),
    "meeting.cancelled": ("sms", "email"), "meeting.reminder": ("sms",),
    "action.assigned": ("email",), "action.due_soon": ("email",), "action.overdue": ("email",),
    "concern.escalated_in": ("email",), "follow_up.low_rating": ("email",),
    "concern.reopened_in": ("email",),
    "concern.supervised": ("email", "sms"), "concern.supervised_below": ("email",), "concern.auto_escalated": ("email",),
    "concern.extension_requested": ("email",), "concern.extension_approved": ("email",),
    "concern.extension_refused": ("email",),
}
DEFAULT_DIGEST = frozenset({"concern.new", "action.overdue_in", "concern.deadline_warning"})
QUIET_START, QUIET_END = datetime.time(22, 0), datetime.time(7, 0)
PENDING_KEY = "yishi.notifications"  # session.info: rows to hand to the job engine after commit (SQLite)
FAN_OUT_KEY = "yishi.fan_out"  # session.info: tenants whose new events have notices to fan out, once committed


def quiet_until(at: datetime.datetime) -> datetime.datetime | None:
    """When quiet hours (22:00–07:00 Beijing time) end, if `at` falls in them."""
    local = clock.local(at)
    if QUIET_END <= local.time() < QUIET_START:
        return None
    day = local.date() if local.time() < QUIET_END else local.date() + datetime.timedelta(days=1)
    return datetime.datetime.combine(day, QUIET_END, tzinfo=local.tzinfo).astimezone(datetime.UTC)


def fan_out_soon(session: AsyncSession, ctx: TenantContext) -> None:
    """Note the tenant for the fan-out of its event log once this transaction commits (at once where the queue is
    in memory; elsewhere the fan-out's next run, within seconds, finds it anyway)."""
    session.info.setdefault(FAN_OUT_KEY, set()).add(ctx.tenant_id)


async def notify_event(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent,
                       extra_rules: Iterable[Rule] = ()) -> None:
    """The notifications `event` causes to the people it names (the resident, the invitees), by the rules of its
    action, written in the caller's transaction. A person in the audience of several of its rules (a resident
    invited to the meeting on their own concern) is told once, by the first. The rules telling role holders are
    left to the fan-out from the event log (`core.notifications.fanout`): the tenant is noted for it."""
    told: set[uuid.UUID | None] = {event.actor_id}
    for rule in rules_for(event.action, extra_rules):
        if isinstance(rule.audience, Holders):  # `rule.fans_out`
            fan_out_soon(session, ctx)
            continue
        if not rule.when(event):
            continue
        audience = sorted(set(await rule.audience(session, ctx, event)) - told)
        if audience:
            rows = await tell(session, ctx, event, rule, await people_of(session, ctx, rule.kind, audience), told)
            await add(session, rows)
            told |= {row["recipient_id"] for row in rows}


async def tell(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent, rule: Rule, people: Sequence[Row[Any]],
               told: set[uuid.UUID | None]) -> list[dict[str, Any]]:
    """The rows telling `people` (as `people_of` read them), but none of `told`, the message of `rule` about
    `event`, and the rows for the tenant's webhooks that receive its kind when someone is told: for the caller to
    `add` (the fan-out adds many events' at once)."""
    facts = await rule.facts(session, ctx, event)
    rows = compose(ctx, rule.kind, [person for person in people if person.id not in told], facts,
                   link=facts.get(rule.link), dedup_key=str(event.id), event_id=event.id, urgent=rule.urgent,
                   texts=rule.texts)
    if rows and people[0].hooks:
        hooks = await webhook_rows(session, ctx, rule.kind, facts, dedup_key=str(event.id), event_id=event.id,
                                   link=facts.get(rule.link), texts=rule.texts)
        rows.extend(column_values(row) for row in hooks)
    return rows


async def write(session: AsyncSession, ctx: TenantContext, kind: str, recipients: list[uuid.UUID] | Holders,
                facts: dict[str, Any], *, link: str | None, dedup_key: str, event_id: uuid.UUID | None = None,
                urgent: bool = False, texts: dict[str, tuple[str, str]] | None = None,
                exclude: set[uuid.UUID | None] | None = None) -> list[dict[str, Any]]:
    """Write the rows telling `recipients` (ids, or the holders of roles in the tenant) of `kind`, except those
    in `exclude` (see `compose`), and answer them."""
    rows = compose(ctx, kind, await people_of(session, ctx, kind, recipients, exclude), facts, link=link,
                   dedup_key=dedup_key, event_id=event_id, urgent=urgent, texts=texts)
    await add(session, rows)
    return rows


async def people_of(session: AsyncSession, ctx: TenantContext, kind: str, recipients: list[uuid.UUID] | Holders,
                    exclude: set[uuid.UUID | None] | None = None) -> Sequence[Row[Any]]:
    """Who of `recipients` (ids, or the holders of roles in the tenant, read in the same statement) is told of
    `kind`, but none of `exclude`: each active person's id, language, addresses and choice for the kind, and
    (`hooks`) whether the tenant has webhooks, all in one statement."""
    params = {"tenant_id": ctx.tenant_id, "kind": kind, "exclude": [u for u in exclude or () if u is not None]}
    if isinstance(recipients, Holders):
        statement, params["roles"] = _PEOPLE_HOLDING, list(recipients.roles)
    else:
        statement, params["ids"] = _PEOPLE_BY_ID, recipients
    return (await (await session.connection()).execute(statement, params)).all()


def compose(ctx: TenantContext, kind: str, people: Sequence[Row[Any]], facts: dict[str, Any], *, link: str | None,
            dedup_key: str, event_id: uuid.UUID | None = None, urgent: bool = False,
            texts: dict[str, tuple[str, str]] | None = None) -> list[dict[str, Any]]:
    """The rows (column values) telling `people` of `kind`: the inbox, and each channel they chose (or its
    default) or the digest; a channel they have no address for is left out. Non-urgent messages wait out quiet
    hours."""
    now = clock.now()
    later = None if urgent else quiet_until(now)
    template = {"tenant_id": ctx.tenant_id, "webhook_id": None, "kind": kind, "dedup_key": dedup_key,
                "event_id": event_id, "urgent": urgent, "link": link, "attempts": 0, "last_error": None,
                "provider_message_id": None, "read_at": None, "digest_id": None, "created_at": now, "updated_at": now,
                "params": {k: str(v) for k, v in facts.items() if not k.endswith("link")}}
    rows: list[dict[str, Any]] = []
    for person in people:
        language = person.language if person.language in LANGUAGES else DEFAULT_LANGUAGE
        subject, body = render(kind, language, facts, texts)
        address = {"email": person.email, "sms": person.phone}
        channels = list(person.channels) if person.channels is not None else list(DEFAULT_CHANNELS.get(kind, ()))
        as_digest = person.digest if person.digest is not None else kind in DEFAULT_DIGEST
        # A message for the digest is its inbox row, waiting for the day's digest too: one row, not two.
        wanted = [("inbox", "digest")] if as_digest else [("inbox", "sent")] + [
            (channel, "pending") for channel in channels if address.get(channel)]
        for channel, status in wanted:
            rows.append(template | {
                "id": uuid7(), "recipient_id": person.id, "channel": channel, "language": language, "subject": subject,
                "body": body, "status": status, "deliver_after": later if status == "pending" else None,
                "sent_at": now if status == "sent" else None})
    return rows


def _people(recipients: Any) -> Select[Any]:
    """Who is told, with their language, addresses and choice for the kind: built once and executed on the
    session's connection, not through the ORM (filing runs it every time; building and walling an ORM query
    cost more than the query). Walled by hand: the tenant is a parameter, and Row-Level Security applies."""
    user, pref, hook = table_of(User), table_of(NotificationPreference), table_of(NotificationWebhook)
    hooks = exists().where(hook.c.tenant_id == bindparam("tenant_id"), hook.c.active.is_(True))
    return (select(user.c.id, user.c.language, user.c.email, user.c.phone, pref.c.channels, pref.c.digest,
                   hooks.label("hooks"))
            .select_from(user.outerjoin(pref, (pref.c.user_id == user.c.id) & (pref.c.kind == bindparam("kind"))))
            .where(user.c.id.in_(recipients), user.c.active.is_(True),
                   user.c.id.not_in(bindparam("exclude", expanding=True))))


_roles = table_of(RoleAssignment)
_PEOPLE_BY_ID = _people(bindparam("ids", expanding=True))
_PEOPLE_HOLDING = _people(select(_roles.c.user_id).where(_roles.c.tenant_id == bindparam("tenant_id"),
                                                        _roles.c.role.in_(bindparam("roles", expanding=True))))
_INSERT = insert(table_of(Notification))


async def add(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert the rows (column values, as `column_values` gives them), and enqueue a delivery job for each that
    waits for one."""
    if not rows:
        return
    connection = await session.connection()
    await connection.execute(_INSERT, rows)
    pending = [row for row in rows if row["status"] == "pending"]
    if not pending:
        return
    if connection.dialect.name == "postgresql":
        await connection.execute(_DEFER, {"jobs": json.dumps([_job(row) for row in pending])})
    else:
        session.info.setdefault(PENDING_KEY, []).extend(_job(row) for row in pending)


async def requeue(session: AsyncSession, rows: list[Notification]) -> None:
    """Dead letters (or rows whose job was lost) wait for delivery again, with fresh attempts."""
    for row in rows:
        row.status, row.attempts, row.last_error, row.deliver_after = "pending", 0, None, None
    await session.flush()
    connection = await session.connection()
    jobs = [_job(column_values(row)) for row in rows]
    if jobs and connection.dialect.name == "postgresql":
        await connection.execute(_DEFER, {"jobs": json.dumps(jobs)})
    elif jobs:
        session.info.setdefault(PENDING_KEY, []).extend(jobs)


def _job(row: dict[str, Any]) -> dict[str, Any]:
    return {"lock": str(row["id"]), "args": {"notification_id": str(row["id"]), "tenant_id": str(row["tenant_id"])},
            "scheduled_at": row["deliver_after"].isoformat() if row["deliver_after"] else None}


# procrastinate's own function for deferring jobs (its documented, versioned SQL API), called in our transaction:
# the jobs exist exactly when the notifications do.
_DEFER = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY(SELECT ROW("
    "CAST(:queue AS varchar), CAST(:task AS varchar), 0, job->>'lock', NULL, job->'args',"
    " (job->>'scheduled_at')::timestamptz"
    ")::procrastinate_job_to_defer_v1 FROM jsonb_array_elements(CAST(:jobs AS jsonb)) AS job))"
).bindparams(bindparam("jobs"), queue=QUEUE, task=DELIVER_TASK)

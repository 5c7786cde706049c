"""The one table of who is told of which event: each rule names an event's action, the message it becomes, and
the audience it goes to. Plugins add rules through the `yishi_notification_rules` hook.

An audience is either people the event names (a function finding their ids: the resident, the invitees), told
in the event's own transaction, or the holders of roles in the tenant (`Holders`: its staff), told by the
fan-out from the event log shortly after it commits (`core.notifications.fanout`)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import RoleAssignment, User
from core.authz.rules import STAFF_ROLES
from core.concerns.models import Concern
from core.db import ALL_TENANTS, TenantContext
from core.events import WorkflowEvent
from core.notifications.messages import when
from core.redaction import public_summary
from core.related.models import Supporter
from core.tenancy.models import Tenant
from core.tenancy.scope import within
from core.topics.models import ActionItem, Meeting, Topic


@dataclass(frozen=True)
class Holders:
    """The holders of `roles` in the event's tenant itself, read by the message's own statement (no round trip
    of their own)."""

    roles: tuple[str, ...]


STAFF = Holders(STAFF_ROLES)  # the tenant's staff
# Who, by name: the ids of the people the event concerns.
Audience = Callable[[AsyncSession, TenantContext, WorkflowEvent], Awaitable[Iterable[uuid.UUID]]]
Facts = Callable[[AsyncSession, TenantContext, WorkflowEvent], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Rule:
    """`action` (an event's) tells `audience` the message `kind`, whose text takes the parameters `facts` finds.
    `urgent` messages are sent in quiet hours too. The actor is never told of what they did themselves."""

    action: str
    kind: str
    audience: Audience | Holders
    facts: Facts
    urgent: bool = False
    link: str = "link"  # which of the facts is the page the message points to
    texts: dict[str, tuple[str, str]] | None = None  # a plugin's kind: its (subject, body) by language
    when: Callable[[WorkflowEvent], bool] = field(default=lambda event: True)

    @property
    def fans_out(self) -> bool:
        """Whether it tells role holders, from the event log after the event commits (not in its transaction)."""
        return isinstance(self.audience, Holders)


# --- who -------------------------------------------------------------------------------------------------


async def _concern(session: AsyncSession, event: WorkflowEvent) -> Concern | None:
    return await session.get(Concern, (event.tenant_id, event.subject_id))


async def reporters(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent) -> list[uuid.UUID]:
    """The resident a concern is about, the grid worker (or staff) who filed it for them, and the residents who
    joined it (附议): they hear what its reporters hear."""
    concern = await _concern(session, event)
    if concern is None:
        return []
    supporters = await session.scalars(select(Supporter.user_id).where(Supporter.concern_id == concern.id))
    return [u for u in (concern.resident_id, concern.filed_by_id, *supporters) if u is not None]


async def merged_reporters(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent) -> list[uuid.UUID]:
    """A merged duplicate's reporters and supporters, but not the survivor's own reporters: nothing changed for
    them (one who had also joined the duplicate still follows their own concern)."""
    concern = await _concern(session, event)
    survivor = await session.get(Concern, (event.tenant_id, concern.duplicate_of_id)) if concern and concern.duplicate_of_id else None
    own = {survivor.resident_id, survivor.filed_by_id} if survivor is not None else set()
    return [u for u in await reporters(session, ctx, event) if u not in own]


async def resident(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent) -> list[uuid.UUID]:
    """The resident a concern is about (the one a revisit asks), not whoever filed it for them."""
    concern = await _concern(session, event)
    return [concern.resident_id] if concern is not None and concern.resident_id is not None else []


async def topic_reporters(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent) -> list[uuid.UUID]:
    """Everyone who raised one of the topic's concerns (or filed it for them), and those who joined one."""
    rows = (await session.execute(select(Concern.resident_id, Concern.filed_by_id)
                                  .where(Concern.topic_id == event.topic_id))).all()
    supporters = await session.scalars(select(Supporter.user_id).join(
        Concern, (Concern.tenant_id == Supporter.tenant_id) & (Concern.id == Supporter.concern_id))
        .where(Concern.topic_id == event.topic_id))
    return [u for row in rows for u in row if u is not None] + list(supporters)


async def holders(session: AsyncSession, tenant_id: uuid.UUID, roles: Iterable[str]) -> list[uuid.UUID]:
    """The people holding one of `roles` in the tenant itself (a role above it is not counted here)."""
    rows = await session.scalars(select(RoleAssignment.user_id).where(
        RoleAssignment.tenant_id == tenant_id, RoleAssignment.role.in_(list(roles)))
        .execution_options(**{ALL_TENANTS: True}))
    return list(rows)


async def staff_above(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent) -> list[uuid.UUID]:
    """The staff of the tenant a concern was escalated to."""
    concern = await _concern(session, event)
    above = await session.get(Tenant, concern.escalated_to_id) if concern and concern.escalated_to_id else None
    if above is None:
        return []
    async with within(session, above):  # whose roles there, Row-Level Security shows from there only
        return await holders(session, above.id, STAFF_ROLES)


async def staff_parent(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent) -> list[uuid.UUID]:
    """The staff of the level above the event's tenant (a concern overdue there, an extension asked of them)."""
    tenant = await _tenant(session, ctx)
    above = await session.get(Tenant, tenant.parent_id) if tenant.parent_id else None
    if above is None:
        return []
    async with within(session, above):
        return await holders(session, above.id, STAFF_ROLES)


async def invitees(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent) -> list[uuid.UUID]:
    """The people a meeting invited by name, and the holders of the roles it invited."""
    meeting = await _meeting(session, event)
    return [] if meeting is None else await invitees_of(session, ctx, meeting)


async def invitees_of(session: AsyncSession, ctx: TenantContext, meeting: Meeting) -> list[uuid.UUID]:
    named = [str(u) for u in meeting.invitees.get("users", [])]
    ids = [uuid.UUID(u) for u in named if _is_uuid(u)]
    people = list((await session.scalars(select(User.id).where(
        User.id.in_(ids) | User.username.in_(named)))).all()) if named else []
    return people + await holders(session, ctx.tenant_id, meeting.invitees.get("roles", []))


async def action_owner(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent) -> list[uuid.UUID]:
    action = await _action(session, event)
    return [action.owner_user_id] if action is not None and action.owner_user_id else []


async def previous_owner(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent) -> list[uuid.UUID]:
    """Whoever owned a reassigned action item before (its new owner hears of it as assigned)."""
    before = ((event.payload or {}).get("from") or {}).get("owner_user")
    return [uuid.UUID(before)] if before and _is_uuid(before) else []


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# --- what is said ----------------------------------------------------------------------------------------


async def _tenant(session: AsyncSession, ctx: TenantContext) -> Tenant:
    tenant = await session.get(Tenant, ctx.tenant_id)
    assert tenant is not None  # the event's own tenant
    return tenant


async def _meeting(session: AsyncSession, event: WorkflowEvent) -> Meeting | None:
    meeting_id = (event.payload or {}).get("meeting")
    return await session.get(Meeting, (event.tenant_id, uuid.UUID(meeting_id))) if meeting_id else None


async def _action(session: AsyncSession, event: WorkflowEvent) -> ActionItem | None:
    action_id = (event.payload or {}).get("action")
    return await session.get(ActionItem, (event.tenant_id, uuid.UUID(action_id))) if action_id else None


async def concern_facts(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent) -> dict[str, Any]:
    """A concern's reference and public summary (never the resident's name or phone), and its page."""
    tenant, concern = await _tenant(session, ctx), await _concern(session, event)
    if concern is None:
        return {"tenant": tenant.name}
    payload = event.payload or {}
    return {"tenant": tenant.name, "reference": concern.reference, "title": public_summary(concern),
            "reason": payload.get("reason") or payload.get("note") or "",
            "link": f"/t/{tenant.slug}/me/concerns/{concern.id}", "staff_link": f"/t/{tenant.slug}/staff/inbox"}


async def merged_facts(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent) -> dict[str, Any]:
    """A merged duplicate's facts, with the reference of the concern it was merged into (core.related.merging)."""
    facts = await concern_facts(session, ctx, event)
    facts["survivor"] = (event.payload or {}).get("survivor") or ""
    return facts


PHASE_NAMES = {"respond": ("响应时限", "respond by"), "resolve": ("办结时限", "resolve by")}


async def deadline_facts(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent) -> dict[str, Any]:
    """A concern's facts, with the time limit it is running out of (or past), its moment in Beijing time, the
    level above that supervises it (by name), and, for an extension, how much was asked and the decision's note."""
    facts = await concern_facts(session, ctx, event)
    payload = event.payload or {}
    phase = str(payload.get("stage") or "resolve_").split("_")[0]
    zh, en = PHASE_NAMES.get(phase, PHASE_NAMES["resolve"])
    due = payload.get("due") or payload.get("resolve_by")
    above = payload.get("by_tenant")
    by = await session.scalar(select(Tenant.name).where(Tenant.slug == above)) if above else None
    tenant = await _tenant(session, ctx)
    facts.update(phase=zh, phase_en=en, due=when(due) if due else "", by=by or "上级", extra=payload.get("extra") or "",
                 note=payload.get("note") or "", staff_link=f"/t/{tenant.slug}/staff/inbox#concern-{event.subject_id}",
                 above_link=f"/t/{above}/admin/extensions" if above else None)
    return facts


async def topic_facts(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent) -> dict[str, Any]:
    tenant = await _tenant(session, ctx)
    topic = await session.get(Topic, (event.tenant_id, event.topic_id)) if event.topic_id else None
    facts: dict[str, Any] = {"tenant": tenant.name, "topic": topic.title if topic else "",
                             "link": f"/t/{tenant.slug}/results",
                             "staff_link": f"/t/{tenant.slug}/staff/topics/{event.topic_id}"}
    meeting = await _meeting(session, event)
    if meeting is not None:
        facts.update(venue=meeting.venue, starts_at=meeting.starts_at.isoformat(), meeting_id=str(meeting.id),
                     reason=(event.payload or {}).get("reason") or "", calendar=f"/t/{tenant.slug}/meetings.ics")
    action = await _action(session, event)
    if action is not None:
        facts.update(action=action.title, due=action.due_date.isoformat() if action.due_date else "",
                     action_link=f"/t/{tenant.slug}/actions", reason=(event.payload or {}).get("reason") or "")
    return facts


RULES: list[Rule] = [
    # the resident, and whoever filed for them
    Rule("concern.accept", "concern.accepted", reporters, concern_facts),
    Rule("concern.reject", "concern.rejected", reporters, concern_facts),
    Rule("concern.resolve_directly", "concern.resolved", reporters, concern_facts),
    Rule("concern.escalate", "concern.escalated", reporters, concern_facts),
    Rule("concern.topic", "concern.in_topic", reporters, topic_facts),
    Rule("concern.revisit_asked", "concern.revisit", resident, concern_facts),  # 回访: solved? satisfied?
    Rule("concern.merged", "concern.merged", merged_reporters, merged_facts),  # a duplicate's: they follow its survivor
    Rule("topic.schedule", "meeting.invited", invitees, topic_facts, link="calendar"),  # told once, as invited
    Rule("topic.schedule", "topic.meeting_scheduled", topic_reporters, topic_facts),
    Rule("topic.publish", "topic.result_published", topic_reporters, topic_facts),
    Rule("topic.complete_action", "topic.action_completed", topic_reporters, topic_facts),
    # invitees
    Rule("topic.reschedule", "meeting.rescheduled", invitees, topic_facts, urgent=True, link="calendar"),
    Rule("topic.cancel_meeting", "meeting.cancelled", invitees, topic_facts, urgent=True, link="calendar"),
    # action owners
    Rule("topic.add_action", "action.assigned", action_owner, topic_facts, link="action_link"),
    # corrections (core.concerns.corrections, TopicService.reassign_action / cancel_action)
    Rule("concern.corrected", "concern.corrected", reporters, concern_facts, texts={
        "zh-CN": ("诉求信息已更正", "您反映的「{title}」（{reference}）的分类或地点已由{tenant}更正。原因：{reason}"),
        "en": ("Concern corrected", "{tenant} corrected the category or place of your concern “{title}” "
                                    "({reference}): {reason}")}),
    Rule("concern.withdrawn", "concern.withdrawn", reporters, concern_facts, texts={
        "zh-CN": ("诉求已撤回", "您关注的诉求「{title}」（{reference}）已由反映人撤回。"),
        "en": ("Concern withdrawn", "The concern “{title}” ({reference}) you follow was withdrawn by its filer.")}),
    Rule("topic.reassign_action", "action.assigned", action_owner, topic_facts, link="action_link"),
    Rule("topic.reassign_action", "action.unassigned", previous_owner, topic_facts, link="action_link", texts={
        "zh-CN": ("执行事项已改派", "{tenant}议题「{topic}」的执行事项「{action}」已改由他人办理。原因：{reason}"),
        "en": ("Action item reassigned", "The action item “{action}” on “{topic}” at {tenant} was handed to "
                                         "someone else: {reason}")}),
    Rule("topic.cancel_action", "action.cancelled", action_owner, topic_facts, link="action_link", texts={
        "zh-CN": ("执行事项已取消", "{tenant}议题「{topic}」的执行事项「{action}」已取消。原因：{reason}"),
        "en": ("Action item cancelled", "The action item “{action}” on “{topic}” at {tenant} was cancelled: {reason}")}),
    # staff
    Rule("concern.filed", "concern.new", STAFF, concern_facts, link="staff_link"),
    Rule("concern.escalate", "concern.escalated_in", staff_above, concern_facts, link="staff_link"),
    Rule("follow_up.open", "follow_up.low_rating", STAFF, topic_facts, link="staff_link"),
    Rule("concern.reopened", "concern.reopened_in", STAFF, concern_facts),  # the concern's page: staff read all
    # time limits: staff of the tenant handling the concern, and of the level above (never the resident: internal)
    Rule("concern.deadline_warning", "concern.deadline_warning", STAFF, deadline_facts, link="staff_link"),
    Rule("concern.supervised", "concern.supervised", STAFF, deadline_facts, link="staff_link"),
    Rule("concern.supervised", "concern.supervised_below", staff_parent, deadline_facts, link="staff_link"),
    Rule("concern.auto_escalated", "concern.auto_escalated", STAFF, deadline_facts, link="staff_link"),
    Rule("concern.auto_escalated", "concern.escalated_in", staff_above, concern_facts, link="staff_link"),
    Rule("concern.extension_requested", "concern.extension_requested", staff_parent, deadline_facts,
         link="above_link"),
    Rule("concern.extension_approved", "concern.extension_approved", STAFF, deadline_facts, link="staff_link"),
    Rule("concern.extension_refused", "concern.extension_refused", STAFF, deadline_facts, link="staff_link"),
]


def rules_for(action: str, extra: Iterable[Rule] = ()) -> list[Rule]:
    return [rule for rule in (*RULES, *extra) if rule.action == action]

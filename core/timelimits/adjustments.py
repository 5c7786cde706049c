"""Changing a concern's clock by hand: staff pause it (waiting for the resident or a department) and resume it,
every deadline still ahead moving on by the time paused; and extensions (延期) the handling tenant asks of the
level above, which approves (the resolve deadline moves on) or refuses them."""

from __future__ import annotations

import datetime
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.concerns.models import Concern
from core.concerns.services import ConcernService, clean_text
from core.errors import Conflict, InvalidInput, NotFound
from core.events import append_event
from core.i18n import Label
from core.inputs import not_one_of
from core.tenancy.models import Tenant
from core.tenancy.scope import TenantScope
from core.timelimits import clock as timelimits
from core.timelimits.calendar import add, add_working, parse_duration, turns_yellow_at, working_between
from core.timelimits.models import Extension
from core.timelimits.schemas import ExtensionOut
from core.timelimits.services import policy_for
from core.timelimits.sweep import escalate_after

PAUSE_REASONS = {"waiting_resident": Label("等待居民"), "waiting_department": Label("等待部门"), "other": Label("其他")}
MAX_EXTRA = datetime.timedelta(days=30)  # at most a month more per extension


def _open(concern: Concern, doing: str) -> None:
    if concern.closed_at is not None:
        raise Conflict("诉求已办结，不能{doing}", doing=Label(doing))
    if concern.respond_by is None:
        raise Conflict("这条诉求没有时限，不能{doing}", doing=Label(doing))


class ClockService:
    """Pausing, resuming and extending the clocks of the scope's tenant's concerns; deciding the extensions its
    tenants directly below ask of it."""

    def __init__(self, session: AsyncSession, scope: TenantScope) -> None:
        self.session = session
        self.scope = scope
        self.tenant = scope.tenant

    async def _event(self, concern: Concern, action: str, payload: dict, scope: TenantScope | None = None) -> None:
        await append_event(self.session, (scope or self.scope).ctx, subject_kind="concern", subject_id=concern.id,
                           action=action, from_state=concern.status, to_state=concern.status,
                           actor_id=self.scope.user_id, topic_id=concern.topic_id, payload=payload)

    async def _concern(self, concern_id: uuid.UUID) -> Concern:
        return await ConcernService(self.session, self.scope).get(concern_id)

    # --- pause and resume --------------------------------------------------------------------------------

    async def pause(self, concern_id: uuid.UUID, reason: str, note: str | None) -> Concern:
        if reason not in PAUSE_REASONS:
            raise not_one_of("reason", PAUSE_REASONS)
        note = clean_text(note, "note", Label("说明"), 500, required=reason == "other")
        concern = await self._concern(concern_id)
        _open(concern, "暂停计时")
        if concern.paused_at is not None:
            raise Conflict("诉求已暂停计时")
        concern.paused_at = clock.now()
        timelimits.reschedule(concern)  # paused: no alert until resumed
        await self.session.flush()
        await self._event(concern, "concern.paused", {"reason": reason, "note": note})
        return concern

    async def resume(self, concern_id: uuid.UUID) -> Concern:
        concern = await self._concern(concern_id)
        if concern.paused_at is None:
            raise Conflict("诉求没有暂停计时")
        policy = await policy_for(self.session, self.tenant)
        paused, now = concern.paused_at, clock.now()
        for phase in timelimits.PHASES:
            if phase == "respond" and concern.responded_at is not None:
                continue  # that phase is over: its deadline stays what it was
            working = getattr(concern, f"{phase}_working")
            shift = working_between(paused, now, policy.hours) if working else now - paused
            for column in (f"{phase}_by", f"{phase}_warn_at"):
                moment = getattr(concern, column)
                if moment is not None and moment > paused:  # only what was still ahead when the clock stopped
                    setattr(concern, column, add_working(moment, shift, policy.hours) if working else moment + shift)
        concern.paused_at = None
        timelimits.reschedule(concern, escalate_after(policy))
        await self.session.flush()
        await self._event(concern, "concern.resumed", {"paused_minutes": int((now - paused).total_seconds() // 60),
                                                       "resolve_by": _iso(concern.resolve_by)})
        return concern

    # --- extensions, asked by the handling tenant --------------------------------------------------------

    async def request_extension(self, concern_id: uuid.UUID, extra: str, reason: str) -> Extension:
        duration = parse_duration(extra, "extra")
        if duration.natural > MAX_EXTRA:
            raise InvalidInput("{name}最多延长 {days} 天", field="extra", name=Label("延长时间"), days=MAX_EXTRA.days)
        reason = clean_text(reason, "reason", Label("理由"), 500)
        concern = await self._concern(concern_id)
        _open(concern, "申请延期")
        if self.tenant.parent_id is None:
            raise Conflict("本租户没有上级，无法申请延期")
        pending = await self.session.scalar(select(Extension.id).where(
            Extension.concern_id == concern.id, Extension.status == "pending"))
        if pending is not None:
            raise Conflict("这条诉求已有一份待审批的延期申请")
        extension = Extension(concern_id=concern.id, extra=duration.text, reason=reason, status="pending",
                              requested_by_id=self.scope.user_id)
        self.session.add(extension)
        await self.session.flush()
        parent = await self.session.get(Tenant, self.tenant.parent_id)
        await self._event(concern, "concern.extension_requested", {
            "extension": str(extension.id), "extra": duration.text, "reason": reason,
            "by_tenant": parent.slug if parent else None})
        return extension

    # --- extensions, decided by the level above ----------------------------------------------------------

    async def pending_extensions(self, limit: int, offset: int) -> tuple[list[ExtensionOut], int]:
        """The extensions the tenants directly below asked of this one, still waiting, oldest first."""
        async with self.scope.subtree():
            statement = (select(Extension, Concern, Tenant)
                         .join(Concern, (Concern.tenant_id == Extension.tenant_id) & (Concern.id == Extension.concern_id))
                         .join(Tenant, Tenant.id == Extension.tenant_id)
                         .where(Tenant.parent_id == self.tenant.id, Extension.status == "pending"))
            total = await self.session.scalar(select(func.count()).select_from(
                select(Extension.id).join(Tenant, Tenant.id == Extension.tenant_id)
                .where(Tenant.parent_id == self.tenant.id, Extension.status == "pending").subquery()))
            rows = (await self.session.execute(statement.order_by(Extension.created_at).limit(limit).offset(offset))).all()
        return [extension_out(e, c, t) for e, c, t in rows], int(total or 0)

    async def decide(self, extension_id: uuid.UUID, approve: bool, note: str | None) -> ExtensionOut:
        note = clean_text(note, "note", Label("审批意见"), 500, required=not approve)
        async with self.scope.subtree():
            row = (await self.session.execute(
                select(Extension, Tenant).join(Tenant, Tenant.id == Extension.tenant_id)
                .where(Extension.id == extension_id, Tenant.parent_id == self.tenant.id))).first()
        if row is None:
            raise NotFound("没有下级向本级申请的这份延期")
        extension, child = row
        if extension.status != "pending":
            raise Conflict("这份延期申请已审批过")
        async with self.scope.acting_in(child) as there:
            concern = await self.session.scalar(select(Concern).where(Concern.id == extension.concern_id))
            assert concern is not None
            now = clock.now()
            extension.status = "approved" if approve else "refused"
            extension.decided_by_id, extension.decided_at, extension.decision_note = self.scope.user_id, now, note
            if approve and concern.closed_at is None and concern.resolve_by is not None:
                await self._extend(concern, child, extension.extra, now)
            await self.session.flush()
            await self._event(concern, f"concern.extension_{extension.status}", {
                "extension": str(extension.id), "extra": extension.extra, "note": note,
                "resolve_by": _iso(concern.resolve_by), "by_tenant": self.tenant.slug}, scope=there)
        return extension_out(extension, concern, child)

    async def _extend(self, concern: Concern, child: Tenant, extra: str, now: datetime.datetime) -> None:
        """The resolve deadline moved on by `extra`, counted as the resolve limit counts, its yellow moment anew;
        a red (or escalated) resolve stage is forgotten once the concern is no longer red."""
        policy = await policy_for(self.session, child)
        working = concern.resolve_working
        assert concern.resolve_by is not None
        concern.resolve_by = add(concern.resolve_by, parse_duration(extra, "extra"), working, policy.hours)
        concern.resolve_warn_at = turns_yellow_at(concern.created_at, concern.resolve_by, working, policy.hours)
        stage = concern.alert_stage or ""
        if stage.startswith("resolve_") and now < concern.resolve_by:
            concern.alert_stage = "resolve_yellow" if concern.resolve_warn_at <= now else None
        timelimits.reschedule(concern, escalate_after(policy))


def _iso(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def extension_out(extension: Extension, concern: Concern, tenant: Tenant) -> ExtensionOut:
    return ExtensionOut(
        id=str(extension.id), concern_id=str(concern.id), reference=concern.reference, title=concern.title,
        tenant=tenant.slug, tenant_name=tenant.name, extra=extension.extra, reason=extension.reason,
        status=extension.status, resolve_by=_iso(concern.resolve_by), decision_note=extension.decision_note,
        requested_at=extension.created_at.isoformat())

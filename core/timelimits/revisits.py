"""回访 and 重办: once a concern is resolved its resident is asked, once per round, whether it was solved and how
satisfied they are (or staff record the answer from a phone call); "未解决" reopens the concern with a new clock."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.concerns.models import Concern
from core.db import TenantContext
from core.errors import Conflict, Forbidden, NotFound
from core.events import append_event
from core.i18n import Label
from core.inputs import not_one_of
from core.tenancy.models import Tenant
from core.tenancy.scope import TenantScope
from core.timelimits import clock as timelimits
from core.timelimits.models import SATISFACTION, Revisit
from core.timelimits.schemas import RevisitIn, RevisitOut

CHANNELS = ("self", "phone")  # the resident answered themselves; staff recorded it from a phone call
CHANNEL_NAMES = {"self": Label("居民自评"), "phone": Label("电话回访")}
SOLVED_NAMES = {True: Label("已解决"), False: Label("未解决")}
REOPENED_STATE = "accepted"  # 重办: back in the tenant's hands, counted by `Concern.reopened`


async def open_round(session: AsyncSession, ctx: TenantContext, concern: Concern,
                     actor_id: uuid.UUID | None) -> Revisit | None:
    """Ask the resident of a concern just resolved (directly, or with its topic) the two questions: a new round
    and its event, which tells them. A resident with no account (a grid worker filed for them, or they filed by
    phone) is not told, but the round waits for staff to call them and record the answer; a concern with no
    one to ask (no account, no phone) gets no round."""
    if concern.resident_id is None and not concern.resident_phone:
        return None
    last = await session.scalar(select(func.max(Revisit.round)).where(Revisit.concern_id == concern.id))
    revisit = Revisit(tenant_id=concern.tenant_id, concern_id=concern.id, round=(last or 0) + 1,
                      asked_at=clock.now())
    session.add(revisit)
    await session.flush()
    # The revisit's events are the concern's alone, kept out of its topic's timeline (the topic stays completed).
    await append_event(session, ctx, subject_kind="concern", subject_id=concern.id, action="concern.revisit_asked",
                       from_state=concern.status, to_state=concern.status, actor_id=actor_id,
                       payload={"round": revisit.round})
    return revisit


async def open_round_of(session: AsyncSession, concern: Concern) -> Revisit | None:
    """The round waiting for an answer, if there is one (at most one: a round is opened only on resolving)."""
    return await session.scalar(select(Revisit).where(Revisit.concern_id == concern.id,
                                                      Revisit.answered_at.is_(None))
                                .order_by(Revisit.round.desc()).limit(1))


async def rounds(session: AsyncSession, concern: Concern) -> Sequence[Revisit]:
    return (await session.scalars(select(Revisit).where(Revisit.concern_id == concern.id)
                                  .order_by(Revisit.round))).all()


def revisit_out(revisit: Revisit) -> RevisitOut:
    return RevisitOut(round=revisit.round, asked_at=revisit.asked_at, solved=revisit.solved,
                      satisfaction=revisit.satisfaction, answered_at=revisit.answered_at, channel=revisit.channel,
                      note=revisit.note)


class RevisitService:
    """Answers to revisits in the scope's tenant: the resident's own, or a phone revisit staff record."""

    def __init__(self, session: AsyncSession, scope: TenantScope) -> None:
        self.session = session
        self.scope = scope

    async def _concern(self, concern_id: uuid.UUID, channel: str) -> Concern:
        statement = select(Concern).where(Concern.id == concern_id)
        if channel == "self":  # one's own concern only; anyone else's does not exist for them
            statement = statement.where(Concern.resident_id == self.scope.user_id)
        elif not self.scope.can("concern.triage"):
            raise Forbidden("只有工作人员可以记录电话回访")
        concern = await self.session.scalar(statement.with_for_update())  # one answer per round
        if concern is None:
            raise NotFound("没有您可以回访的这条诉求")
        return concern

    async def rounds(self, concern: Concern) -> Sequence[Revisit]:
        return await rounds(self.session, concern)

    async def answer(self, concern_id: uuid.UUID, data: RevisitIn) -> Revisit:
        if data.channel not in CHANNELS:
            raise not_one_of("channel", CHANNELS)
        if data.satisfaction not in SATISFACTION:
            raise not_one_of("satisfaction", SATISFACTION)
        note = (data.note or "").strip() or None
        concern = await self._concern(concern_id, data.channel)
        revisit = await open_round_of(self.session, concern)
        if revisit is None:
            raise Conflict("这条诉求没有待回答的回访（每轮回访只能回答一次）")
        now = clock.now()
        revisit.solved, revisit.satisfaction, revisit.channel, revisit.note = (data.solved, data.satisfaction,
                                                                               data.channel, note)
        revisit.answered_at, revisit.answered_by_id = now, self.scope.user_id
        await self.session.flush()
        await append_event(self.session, self.scope.ctx, subject_kind="concern", subject_id=concern.id,
                           action="concern.revisited", from_state=concern.status, to_state=concern.status,
                           actor_id=self.scope.user_id,
                           payload={"round": revisit.round, "solved": data.solved,
                                    "satisfaction": data.satisfaction, "channel": data.channel})
        if not data.solved:
            await reopen(self.session, self.scope.ctx, self.scope.tenant, concern, revisit.round,
                         self.scope.user_id)
        return revisit


async def reopen(session: AsyncSession, ctx: TenantContext, tenant: Tenant, concern: Concern, round_: int,
                 actor_id: uuid.UUID | None) -> None:
    """重办: the concern is in its tenant's hands again with a new clock from now, keeping its urgency. Staff
    know of it already, so its respond phase is over at once and the new resolve limit runs (as a 12345 centre
    dispatches a reopened request again). Its topic, if any, stays completed: the concern keeps its link to it."""
    now, from_state = clock.now(), concern.status
    policy = await timelimits.policy_for(session, tenant)
    for name, value in timelimits.started(policy, concern.category, concern.urgency, now).items():
        setattr(concern, name, value)
    timelimits.responded(concern, now)
    concern.status, concern.closed_at, concern.reopened = REOPENED_STATE, None, concern.reopened + 1
    await session.flush()
    await append_event(session, ctx, subject_kind="concern", subject_id=concern.id, action="concern.reopened",
                       from_state=from_state, to_state=REOPENED_STATE, actor_id=actor_id, payload={"round": round_})

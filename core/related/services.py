"""Rules of related concerns: the open concerns like a text (while a resident types, and in the staff inbox), and
joining one (附议, "我也遇到了") instead of filing it again."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.concerns.models import STATE_NAMES, Concern
from core.errors import Conflict, NotFound
from core.events import append_event
from core.redaction import public_summary
from core.related import index, ranking, similarity
from core.related.models import Supporter
from core.related.similarity import Text
from core.tenancy.models import Building, Compound
from core.tenancy.scope import TenantScope

# What a resident may still join, and what staff see as a possible duplicate: concerns not yet closed or merged.
OPEN_STATES = ("submitted", "accepted", "escalated", "taken_over", "in_topic")
# What a resident filing is shown: the open ones to join, and the ones already handled, so they see what was done
# (and file again if the matter came back).
SHOWN_STATES = (*OPEN_STATES, "resolved", "completed")
WINDOW = datetime.timedelta(days=180)  # how far back a lookup reaches: older matters are filed anew


@dataclass(frozen=True)
class Similar:
    concern: Concern
    score: float

    @property
    def summary(self) -> str:
        """What anyone may read of it: its public summary (the resident's own words never leave staff pages)."""
        return public_summary(self.concern)

    @property
    def status_name(self) -> str:
        return STATE_NAMES[self.concern.status]

    @property
    def joinable(self) -> bool:
        """Whether a resident may still join it (附议): it is not yet closed."""
        return self.concern.status in OPEN_STATES


@dataclass(frozen=True)
class Places:
    """The names of a tenant's compounds and of the buildings a comparison needs: what `Text` compares a place by
    (two ids of one name are one place; a compound named only in words is found by its name)."""

    compounds: dict[uuid.UUID, str]
    buildings: dict[uuid.UUID, str]

    @classmethod
    async def read(cls, session: AsyncSession, buildings: Iterable[uuid.UUID | None]) -> Places:
        """The scope's tenant's compounds, and the names of `buildings`: two queries."""
        compounds = {row.id: row.name for row in await session.execute(select(Compound.id, Compound.name))}
        wanted = {i for i in buildings if i is not None}
        named = {row.id: row.name for row in await session.execute(
            select(Building.id, Building.name).where(Building.id.in_(wanted)))} if wanted else {}
        return cls(compounds, named)

    def text(self, title: str, description: str, building_id: uuid.UUID | None, compound_id: uuid.UUID | None,
             category: str | None) -> Text:
        return Text.of(title, description, building=self.buildings.get(building_id) if building_id else None,
                       compound=self.compounds.get(compound_id) if compound_id else None, category=category,
                       compounds=tuple(self.compounds.values()))

    def of(self, concern: Concern) -> Text:
        return self.text(concern.title, concern.description, concern.building_id, concern.compound_id, concern.category)


class RelatedService:
    """Related concerns in the scope's tenant."""

    def __init__(self, session: AsyncSession, scope: TenantScope) -> None:
        self.session = session
        self.scope = scope

    async def similar(self, title: str, description: str, *, compound_id: uuid.UUID | None = None,
                      building_id: uuid.UUID | None = None, category: str | None = None,
                      exclude: uuid.UUID | None = None, states: tuple[str, ...] = SHOWN_STATES, limit: int = 3,
                      least: float | None = None) -> list[Similar]:
        """The concerns of this community most like `title` and `description`, the likeliest first: those sharing
        the most index keys, filed in the last `WINDOW`, scored (core.related.similarity) and kept from `least`."""
        keys = index.keys_of(title, description)
        ids = [i for i in await index.candidates(self.session, self.scope.ctx, keys, clock.now() - WINDOW) if i != exclude]
        if not ids:
            return []
        concerns = (await self.session.scalars(select(Concern).where(Concern.id.in_(ids), Concern.status.in_(states)))).all()
        places = await Places.read(self.session, [building_id, *(c.building_id for c in concerns)])
        query = places.text(title, description, building_id, compound_id, category)
        by_id = {c.id: c for c in concerns}
        return [Similar(by_id[i], s) for i, s in ranking.rank(query, {c.id: places.of(c) for c in concerns}, least, limit)]

    async def like(self, concern: Concern, limit: int = 5) -> list[Similar]:
        """The concerns like `concern` (its likely duplicates first, then related ones), for staff."""
        return await self.similar(concern.title, concern.description, compound_id=concern.compound_id,
                                  building_id=concern.building_id, category=concern.category, exclude=concern.id,
                                  states=OPEN_STATES, limit=limit, least=similarity.RELATED)

    # --- 附议 ------------------------------------------------------------------------------------------

    async def support(self, concern_id: uuid.UUID) -> Concern:
        """The signed-in resident joins an open concern: they follow it and hear what its reporters hear.
        Joining twice changes nothing."""
        concern = await self._open(concern_id)
        user = self.scope.user_id
        if user in (concern.filed_by_id, concern.resident_id):
            raise Conflict("这是您自己反映的诉求，无需附议")
        if await self.session.scalar(select(Supporter.id).where(Supporter.concern_id == concern.id,
                                                                Supporter.user_id == user)):
            return concern
        self.session.add(Supporter(concern_id=concern.id, user_id=user))
        await self._count(concern, +1, "concern.supported")
        return concern

    async def withdraw_support(self, concern_id: uuid.UUID) -> Concern:
        """The signed-in resident no longer follows a concern they joined."""
        concern = await self._open(concern_id, states=tuple(STATE_NAMES))
        supporter = await self.session.scalar(select(Supporter).where(Supporter.concern_id == concern.id,
                                                                      Supporter.user_id == self.scope.user_id))
        if supporter is None:
            raise NotFound("您没有附议这条诉求")
        await self.session.delete(supporter)
        await self._count(concern, -1, "concern.support_withdrawn")
        return concern

    async def supported(self, user_id: uuid.UUID) -> list[Concern]:
        """The concerns `user_id` joined, the newest first."""
        return list((await self.session.scalars(
            select(Concern).join(Supporter, (Supporter.concern_id == Concern.id) & (Supporter.tenant_id == Concern.tenant_id))
            .where(Supporter.user_id == user_id).order_by(Supporter.created_at.desc()))).all())

    async def _open(self, concern_id: uuid.UUID, states: tuple[str, ...] = OPEN_STATES) -> Concern:
        """The concern, locked, if it is one a resident may join (any state in `states`)."""
        concern = await self.session.scalar(select(Concern).where(Concern.id == concern_id).with_for_update()
                                            .execution_options(populate_existing=True))
        if concern is None:
            raise NotFound("没有这条诉求")
        if concern.status not in states:
            raise Conflict("这条诉求已{state}，不能再附议", state=STATE_NAMES[concern.status])
        return concern

    async def _count(self, concern: Concern, change: int, action: str) -> None:
        await self.session.execute(update(Concern).where(Concern.id == concern.id)
                                   .values(supporters=Concern.supporters + change))
        await self.session.refresh(concern, ["supporters"])
        await append_event(self.session, self.scope.ctx, subject_kind="concern", subject_id=concern.id,
                           topic_id=concern.topic_id, action=action, from_state=concern.status,
                           to_state=concern.status, actor_id=self.scope.user_id,
                           payload={"supporters": concern.supporters})

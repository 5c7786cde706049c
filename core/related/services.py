"""Rules of related concerns: the open concerns like a text (while a resident types, and in the staff inbox), and
joining one (附议, "我也遇到了") instead of filing it again."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.concerns.models import DEFAULT_CATEGORIES, STATE_NAMES, Concern
from core.concerns.services import category_names
from core.errors import Conflict, InvalidInput, NotFound, Problems
from core.events import append_event
from core.i18n import Label
from core.redaction import public_summary
from core.related import index, ranking, similarity
from core.related.models import Supporter
from core.related.schemas import PublicView, SimilarConcern, SimilarIn
from core.related.similarity import Text
from core.tenancy.models import Building, Compound
from core.tenancy.scope import TenantScope
from core.tenancy.services import resolve_place

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

    async def similar_to(self, data: SimilarIn) -> list[Similar]:
        """`similar` for what a resident has typed so far, its category and place checked as filing checks them
        (every bad field named at once); a text too short to compare answers nothing."""
        problems = Problems()
        if data.category is not None and data.category not in DEFAULT_CATEGORIES and data.category not in (
                categories := await category_names(self.session)):
            problems.add(InvalidInput("未知分类 {category}；可用：{choices}", field="category", category=data.category,
                                      choices=", ".join(categories)))
        compound_id = building_id = None
        try:
            compound_id, building_id = await resolve_place(self.session, data.compound_id, data.building_id)
        except InvalidInput as refused:
            refused.field = f"{refused.field}_id"  # this input's names for the place
            problems.add(refused)
        problems.raise_any()
        return await self.similar(data.title, data.description, compound_id=compound_id, building_id=building_id,
                                  category=data.category)

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
            raise Conflict("这条诉求当前为「{state}」，不能再附议", state=Label(STATE_NAMES[concern.status]))
        return concern

    async def _count(self, concern: Concern, change: int, action: str) -> None:
        await self.session.execute(update(Concern).where(Concern.id == concern.id)
                                   .values(supporters=Concern.supporters + change))
        await self.session.refresh(concern, ["supporters"])
        await append_event(self.session, self.scope.ctx, subject_kind="concern", subject_id=concern.id,
                           topic_id=concern.topic_id, action=action, from_state=concern.status,
                           to_state=concern.status, actor_id=self.scope.user_id,
                           payload={"supporters": concern.supporters})

    async def joined(self, concern_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Which of `concern_ids` the signed-in user joined (one query)."""
        if not concern_ids:
            return set()
        return set((await self.session.scalars(select(Supporter.concern_id).where(
            Supporter.user_id == self.scope.user_id, Supporter.concern_id.in_(list(concern_ids))))).all())

    async def joined_one(self, concern_id: uuid.UUID) -> Concern | None:
        """The concern `concern_id`, if the signed-in user joined it."""
        return await self.session.scalar(select(Concern).join(
            Supporter, (Supporter.concern_id == Concern.id) & (Supporter.tenant_id == Concern.tenant_id))
            .where(Concern.id == concern_id, Supporter.user_id == self.scope.user_id))

    # --- what a resident reads of another's concern -------------------------------------------------------

    def _view(self, concern: Concern, joined: set[uuid.UUID]) -> dict[str, Any]:
        return {"id": concern.id, "reference": concern.reference, "summary": public_summary(concern),
                "status": concern.status, "status_name": STATE_NAMES[concern.status],
                "supporters": concern.supporters, "created_at": concern.created_at, "joined": concern.id in joined,
                "mine": self.scope.user_id in (concern.filed_by_id, concern.resident_id),
                "joinable": concern.status in OPEN_STATES}

    async def views(self, concerns: Sequence[Concern]) -> list[PublicView]:
        """`concerns` as the signed-in user may read another resident's: public summary, status, supporters."""
        joined = await self.joined([c.id for c in concerns])
        return [PublicView(**self._view(c, joined)) for c in concerns]

    async def similar_views(self, found: Sequence[Similar]) -> list[SimilarConcern]:
        joined = await self.joined([s.concern.id for s in found])
        return [SimilarConcern(**self._view(s.concern, joined), score=round(s.score, 3)) for s in found]

"""Topics to draft (拟定议题), suggested: the community's accepted concerns not yet in a topic, in groups of one
matter (core.related.groups), each offered on the new-topic form with its concerns picked."""

from __future__ import annotations

import uuid

import msgspec
from sqlalchemy import select

from core.concerns.models import Concern
from core.related.groups import Group, PlaceOut, grouped
from core.tenancy.scope import TenantScope

# The newest accepted concerns read: grouping costs more than linearly with the concerns grouped (each pair that
# shares an index key is scored), so a community with a backlog of thousands is offered groups of its newest.
READ = 500
WAITING = (Concern.status == "accepted", Concern.topic_id.is_(None))  # what a topic may be drafted from


class SuggestionOut(msgspec.Struct):
    label: str  # 充电难
    count: int
    supporters: int
    places: list[PlaceOut]
    where: str  # 银巴小区 11、14号楼
    summary: str  # 充电难: 5 条, 银巴小区 11、14号楼
    concern_ids: list[uuid.UUID]
    references: list[str]


def suggestion_out(group: Group) -> SuggestionOut:
    return SuggestionOut(label=group.label, count=group.count, supporters=group.supporters, places=group.places,
                         where=group.where, summary=group.summary, concern_ids=[c.id for c in group.concerns],
                         references=[c.reference for c in group.concerns])


async def suggestions(scope: TenantScope) -> list[Group]:
    """Groups of at least two of the scope's tenant's accepted concerns not yet in a topic (its newest `READ`),
    the largest first, then those with the most supporters."""
    concerns = (await scope.session.scalars(select(Concern).where(*WAITING)
                                            .order_by(Concern.created_at.desc(), Concern.id).limit(READ))).all()
    groups = await grouped(scope.session, concerns)
    return sorted(groups, key=lambda g: (-g.count, -g.supporters, g.label))


async def waiting_among(scope: TenantScope, ids: list[uuid.UUID]) -> list[Concern]:
    """Those of `ids` that are accepted concerns of the scope's tenant not yet in a topic (a suggestion's, picked)."""
    if not ids:
        return []
    return list((await scope.session.scalars(select(Concern).where(Concern.id.in_(ids), *WAITING)
                                             .order_by(Concern.created_at))).all())

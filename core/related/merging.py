"""Duplicates, for staff: the likely duplicates of a page of concerns, merging duplicates into one surviving
concern (their reporters and supporters carried over as its supporters, each told), and undoing that within the day.

A duplicate must still be waiting here, submitted or accepted and in no topic (`MERGEABLE`): an escalated concern
is in the hands of the level above, one in a topic is part of a deliberation, a closed one is settled. It becomes
`merged`, names its survivor (`duplicate_of_id`) and the state it had (`merged_from`), and its clock stops (no
alert, no light: the survivor is handled in its stead). The survivor may be any concern still being handled
(`related.services.OPEN_STATES`), but not one merged itself, and a concern others were merged into is not merged
in turn (no chains to unwind). Undoing restores the state and the clock as they were — the deadlines are not
moved on: the time merged was a mistake of the staff, not a wait the resident should pay for — and takes off the
survivor the supporters the merge brought, unless another of its duplicates brought them too. (A duplicate filed
by phone alone has no account to carry over: it adds no supporter.)

The rows of the survivor and its duplicates are locked in the order of their ids, so two staff merging (or
undoing) at once act one after the other: the second finds the first's result, never counts a supporter twice.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.concerns.models import STATE_NAMES, UNMERGE_WITHIN, Concern
from core.concerns.services import clean_text
from core.errors import Conflict, InvalidInput, NotFound
from core.events import append_event
from core.i18n import Label
from core.related import index, ranking, similarity
from core.related.models import Supporter
from core.related.services import OPEN_STATES, WINDOW, Places, RelatedService, Similar
from core.tenancy.scope import TenantScope
from core.timelimits import clock as timelimits
from core.timelimits.services import policy_for
from core.timelimits.sweep import escalate_after

MERGEABLE = ("submitted", "accepted")  # what may become a duplicate (and in no topic)
MAX_DUPLICATES = 20  # merged at once into one survivor
LIKELY, RELATED = "likely_duplicate", "related"
LABEL_NAMES = {LIKELY: Label("疑似重复"), RELATED: Label("相关诉求")}


def label_of(score: float) -> str:
    """"likely duplicate" from `similarity.SHOWN` up (what residents are shown as the same matter), else related."""
    return LIKELY if score >= similarity.SHOWN else RELATED


def undo_until(concern: Concern) -> datetime.datetime | None:
    return concern.merged_at + UNMERGE_WITHIN if concern.merged_at is not None else None


def may_undo(concern: Concern) -> bool:
    """Whether the merge of `concern` may still be undone (a day after it was made)."""
    until = undo_until(concern)
    return concern.status == "merged" and until is not None and clock.now() <= until


@dataclass(frozen=True)
class Related:
    """A concern like another, labelled, and whether it may be merged into that other."""

    similar: Similar
    label: str
    mergeable: bool

    @property
    def label_name(self) -> str:
        return LABEL_NAMES[self.label]


@dataclass(frozen=True)
class Merged:
    survivor: Concern
    duplicates: list[Concern]
    carried: int  # supporters the survivor gained


class MergeService:
    """Merging the scope's tenant's duplicates, and undoing it."""

    def __init__(self, session: AsyncSession, scope: TenantScope) -> None:
        self.session = session
        self.scope = scope

    async def merge(self, survivor_id: uuid.UUID, duplicate_ids: Sequence[uuid.UUID], reason: str | None = None) -> Merged:
        """Merge `duplicate_ids` into the concern `survivor_id`: one event `concern.merged` each."""
        reason = clean_text(reason, "reason", Label("理由"), 500, required=False)
        wanted = list(dict.fromkeys(duplicate_ids))
        if not wanted:
            raise InvalidInput("请选择要合并的重复诉求", field="duplicates")
        if len(wanted) > MAX_DUPLICATES:
            raise InvalidInput("一次最多合并 {limit} 条重复诉求", field="duplicates", limit=MAX_DUPLICATES)
        if survivor_id in wanted:
            raise InvalidInput("不能把诉求合并到它自己", field="duplicates")
        rows = await self._locked([survivor_id, *wanted])
        survivor = rows.get(survivor_id)
        if survivor is None:
            raise NotFound("没有这条诉求")
        if missing := [str(i) for i in wanted if i not in rows]:
            raise NotFound("没有要合并的诉求 {ids}", field="duplicates", ids=missing)
        if survivor.status not in OPEN_STATES:
            raise Conflict("诉求 {reference} 当前为「{state}」，不能把其他诉求合并到它", reference=survivor.reference,
                           state=Label(STATE_NAMES[survivor.status]))
        duplicates = [rows[i] for i in wanted]
        for duplicate in duplicates:
            if duplicate.status not in MERGEABLE or duplicate.topic_id is not None:
                raise Conflict("诉求 {reference} 当前为「{state}」，不能合并", field="duplicates",
                               reference=duplicate.reference, state=Label(STATE_NAMES[duplicate.status]))
        if taken := await self._with_duplicates(wanted):
            raise Conflict("已有其他诉求合并到诉求 {reference}，不能再把它合并到别处", field="duplicates",
                           reference=rows[taken[0]].reference)
        # Who the survivor already has: its reporters and supporters are not added again.
        present = set((await self.session.scalars(select(Supporter.user_id).where(
            Supporter.concern_id == survivor.id))).all()) | set(_reporters(survivor))
        people = await self._people(duplicates)
        now, brought = clock.now(), {}
        for duplicate in duplicates:
            brought[duplicate.id] = [user for user in people[duplicate.id] if user not in present]
            present.update(brought[duplicate.id])
            self.session.add_all(Supporter(concern_id=survivor.id, user_id=user, merged_from_id=duplicate.id)
                                 for user in brought[duplicate.id])
            duplicate.merged_from, duplicate.status = duplicate.status, "merged"
            duplicate.duplicate_of_id, duplicate.merged_at = survivor.id, now
            timelimits.reschedule(duplicate)  # merged: no alert until the merge is undone
        carried = sum(len(users) for users in brought.values())
        await self._count(survivor, carried)
        for duplicate in duplicates:
            await self._event(duplicate, "concern.merged", duplicate.merged_from, "merged", {
                "survivor": survivor.reference, "survivor_id": str(survivor.id), "reason": reason,
                "supporters": len(brought[duplicate.id])})
        return Merged(survivor, duplicates, carried)

    async def unmerge(self, duplicate_id: uuid.UUID) -> Concern:
        """Undo the merge of `duplicate_id` (within a day of it): one event `concern.unmerged`."""
        found = await self.session.scalar(select(Concern.duplicate_of_id).where(Concern.id == duplicate_id))
        rows = await self._locked([duplicate_id, *([found] if found else [])])
        duplicate = rows.get(duplicate_id)
        if duplicate is None:
            raise NotFound("没有这条诉求")
        if duplicate.status != "merged" or duplicate.duplicate_of_id is None or duplicate.merged_from is None:
            raise Conflict("诉求 {reference} 没有合并，无需撤销", reference=duplicate.reference)
        if not may_undo(duplicate):
            raise Conflict("诉求 {reference} 合并已超过一天，不能再撤销", reference=duplicate.reference)
        survivor = rows.get(duplicate.duplicate_of_id)
        assert survivor is not None  # merged into a concern of this tenant, locked with it
        # What the survivor's other duplicates bring: a supporter they brought too stays, credited to one of them.
        others = (await self.session.scalars(select(Concern).where(
            Concern.duplicate_of_id == survivor.id, Concern.id != duplicate.id))).all()
        kept = {user: other for other, users in (await self._people(others)).items() for user in users}
        removed = 0
        for supporter in (await self.session.scalars(select(Supporter).where(
                Supporter.concern_id == survivor.id, Supporter.merged_from_id == duplicate.id))).all():
            if supporter.user_id in kept:
                supporter.merged_from_id = kept[supporter.user_id]
            else:
                await self.session.delete(supporter)
                removed += 1
        await self._count(survivor, -removed)
        duplicate.status, duplicate.merged_from = duplicate.merged_from, None
        duplicate.duplicate_of_id = duplicate.merged_at = None
        timelimits.reschedule(duplicate, escalate_after(await policy_for(self.session, self.scope.tenant)))
        await self._event(duplicate, "concern.unmerged", "merged", duplicate.status, {
            "survivor": survivor.reference, "survivor_id": str(survivor.id), "supporters": removed})
        return duplicate

    async def related(self, concern: Concern, limit: int = 8) -> list[Related]:
        """The concerns like `concern` (`RelatedService.like`), each labelled likely duplicate or related, and
        whether it may be merged into `concern`."""
        found = await RelatedService(self.session, self.scope).like(concern, limit)
        nested = set(await self._with_duplicates([s.concern.id for s in found])) if found else set()
        into = concern.status in OPEN_STATES
        return [Related(s, label_of(s.score), into and s.concern.status in MERGEABLE and s.concern.topic_id is None
                        and s.concern.id not in nested) for s in found]

    async def merged_into(self, survivor: Concern) -> list[Concern]:
        """The duplicates merged into `survivor`, the earliest merged first."""
        return list((await self.session.scalars(select(Concern).where(Concern.duplicate_of_id == survivor.id)
                                                .order_by(Concern.merged_at, Concern.id))).all())

    async def _locked(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Concern]:
        """The concerns `ids` of this tenant, locked in the order of their ids (two merges never wait on each
        other crosswise), read afresh."""
        concerns = (await self.session.scalars(
            select(Concern).where(Concern.id.in_(set(ids))).order_by(Concern.id).with_for_update()
            .execution_options(populate_existing=True))).all()
        return {c.id: c for c in concerns}

    async def _with_duplicates(self, ids: list[uuid.UUID]) -> list[uuid.UUID]:
        """Those of `ids` others were merged into."""
        found = await self.session.scalars(select(Concern.duplicate_of_id).where(Concern.duplicate_of_id.in_(ids)).distinct())
        return [i for i in found if i is not None]

    async def _people(self, concerns: Sequence[Concern]) -> dict[uuid.UUID, list[uuid.UUID]]:
        """By concern: its reporters (the resident, whoever filed it), then its supporters, the earliest first."""
        people: defaultdict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for concern in concerns:
            people[concern.id].extend(_reporters(concern))
        if concerns:
            for concern_id, user in (await self.session.execute(
                    select(Supporter.concern_id, Supporter.user_id).where(
                        Supporter.concern_id.in_([c.id for c in concerns])).order_by(Supporter.created_at))):
                people[concern_id].append(user)
        return {concern_id: list(dict.fromkeys(users)) for concern_id, users in people.items()}

    async def _count(self, survivor: Concern, change: int) -> None:
        if change:
            await self.session.execute(update(Concern).where(Concern.id == survivor.id)
                                       .values(supporters=Concern.supporters + change))
        await self.session.flush()
        await self.session.refresh(survivor, ["supporters"])

    async def _event(self, concern: Concern, action: str, from_state: str | None, to_state: str, payload: dict) -> None:
        await append_event(self.session, self.scope.ctx, subject_kind="concern", subject_id=concern.id,
                           topic_id=concern.topic_id, action=action, from_state=from_state, to_state=to_state,
                           actor_id=self.scope.user_id, payload=payload)


def _reporters(concern: Concern) -> list[uuid.UUID]:
    return [u for u in dict.fromkeys((concern.resident_id, concern.filed_by_id)) if u is not None]


# --- likely duplicates, for a page of concerns -------------------------------------------------------------------


async def likely_duplicates(session: AsyncSession, scope: TenantScope, concerns: Sequence[Concern],
                            limit: int = 5) -> dict[uuid.UUID, list[Similar]]:
    """By concern of `concerns` (an inbox page), its likely duplicates (`similarity.SHOWN` and up) among the open
    concerns, the likeliest first: what `RelatedService.like` would find for each, in a fixed number of queries
    for the page (the keys of all of them read together, the candidates of all of them loaded together)."""
    if not concerns:
        return {}
    keys = {c.id: index.keys_of(c.title, c.description) for c in concerns}
    shared = await index.newest_by_key(session, scope.ctx, {k for ks in keys.values() for k in ks},
                                       clock.now() - WINDOW)
    candidates = {c.id: [i for i in ranking.candidates(i for k in keys[c.id] for i in shared.get(k, ()))
                         if i != c.id] for c in concerns}
    wanted = {i for ids in candidates.values() for i in ids}
    pool = {c.id: c for c in (await session.scalars(select(Concern).where(
        Concern.id.in_(wanted), Concern.status.in_(OPEN_STATES))))} if wanted else {}
    places = await Places.read(session, (c.building_id for c in [*concerns, *pool.values()]))
    texts = {i: places.of(c) for i, c in pool.items()}
    found = {}
    for concern in concerns:
        mine = {i: texts[i] for i in candidates[concern.id] if i in texts}
        found[concern.id] = [Similar(pool[i], s) for i, s in ranking.rank(places.of(concern), mine, similarity.SHOWN, limit)]
    return found

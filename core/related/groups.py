"""Concerns read from the database, in groups of one matter each (core.related.clusters), every group named by its
most telling words and the compounds and buildings its concerns name: "充电难: 5 条, 银巴小区 11、14号楼". What
topic suggestions (core.related.suggestions) and the month's hot topics (core.related.hot) are made of."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.concerns.models import Concern
from core.redaction import public_summary
from core.related import clusters, similarity
from core.related.similarity import Text
from core.tenancy.models import Building, Compound

_NUMBERED = re.compile(r"^(\d+)号楼$")
# Groups made lately, by a digest of everything they were made from (`_made`): an inbox or a
# dashboard is read far more often than its concerns change, and grouping a few hundred concerns costs a few
# hundred milliseconds, reading them one. Per process, the least recently used forgotten first.
KEPT = 256
_made_lately: OrderedDict[bytes, list[tuple[list[uuid.UUID], str | None]]] = OrderedDict()


class PlaceOut(msgspec.Struct):
    """A compound a group's concerns name, with the buildings of it they name."""

    compound: str | None
    buildings: list[str]

    @property
    def text(self) -> str:
        """银巴小区 11、14号楼 (buildings named 11号楼 and 14号楼 share their 号楼), 甲小区 东楼、西楼."""
        numbers = [_NUMBERED.match(name) for name in self.buildings]
        if self.buildings and all(numbers):
            buildings = "、".join(n.group(1) for n in numbers if n) + "号楼"
        else:
            buildings = "、".join(self.buildings)
        return " ".join(part for part in (self.compound, buildings) if part)


@dataclass(frozen=True)
class Group:
    """Concerns of one matter, the newest first, with their label and places."""

    concerns: list[Concern]
    label: str
    places: list[PlaceOut]

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.concerns[0].tenant_id

    @property
    def count(self) -> int:
        return len(self.concerns)

    @property
    def supporters(self) -> int:
        """The residents who joined its concerns (附议), their filers not counted."""
        return sum(c.supporters for c in self.concerns)

    @property
    def where(self) -> str:
        return "；".join(place.text for place in self.places)

    @property
    def summary(self) -> str:
        """充电难: 5 条, 银巴小区 11、14号楼."""
        return f"{self.label}: {self.count} 条" + (f", {self.where}" if self.where else "")


def _key(name: str) -> tuple[int, int | str]:
    """Buildings in their numbers' order (2号楼 before 11号楼), then by name."""
    number = re.match(r"\d+", name)
    return (0, int(number.group())) if number else (1, name)


async def _names(session: AsyncSession, concerns: Sequence[Concern]) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, tuple[str, uuid.UUID]]]:
    """Compound id → name, and building id → (name, compound id), for the places `concerns` name."""
    buildings: dict[uuid.UUID, tuple[str, uuid.UUID]] = {}
    if building_ids := {c.building_id for c in concerns if c.building_id is not None}:
        rows = await session.execute(select(Building.id, Building.name, Building.compound_id)
                                     .where(Building.id.in_(building_ids)))
        buildings = {row.id: (row.name, row.compound_id) for row in rows}
    compounds: dict[uuid.UUID, str] = {}
    if compound_ids := {c.compound_id for c in concerns if c.compound_id} | {c for _, c in buildings.values()}:
        rows = await session.execute(select(Compound.id, Compound.name).where(Compound.id.in_(compound_ids)))
        compounds = {row.id: row.name for row in rows}
    return compounds, buildings


def _places(members: list[Concern], compounds: dict[uuid.UUID, str],
            buildings: dict[uuid.UUID, tuple[str, uuid.UUID]]) -> list[PlaceOut]:
    """The compounds the members name (a building names its compound), the most named first, each with the
    buildings of it they name."""
    named: Counter[uuid.UUID] = Counter()
    in_compound: dict[uuid.UUID, set[str]] = {}
    for concern in members:
        building = buildings.get(concern.building_id) if concern.building_id else None
        compound = building[1] if building else concern.compound_id
        if compound is None:
            continue
        named[compound] += 1
        in_compound.setdefault(compound, set()).update([building[0]] if building else [])
    return [PlaceOut(compounds.get(compound), sorted(in_compound[compound], key=_key))
            for compound, _ in sorted(named.items(), key=lambda item: (-item[1], compounds.get(item[0], "")))]


async def grouped(session: AsyncSession, concerns: Sequence[Concern], *, public: bool = False,
                  least: int = 2) -> list[Group]:
    """`concerns` in groups of one matter, those of at least `least` concerns; each tenant's apart, so that no
    group spans two communities. The groups are made from what residents wrote; with `public`, their labels only
    from the concerns' public summaries (core.redaction), for pages whose readers may not see residents' words."""
    compounds, buildings = await _names(session, concerns)
    by_tenant: dict[uuid.UUID, list[Concern]] = {}
    for concern in concerns:
        by_tenant.setdefault(concern.tenant_id, []).append(concern)
    groups = []
    for members in by_tenant.values():
        by_id = {c.id: c for c in members}
        for ids, label in _made(members, compounds, buildings, public, least):
            chosen = [by_id[i] for i in ids]  # the newest first
            groups.append(Group(chosen, label or public_summary(chosen[0]), _places(chosen, compounds, buildings)))
    return groups


def _made(members: Sequence[Concern], compounds: dict[uuid.UUID, str], buildings: dict[uuid.UUID, tuple[str, uuid.UUID]],
          public: bool, least: int) -> list[tuple[list[uuid.UUID], str | None]]:
    """One tenant's concerns in groups of at least `least`, each its members' ids and its label: made again only
    when something they are made from changed (a concern's words, place, category or public summary, which
    concerns they are, the threshold)."""
    def building_of(c: Concern) -> str | None:
        return buildings[c.building_id][0] if c.building_id in buildings else None

    def compound_of(c: Concern) -> str | None:
        return compounds.get(c.compound_id) if c.compound_id else None

    digest = hashlib.blake2b(repr((public, least, similarity.SHOWN)).encode(), digest_size=16)
    for c in members:
        digest.update(repr((c.id.bytes, c.title, c.description, building_of(c), compound_of(c), c.category,
                            public_summary(c) if public else None)).encode())
    key = digest.digest()
    if (kept := _made_lately.get(key)) is not None:
        _made_lately.move_to_end(key)
        return kept
    texts = {c.id: Text.of(c.title, c.description, building=building_of(c), compound=compound_of(c),
                           category=c.category) for c in members}
    named = {c.id: Text.of(public_summary(c), "") for c in members} if public else texts
    pool = list(named.values())
    newest_first = {c.id: c.created_at for c in members}
    made: list[tuple[list[uuid.UUID], str | None]] = []
    for ids in clusters.group(texts):
        if len(ids) >= least:
            ids = sorted(ids, key=newest_first.__getitem__, reverse=True)
            made.append((ids, clusters.label([named[i] for i in ids], pool)))
    _made_lately[key] = made
    if len(_made_lately) > KEPT:
        _made_lately.popitem(last=False)
    return made

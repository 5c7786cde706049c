"""Verification of residency: staff confirm (or correct) the compound and building a resident said they live in;
where the community verifies residency (its portal setting `verify_residency`), what unconfirmed residents file
is marked for staff."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.accounts import phone_reads
from core.accounts.models import Residence, RoleAssignment, User
from core.accounts.schemas import ResidentOut
from core.accounts.services import mask_phone
from core.errors import Forbidden, InvalidInput, NotFound
from core.tenancy.models import Tenant
from core.tenancy.services import place_names, resolve_place

audit_log = logging.getLogger("yishi.audit")


def verifies_residency(tenant: Tenant) -> bool:
    return (tenant.portal or {}).get("verify_residency") is True


async def residents_confirmed(session: AsyncSession, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, bool]:
    """Of these users, the residents of the session's tenant, each with whether staff confirmed where they live
    (one query, whatever their number). A user who is no resident here is left out: nothing to confirm."""
    ids = set(user_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(RoleAssignment.user_id, Residence.confirmed_at)
        .outerjoin(Residence, Residence.user_id == RoleAssignment.user_id)
        .where(RoleAssignment.role == "resident", RoleAssignment.user_id.in_(ids)))
    return {user_id: confirmed_at is not None for user_id, confirmed_at in rows}


class ResidenceService:
    """The residents of the session's tenant (a community) and their residence."""

    def __init__(self, session: AsyncSession, tenant: Tenant) -> None:
        self.session = session
        self.tenant = tenant

    async def page(self, viewer_id: uuid.UUID, show_phone: bool, limit: int, offset: int, *,
                   unconfirmed: bool = False, compound: uuid.UUID | None = None) -> tuple[list[ResidentOut], int]:
        """The residents, those who joined last first; only the unconfirmed, or those of one compound, if asked.
        Phones are masked unless `show_phone` (then the read is logged)."""
        residents = select(RoleAssignment.user_id).where(RoleAssignment.role == "resident")
        statement = (select(User, Residence).outerjoin(Residence, Residence.user_id == User.id)
                     .where(User.id.in_(residents), User.active.is_(True)))
        if unconfirmed:
            statement = statement.where(Residence.confirmed_at.is_(None))
        if compound is not None:
            statement = statement.where(Residence.compound_id == compound)
        total = await self.session.scalar(select(func.count()).select_from(statement.subquery()))
        rows = (await self.session.execute(
            statement.order_by(User.created_at.desc(), User.id).limit(limit).offset(offset))).all()
        if show_phone:
            await phone_reads.record(self.session, self.tenant.id, viewer_id, "user",
                                     [user.id for user, _ in rows if user.phone])
        names = await place_names(self.session, (r.compound_id for _, r in rows if r),
                                  (r.building_id for _, r in rows if r))
        return [_out(user, residence, names, show_phone) for user, residence in rows], int(total or 0)

    async def get(self, viewer_id: uuid.UUID, show_phone: bool, user_id: uuid.UUID) -> ResidentOut:
        user, residence = await self._resident(user_id)
        if show_phone and user.phone:
            await phone_reads.record(self.session, self.tenant.id, viewer_id, "user", [user.id])
        names = await place_names(self.session, [residence.compound_id] if residence else [],
                                  [residence.building_id] if residence else [])
        return _out(user, residence, names, show_phone)

    async def confirm(self, user_id: uuid.UUID, confirmed_by: uuid.UUID, *, correct: bool = False,
                      compound: uuid.UUID | None = None, building: uuid.UUID | None = None) -> None:
        """Confirm where the resident lives; with `correct`, at the compound and building given (which must be
        offered, as at joining) rather than where they said. Nobody confirms their own residence."""
        if user_id == confirmed_by:
            raise Forbidden("不能确认自己的住址")
        user, residence = await self._resident(user_id)
        if correct:
            compound, building = await resolve_place(self.session, compound, building)
        elif residence is not None:
            compound, building = residence.compound_id, residence.building_id
        if compound is None:
            raise InvalidInput("请先选定居民所住的小区，再确认", field="compound")
        if residence is None:
            residence = Residence(tenant_id=self.tenant.id, user_id=user.id)
            self.session.add(residence)
        residence.compound_id, residence.building_id = compound, building
        residence.confirmed_at, residence.confirmed_by = clock.now(), confirmed_by
        await self.session.flush()
        audit_log.info("residence confirmed: user=%s tenant=%s by=%s", user.id, self.tenant.slug, confirmed_by)

    async def unconfirm(self, user_id: uuid.UUID, by: uuid.UUID) -> None:
        """Take a confirmation back (staff confirmed the wrong person, or the resident moved out)."""
        _user, residence = await self._resident(user_id)
        if residence is not None and residence.confirmed_at is not None:
            residence.confirmed_at = residence.confirmed_by = None
            await self.session.flush()
            audit_log.info("residence unconfirmed: user=%s tenant=%s by=%s", user_id, self.tenant.slug, by)

    async def _resident(self, user_id: uuid.UUID) -> tuple[User, Residence | None]:
        """A resident of this community, or not found (whoever else they are: an account elsewhere is not told)."""
        row = (await self.session.execute(
            select(User, Residence).outerjoin(Residence, Residence.user_id == User.id)
            .where(User.id == user_id, User.active.is_(True),
                   User.id.in_(select(RoleAssignment.user_id).where(RoleAssignment.role == "resident"))))).first()
        if row is None:
            raise NotFound("本社区没有这位居民")
        return row[0], row[1]


def _out(user: User, residence: Residence | None, names: dict[uuid.UUID, str], show_phone: bool) -> ResidentOut:
    compound = residence.compound_id if residence else None
    building = residence.building_id if residence else None
    return ResidentOut(
        user_id=user.id, user=user.username, display_name=user.display_name,
        phone=user.phone if show_phone else mask_phone(user.phone),
        compound=compound, compound_name=names.get(compound) if compound else None,
        building=building, building_name=names.get(building) if building else None,
        confirmed=residence is not None and residence.confirmed_at is not None,
        confirmed_at=residence.confirmed_at if residence else None,
    )

"""Staff verify where their community's residents live (/t/{slug}/staff/residents): the residents with their
compound and building and whether they are confirmed (phones masked unless the role may read them), confirming,
taking a confirmation back, correcting the place, and whether the community verifies residency at all. The
rules are the services'."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect

from core.accounts.residency import ResidenceService, verifies_residency
from core.errors import DomainError, InvalidInput
from core.http import PageNumber
from core.portal.i18n import N_
from core.portal.pages import Page, PageDep, Pager, provide_page
from core.tenancy.services import CompoundService, TenantService

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
PER_PAGE = 50
LISTS = {"all": "", "unconfirmed": "/unconfirmed"}  # which residents a list shows → its path under /residents


class ResidentsPages(Controller):
    path = "/t/{slug:str}/staff/residents"
    dependencies = {"page": Provide(provide_page)}

    async def _list(self, page: Page, shown: str, pager: Pager, *, status_code: int = 200,
                    errors: dict[str, str] | None = None) -> Response:
        scope = await page.scope("member.read")
        residents, total = await ResidenceService(page.session, page.tenant).page(
            scope.user_id, scope.can("person.phone"), pager.per_page, pager.offset, unconfirmed=shown == "unconfirmed")
        return page.render("staff/residents.html", status_code=status_code, residents=residents,
                           pager=pager.of(total), shown=shown, pager_url=f"{page.base}/staff/residents{LISTS[shown]}",
                           verifies=verifies_residency(page.tenant), can_confirm=scope.can("residence.confirm"),
                           can_switch=scope.can("tenant.update"), errors=errors or {},
                           notice=page.request.query_params.get("notice"))

    @get("/")
    async def residents(self, page: PageDep, p: PageNumber = 1) -> Response:
        return await self._list(page, "all", Pager.at(p, PER_PAGE))

    @get("/unconfirmed")
    async def unconfirmed(self, page: PageDep, p: PageNumber = 1) -> Response:
        return await self._list(page, "unconfirmed", Pager.at(p, PER_PAGE))

    @post("/verification", status_code=303)
    async def switch(self, page: PageDep, data: Form) -> Response:
        """Whether the community verifies residency: then staff see which concerns come from unconfirmed residents."""
        await page.scope("tenant.update")
        portal: dict[str, Any] = {**(page.tenant.portal or {}), "verify_residency": data.get("verify_residency") == "on"}
        await TenantService(page.session).update(page.tenant, portal=portal)
        return Redirect(f"{page.base}/staff/residents?notice=verification", status_code=303)

    @get("/{user_id:str}")
    async def resident(self, page: PageDep, user_id: FromPath[str]) -> Response:
        return await self._resident(page, page.path_id(user_id))

    async def _resident(self, page: Page, user_id: uuid.UUID, *, status_code: int = 200,
                        errors: dict[str, str] | None = None, form: dict[str, str] | None = None) -> Response:
        scope = await page.scope("residence.confirm")
        resident = await ResidenceService(page.session, page.tenant).get(scope.user_id, scope.can("person.phone"),
                                                                          user_id)
        chosen = form or {"compound": str(resident.compound or ""), "building": str(resident.building or "")}
        return page.render("staff/resident.html", status_code=status_code, resident=resident,
                           compounds=await CompoundService(page.session).all(), form=chosen, errors=errors or {})

    @post("/{user_id:str}/confirm", status_code=303)
    async def confirm(self, page: PageDep, user_id: FromPath[str], data: Form) -> Response:
        """Confirm where a resident lives: as they said (from the list), or as corrected (from their page)."""
        scope = await page.scope("residence.confirm")
        resident = page.path_id(user_id)
        correct = data.get("correct") == "1"
        try:
            await ResidenceService(page.session, page.tenant).confirm(
                resident, scope.user_id, correct=correct, compound=_place_id(page, data, "compound"),
                building=_place_id(page, data, "building"))
        except DomainError as exc:
            await page.take_back(exc)
            if correct:
                return await self._resident(page, resident, status_code=exc.status, errors=page.errors(exc), form=data)
            return await self._back_with(page, data, exc, resident)
        return _back(page, data, "confirmed")

    @post("/{user_id:str}/unconfirm", status_code=303)
    async def unconfirm(self, page: PageDep, user_id: FromPath[str], data: Form) -> Response:
        scope = await page.scope("residence.confirm")
        resident = page.path_id(user_id)
        try:
            await ResidenceService(page.session, page.tenant).unconfirm(resident, scope.user_id)
        except DomainError as exc:
            await page.take_back(exc)
            return await self._back_with(page, data, exc, resident)
        return _back(page, data, "unconfirmed")

    async def _back_with(self, page: Page, data: dict[str, str], exc: DomainError, resident: uuid.UUID) -> Response:
        """The list the form was on, with the refusal next to the resident's row."""
        shown = data.get("shown") if data.get("shown") in LISTS else "all"
        return await self._list(page, shown or "all", Pager.at(_page_number(data), PER_PAGE), status_code=exc.status,
                                errors={f"resident-{resident}": page.refusal(exc)})


CHOOSE = {"compound": N_("Choose a compound from the list."), "building": N_("Choose a building from the list.")}


def _place_id(page: Page, data: dict[str, str], field: str) -> uuid.UUID | None:
    raw = data.get(field, "").strip()
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidInput(page._(CHOOSE[field]), field=field) from None


def _page_number(data: dict[str, str]) -> int:
    raw = data.get("p", "")
    return int(raw) if raw.isdecimal() and 0 < int(raw) < 10_000 else 1


def _back(page: Page, data: dict[str, str], notice: str) -> Redirect:
    shown = data.get("shown") if data.get("shown") in LISTS else "all"
    return Redirect(f"{page.base}/staff/residents{LISTS[shown or 'all']}?notice={notice}&p={_page_number(data)}",
                    status_code=303)


CONTROLLERS = [ResidentsPages]

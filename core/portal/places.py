"""Staff keep their community's places in the portal: compounds and their buildings, pasted in bulk ("1-20号楼"),
renamed and archived (or brought back), with the QR codes that open the join page. The rules are the services'."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath

from core.errors import DomainError, InvalidInput, NotFound
from core.portal.pages import Page, PageDep, provide_page
from core.tenancy.services import CompoundService, expand_buildings

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


class PlacesPages(Controller):
    path = "/t/{slug:str}/staff"
    dependencies = {"page": Provide(provide_page)}

    async def _compounds(self, page: Page, *, status_code: int = 200, errors: dict[str, str] | None = None,
                         form: dict[str, str] | None = None) -> Response:
        await page.scope("compound.read")
        return page.render("staff/compounds.html", status_code=status_code,
                           compounds=await CompoundService(page.session).all(archived=True), errors=errors or {},
                           form=form or {}, can_manage=await page.can("compound.manage"))

    @get("/compounds")
    async def compounds(self, page: PageDep) -> Response:
        return await self._compounds(page)

    @post("/compounds", status_code=200)
    async def create_compound(self, page: PageDep, data: Form) -> Response:
        await page.scope("compound.manage")
        try:
            buildings = expand_buildings(data.get("buildings", ""))
            await CompoundService(page.session).create(data.get("name", ""), data.get("has_property_company") == "on",
                                                       buildings, tenant_kind=page.tenant.kind)
        except DomainError as exc:
            await page.take_back(exc)
            return await self._compounds(page, status_code=exc.status, errors=page.errors(exc, "name"), form=data)
        return await self._compounds(page)

    @post("/compounds/{compound_id:str}/buildings", status_code=200)
    async def add_buildings(self, page: PageDep, compound_id: FromPath[str], data: Form) -> Response:
        await page.scope("compound.manage")
        compound = page.path_id(compound_id)
        try:
            service = CompoundService(page.session)
            names = expand_buildings(data.get("buildings", ""))
            if not names:
                raise InvalidInput("请填写楼栋，如 1-20号楼", field="buildings")
            for name in names:
                await service.add_building(compound, name)
        except DomainError as exc:
            await page.take_back(exc)
            return await self._compounds(page, status_code=exc.status,
                                         errors={f"buildings-{compound}": page.refusal(exc)})
        return await self._compounds(page)

    @post("/compounds/{compound_id:str}/{change:str}", status_code=200)
    async def change_compound(self, page: PageDep, compound_id: FromPath[str], change: FromPath[str],
                              data: Form) -> Response:
        """Rename (`rename`, with the new `name`), archive (`archive`) or bring back (`restore`) a compound."""
        await page.scope("compound.manage")
        compound = page.path_id(compound_id)
        try:
            name, archived = _change(page, change, data)
            await CompoundService(page.session).update(compound, name=name, archived=archived)
        except DomainError as exc:
            await page.take_back(exc)
            return await self._compounds(page, status_code=exc.status, errors={f"name-{compound}": page.refusal(exc)},
                                         form={f"name-{compound}": data.get("name", "")})
        return await self._compounds(page)

    @post("/compounds/{compound_id:str}/buildings/{building_id:str}/{change:str}", status_code=200)
    async def change_building(self, page: PageDep, compound_id: FromPath[str], building_id: FromPath[str],
                              change: FromPath[str], data: Form) -> Response:
        """Rename, archive or bring back a building, as a compound."""
        await page.scope("compound.manage")
        compound, building = page.path_id(compound_id), page.path_id(building_id)
        try:
            name, archived = _change(page, change, data)
            await CompoundService(page.session).update_building(compound, building, name=name, archived=archived)
        except DomainError as exc:
            await page.take_back(exc)
            return await self._compounds(page, status_code=exc.status, errors={f"name-{building}": page.refusal(exc)},
                                         form={f"name-{building}": data.get("name", "")})
        return await self._compounds(page)


def _change(page: Page, change: str, data: dict[str, str]) -> tuple[str | None, bool | None]:
    """The new name or archived flag a compound's or building's small form gives; another word in the path is a
    page not found."""
    if change == "rename":
        return data.get("name", ""), None
    if change in ("archive", "restore"):
        return None, change == "archive"
    raise NotFound(page._("There is no such page here."))


CONTROLLERS = [PlacesPages]

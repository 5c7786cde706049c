"""The red pavilion's portal page (/t/{slug}/pavilion): the venues, the next sessions — "每月一议事" planned
ahead with the concerns waiting for them and the month's hot topics, "有事来商量" when called — and the year's
tally of Party members' participation, for everyone with a role in the community."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.params import FromQuery

from core.errors import InvalidInput
from core.portal.pages import PageDep
from core.portal.plugin_pages import plugin_page
from core.reporting.services import report_year
from plugins.red_pavilion import NAME
from plugins.red_pavilion.services import PavilionService

UPCOMING = 10


class PavilionPortalController(Controller):
    path = "/t/{slug:str}/pavilion"
    dependencies = {"page": plugin_page(NAME)}

    @get("/")
    async def overview(self, page: PageDep, year: FromQuery[str | None] = None) -> Response:
        scope = await page.scope("pavilion.read")
        service = PavilionService(page.session, scope)
        this_year = report_year(None)
        error, chosen = None, this_year
        if year:  # the same bounds as GET /pavilion/tally
            try:
                chosen = report_year(int(year))
            except (ValueError, InvalidInput):
                error = page._("Choose a year between 2000 and this year.")
        upcoming = await service.shape((await service.sessions(upcoming_only=True))[:UPCOMING])
        tally = await service.tally(chosen)
        busiest = max(tally.by_month.values(), default=0)
        return page.render("red_pavilion/pavilion.html", status_code=422 if error else 200,
                           venues=await service.venues(), upcoming=upcoming, tally=tally,
                           busiest=busiest, year=year if error else str(chosen), this_year=this_year, error=error)

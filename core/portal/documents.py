"""The portal's printable documents: a held meeting's minutes for staff (/staff/meetings/{id}/minutes.html, .pdf)
and a published result for anyone (/results/{id}/print, /results/{id}/result.pdf), each a page to print and a PDF."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import Provide
from litestar.params import FromPath

from core.documents import minutes_record, pdf_of, printed_on, published_record
from core.errors import NotFound
from core.portal.pages import Page, PageDep, provide_page
from core.topics.services import TopicService


class MinutesDocuments(Controller):
    """A held meeting's minutes, as the staff who manage its topic print them for the file."""

    path = "/t/{slug:str}/staff/meetings/{meeting_id:str}"
    dependencies = {"page": Provide(provide_page)}

    async def _context(self, page: Page, meeting_id: str) -> dict:
        scope = await page.scope("topic.manage")
        record = await minutes_record(TopicService(page.session, scope), page.path_id(meeting_id))
        return {"record": record, "printed_on": printed_on()}

    @get("/minutes.html")
    async def minutes_page(self, page: PageDep, meeting_id: FromPath[str]) -> Response:
        return page.render("documents/minutes.html", **await self._context(page, meeting_id))

    @get("/minutes.pdf", media_type="application/pdf")
    async def minutes_pdf(self, page: PageDep, meeting_id: FromPath[str]) -> Response[bytes]:
        return await pdf_of(page.request, "documents/minutes.html", f"minutes-{meeting_id}.pdf", tenant=page.tenant,
                            **await self._context(page, meeting_id))


class ResultDocuments(Controller):
    """A published result with the meeting that decided it, for the notice board (协商结果公示)."""

    path = "/t/{slug:str}/results/{topic_id:str}"
    dependencies = {"page": Provide(provide_page)}

    async def _context(self, page: Page, topic_id: str) -> dict:
        tid = page.path_id(topic_id, page._("There is no published result here."))
        try:
            result, record = await published_record(page.session, page.request.app.state.plugins.mechanism_names(),
                                                    tid)
        except NotFound:
            raise NotFound(page._("There is no published result here.")) from None
        return {"result": result, "record": record, "printed_on": printed_on()}

    @get("/print")
    async def result_page(self, page: PageDep, topic_id: FromPath[str]) -> Response:
        return page.render("documents/result.html", **await self._context(page, topic_id))

    @get("/result.pdf", media_type="application/pdf")
    async def result_pdf(self, page: PageDep, topic_id: FromPath[str]) -> Response[bytes]:
        return await pdf_of(page.request, "documents/result.html", f"result-{topic_id}.pdf", tenant=page.tenant,
                            **await self._context(page, topic_id))


CONTROLLERS: list[type[Controller]] = [MinutesDocuments, ResultDocuments]

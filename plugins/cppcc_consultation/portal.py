"""The CPPCC consultation's portal pages (/t/{slug}/cppcc): the plan's research topics — the signed-in
member's own first, with their problem lists (individual problems referred to departments, common problems
by aspect) — each topic's whole record, and its outcome report (Markdown as text, or Word)."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, get
from litestar.params import FromPath

from core.portal.pages import PageDep
from core.portal.plugin_pages import plugin_page
from plugins.cppcc_consultation import NAME
from plugins.cppcc_consultation.report_pdf import report_pdf
from plugins.cppcc_consultation.services import CppccService, report_docx, report_markdown

MAX_DETAILED = 20  # the member's own topics shown with their problem lists on the overview


class CppccPortalController(Controller):
    path = "/t/{slug:str}/cppcc"
    dependencies = {"page": plugin_page(NAME)}

    @get("/")
    async def overview(self, page: PageDep) -> Response:
        scope = await page.scope("cppcc.read")
        service = CppccService(page.session, scope)
        plans = await service.plans()
        assert page.user is not None  # page.scope() signed them in
        own = [topic["id"] for plan in plans for topic in plan.topics if page.user.username in topic["members"]]
        mine = [await service.detail(uuid.UUID(topic_id)) for topic_id in own[:MAX_DETAILED]]
        mine_ids = {str(t.id) for t in mine}
        return page.render("cppcc_consultation/overview.html", plans=plans, mine=mine, mine_ids=mine_ids,
                           can_research=scope.can("cppcc.research"))

    @get("/topics/{topic_id:uuid}")
    async def topic(self, page: PageDep, topic_id: FromPath[uuid.UUID]) -> Response:
        scope = await page.scope("cppcc.read")
        return page.render("cppcc_consultation/topic.html",
                           topic=await CppccService(page.session, scope).detail(topic_id))

    @get("/topics/{topic_id:uuid}/report.md", media_type="text/plain")
    async def report_text(self, page: PageDep, topic_id: FromPath[uuid.UUID]) -> Response[str]:
        scope = await page.scope("cppcc.read")
        detail = await CppccService(page.session, scope).detail(topic_id)
        return Response(report_markdown(scope.tenant.name, detail), media_type="text/plain; charset=utf-8")

    @get("/topics/{topic_id:uuid}/report.docx",
         media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    async def report_word(self, page: PageDep, topic_id: FromPath[uuid.UUID]) -> Response[bytes]:
        scope = await page.scope("cppcc.read")
        detail = await CppccService(page.session, scope).detail(topic_id)
        return Response(report_docx(report_markdown(scope.tenant.name, detail)),
                        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                        headers={"Content-Disposition": f'attachment; filename="report-{topic_id}.docx"'})

    @get("/topics/{topic_id:uuid}/report.pdf", media_type="application/pdf")
    async def report_print(self, page: PageDep, topic_id: FromPath[uuid.UUID]) -> Response[bytes]:
        scope = await page.scope("cppcc.read")
        detail = await CppccService(page.session, scope).detail(topic_id)
        return await report_pdf(page.request, scope.tenant.name, detail)

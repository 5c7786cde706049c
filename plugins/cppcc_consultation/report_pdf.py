"""The CPPCC outcome report (协商成果报告) as an A4 PDF, from the same record as its Markdown and Word forms."""

from __future__ import annotations

from litestar import Request, Response

from core.documents import pdf_of, printed_on
from plugins.cppcc_consultation.services import TopicOut

TEMPLATE = "cppcc_consultation/report_document.html"


async def report_pdf(request: Request, tenant_name: str, topic: TopicOut) -> Response[bytes]:
    """The report of `topic`, laid out by its template in the documents' print stylesheet."""
    return await pdf_of(request, TEMPLATE, f"report-{topic.id}.pdf", tenant_name=tenant_name, topic=topic,
                        problems={p.id: p for p in topic.problems},
                        individual=[p for p in topic.problems if p.kind == "individual"], printed_on=printed_on())

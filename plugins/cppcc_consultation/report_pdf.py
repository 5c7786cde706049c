"""The CPPCC outcome report (协商成果报告) as an A4 PDF, from the same record as its Markdown and Word forms."""

from __future__ import annotations

from litestar import Request, Response

from core import clock
from core.documents import document_html, html_to_pdf, pdf_response
from plugins.cppcc_consultation.services import TopicOut

TEMPLATE = "cppcc_consultation/report_document.html"


async def report_pdf(request: Request, tenant_name: str, topic: TopicOut) -> Response[bytes]:
    """The report of `topic`, laid out by its template in the documents' print stylesheet."""
    today = clock.today()
    html = document_html(request, TEMPLATE, for_pdf=True, tenant_name=tenant_name, topic=topic,
                         problems={p.id: p for p in topic.problems},
                         individual=[p for p in topic.problems if p.kind == "individual"],
                         printed_on=f"{today.year}年{today.month}月{today.day}日")
    return pdf_response(await html_to_pdf(html), f"report-{topic.id}.pdf")

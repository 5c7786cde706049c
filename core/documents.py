"""Documents people print — a meeting's minutes (纪要), a published result (协商结果公示), a plugin's report — made
from one HTML page, which the browser prints as it is and WeasyPrint turns into an A4 PDF in a Chinese face."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
from litestar import Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.authz.rules import ROLES
from core.errors import NotFound
from core.publishing.schemas import PublicResult
from core.publishing.services import published_results
from core.redaction import redact
from core.topics import schemas as s
from core.topics.models import Decision, Meeting
from core.topics.services import TopicService

PDF = "application/pdf"
# The print stylesheet: @page A4 and its margins, and the font stack (仿宋, 宋体, then whatever CJK face is
# installed: AR PL UMing, WenQuanYi Micro Hei; fontconfig finds the rest). The browser reads it by its URL.
STYLESHEET = Path(__file__).parent / "portal" / "static" / "documents.css"


@dataclass(frozen=True)
class GroupOpinions:
    """What one stakeholder group (居民代表, 物业公司…) said at a meeting, in the order it was recorded."""

    group: str
    opinions: list[str]


@dataclass(frozen=True)
class Tally:
    """How a decision was reached: 协商一致, or a vote with each option's count (表决)."""

    method: str
    votes: list[tuple[str, int]]
    total: int
    eligible: int | None


@dataclass(frozen=True)
class MeetingRecord:
    """A held meeting as its documents print it: when and where, who came, what each group said, and the
    decision it reached (if it reached one). `minutes` is the staff's full text, never on a public document."""

    topic_title: str
    mechanism_name: str
    venue: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime | None
    agenda: str | None
    minutes: str | None
    attendance: list[tuple[str, int]]
    opinions: list[GroupOpinions]
    decision: str | None
    tally: Tally | None


def group_name(code: str) -> str:
    """A group as a document names it: a role's Chinese name (resident_rep → 居民代表), or what staff typed."""
    return ROLES.get(code, code)


def opinions_by_group(opinions: list[dict[str, str]], clean: Any = str) -> list[GroupOpinions]:
    """The opinions grouped by their stakeholder group, groups in the order they first spoke."""
    grouped: dict[str, list[str]] = {}
    for opinion in opinions:
        grouped.setdefault(clean(group_name(opinion.get("group", ""))), []).append(clean(opinion.get("text", "")))
    return [GroupOpinions(group, texts) for group, texts in grouped.items()]


def tally_of(method: str, votes: dict[str, int], eligible: int | None, clean: Any = str) -> Tally:
    return Tally(method=method, votes=[(clean(option), count) for option, count in votes.items()],
                 total=sum(votes.values()), eligible=eligible)


async def minutes_record(service: TopicService, meeting_id: uuid.UUID) -> MeetingRecord:
    """A held meeting's minutes, for the staff who keep its file (the tenant's scope read them)."""
    meeting = await service.meeting(meeting_id)
    detail = await service.detail(meeting.topic_id)
    shown: s.MeetingOut = next(m for m in detail.meetings if m.id == meeting.id)
    if not shown.held:
        raise NotFound("这次协商会还没有记录纪要")
    decision = detail.decision if detail.decision and detail.decision.meeting == meeting.id else None
    return MeetingRecord(
        topic_title=detail.topic.title, mechanism_name=shown.mechanism_name, venue=shown.venue,
        starts_at=shown.starts_at, ends_at=shown.ends_at, agenda=shown.agenda, minutes=shown.minutes,
        attendance=[(group_name(g), n) for g, n in shown.attendance.items()],
        opinions=opinions_by_group(shown.opinions),
        decision=decision.text if decision else None,
        tally=tally_of(decision.method, decision.votes, decision.eligible_voters) if decision else None)


async def published_record(session: AsyncSession, mechanisms: dict[str, str],
                           topic_id: uuid.UUID) -> tuple[PublicResult, MeetingRecord | None]:
    """A published result and the meeting that decided it, as the public reads them: every text staff wrote
    passes through the public redaction (they may quote a resident), and the minutes' own text stays out."""
    found, _ = await published_results(session, 1, 0, topic_id=topic_id)
    if not found:
        raise NotFound("这里没有已公开的协商结果")
    result = found[0]
    decision = await session.scalar(select(Decision).where(Decision.topic_id == topic_id))
    meeting = await session.scalar(select(Meeting).where(Meeting.id == decision.meeting_id)) if decision else None
    if decision is None or meeting is None:
        return result, None
    return result, MeetingRecord(
        topic_title=result.title, mechanism_name=mechanisms.get(meeting.mechanism, meeting.mechanism),
        venue=redact(meeting.venue), starts_at=meeting.starts_at, ends_at=meeting.ends_at,
        agenda=redact(meeting.agenda) if meeting.agenda else None, minutes=None,
        attendance=[(redact(group_name(g)), n) for g, n in meeting.attendance.items()],
        opinions=opinions_by_group(meeting.opinions, redact), decision=result.decision,
        tally=tally_of(decision.method, decision.votes, decision.eligible_voters, redact))


def document_html(request: Request, template: str, *, for_pdf: bool = False, **context: Any) -> str:
    """A document's page, rendered by the app's templates; for a PDF without the stylesheet's link (WeasyPrint
    is handed the stylesheet itself, and fetches nothing)."""
    engine = request.app.template_engine
    assert engine is not None  # the portal's templates are always configured
    return engine.get_template(template).render(for_pdf=for_pdf, **context)


def _write_pdf(html: str) -> bytes:
    # Late: pango and its fonts load where a document is printed, not with every process that imports the app.
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    nothing = URLFetcher(allowed_protocols=())  # a document never fetches: no URL a text named is ever opened
    return HTML(string=html, url_fetcher=nothing).write_pdf(stylesheets=[CSS(filename=str(STYLESHEET))])


async def html_to_pdf(html: str) -> bytes:
    """The page as an A4 PDF, laid out in a worker thread (a long report takes a while)."""
    return await anyio.to_thread.run_sync(_write_pdf, html)


def pdf_response(body: bytes, filename: str) -> Response[bytes]:
    """A PDF the browser shows (and prints, or saves under `filename`)."""
    return Response(body, media_type=PDF, headers={"Content-Disposition": f'inline; filename="{filename}"'})


async def pdf_of(request: Request, template: str, filename: str, **context: Any) -> Response[bytes]:
    """The document `template` renders from `context`, as a PDF answer named `filename`."""
    return pdf_response(await html_to_pdf(document_html(request, template, for_pdf=True, **context)), filename)


def printed_on() -> str:
    """Today, as a document's foot says when it was printed: 2026年12月2日."""
    today = clock.today()
    return f"{today.year}年{today.month}月{today.day}日"

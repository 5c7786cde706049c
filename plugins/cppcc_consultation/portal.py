"""The CPPCC consultation's portal pages (/t/{slug}/cppcc), where a research consultation is done whole: the
CPPCC office makes the annual plan and its topics with their research groups; the group records its trainings,
visits, symposia, problem list and recommendations on the topic's page, which shows which steps the guard
"不学习就不调研、不调研就不协商" still locks; the office follows up adoption; a department answers the problems
referred to it on its own page; and the outcome report reads as a page (or downloads as Markdown or Word).

The rules are the service's: these handlers turn forms into its inputs and its refusals into the form again,
with what was typed and each bad field's message beside it."""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath
from litestar.response import Redirect

from core import clock
from core.errors import DomainError
from core.portal.i18n import N_
from core.portal.pages import Page, PageDep
from core.portal.plugin_pages import plugin_page
from plugins.cppcc_consultation import NAME
from plugins.cppcc_consultation.models import PROBLEM_KINDS, STAKEHOLDER_GROUPS
from plugins.cppcc_consultation.report_pdf import report_pdf
from plugins.cppcc_consultation.services import (
    GUARD,
    AnswerIn,
    CppccService,
    FollowUpIn,
    PlanIn,
    ProblemIn,
    RecommendationIn,
    Statement,
    SymposiumIn,
    TopicIn,
    TrainingIn,
    VisitIn,
    report_docx,
    report_markdown,
)

MAX_DETAILED = 20  # the member's own topics shown with their problem lists on the overview
# What a page says after a change went through (?done=…).
DONE = {"plan": N_("The annual plan was created."), "topic": N_("The topic and its research group were added."),
        "training": N_("The training was recorded."), "visit": N_("The site visit was recorded."),
        "symposium": N_("The symposium was recorded."), "problem": N_("The problem was added to the list."),
        "referred": N_("The problem was added to the list and referred to the department."),
        "recommendation": N_("The recommendation was recorded."),
        "follow_up": N_("The follow-up was recorded."), "answer": N_("Your answer was recorded.")}
SPLIT = re.compile(r"[\n,，、;；]+")  # compounds typed one per line or in a row


class Refusals:
    """What the portal itself refuses before the service sees the form (a date or number mistyped), in the
    reader's language and by field; the service's own refusals join them."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: dict[str, str] = {}

    def date(self, data: FormMultiDict, field: str = "date") -> datetime.date:
        raw = (data.get(field) or "").strip()
        try:
            return datetime.date.fromisoformat(raw)
        except ValueError:
            self.errors[field] = self.page._("Date: enter a date such as 2024-05-10.") if raw else \
                self.page._("Date: please enter the date.")
            return clock.today()  # a stand-in, so that the service still checks the other fields

    def number(self, data: FormMultiDict, field: str) -> int:
        raw = (data.get(field) or "").strip()
        if raw.isdigit() and len(raw) < 6:
            return int(raw)
        self.errors[field] = self.page._("Participants: enter a whole number such as 12.")
        return 1


def _form(data: FormMultiDict) -> dict[str, Any]:
    """What was typed, to show again: single fields as text, ticked boxes as lists."""
    shown: dict[str, Any] = {key: data.get(key) for key in data}
    for key in ("members", "attendees", "problem_ids"):
        shown[key] = data.getall(key) if key in data else []
    return shown


def _statements(raw: str) -> list[Statement]:
    """One statement a line, "who：what they said"; a line without the colon has no speaker, for the service to
    refuse by name."""
    found = []
    for line in raw.splitlines():
        who, sep, text = line.replace(":", "：").partition("：")
        if line.strip():
            found.append(Statement(who=who.strip()[:100], text=text.strip()) if sep else Statement(who="", text=line))
    return found


async def _attempt(page: Page, refusals: Refusals,
                   change: Callable[[], Awaitable[Any]]) -> tuple[dict[str, str], int] | None:
    """Make the change; on any refusal undo it, and answer every bad field's message (the portal's, then the
    service's) with the status to answer (422, or 409 for a step the guard still locks), or None when it went
    through."""
    try:
        await change()
    except DomainError as exc:
        await page.take_back(exc)  # a 403 or 404 is re-raised, to become its page
        if exc.status == 409 and refusals.errors:  # decided on a stand-in value: the mistyped field comes first
            return refusals.errors, 422
        return {**page.errors(exc), **refusals.errors}, 422 if refusals.errors else exc.status
    if refusals.errors:
        await page.rollback()
        return refusals.errors, 422
    return None


class CppccPortalController(Controller):
    path = "/t/{slug:str}/cppcc"
    dependencies = {"page": plugin_page(NAME)}

    # --- the annual plan and its topics (the CPPCC office) ------------------------------------------------------

    async def _overview(self, page: Page, *, status_code: int = 200, failed: str | None = None,
                        errors: dict[str, str] | None = None, form: dict[str, Any] | None = None) -> Response:
        scope = await page.scope("cppcc.read")
        service = CppccService(page.session, scope)
        plans = await service.plans()
        assert page.user is not None  # page.scope() signed them in
        own = [topic["id"] for plan in plans for topic in plan.topics if page.user.username in topic["members"]]
        mine = [await service.detail(uuid.UUID(topic_id)) for topic_id in own[:MAX_DETAILED]]
        can_manage, can_answer = scope.can("cppcc.manage"), scope.can("cppcc.answer")
        referred = await service.referred_to_me() if can_answer else []
        done = page.request.query_params.get("done")
        return page.render(
            "cppcc_consultation/overview.html", status_code=status_code, plans=plans, mine=mine,
            mine_ids={str(t.id) for t in mine}, can_research=scope.can("cppcc.research"), can_manage=can_manage,
            can_answer=can_answer, awaiting=sum(1 for p, _t in referred if p.answer is None), referred=len(referred),
            members=await service.member_choices() if can_manage else [], this_year=clock.today().year,
            failed=failed, errors=errors or {}, form=form or {},
            notice=page._(DONE[done]) if done in DONE else None)

    @get("/")
    async def overview(self, page: PageDep) -> Response:
        return await self._overview(page)

    @post("/plans", status_code=303)
    async def create_plan(self, page: PageDep) -> Response:
        scope = await page.scope("cppcc.manage")
        data = await page.request.form()
        refusals = Refusals(page)
        raw_year = (data.get("year") or "").strip()
        year = int(raw_year) if raw_year.isdigit() and len(raw_year) == 4 else 0
        if not year:
            refusals.errors["year"] = page._("Year: enter a year such as 2024.")
        refused = await _attempt(page, refusals, lambda: CppccService(page.session, scope).create_plan(
            PlanIn(year=year or clock.today().year, title=data.get("title") or "")))
        if refused is not None:
            return await self._overview(page, status_code=refused[1], failed="plan", errors=refused[0],
                                        form=_form(data))
        return Redirect(f"{page.base}/cppcc?done=plan", status_code=303)

    @post("/plans/{plan_id:uuid}/topics", status_code=303)
    async def add_topic(self, page: PageDep, plan_id: FromPath[uuid.UUID]) -> Response:
        scope = await page.scope("cppcc.manage")
        data = await page.request.form()
        created: list[uuid.UUID] = []

        async def change() -> None:
            topic = await CppccService(page.session, scope).add_topic(
                plan_id, TopicIn(title=data.get("title") or "", members=data.getall("members") if "members" in data else []))
            created.append(topic.id)

        refused = await _attempt(page, Refusals(page), change)
        if refused is not None:
            return await self._overview(page, status_code=refused[1], failed=f"topic-{plan_id}", errors=refused[0],
                                        form=_form(data))
        return Redirect(f"{page.base}/cppcc/topics/{created[0]}?done=topic", status_code=303)

    # --- one topic, step by step (the research group) -----------------------------------------------------------

    async def _topic(self, page: Page, topic_id: uuid.UUID, *, status_code: int = 200, failed: str | None = None,
                     errors: dict[str, str] | None = None, form: dict[str, Any] | None = None) -> Response:
        scope = await page.scope("cppcc.read")
        service = CppccService(page.session, scope)
        topic = await service.detail(topic_id)
        assert page.user is not None
        in_group = page.user.username in topic.members
        can_research = scope.can("cppcc.research") and (in_group or scope.can("cppcc.manage"))
        done = page.request.query_params.get("done")
        return page.render(
            "cppcc_consultation/topic.html", status_code=status_code, topic=topic,
            guard=await service.guard(topic_id), guard_text=GUARD, can_research=can_research,
            can_manage=scope.can("cppcc.manage"),
            communities=await service.community_choices() if can_research else [],
            departments=await service.department_choices() if can_research else [],
            groups=STAKEHOLDER_GROUPS, kinds=PROBLEM_KINDS, today=clock.today().isoformat(),
            failed=failed, errors=errors or {}, form=form or {},
            notice=page._(DONE[done]) if done in DONE else None)

    @get("/topics/{topic_id:uuid}")
    async def topic(self, page: PageDep, topic_id: FromPath[uuid.UUID]) -> Response:
        return await self._topic(page, topic_id)

    async def _record(self, page: Page, topic_id: uuid.UUID, step: str,
                      build: Callable[[FormMultiDict, Refusals], Callable[[CppccService], Awaitable[Any]]],
                      done: str | None = None) -> Response:
        """One step's form on the topic page: made into the service's input, recorded, or shown again."""
        scope = await page.scope("cppcc.research")
        data = await page.request.form()
        refusals = Refusals(page)
        change = build(data, refusals)
        refused = await _attempt(page, refusals, lambda: change(CppccService(page.session, scope)))
        if refused is not None:
            return await self._topic(page, topic_id, status_code=refused[1], failed=step, errors=refused[0],
                                     form=_form(data))
        return Redirect(f"{page.base}/cppcc/topics/{topic_id}?done={done or step}#{step}", status_code=303)

    @post("/topics/{topic_id:uuid}/trainings", status_code=303)
    async def add_training(self, page: PageDep, topic_id: FromPath[uuid.UUID]) -> Response:
        def build(data: FormMultiDict, r: Refusals) -> Callable[[CppccService], Awaitable[Any]]:
            training = TrainingIn(date=r.date(data), title=data.get("title") or "",
                                  attendees=[a[:100] for a in data.getall("attendees")] if "attendees" in data else [])
            return lambda service: service.add_training(topic_id, training)

        return await self._record(page, topic_id, "training", build)

    @post("/topics/{topic_id:uuid}/visits", status_code=303)
    async def add_visit(self, page: PageDep, topic_id: FromPath[uuid.UUID]) -> Response:
        def build(data: FormMultiDict, r: Refusals) -> Callable[[CppccService], Awaitable[Any]]:
            visit = VisitIn(community=(data.get("community") or "")[:63], date=r.date(data),
                            compounds=[c.strip()[:100] for c in SPLIT.split(data.get("compounds") or "") if c.strip()],
                            findings=data.get("findings") or "")
            return lambda service: service.add_visit(topic_id, visit)

        return await self._record(page, topic_id, "visit", build)

    @post("/topics/{topic_id:uuid}/symposia", status_code=303)
    async def add_symposium(self, page: PageDep, topic_id: FromPath[uuid.UUID]) -> Response:
        def build(data: FormMultiDict, r: Refusals) -> Callable[[CppccService], Awaitable[Any]]:
            symposium = SymposiumIn(group=(data.get("group") or "")[:30], date=r.date(data),
                                    participants=r.number(data, "participants"),
                                    statements=_statements(data.get("statements") or ""))
            return lambda service: service.add_symposium(topic_id, symposium)

        return await self._record(page, topic_id, "symposium", build)

    @post("/topics/{topic_id:uuid}/problems", status_code=303)
    async def add_problem(self, page: PageDep, topic_id: FromPath[uuid.UUID]) -> Response:
        data = await page.request.form()
        kind = (data.get("kind") or "")[:12]

        def build(data: FormMultiDict, r: Refusals) -> Callable[[CppccService], Awaitable[Any]]:
            problem = ProblemIn(text=data.get("text") or "", kind=kind, aspect=(data.get("aspect") or "")[:100] or None,
                                department=(data.get("department") or "")[:64] or None)
            return lambda service: service.add_problem(topic_id, problem)

        return await self._record(page, topic_id, "problem", build, "referred" if kind == "individual" else None)

    @post("/topics/{topic_id:uuid}/recommendations", status_code=303)
    async def add_recommendation(self, page: PageDep, topic_id: FromPath[uuid.UUID]) -> Response:
        def build(data: FormMultiDict, r: Refusals) -> Callable[[CppccService], Awaitable[Any]]:
            ids = []
            for raw in data.getall("problem_ids") if "problem_ids" in data else []:
                try:
                    ids.append(uuid.UUID(raw))
                except ValueError:
                    r.errors["problem_ids"] = page._("Problems: tick the problems of this topic it answers.")
            recommendation = RecommendationIn(text=data.get("text") or "", problem_ids=ids)
            return lambda service: service.add_recommendation(topic_id, recommendation)

        return await self._record(page, topic_id, "recommendation", build)

    @post("/topics/{topic_id:uuid}/recommendations/{recommendation_id:uuid}/follow-up", status_code=303)
    async def follow_up(self, page: PageDep, topic_id: FromPath[uuid.UUID],
                        recommendation_id: FromPath[uuid.UUID]) -> Response:
        scope = await page.scope("cppcc.manage")
        await CppccService(page.session, scope).topic(topic_id)  # another tenant's topic is not found here
        data = await page.request.form()
        refusals = Refusals(page)
        adopted = data.get("adopted")
        if adopted not in ("yes", "no"):
            refusals.errors["adopted"] = page._("Adopted: choose adopted or not adopted.")
        refused = await _attempt(page, refusals, lambda: CppccService(page.session, scope).follow_up(
            recommendation_id, FollowUpIn(adopted=adopted == "yes", note=data.get("note") or "")))
        if refused is not None:
            return await self._topic(page, topic_id, status_code=refused[1], failed=f"follow-up-{recommendation_id}",
                                     errors=refused[0], form=_form(data))
        return Redirect(f"{page.base}/cppcc/topics/{topic_id}?done=follow_up#recommendation-{recommendation_id}",
                        status_code=303)

    # --- the outcome report ------------------------------------------------------------------------------------

    @get("/topics/{topic_id:uuid}/report")
    async def report(self, page: PageDep, topic_id: FromPath[uuid.UUID]) -> Response:
        scope = await page.scope("cppcc.read")
        return page.render("cppcc_consultation/report.html",
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

    # --- the department's own page: the problems referred to it, and its answers --------------------------------

    async def _referred(self, page: Page, *, status_code: int = 200, failed: uuid.UUID | None = None,
                        errors: dict[str, str] | None = None, form: dict[str, Any] | None = None) -> Response:
        scope = await page.scope("cppcc.answer")
        service = CppccService(page.session, scope)
        rows = await service.referred_to_me()
        history = {p.id: await service.answers(p.id) for p, _title in rows if p.answer is not None}
        done = page.request.query_params.get("done")
        return page.render("cppcc_consultation/referred.html", status_code=status_code, rows=rows, history=history,
                           failed=failed, errors=errors or {}, form=form or {},
                           notice=page._(DONE[done]) if done in DONE else None)

    @get("/referred")
    async def referred(self, page: PageDep) -> Response:
        return await self._referred(page)

    @post("/problems/{problem_id:uuid}/answer", status_code=303)
    async def answer(self, page: PageDep, problem_id: FromPath[uuid.UUID]) -> Response:
        scope = await page.scope("cppcc.answer")
        data = await page.request.form()
        refused = await _attempt(page, Refusals(page), lambda: CppccService(page.session, scope).answer(
            problem_id, AnswerIn(answer=data.get("answer") or "")))
        if refused is not None:
            return await self._referred(page, status_code=refused[1], failed=problem_id, errors=refused[0],
                                        form=_form(data))
        return Redirect(f"{page.base}/cppcc/referred?done=answer#problem-{problem_id}", status_code=303)

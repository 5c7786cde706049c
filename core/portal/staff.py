"""Pages of community staff (triage inbox, topics board, a topic's six steps and follow-ups) and of the property companies and
departments that carry out action items (/actions). Every rule lives in the services; these pages only read
forms, call the services with the same actions as the API, and show refusals next to their fields."""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select

from core import clock
from core.authz.rules import ROLES, TENANT_ROLES
from core.concerns.corrections import CorrectionService
from core.concerns.models import STATE_NAMES as CONCERN_STATE_NAMES
from core.concerns.schemas import ConcernFix
from core.concerns.services import ConcernFilters, ConcernService
from core.db import end_read
from core.errors import DomainError, InvalidInput, NotFound
from core.http import PageNumber
from core.media import CleanImage, clean_upload
from core.portal import when
from core.portal.i18n import N_
from core.portal.pages import Page, PageDep, Pager, provide_page
from core.related.groups import Group
from core.related.merging import MergeService, likely_duplicates, may_undo
from core.related.suggestions import suggestions, waiting_among
from core.tenancy.services import CompoundService
from core.timelimits.adjustments import PAUSE_REASONS, ClockService
from core.topics import schemas as s
from core.topics.machine import COMMANDS, STATE_NAMES, STEP_NAMES, STEPS
from core.topics.models import Topic
from core.topics.photos import add_workflow_photo, workflow_photo
from core.topics.services import FOLLOW_UP_REASONS, TopicService

MAX_PHOTOS_PER_FORM = 3
LIST_LIMIT = 200
INBOX_PER_PAGE = 30
ACTIONS_PER_PAGE = 30
# The board's columns: (states shown together, heading msgid).
COLUMNS = (
    (("drafted",), N_("Drafted")),
    (("researching",), N_("Researching")),
    (("scheduled",), N_("Meeting scheduled")),
    (("deliberated",), N_("Decided")),
    (("published", "executing"), N_("Published / executing")),
    (("completed",), N_("Completed")),
)
OPEN_STATES = tuple(state for states, _heading in COLUMNS if states != ("completed",) for state in states)
OPEN_SHOWN = 1000  # open topics on the board: every one in a community (dozens); a bound for a busy district
CLOSED_SHOWN = 30  # completed and withdrawn topics on the board: the latest; the rest are on the results page
DEFAULT_INVITEES = ("party_member", "resident_rep", "property_company")
CLOCK_NOTICES = {"pause": N_("The clock is paused: no reminder until it is resumed."),
                 "resume": N_("The clock runs again; the deadlines still ahead moved on by the time paused."),
                 "extension": N_("The extension was asked of the level above; you will be told of its decision.")}
MERGE_NOTICES = {"merged": N_("Merged: the duplicates' reporters and supporters now follow this concern, and were told."),
                 "unmerged": N_("The merge was undone: the concern is back in its state, with its clock.")}
CORRECTION_NOTICES = {"corrected": N_("Corrected: the resident was told of the new category or place.")}
LINE_SPLIT = re.compile(r"\s*[:：]\s*")


EVENT_LABELS = {
    "topic.draft": N_("Topic drafted"), "topic.research": N_("Research recorded"),
    "topic.schedule": N_("Meeting scheduled"), "topic.minutes": N_("Minutes recorded"),
    "topic.decide": N_("Decision recorded"), "topic.publish": N_("Result published"),
    "topic.add_action": N_("Action item added"), "topic.progress": N_("Progress reported"),
    "topic.complete_action": N_("Action item completed"), "topic.withdraw": N_("Topic withdrawn"),
    "topic.rate": N_("Residents rated the outcome"), "concern.topic": N_("Concern joined the topic"),
    "concern.released": N_("Concern released"), "topic.reschedule": N_("Meeting rescheduled"),
    "topic.cancel_meeting": N_("Meeting cancelled"), "concern.completed": N_("Concern completed"),
    "follow_up.open": N_("Follow-up opened"), "follow_up.close": N_("Follow-up closed"),
    "topic.reassign_action": N_("Action item reassigned"), "topic.cancel_action": N_("Action item cancelled"),
}
# A concern's timeline (the staff concern page); an action not named here is shown by its code.
CONCERN_EVENT_LABELS = {
    "concern.filed": N_("Concern filed"), "concern.accept": N_("Accepted"), "concern.reject": N_("Not accepted"),
    "concern.resolve_directly": N_("Resolved directly"), "concern.escalate": N_("Escalated to the level above"),
    "concern.returned": N_("Sent back by the level above"), "concern.taken_over": N_("Taken over by the level above"),
    "concern.public_summary": N_("Public summary changed"), "concern.topic": N_("Concern joined the topic"),
    "concern.released": N_("Concern released"), "concern.completed": N_("Concern completed"),
    "concern.merged": N_("Merged into another concern"), "concern.unmerged": N_("Merge undone"),
    "concern.supported": N_("A resident joined it"), "concern.support_withdrawn": N_("A resident left it"),
    "concern.paused": N_("Clock paused"), "concern.resumed": N_("Clock resumed"),
    "concern.deadline_warning": N_("Due soon: reminder sent"), "concern.supervised": N_("Overdue: supervision notice"),
    "concern.auto_escalated": N_("Overdue: escalated automatically"),
    "concern.extension_requested": N_("Extension asked"), "concern.extension_approved": N_("Extension approved"),
    "concern.extension_refused": N_("Extension refused"), "concern.revisit_asked": N_("Revisit asked"),
    "concern.revisited": N_("Revisit answered"), "concern.reopened": N_("Reopened"),
    "concern.edited": N_("Edited by its filer"), "concern.withdrawn": N_("Withdrawn by its filer"),
    "concern.corrected": N_("Category or place corrected"),
}


async def _attach(request: Request, page: Page, scope: Any, images: list[CleanImage], kind: str, owner: uuid.UUID,
                  topic_or_action: uuid.UUID) -> None:
    """The form's photos, onto what the step made; a refused photo is said next to the photo field."""
    for image in images:
        try:
            await add_workflow_photo(request, page.session, scope, kind, owner, topic_or_action, image)
        except DomainError as exc:
            exc.field = "photos"
            raise


async def _photos(page: Page, form: Any) -> list[CleanImage]:
    """The form's photos, checked and stripped before the step writes anything (see `end_read`)."""
    photos = [f for f in form.getall("photos", []) if isinstance(f, UploadFile) and f.filename]
    if len(photos) > MAX_PHOTOS_PER_FORM:
        raise InvalidInput(page._("Attach at most 3 photos."), field="photos")
    if photos:
        await end_read(page.session)
    return [await clean_upload(await photo.read(), field="photos") for photo in photos]


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _day(page: Page, v: dict[str, Any], field: str, label: str) -> datetime.date:
    """A required date typed into a step's form (`_when.html`), or a refusal naming `label`."""
    day = when.read(page._, v.get(field, ""), "date", field=field, label=page._(label), required=True)
    assert isinstance(day, datetime.date)  # required: never None
    return day


def _moment(page: Page, v: dict[str, Any], field: str, label: str) -> datetime.datetime:
    """A required date and time typed into a step's form, on Beijing time, or a refusal naming `label`."""
    moment = when.read(page._, v.get(field, ""), "datetime", field=field, label=page._(label), required=True)
    assert isinstance(moment, datetime.datetime)  # required: never None
    return moment


def _int(page: Page, raw: str, field: str, required: bool = True) -> int | None:
    raw = (raw or "").strip()
    if not raw and not required:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(page._("Enter a whole number."), field=field) from None


def _lines(page: Page, raw: str, field: str) -> list[tuple[str, str]]:
    """Lines of "name: value" (a Chinese colon is fine too); blank lines are skipped."""
    found = []
    for line in (raw or "").splitlines():
        if not line.strip():
            continue
        parts = LINE_SPLIT.split(line.strip(), maxsplit=1)
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise InvalidInput(page._("Write one entry per line, as “name: value”."), field=field)
        found.append((parts[0], parts[1]))
    return found


def _counts(page: Page, raw: str, field: str) -> dict[str, int]:
    counts = {}
    for name, value in _lines(page, raw, field):
        try:
            counts[name] = int(value)
        except ValueError:
            raise InvalidInput(page._("Write one entry per line, as “name: number”."), field=field) from None
    return counts


def _list(raw: str) -> list[str]:
    """A comma separated list (Chinese commas and 、 too)."""
    return [p.strip() for p in re.split(r"[,，、;；]", raw or "") if p.strip()]


def _form_dict(form: Any) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _is_uuid(raw: str) -> bool:
    try:
        uuid.UUID(raw)
    except ValueError:
        return False
    return True


def _chosen(page: Page, raw: Sequence[str], field: str) -> list[uuid.UUID]:
    """The concerns ticked in a list of checkboxes: their ids, or a refusal naming `field` for a forged value."""
    try:
        return [uuid.UUID(value) for value in raw]
    except ValueError:
        raise InvalidInput(page._("Choose concerns from the list."), field=field) from None


def _place_id(page: Page, raw: str) -> uuid.UUID | None:
    """A compound's or building's id from the place picker; empty: none; anything else is a forged value."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not _is_uuid(raw):
        raise InvalidInput(page._("Choose the place from the list."), field="place")
    return uuid.UUID(raw)


def _pick_url(page: Page, group: Group) -> str:
    """The inbox with the new-topic form filled from a suggestion: its concerns picked, its label as the title."""
    query = urlencode([*(("pick", str(c.id)) for c in group.concerns), ("title", group.label)])
    return f"{page.base}/staff/inbox?{query}#draft-heading"


def allowed_commands(state: str) -> set[str]:
    return {name for name, command in COMMANDS.items() if state in command.moves}


def next_form(detail: s.TopicDetail, allowed: set[str], started: set[uuid.UUID]) -> str | None:
    """The form of the step that comes next on the topic page, the one shown open (the state machine allows
    more, folded): research, then a meeting, its minutes once it started, the decision, publishing, an action
    item. None while waiting (a meeting still to come, items being carried out) or once closed."""
    live = [m for m in detail.meetings if not m.cancelled_at]
    unheld = [m for m in live if not m.held]
    if "research" in allowed and detail.topic.state == "drafted":
        return "research"
    if "schedule" in allowed and not live:
        return "schedule"
    if "minutes" in allowed and any(m.id in started for m in unheld):
        return "minutes"
    if "decide" in allowed and any(m.held for m in live) and detail.decision is None:
        return "decision"
    if "publish" in allowed and detail.decision is not None:
        return "publish"
    if "add_action" in allowed and not [a for a in detail.actions if a.status != "cancelled"]:
        return "action"
    return None


class StaffController(Controller):
    """Triage, topics and the six steps, for community (and street, district) staff."""

    path = "/t/{slug:str}/staff"
    dependencies = {"page": Provide(provide_page)}

    # --- the triage inbox --------------------------------------------------------------------------------

    async def _inbox(self, page: Page, pager: Pager, status_code: int = 200, **context: Any) -> Response:
        scope = await page.scope("concern.triage")
        service = ConcernService(page.session, scope)
        # Red first, then yellow, each soonest due first: what is late is what staff see first.
        submitted, total, _ = await service.page(ConcernFilters(status="submitted", sort="light"),
                                                 pager.per_page, pager.offset)
        accepted, waiting, _ = await service.page(ConcernFilters(status="accepted", sort="light", in_topic=False),
                                                  LIST_LIMIT, 0)
        reopened, _, _ = await service.page(ConcernFilters(status="accepted", sort="light", reopened=True), LIST_LIMIT, 0)
        can_draft = await page.can("topic.manage")
        shown = {c.id for c in submitted}
        context["lost_errors"] = [e["message"] for cid, e in context.get("row_errors", {}).items() if cid not in shown]
        context.setdefault("row_errors", {})
        context.setdefault("row_values", {})
        context.setdefault("topic_errors", {})
        # Each row's likely duplicates, for the whole page at once (core.related.merging.likely_duplicates).
        context["duplicates"] = await likely_duplicates(page.session, scope, submitted)
        context.setdefault("topic_values", self._picked(page))
        suggested = []
        if can_draft:
            suggested = [{"group": group, "url": _pick_url(page, group)} for group in await suggestions(scope)]
            # A suggestion's concerns may be newer than the oldest LIST_LIMIT listed: list those picked too.
            listed = {c.id for c in accepted}
            picked = [uuid.UUID(i) for i in context["topic_values"]["concern_ids"] if _is_uuid(i)]
            accepted = [*await waiting_among(scope, [i for i in picked if i not in listed]), *accepted]
        return page.render("staff/inbox.html", status_code=status_code, submitted=await service.to_out(submitted),
                           pager=pager.of(total or 0), accepted=await service.to_out(accepted), waiting=waiting,
                           reopened=await service.to_out(reopened), suggestions=suggested,
                           can_draft=can_draft, notice=page.request.query_params.get("notice"), **context)

    @staticmethod
    async def _inbox_counts(page: Page, service: ConcernService) -> dict[str, Any]:
        """What the inbox shows around a row, swapped out of band after an htmx triage: how many still wait
        for triage, and the accepted concerns waiting for a topic."""
        waiting_triage = (await service.page(ConcernFilters(status="submitted"), 1, 0)).total
        accepted, waiting, _ = await service.page(ConcernFilters(status="accepted", sort="light", in_topic=False),
                                                  LIST_LIMIT, 0)
        return {"waiting_triage": waiting_triage, "accepted": await service.to_out(accepted), "waiting": waiting,
                "can_draft": await page.can("topic.manage")}

    @staticmethod
    def _picked(page: Page) -> dict[str, Any]:
        """The new-topic form as a suggestion's link fills it: its concerns picked, its label as the title."""
        query = page.request.query_params
        return {"title": (query.get("title") or "")[:120], "description": "",
                "concern_ids": [i for i in query.getall("pick", []) if _is_uuid(i)][:LIST_LIMIT]}

    @get("/inbox")
    async def inbox(self, page: PageDep, p: PageNumber = 1) -> Response:
        return await self._inbox(page, Pager.at(p, INBOX_PER_PAGE))

    @post("/concerns/{concern_id:str}/triage", status_code=303)
    async def triage(self, request: Request, page: PageDep, concern_id: FromPath[str],
                     p: PageNumber = 1) -> Response:
        scope = await page.scope("concern.triage")
        cid = page.path_id(concern_id)
        values = _form_dict(await request.form())
        action = values.get("action", "")
        service = ConcernService(page.session, scope)
        try:
            concern = await service.triage(cid, action, values.get("reason"), values.get("note"))
        except DomainError as exc:
            await page.take_back(exc)
            errors = {"action": action, "field": exc.field or "action", "message": page.refusal(exc)}
            return await self._refused_row(request, page, service, cid, p, exc.status, errors, values)
        if _is_htmx(request):
            row = (await service.to_out([concern]))[0]
            return page.render("staff/_concern_row.html", concern=row, error=None, values={}, done=True,
                               oob=await self._inbox_counts(page, service))
        return Redirect(f"{page.base}/staff/inbox?notice={action}&p={max(1, p)}", status_code=303)

    async def _refused_row(self, request: Request, page: Page, service: ConcernService, cid: uuid.UUID, p: int,
                           status: int, errors: dict[str, str], values: dict[str, str]) -> Response:
        """A refused form on one inbox row: the row again (htmx) or the inbox page, the error beside the row."""
        if _is_htmx(request):
            row = (await service.to_out([await service.get(cid)]))[0]
            return page.render("staff/_concern_row.html", status_code=status, concern=row, error=errors,
                               values=values)
        return await self._inbox(page, Pager.at(p, INBOX_PER_PAGE), status_code=status, row_errors={cid: errors},
                                 row_values={cid: values})

    @post("/concerns/{concern_id:str}/public-summary", status_code=303)
    async def public_summary(self, request: Request, page: PageDep, concern_id: FromPath[str],
                             p: PageNumber = 1) -> Response:
        scope = await page.scope("concern.triage")
        cid = page.path_id(concern_id)
        values = _form_dict(await request.form())
        service = ConcernService(page.session, scope)
        try:
            concern = await service.set_public_summary(cid, values.get("public_summary"))
        except DomainError as exc:
            await page.take_back(exc)
            errors = {"action": "public_summary", "field": "public_summary", "message": page.refusal(exc)}
            return await self._refused_row(request, page, service, cid, p, exc.status, errors, values)
        if _is_htmx(request):
            row = (await service.to_out([concern]))[0]
            return page.render("staff/_concern_row.html", concern=row, error=None, values={})
        return Redirect(f"{page.base}/staff/inbox?p={max(1, p)}#concern-{cid}", status_code=303)

    # --- a concern's page, and its clock: pausing, resuming, asking the level above for more time -----------

    async def _concern_page(self, page: Page, service: ConcernService, cid: uuid.UUID, status_code: int = 200,
                            error: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> Response:
        row = await service.get(cid)
        concern = (await service.to_out([row]))[0]
        notice = page.request.query_params.get("notice") or ""
        merges = MergeService(page.session, service.scope)
        return page.render(
            "staff/concern.html", status_code=status_code, concern=concern, error=error or {}, values=values or {},
            notice=CLOCK_NOTICES.get(notice) or MERGE_NOTICES.get(notice) or CORRECTION_NOTICES.get(notice),
            reasons=PAUSE_REASONS,
            supporters=row.supporters, related=[] if row.status == "merged" else await merges.related(row),
            merged_in=await merges.merged_into(row), may_undo=may_undo(row), can_merge=await page.can("concern.merge"),
            events=await service.events(row), event_labels=CONCERN_EVENT_LABELS,
            categories=await service.categories(), compounds=await CompoundService(page.session).all())

    @get("/concerns/{concern_id:str}")
    async def concern(self, page: PageDep, concern_id: FromPath[str]) -> Response:
        scope = await page.scope("concern.triage")
        return await self._concern_page(page, ConcernService(page.session, scope), page.path_id(concern_id))

    @post("/concerns/{concern_id:str}/clock/{what:str}", status_code=303)
    async def concern_clock(self, request: Request, page: PageDep, concern_id: FromPath[str],
                            what: FromPath[str]) -> Response:
        scope = await page.scope("concern.triage")
        cid = page.path_id(concern_id)
        if what not in CLOCK_NOTICES:
            raise NotFound(page._("There is no such page here."))
        values = _form_dict(await request.form())
        service, clocks = ConcernService(page.session, scope), ClockService(page.session, scope)
        try:
            if what == "pause":
                await clocks.pause(cid, values.get("reason", ""), values.get("note"))
            elif what == "resume":
                await clocks.resume(cid)
            else:
                await clocks.request_extension(cid, values.get("extra", ""), values.get("reason", ""))
        except DomainError as exc:
            await page.take_back(exc)
            error = {"action": what, "field": exc.field or what, "message": page.refusal(exc)}
            return await self._concern_page(page, service, cid, exc.status, error, values)
        return Redirect(f"{page.base}/staff/concerns/{cid}?notice={what}", status_code=303)

    @post("/concerns/{concern_id:str}/correction", status_code=303)
    async def correct(self, request: Request, page: PageDep, concern_id: FromPath[str]) -> Response:
        """Staff put the concern in its right category or place (a building names its compound), saying why."""
        scope = await page.scope("concern.triage")
        cid = page.path_id(concern_id)
        values = _form_dict(await request.form())
        service = ConcernService(page.session, scope)
        try:
            place = values.get("place", "")
            compound, _sep, building = place.partition("/")
            await CorrectionService(service).fix(cid, ConcernFix(
                category=values.get("category", ""), reason=values.get("reason", ""),
                compound=_place_id(page, compound), building=_place_id(page, building)))
        except DomainError as exc:
            await page.take_back(exc)
            field = {"compound": "place", "building": "place"}.get(exc.field or "", exc.field or "category")
            error = {"action": "correct", "field": field, "message": page.refusal(exc)}
            return await self._concern_page(page, service, cid, exc.status, error, values)
        return Redirect(f"{page.base}/staff/concerns/{cid}?notice=corrected", status_code=303)

    # --- merging duplicates into a concern, and undoing it ------------------------------------------------

    @post("/concerns/{concern_id:str}/merge", status_code=303)
    async def merge(self, request: Request, page: PageDep, concern_id: FromPath[str]) -> Response:
        scope = await page.scope("concern.merge")
        cid = page.path_id(concern_id)
        form = await request.form()
        values: dict[str, Any] = {**_form_dict(form), "duplicates": [v for v in form.getall("duplicates", []) if v]}
        service = ConcernService(page.session, scope)
        try:
            ids = _chosen(page, values["duplicates"], "duplicates")
            await MergeService(page.session, scope).merge(cid, ids, values.get("reason"))
        except DomainError as exc:
            await page.take_back(exc)
            error = {"action": "merge", "field": exc.field or "duplicates", "message": page.refusal(exc)}
            return await self._concern_page(page, service, cid, exc.status, error, values)
        return Redirect(f"{page.base}/staff/concerns/{cid}?notice=merged", status_code=303)

    @post("/concerns/{concern_id:str}/unmerge", status_code=303)
    async def unmerge(self, page: PageDep, concern_id: FromPath[str]) -> Response:
        scope = await page.scope("concern.merge")
        cid = page.path_id(concern_id)
        service = ConcernService(page.session, scope)
        try:
            await MergeService(page.session, scope).unmerge(cid)
        except DomainError as exc:
            await page.take_back(exc)
            error = {"action": "unmerge", "field": "unmerge", "message": page.refusal(exc)}
            return await self._concern_page(page, service, cid, exc.status, error)
        return Redirect(f"{page.base}/staff/concerns/{cid}?notice=unmerged", status_code=303)

    @post("/topics", status_code=303)
    async def create_topic(self, request: Request, page: PageDep) -> Response:
        scope = await page.scope("topic.manage")
        form = await request.form()
        text = _form_dict(form)
        values = {**text, "concern_ids": [v for v in form.getall("concern_ids", []) if v]}
        try:
            ids = _chosen(page, values["concern_ids"], "concern_ids")
            topic = await TopicService(page.session, scope).create(
                s.TopicCreate(title=text.get("title", ""), description=text.get("description", ""), concern_ids=ids))
        except DomainError as exc:
            await page.take_back(exc)
            return await self._inbox(page, Pager.at(1, INBOX_PER_PAGE), status_code=exc.status, topic_values=values,
                                     topic_errors=page.errors(exc, "title"))
        return Redirect(f"{page.base}/staff/topics/{topic.id}?notice=created", status_code=303)

    # --- the board ----------------------------------------------------------------------------------------

    @get("/topics")
    async def board(self, page: PageDep) -> Response:
        scope = await page.scope("topic.manage")
        service = TopicService(page.session, scope)
        # Every open topic (a community has dozens); of the closed ones, only the latest.
        open_topics, open_total = await service.in_states(OPEN_STATES, OPEN_SHOWN)
        completed, completed_total = await service.in_states(("completed",), CLOSED_SHOWN)
        withdrawn, withdrawn_total = await service.in_states(("withdrawn",), CLOSED_SHOWN)
        overdue, _count = await service.actions(False, True, LIST_LIMIT, 0)
        follow_ups, follow_ups_total = await service.follow_ups("open", LIST_LIMIT, 0)
        late = {a.topic for a in overdue}
        titles = {t.id: t.title for t in open_topics}  # overdue items belong to published or executing topics
        columns = []
        for states, heading in COLUMNS:
            items = completed if states == ("completed",) else [t for t in open_topics if t.state in states]
            items.sort(key=lambda t: t.id not in late)  # overdue first (a stable sort keeps the rest in order)
            total = completed_total if states == ("completed",) else len(items)
            columns.append({"heading": heading, "states": states, "topics": items, "total": total})
        return page.render("staff/board.html", columns=columns, withdrawn=withdrawn, withdrawn_total=withdrawn_total,
                           late=late, overdue=overdue, titles=titles, open_shown=len(open_topics),
                           open_total=open_total, follow_ups=follow_ups, follow_ups_total=follow_ups_total,
                           followed={f.topic for f in follow_ups},
                           follow_up_reasons=FOLLOW_UP_REASONS)

    # --- one topic and its next steps ---------------------------------------------------------------------

    async def _topic_page(self, page: Page, topic_id: uuid.UUID, status_code: int = 200,
                          form: str | None = None, errors: dict[str, str] | None = None,
                          values: dict[str, Any] | None = None) -> Response:
        scope = await page.scope("topic.manage")
        service = TopicService(page.session, scope)
        detail = await service.detail(topic_id)
        events = await service.events(topic_id)
        state = detail.topic.state
        allowed = allowed_commands(state)
        pending = [m for m in detail.meetings if not m.held]
        held = [m for m in detail.meetings if m.held]
        now = clock.now()
        started = {m.id for m in detail.meetings if m.starts_at <= now}
        following = next_form(detail, allowed, started)
        may_change = {a.id for a in detail.actions if a.status == "open"} \
            if {"reassign_action", "cancel_action"} & allowed else set()
        return page.render(
            "staff/topic.html", status_code=status_code, detail=detail, topic=detail.topic, events=events,
            event_labels=EVENT_LABELS, allowed=allowed, mechanisms=service.plugins.mechanisms_for(page.tenant), roles=ROLES,
            tenant_roles=TENANT_ROLES, default_invitees=DEFAULT_INVITEES, pending=pending, held=held,
            started=started, follow_up_reasons=FOLLOW_UP_REASONS,
            concern_states=CONCERN_STATE_NAMES, form=form, errors=errors or {}, values=values or {},
            today=clock.today().isoformat(), notice=page.request.query_params.get("notice"),
            steps=STEP_NAMES, step=STEPS[state], next_form=following, open_form=form or following,
            owners=await service.owners(), may_change=may_change,
        )

    @get("/topics/{topic_id:str}")
    async def topic(self, page: PageDep, topic_id: FromPath[str]) -> Response:
        return await self._topic_page(page, page.path_id(topic_id))

    async def _step(self, request: Request, page: Page, topic_id: uuid.UUID, form_name: str, run: Any) -> Response:
        """Run one step's command; 303 back to the topic, or the topic page again with the error by its field."""
        scope = await page.scope("topic.manage")
        form = await request.form()
        values: dict[str, Any] = {**_form_dict(form), "roles": form.getall("roles", [])}
        try:
            photos = await _photos(page, form) if form_name == "research" else []
            made = await run(TopicService(page.session, scope), values)
            if photos:  # only research takes photos; other steps may return nothing
                await _attach(request, page, scope, photos, "research", made.id, topic_id)
        except DomainError as exc:
            await page.take_back(exc)
            return await self._topic_page(page, topic_id, exc.status, form_name, page.errors(exc), values)
        return Redirect(f"{page.base}/staff/topics/{topic_id}?notice={form_name}", status_code=303)

    @post("/topics/{topic_id:str}/research", status_code=303)
    async def research(self, request: Request, page: PageDep, topic_id: FromPath[str]) -> Response:
        tid = page.path_id(topic_id)

        async def run(service: TopicService, v: dict[str, Any]) -> Any:
            participants = _list(v.get("participants", ""))
            return await service.research(tid, s.ResearchIn(kind="site_visit", date=_day(page, v, "date", N_("Date of the visit")),
                                                     participants=participants, findings=v.get("findings", "")))

        return await self._step(request, page, tid, "research", run)

    @post("/topics/{topic_id:str}/survey", status_code=303)
    async def survey(self, request: Request, page: PageDep, topic_id: FromPath[str]) -> Response:
        """A resident survey (征询) as the pre-meeting research: the question and each option's count."""
        tid = page.path_id(topic_id)

        async def run(service: TopicService, v: dict[str, Any]) -> Any:
            counts = _counts(page, v.get("results", ""), "results")
            try:
                return await service.research(tid, s.ResearchIn(
                    kind="survey", date=_day(page, v, "date", N_("Date of the survey")), question=v.get("question", ""),
                    options=list(counts), counts=counts, findings=v.get("findings", "")))
            except DomainError as exc:
                if exc.field in ("options", "counts"):  # the form asks for both in one field
                    exc.field = "results"
                raise

        return await self._step(request, page, tid, "survey", run)

    @post("/topics/{topic_id:str}/meetings", status_code=303)
    async def schedule(self, request: Request, page: PageDep, topic_id: FromPath[str]) -> Response:
        tid = page.path_id(topic_id)

        async def run(service: TopicService, v: dict[str, Any]) -> None:
            await service.schedule(tid, s.MeetingIn(
                mechanism=v.get("mechanism", ""), venue=v.get("venue", ""),
                starts_at=_moment(page, v, "starts_at", N_("Starts at")),
                invitees=s.Invitees(roles=list(v.get("roles", [])), orgs=_list(v.get("orgs", ""))), agenda=(v.get("agenda") or "").strip() or None))

        return await self._step(request, page, tid, "schedule", run)

    @post("/topics/{topic_id:str}/publish", status_code=303)
    async def publish(self, request: Request, page: PageDep, topic_id: FromPath[str]) -> Response:
        tid = page.path_id(topic_id)

        async def run(service: TopicService, v: dict[str, Any]) -> None:
            await service.publish(tid)

        return await self._step(request, page, tid, "publish", run)

    @post("/topics/{topic_id:str}/actions", status_code=303)
    async def add_action(self, request: Request, page: PageDep, topic_id: FromPath[str]) -> Response:
        tid = page.path_id(topic_id)

        async def run(service: TopicService, v: dict[str, Any]) -> None:
            await service.add_action(tid, s.ActionIn(
                title=v.get("title", ""), due_date=_day(page, v, "due_date", N_("Due date")),
                owner_org=(v.get("owner_org") or "").strip() or None,
                owner_user=(v.get("owner_user") or "").strip() or None))

        return await self._step(request, page, tid, "action", run)

    @post("/topics/{topic_id:str}/withdraw", status_code=303)
    async def withdraw(self, request: Request, page: PageDep, topic_id: FromPath[str]) -> Response:
        tid = page.path_id(topic_id)

        async def run(service: TopicService, v: dict[str, Any]) -> None:
            await service.withdraw(tid, v.get("reason", ""))

        return await self._step(request, page, tid, "withdraw", run)

    async def _meeting_topic(self, page: Page, meeting_id: str) -> tuple[uuid.UUID, uuid.UUID]:
        scope = await page.scope("topic.manage")
        mid = page.path_id(meeting_id)
        meeting = await TopicService(page.session, scope).meeting(mid)
        return mid, meeting.topic_id

    @post("/meetings/{meeting_id:str}/minutes", status_code=303)
    async def minutes(self, request: Request, page: PageDep, meeting_id: FromPath[str]) -> Response:
        mid, tid = await self._meeting_topic(page, meeting_id)

        async def run(service: TopicService, v: dict[str, Any]) -> None:
            attendance = _counts(page, v.get("attendance", ""), "attendance")
            opinions = [s.Opinion(group=g, text=t) for g, t in _lines(page, v.get("opinions", ""), "opinions")]
            await service.minutes(mid, s.MinutesIn(minutes=v.get("minutes", ""), attendance=attendance,
                                                   opinions=opinions))

        return await self._step(request, page, tid, "minutes", run)

    @post("/meetings/{meeting_id:str}/reschedule", status_code=303)
    async def reschedule(self, request: Request, page: PageDep, meeting_id: FromPath[str]) -> Response:
        mid, tid = await self._meeting_topic(page, meeting_id)

        async def run(service: TopicService, v: dict[str, Any]) -> None:
            await service.reschedule(mid, s.RescheduleIn(starts_at=_moment(page, v, "starts_at", N_("Starts at")),
                                                         reason=v.get("reason", "")))

        return await self._step(request, page, tid, f"reschedule-{mid}", run)

    @post("/meetings/{meeting_id:str}/cancel", status_code=303)
    async def cancel_meeting(self, request: Request, page: PageDep, meeting_id: FromPath[str]) -> Response:
        mid, tid = await self._meeting_topic(page, meeting_id)

        async def run(service: TopicService, v: dict[str, Any]) -> None:
            await service.cancel_meeting(mid, v.get("reason", ""))

        return await self._step(request, page, tid, f"cancel-{mid}", run)

    async def _action_topic(self, page: Page, action_id: str) -> tuple[uuid.UUID, uuid.UUID]:
        scope = await page.scope("topic.manage")
        aid = page.path_id(action_id)
        action = await TopicService(page.session, scope).action(aid)
        return aid, action.topic_id

    @post("/actions/{action_id:str}/reassign", status_code=303)
    async def reassign_action(self, request: Request, page: PageDep, action_id: FromPath[str]) -> Response:
        aid, tid = await self._action_topic(page, action_id)

        async def run(service: TopicService, v: dict[str, Any]) -> None:
            await service.reassign_action(aid, s.ReassignIn(
                reason=v.get("reason", ""), owner_org=(v.get("owner_org") or "").strip() or None,
                owner_user=(v.get("owner_user") or "").strip() or None))

        return await self._step(request, page, tid, f"reassign-{aid}", run)

    @post("/actions/{action_id:str}/cancel", status_code=303)
    async def cancel_action(self, request: Request, page: PageDep, action_id: FromPath[str]) -> Response:
        aid, tid = await self._action_topic(page, action_id)

        async def run(service: TopicService, v: dict[str, Any]) -> None:
            await service.cancel_action(aid, v.get("reason", ""))

        return await self._step(request, page, tid, f"cancel_action-{aid}", run)

    @post("/follow-ups/{follow_up_id:str}/close", status_code=303)
    async def close_follow_up(self, request: Request, page: PageDep, follow_up_id: FromPath[str]) -> Response:
        scope = await page.scope("topic.manage")
        fid = page.path_id(follow_up_id)
        follow_up = await TopicService(page.session, scope).follow_up(fid)

        async def run(service: TopicService, v: dict[str, Any]) -> None:
            await service.close_follow_up(fid, v.get("note", ""))

        return await self._step(request, page, follow_up.topic_id, f"follow_up-{fid}", run)

    @post("/meetings/{meeting_id:str}/decision", status_code=303)
    async def decision(self, request: Request, page: PageDep, meeting_id: FromPath[str]) -> Response:
        mid, tid = await self._meeting_topic(page, meeting_id)

        async def run(service: TopicService, v: dict[str, Any]) -> None:
            method = v.get("method", "")
            votes = _counts(page, v.get("votes", ""), "votes") if method == "vote" else {}
            eligible = _int(page, v.get("eligible_voters", ""), "eligible_voters", required=False) \
                if method == "vote" else None
            await service.decide(mid, s.DecisionIn(text=v.get("text", ""), method=method, votes=votes,
                                                   eligible_voters=eligible))

        return await self._step(request, page, tid, "decision", run)


class ActionItemsController(Controller):
    """The action items of whoever carries them out: a property company, a department, or staff."""

    path = "/t/{slug:str}/actions"
    dependencies = {"page": Provide(provide_page)}

    async def _list(self, page: Page, pager: Pager, status_code: int = 200,
                    errors: dict[uuid.UUID, dict[str, str]] | None = None,
                    values: dict[uuid.UUID, dict[str, str]] | None = None) -> Response:
        scope = await page.scope("action.progress")
        service = TopicService(page.session, scope)
        items, total = await service.actions(False, None, pager.per_page, pager.offset)  # open first, soonest due
        topic_ids = {a.topic for a in items}
        topics = {}
        if topic_ids:
            topics = {t.id: t for t in (await page.session.scalars(select(Topic).where(Topic.id.in_(topic_ids)))).all()}
        states = {tid: t.state for tid, t in topics.items()}
        return page.render(
            "staff/actions.html", status_code=status_code, items=items, topics=topics, pager=pager.of(total),
            may_report={a.id for a in items if a.status == "open"
                        and states.get(a.topic) in COMMANDS["progress"].moves},
            may_complete={a.id for a in items if a.status == "open"
                          and states.get(a.topic) in COMMANDS["complete_action"].moves},
            errors=errors or {}, values=values or {}, state_names=STATE_NAMES,
            notice=page.request.query_params.get("notice"), max_photos=MAX_PHOTOS_PER_FORM,
        )

    @get("/")
    async def actions(self, page: PageDep, p: PageNumber = 1) -> Response:
        return await self._list(page, Pager.at(p, ACTIONS_PER_PAGE))

    @post("/{action_id:str}/progress", status_code=303)
    async def progress(self, request: Request, page: PageDep, action_id: FromPath[str],
                       p: PageNumber = 1) -> Response:
        scope = await page.scope("action.progress")
        aid = page.path_id(action_id)
        form = await request.form()
        values = _form_dict(form)
        service = TopicService(page.session, scope)
        try:
            photos = await _photos(page, form)
            percent = _int(page, values.get("percent", ""), "percent")
            report = await service.progress(aid, s.ProgressIn(percent=percent or 0, note=values.get("note", "")))
            await _attach(request, page, scope, photos, "progress", report.id, aid)
        except DomainError as exc:
            await page.take_back(exc)
            return await self._list(page, Pager.at(p, ACTIONS_PER_PAGE), exc.status,
                                    {aid: page.errors(exc, "percent")}, {aid: values})
        return Redirect(f"{page.base}/actions?notice=progress&p={max(1, p)}", status_code=303)

    @post("/{action_id:str}/complete", status_code=303)
    async def complete(self, request: Request, page: PageDep, action_id: FromPath[str],
                       p: PageNumber = 1) -> Response:
        scope = await page.scope("action.progress")
        aid = page.path_id(action_id)
        try:
            await TopicService(page.session, scope).complete(aid)
        except DomainError as exc:
            await page.take_back(exc)
            return await self._list(page, Pager.at(p, ACTIONS_PER_PAGE), exc.status,
                                    {aid: {"complete": page.refusal(exc)}}, {})
        return Redirect(f"{page.base}/actions?notice=completed&p={max(1, p)}", status_code=303)


class WorkflowPhotosController(Controller):
    """Site-visit and progress photos for those signed in who may see them (public results show their own)."""

    path = "/t/{slug:str}/photos"
    dependencies = {"page": Provide(provide_page)}

    @get("/{photo_id:str}")
    async def photo(self, request: Request, page: PageDep, photo_id: FromPath[str]) -> Response[bytes]:
        scope = await page.scope("topic.read" if await page.can("topic.read") else "action.progress")
        photo = await workflow_photo(page.session, scope, page.path_id(photo_id))
        return Response(await request.app.state.photo_store.load(photo.storage_key), media_type=photo.content_type,
                        headers={"Cache-Control": "private, max-age=3600"})


CONTROLLERS: list[type[Controller]] = [StaffController, ActionItemsController, WorkflowPhotosController]

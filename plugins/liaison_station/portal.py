"""The liaison station's portal pages (/t/{slug}/deputy): the deputy's reception schedule and duty list (a
street's or district's rolled up over the communities below, a page at a time), recording a reception on a phone
(each request onto the duty list or filed as a concern in its community), and each item's page with its
timeline and the forms that update it. Staff, who see every deputy's items, choose a deputy."""

from __future__ import annotations

import datetime
import json
import re
import uuid
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core import clock
from core.accounts.models import User
from core.concerns.services import category_names
from core.errors import DomainError, InvalidInput, InvalidInputs
from core.http import PageNumber
from core.idempotency import Claim, once, remember, request_fingerprint
from core.portal import when
from core.portal.i18n import N_
from core.portal.pages import Page, PageDep, Pager
from core.portal.plugin_pages import plugin_page
from core.topics.machine import PUBLIC_STATES
from core.topics.models import Topic
from plugins.liaison_station import NAME
from plugins.liaison_station.models import DUTY_STATES, DutyItem, Station
from plugins.liaison_station.notifications import DUTY_ITEM_EVENT
from plugins.liaison_station.services import (
    FEEDBACK_EVENT,
    NOTE_KINDS,
    ROUTES,
    FeedbackIn,
    LiaisonService,
    NoteIn,
    ReceptionIn,
    RequestIn,
    next_receptions,
)

PER_PAGE = 20
FIRST_REQUESTS = 2  # request blocks a new reception form opens with; "add a request" asks for more
MAX_REQUESTS = 20
REQUEST_FIELD = re.compile(r"^requests-(\d+)-(\w+)$")
REFUSED_REQUEST = re.compile(r"^requests_(\d+)_(\w+)$")
RECEPTION_TIME = N_("Reception time")  # the label of held_at, which a refusal names
# What the timeline calls each event (a note is named by its kind).
EVENT_NAMES = {DUTY_ITEM_EVENT: N_("Received at a reception"), FEEDBACK_EVENT: N_("Residents' feedback")}


@dataclass
class NoteForm:
    kind: str = "other"
    text: str = ""
    back: str = ""  # "item": the item's own page sent it, and is where a refusal or success returns


@dataclass
class FeedbackForm:
    score: str = ""
    text: str = ""


@dataclass
class RequestForm:
    title: str = ""
    description: str = ""
    category: str = "other"
    route: str = "duty_list"
    community: str = ""

    @property
    def blank(self) -> bool:
        return not (self.title.strip() or self.description.strip())


@dataclass
class ReceptionForm:
    station: str = ""
    held_at: str = ""
    residents_received: str = "1"
    visitor_name: str = ""
    visitor_phone: str = ""
    notes: str = ""
    requests: list[RequestForm] = field(default_factory=list)
    form_key: str = field(default_factory=lambda: str(uuid.uuid4()))  # a double submit records one reception


async def _deputies(page: Page, service: LiaisonService) -> list[tuple[str, str]]:
    """Deputies who have items here, or below (for the staff's filter): (username, name)."""
    async with service.below():
        rows = (await page.session.execute(select(User.username, User.display_name)
                                           .where(User.id.in_(select(DutyItem.deputy_id)))
                                           .order_by(User.username))).all()
    return [(username, name or username) for username, name in rows]


async def _upcoming(page: Page, service: LiaisonService) -> list[dict[str, Any]]:
    """The next reception of each slot at the stations here (or, from a street or district, below)."""
    async with service.below():
        upcoming = await next_receptions(page.session)
    return [{**r, "text": page.phrase(r)} for r in upcoming[:10]]


async def _render(page: Page, deputy: str | None, p: int = 1, status_code: int = 200, error: DomainError | None = None,
                  failed_item: uuid.UUID | None = None, form: NoteForm | None = None, noted: bool = False,
                  recorded: str | None = None) -> Response:
    scope = await page.scope("liaison.duty_list")
    service = LiaisonService(page.session, scope)
    staff = service.is_staff
    chosen = deputy if staff and deputy else None
    pager = Pager.at(p, PER_PAGE)
    items, total = await service.duty_page(chosen, None, pager.per_page, pager.offset)
    topic_ids = {i.topic for i in items if i.topic}
    topics: dict[Any, Topic] = {}
    if topic_ids:
        async with service.below():
            topics = {t.id: t for t in (await page.session.scalars(select(Topic).where(Topic.id.in_(topic_ids)))).all()}
    async with service.below():
        stations = list((await page.session.scalars(select(Station).order_by(Station.name))).all())
    may_record = not service.from_above and bool(stations) and scope.can("liaison.reception")
    return page.render(
        "liaison_station/deputy.html", status_code=status_code, items=items, topics=topics,
        public_states=PUBLIC_STATES, receptions=await _upcoming(page, service), past=await service.past_receptions(),
        stations=stations, may_record=may_record, staff=staff, pager=pager.of(total),
        pager_url=f"{page.base}/deputy", deputies=await _deputies(page, service) if staff else [],
        from_above=service.from_above, deputy=chosen or "", note_kinds=NOTE_KINDS, error=error,
        failed_item=failed_item, form=form or NoteForm(), duty_states=DUTY_STATES, noted=noted, recorded=recorded)


async def _render_item(page: Page, item_id: uuid.UUID, status_code: int = 200, errors: dict[str, str] | None = None,
                       note: NoteForm | None = None, feedback: FeedbackForm | None = None,
                       done: str | None = None) -> Response:
    scope = await page.scope("liaison.duty_list")
    service = LiaisonService(page.session, scope)
    item = await service.item(item_id)
    shaped = (await service.shape([item]))[0]
    topic = await page.session.scalar(select(Topic).where(Topic.id == item.topic_id)) if item.topic_id else None
    return page.render(
        "liaison_station/item.html", status_code=status_code, item=shaped, topic=topic, public_states=PUBLIC_STATES,
        timeline=await service.timeline(item), event_names=EVENT_NAMES, note_kinds=NOTE_KINDS,
        duty_states=DUTY_STATES, may_update=scope.can("liaison.duty_note"), errors=errors or {},
        note=note or NoteForm(kind="research"), feedback=feedback or FeedbackForm(), done=done)


async def _render_reception(page: Page, form: ReceptionForm, status_code: int = 200,
                            errors: dict[str, str] | None = None) -> Response:
    scope = await page.scope("liaison.reception")
    service = LiaisonService(page.session, scope)
    return page.render(
        "liaison_station/reception_form.html", status_code=status_code, form=form, errors=errors or {},
        stations=await service.stations(), communities=await service.communities(),
        categories=await category_names(page.session), routes=ROUTES)


def _reception_form(raw: Any) -> ReceptionForm:
    """The reception form as typed: its fields, and its request blocks in their order (blank ones kept, so a
    refused form comes back as it was)."""
    typed = {name: str(raw.get(name, "")) for name in
             ("station", "held_at", "residents_received", "visitor_name", "visitor_phone", "notes")}
    form = ReceptionForm(typed["station"], typed["held_at"], typed["residents_received"], typed["visitor_name"],
                         typed["visitor_phone"], typed["notes"], form_key=str(raw.get("form_key", ""))[:100])
    blocks: dict[int, dict[str, str]] = {}
    for key in raw:
        if (found := REQUEST_FIELD.match(key)) and int(found.group(1)) < MAX_REQUESTS \
                and found.group(2) in RequestForm.__dataclass_fields__:
            blocks.setdefault(int(found.group(1)), {})[found.group(2)] = str(raw.get(key, ""))
    form.requests = [RequestForm(**blocks[i]) for i in sorted(blocks)]
    return form


def _reception_in(page: Page, form: ReceptionForm) -> tuple[ReceptionIn, list[int]]:
    """What the service is asked to record, and the form's block of each request sent (blank blocks are not)."""
    problems = []
    try:
        station = uuid.UUID(form.station)
    except ValueError:
        problems.append(InvalidInput(page._("Choose the station where you received residents."), field="station"))
        station = uuid.UUID(int=0)
    try:  # typed the Chinese way (`_when.html`), on Beijing time
        moment = when.read(page._, form.held_at, "datetime", field="held_at", label=page._(RECEPTION_TIME), required=True)
        held_at = moment if isinstance(moment, datetime.datetime) else clock.now()
    except InvalidInput as exc:
        problems.append(exc)
        held_at = clock.now()
    try:
        received = int(form.residents_received)
    except ValueError:
        problems.append(InvalidInput(page._("Enter how many residents came, as a number."), field="residents_received"))
        received = 1
    if problems:
        raise problems[0] if len(problems) == 1 else InvalidInputs(problems)
    sent = [i for i, block in enumerate(form.requests) if not block.blank]
    requests = []
    for i in sent:
        block = form.requests[i]
        try:
            community = uuid.UUID(block.community) if block.community else None
        except ValueError:
            community = uuid.UUID(int=0)  # no such community: the service names the field
        requests.append(RequestIn(
            title=block.title, description=block.description, category=block.category, route=block.route,
            community=community, resident_name=form.visitor_name.strip() or None,
            resident_phone=form.visitor_phone.strip() or None))
    return ReceptionIn(station=station, held_at=held_at, residents_received=received, requests=requests,
                       notes=form.notes), sent


def _form_errors(page: Page, exc: DomainError, sent: list[int]) -> dict[str, str]:
    """The service's refusal by the form's own field names: a request's by its block, the visitor's once."""
    shown: dict[str, str] = {}
    for name, message in page.errors(exc).items():
        if (found := REFUSED_REQUEST.match(name)) and int(found.group(1)) < len(sent):
            part = found.group(2)
            name = f"visitor_{part.removeprefix('resident_')}" if part.startswith("resident_") \
                else f"requests-{sent[int(found.group(1))]}-{part}"
        elif name == "requests":
            name = "requests-0-title"
        shown.setdefault(name, message)
    return shown


class DeputyPortalController(Controller):
    path = "/t/{slug:str}/deputy"
    dependencies = {"page": plugin_page(NAME)}

    @get("/")
    async def duty_list(self, page: PageDep, deputy: FromQuery[str | None] = None,
                        noted: FromQuery[int | None] = None, recorded: FromQuery[str | None] = None,
                        p: PageNumber = 1) -> Response:
        return await _render(page, deputy, p=p, noted=bool(noted), recorded=recorded)

    @get("/receptions/new")
    async def new_reception(self, page: PageDep, station: FromQuery[str | None] = None) -> Response:
        form = ReceptionForm(station=station or "", held_at=when.shown(clock.now(), "datetime"),
                             requests=[RequestForm() for _ in range(FIRST_REQUESTS)])
        return await _render_reception(page, form)

    @get("/receptions/request")
    async def request_block(self, page: PageDep, i: FromQuery[int] = FIRST_REQUESTS) -> Response:
        """One more request block for the reception form (htmx), and the button that asks for the next."""
        scope = await page.scope("liaison.reception")
        service = LiaisonService(page.session, scope)
        index = min(max(i, 0), MAX_REQUESTS - 1)
        return page.render("liaison_station/_request.html", i=index, req=RequestForm(), errors={}, oob=True,
                           communities=await service.communities(), categories=await category_names(page.session),
                           routes=ROUTES)

    @post("/receptions", status_code=303)
    async def record_reception(self, page: PageDep) -> Response:
        scope = await page.scope("liaison.reception")
        base = page.base  # read now: a replayed submit rolls its own attempt back, and the tenant row with it
        form = _reception_form(await page.request.form())
        # The form's hidden key makes a double submit record once; the fingerprint is what was typed.
        fingerprint = request_fingerprint("POST", page.request.url.path,
                                          json.dumps(asdict(form), sort_keys=True).encode())
        sent: list[int] = []
        try:
            data, sent = _reception_in(page, form)
            claim = Claim.of(page.tenant.id, scope.user_id, form.form_key or None, fingerprint)

            async def run() -> tuple[int, dict]:
                _reception, items, filed = await LiaisonService(page.session, scope).record_reception(
                    data, page.request.app.state.photo_store)
                return await remember(page.session, claim, 201, {"items": len(items), "concerns": len(filed)})

            _status, answer = await once(page.session, claim, run)
        except DomainError as exc:
            await page.take_back(exc)
            if not form.requests:
                form.requests = [RequestForm()]
            errors = _form_errors(page, exc, sent)
            if exc.field == "Idempotency-Key":  # sent before with other content: a fresh form, and say so
                form.form_key = str(uuid.uuid4())
                errors = {"form": page._("This reception was already recorded. Check the duty list before "
                                         "sending it again.")}
            return await _render_reception(page, form, status_code=exc.status, errors=errors)
        return Redirect(f"{base}/deputy?recorded={answer['items']}-{answer['concerns']}", status_code=303)

    @get("/items/{item_id:uuid}")
    async def item(self, page: PageDep, item_id: FromPath[uuid.UUID], done: FromQuery[str | None] = None) -> Response:
        return await _render_item(page, item_id, done=done)

    @post("/items/{item_id:uuid}/notes", status_code=303)
    async def add_note(self, page: PageDep, item_id: FromPath[uuid.UUID],
                       data: Annotated[NoteForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
                       deputy: FromQuery[str | None] = None) -> Response:
        scope = await page.scope("liaison.duty_note")
        try:
            await LiaisonService(page.session, scope).add_note(item_id, NoteIn(kind=data.kind, text=data.text))
        except DomainError as exc:
            await page.take_back(exc)
            if data.back == "item":
                return await _render_item(page, item_id, status_code=exc.status,
                                          errors={f"note_{k}": v for k, v in page.errors(exc).items()}, note=data)
            return await _render(page, deputy, status_code=exc.status, error=exc, failed_item=item_id, form=data)
        if data.back == "item":
            return Redirect(f"{page.base}/deputy/items/{item_id}?done=note#timeline", status_code=303)
        target = f"{page.base}/deputy?noted=1" + (f"&deputy={quote(deputy)}" if deputy else "")
        return Redirect(f"{target}#item-{item_id}", status_code=303)

    @post("/items/{item_id:uuid}/feedback", status_code=303)
    async def add_feedback(self, page: PageDep, item_id: FromPath[uuid.UUID],
                           data: Annotated[FeedbackForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Response:
        scope = await page.scope("liaison.duty_note")
        try:
            if not data.score.isdigit():
                raise InvalidInput(page._("Choose how satisfied the residents are, from 1 to 5."), field="score")
            await LiaisonService(page.session, scope).feedback(item_id, FeedbackIn(score=int(data.score),
                                                                                   text=data.text))
        except DomainError as exc:
            await page.take_back(exc)
            return await _render_item(page, item_id, status_code=exc.status,
                                      errors={f"feedback_{k}": v for k, v in page.errors(exc).items()},
                                      feedback=data)
        return Redirect(f"{page.base}/deputy/items/{item_id}?done=feedback#timeline", status_code=303)

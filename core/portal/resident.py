"""Residents' and grid workers' pages: raise a concern (with photos, a category, a place in the tenant's
compounds and buildings; on a resident's behalf for those who may; once without an account, by a code sent to
one's phone), see as one types the open concerns others raised of the same matter and join one instead (附议),
follow one's own concerns and those one joined, answer the revisit of one resolved (回访; staff record a phone
revisit on the same page), and rate the outcome of a topic one's concern fed. Every rule stays in the services;
these pages only ask them."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Self

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core.accounts.joining import ask_for_code, privacy_notice
from core.concerns.by_phone import PHONE_FILERS, file_by_phone
from core.concerns.corrections import CorrectionService
from core.concerns.models import CHANNELS
from core.concerns.schemas import ConcernCreate, ConcernEdit
from core.concerns.services import ConcernFilters, ConcernService, category_names, filed_answer
from core.db import end_read
from core.errors import DomainError, InvalidInput, NotFound
from core.http import PageNumber, client_address
from core.idempotency import Claim, once, request_fingerprint
from core.media import CleanImage, clean_upload
from core.portal.account import Form
from core.portal.i18n import N_
from core.portal.pages import Page, PageDep, Pager, provide_page
from core.publishing.services import handled_above
from core.related.schemas import SimilarIn
from core.related.services import RelatedService
from core.tenancy.scope import TenantScope
from core.tenancy.services import CompoundService
from core.timelimits.models import SATISFACTION, URGENCIES
from core.timelimits.revisits import CHANNEL_NAMES, SOLVED_NAMES, RevisitService, rounds
from core.timelimits.schemas import RevisitIn
from core.topics.machine import COMMANDS, PUBLIC_STATES
from core.topics.models import Rating
from core.topics.schemas import RatingIn
from core.topics.services import TopicService, rating_summary

PER_PAGE = 20
MAX_FORM_PHOTOS = 3
FIELDS = ("title", "description", "category", "compound", "building", "place", "channel", "resident_name",
          "resident_phone", "urgency", "photos")
PHONE_FILING_FIELDS = ("title", "description", "category", "compound", "building", "place", "phone", "code", "name",
                       "accept_privacy")
# The channels a person filing on a resident's behalf may choose (Open311 is for machines, not this form).
CHANNEL_LABELS = {
    "grid_worker": N_("Grid worker visit"),
    "phone": N_("Phone call"),
    "liaison_station": N_("Deputies' liaison station"),
    "pavilion": N_("Deliberation pavilion"),
    "portal": N_("Web portal"),
    "other": N_("Other"),
}




class _TypedForm:
    """A form kept as typed, to show again with its messages: its fields read from what was sent, trimmed."""

    @classmethod
    def of(cls, data: Any) -> Self:
        fields = cls.__dataclass_fields__  # type: ignore[attr-defined]
        return cls(**{name: str(data.get(name) or "").strip() for name in fields if name in data})


@dataclass
class ConcernForm(_TypedForm):
    """What the filing form holds, kept as typed when the form comes back with a message."""

    title: str = ""
    description: str = ""
    category: str = ""
    compound: str = ""
    building: str = ""
    place: str = ""
    channel: str = "portal"
    resident_name: str = ""
    resident_phone: str = ""
    urgency: str = "normal"
    form_key: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class PhoneFilingForm(_TypedForm):
    """The form of a concern filed without an account, kept as typed when it comes back (the code never is)."""

    title: str = ""
    description: str = ""
    category: str = ""
    compound: str = ""
    building: str = ""
    place: str = ""
    phone: str = ""
    name: str = ""
    accept_privacy: str = ""  # "on" once ticked
    form_key: str = field(default_factory=lambda: str(uuid.uuid4()))


def _uuid_or_none(value: str, field_name: str, message: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput(message, field=field_name) from None


def default_channel(scope: TenantScope) -> str:
    """A grid worker files from the street, a deputy at the liaison station, staff mostly take calls."""
    roles = set().union(*scope.grants.by_tenant.values()) if scope.grants.by_tenant else set()
    if "grid_worker" in roles:
        return "grid_worker"
    if "deputy" in roles:
        return "liaison_station"
    return "phone"


async def _photos_of(form: Any) -> list[UploadFile]:
    """The files chosen in the photo field (a browser sends one empty part when none is chosen)."""
    chosen = []
    for item in form.getall("photos", []):
        if isinstance(item, UploadFile) and (item.filename or item.content_type not in (None, "application/octet-stream")):
            chosen.append(item)
    return chosen


async def _rolled_back(page: Page, action: str) -> TenantScope:
    """Undo what the refused request wrote (keeping the page usable), and authorize `action` again."""
    await page.rollback()
    return await page.scope(action)


def _concern_id(page: Page, raw: str) -> uuid.UUID:
    return page.path_id(raw, page._("There is no such concern here."))


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _typed_id(value: Any) -> uuid.UUID | None:
    """A place the form names, while the resident is still typing: one not (yet) well formed names none."""
    try:
        return uuid.UUID(str(value or "").strip())
    except ValueError:
        return None


@dataclass
class Filing:
    """What sending the filing form came to: the concern's answer, or the form as typed with its messages."""

    form: ConcernForm
    answer: dict[str, Any] | None = None
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 201


async def file_from_form(request: Request, page: Page, submitted: Any, key: str | None = None) -> Filing:
    """File what the filing form sent (its photos checked first: a bad photo files nothing), once per key: the
    form's hidden `form_key`, or `key` (an offline filing's Idempotency-Key). Refused, the session is rolled back."""
    scope = await page.scope("concern.file")
    form = ConcernForm.of(submitted)
    if key is not None:
        form.form_key = key
    on_behalf = scope.can("concern.file_on_behalf")
    if not on_behalf:  # a resident files for themselves, through the portal
        form.channel, form.resident_name, form.resident_phone, form.urgency = "portal", "", "", "normal"
    errors: dict[str, str] = {}

    photos = await _photos_of(submitted)
    raws: list[bytes] = []
    images: list[CleanImage] = []
    if len(photos) > MAX_FORM_PHOTOS:
        errors["photos"] = page._("Choose at most {count} photos.").format(count=MAX_FORM_PHOTOS)
    else:
        if photos:
            await end_read(page.session)  # nothing is written yet; decoding takes a while
        for photo in photos:
            raw = await photo.read()
            try:
                images.append(await clean_upload(raw, field="photos"))
            except InvalidInput as exc:
                errors["photos"] = f"{photo.filename}: {page.refusal(exc)}" if photo.filename else page.refusal(exc)
                break
            raws.append(raw)
    if form.channel not in CHANNELS:
        errors["channel"] = page._("Choose a channel from the list.")
    try:
        compound = _uuid_or_none(form.compound, "compound", page._("Choose a compound from the list."))
        building = _uuid_or_none(form.building, "building", page._("Choose a building from the list."))
    except InvalidInput as exc:
        errors[exc.field or "form"] = page.refusal(exc)
        compound = building = None
    if errors:
        await page.rollback()
        return Filing(form, errors=errors, status=422)

    data = ConcernCreate(
        title=form.title, description=form.description, category=form.category, channel=form.channel,
        compound=compound, building=building, place=form.place or None,
        resident_name=form.resident_name or None, resident_phone=form.resident_phone or None,
        urgency=form.urgency or "normal",
    )
    # The key makes a double submit file once; the fingerprint is the form's content (a browser sends a new
    # multipart boundary each time, so the raw body would not do).
    content = {**asdict(form), "photos": [hashlib.sha256(raw).hexdigest() for raw in raws]}
    fingerprint = request_fingerprint("POST", request.url.path, json.dumps(content, sort_keys=True).encode())
    service = ConcernService(page.session, scope, request.app.state.photo_store)
    try:
        claim = Claim.of(page.tenant.id, scope.user_id, form.form_key or None, fingerprint)

        async def run() -> tuple[int, dict]:
            concern = await service.file(data, claim)
            for image in images:
                await service.add_photo(concern.id, image)
            return 201, filed_answer(concern)

        _status, answer = await once(page.session, claim, run)
    except DomainError as exc:
        await page.rollback()
        if exc.field == "Idempotency-Key":  # sent before with other content: a fresh form, and say so
            form.form_key = str(uuid.uuid4())
            errors["form"] = page._("This form was already sent. Check your concerns before sending it again.")
        else:
            for name, message in page.errors(exc).items():
                errors.setdefault(name if name in FIELDS else "form", message)
        return Filing(form, errors=errors, status=exc.status)
    return Filing(form, answer=answer)


class ResidentController(Controller):
    path = "/t/{slug:str}"
    dependencies = {"page": Provide(provide_page)}

    # --- raising a concern -------------------------------------------------------------------------------

    async def _form(self, page: Page, scope: TenantScope, form: ConcernForm, errors: dict[str, str],
                    status_code: int = 200) -> Response:
        on_behalf = scope.can("concern.file_on_behalf")
        categories = await ConcernService(page.session, scope).categories()
        compounds = await CompoundService(page.session).all()
        return page.render("resident/concern_form.html", status_code=status_code, form=form, errors=errors,
                           categories=categories, compounds=compounds, on_behalf=on_behalf,
                           channels=CHANNEL_LABELS, urgencies=URGENCIES, max_photos=MAX_FORM_PHOTOS,
                           similar_url=f"{page.base}/concerns/similar")

    @get("/concerns/new")
    async def new_concern(self, page: PageDep) -> Response:
        scope = await page.scope("concern.file")
        form = ConcernForm()
        if scope.can("concern.file_on_behalf"):
            form.channel = default_channel(scope)
        return await self._form(page, scope, form, {})

    @get("/concerns/buildings")
    async def buildings(self, page: PageDep, compound: FromQuery[str] = "", building: FromQuery[str] = "") -> Response:
        """The building <select> for one compound (htmx swaps it in when the compound changes)."""
        await page.scope("concern.file")
        compounds = await CompoundService(page.session).all()
        chosen = [c for c in compounds if str(c.id) == compound] or compounds
        return page.render("resident/_buildings.html", compounds=chosen, form=ConcernForm(building=building), errors={})

    @post("/concerns/new", status_code=303)
    async def file_concern(self, request: Request, page: PageDep) -> Response:
        await page.scope("concern.file")
        base = page.base  # read now: a replayed double submit rolls the session back (and expires the tenant)
        filing = await file_from_form(request, page, await request.form())
        if filing.answer is None:
            scope = await page.scope("concern.file")
            return await self._form(page, scope, filing.form, filing.errors, status_code=filing.status)
        return Redirect(f"{base}/me/concerns/{filing.answer['id']}?filed=1", status_code=303)

    # --- others reported this too: joining their concern instead (附议) --------------------------------------

    @post("/concerns/similar", status_code=200)
    async def similar(self, page: PageDep, data: Form) -> Response:
        """The open concerns like what the resident has typed so far (htmx asks as they type): their public
        summaries, status and supporters, each with a button to join it. Nothing while there is nothing to
        compare, or while what is typed would not file (the form says why when it is sent)."""
        if page.user is None:  # signed out while typing: nothing, rather than the sign-in page inside the form
            return page.render("resident/_similar.html", similar=[])
        scope = await page.scope("concern.file")
        service = RelatedService(page.session, scope)
        try:
            typed = SimilarIn(title=str(data.get("title") or ""), description=str(data.get("description") or ""),
                              compound_id=_typed_id(data.get("compound")), building_id=_typed_id(data.get("building")),
                              category=str(data.get("category") or "") or None)
            found = await service.similar_views(await service.similar_to(typed))
        except DomainError:
            found = []
        # Who files for a resident is not the one it happened to: they see what is raised already, and join nothing.
        for_others = scope.can("concern.file_on_behalf")
        return page.render("resident/_similar.html", similar=found, for_others=for_others,
                           may_join=scope.can("concern.support") and not for_others)

    @post("/concerns/{concern_id:str}/support", status_code=303)
    async def support(self, request: Request, page: PageDep, concern_id: FromPath[str]) -> Response:
        """Join a concern (我也遇到了): htmx swaps its line for the confirmation; a plain POST lands on one's
        concerns, where the joined ones are listed."""
        scope = await page.scope("concern.support")
        service = RelatedService(page.session, scope)
        cid = _concern_id(page, concern_id)
        try:
            concern = await service.support(cid)
        except DomainError as exc:
            await page.take_back(exc)  # a concern not found (or another tenant's) is the 404 page
            if not _is_htmx(request):
                raise
            # Said where the button was: the concern's line stays as it is.
            refused = page.render("resident/_join_refused.html", status_code=exc.status, error=page.refusal(exc))
            refused.headers.update({"HX-Retarget": f"#similar-{cid} .join-state", "HX-Reswap": "innerHTML"})
            return refused
        if not _is_htmx(request):
            return Redirect(f"{page.base}/me/concerns?joined=1#joined", status_code=303)
        [view] = await service.views([concern])
        return page.render("resident/_similar_item.html", s=view, may_join=True, just_joined=True)

    @post("/concerns/{concern_id:str}/support/withdraw", status_code=303)
    async def withdraw_support(self, page: PageDep, concern_id: FromPath[str]) -> Response:
        scope = await page.scope("concern.support")
        await RelatedService(page.session, scope).withdraw_support(_concern_id(page, concern_id))
        return Redirect(f"{page.base}/me/concerns?withdrawn=1#joined", status_code=303)

    # --- raising one concern without an account ------------------------------------------------------------

    async def _by_phone_form(self, page: Page, form: PhoneFilingForm, errors: dict[str, str], *, sent: bool = False,
                             status_code: int = 200) -> Response:
        if page.tenant.kind != "community":
            raise NotFound(page._("Only a community takes concerns without an account."))
        categories = await category_names(page.session)
        compounds = await CompoundService(page.session).all()
        return page.render("resident/concern_by_phone.html", status_code=status_code, form=form, errors=errors,
                           sent=sent, categories=categories, compounds=compounds, notice=privacy_notice(page.tenant))

    @get("/concerns/new/by-phone")
    async def new_concern_by_phone(self, page: PageDep) -> Response:
        if page.user is not None:  # signed in: their own form, and the concern is theirs
            return Redirect(f"{page.base}/concerns/new")
        return await self._by_phone_form(page, PhoneFilingForm(), {})

    @post("/concerns/new/by-phone/code", status_code=200)
    async def concern_by_phone_code(self, request: Request, page: PageDep, data: Form) -> Response:
        """The form's "send me a code" button: the whole form comes back, as typed, with the code on its way."""
        form = PhoneFilingForm.of(data)
        if page.tenant.kind == "community":
            try:
                await ask_for_code(page.session, page.tenant, form.phone, "file", client=client_address(request),
                                   secret=request.app.state.settings.secret_key)
            except DomainError as exc:
                await page.take_back(exc)
                return await self._by_phone_form(page, form, page.errors(exc, "phone"), status_code=exc.status)
        return await self._by_phone_form(page, form, {}, sent=True)

    @post("/concerns/new/by-phone", status_code=303)
    async def file_concern_by_phone(self, request: Request, page: PageDep, data: Form) -> Response:
        form = PhoneFilingForm.of(data)
        base = page.base  # read now: a replayed double submit may roll the session back (and expire the tenant)
        code = str(data.get("code") or "")
        try:
            compound = _uuid_or_none(form.compound, "compound", page._("Choose a compound from the list."))
            building = _uuid_or_none(form.building, "building", page._("Choose a building from the list."))
            concern = ConcernCreate(title=form.title, description=form.description, category=form.category,
                                    compound=compound, building=building, place=form.place or None)
            # The form's hidden key makes a double submit file once; what was sent, the code included, is its
            # fingerprint (as the API's body is).
            sent = {**asdict(form), "code": code, "privacy_version": data.get("privacy_version")}
            fingerprint = request_fingerprint("POST", request.url.path, json.dumps(sent, sort_keys=True).encode())
            claim = Claim.of(page.tenant.id, PHONE_FILERS, form.form_key or None, fingerprint)

            async def run() -> tuple[int, dict]:
                return 201, filed_answer(await file_by_phone(
                    page.session, page.tenant, concern, phone=form.phone, code=code, name=form.name or None,
                    accept_privacy=form.accept_privacy == "on",
                    privacy_version=str(data.get("privacy_version") or ""),
                    secret=request.app.state.settings.secret_key, claim=claim))

            _status, answer = await once(page.session, claim, run, look_first=True)
        except DomainError as exc:
            await page.take_back(exc)
            if exc.field == "Idempotency-Key":  # sent before with other content: a fresh form, and say so
                form.form_key = str(uuid.uuid4())
                errors: dict[str, str] = {"form": page._(
                    "This form was already sent. Follow that concern by its tracking code, or send this as a new one.")}
            else:
                errors = {}
                for field_name, message in page.errors(exc).items():
                    errors.setdefault(field_name if field_name in PHONE_FILING_FIELDS else "form", message)
            return await self._by_phone_form(page, form, errors, sent=True, status_code=exc.status)
        # The tracker shows what was filed; with no account, its code is the way back to it.
        return Redirect(f"{base}/track/{answer['tracking_code']}?filed=1", status_code=303)

    # --- one's own concerns ------------------------------------------------------------------------------

    @get("/me/concerns")
    async def my_concerns(self, page: PageDep, p: PageNumber = 1) -> Response:
        scope = await page.scope("concern.read")
        service = ConcernService(page.session, scope)
        pager = Pager.at(p, PER_PAGE)
        found, total, _ = await service.page(ConcernFilters(sort="-created_at"), pager.per_page, pager.offset)
        related = RelatedService(page.session, scope)
        joined = await related.views(await related.supported(scope.user_id))
        return page.render("resident/my_concerns.html", concerns=await service.to_out(found), pager=pager.of(total or 0),
                           may_file=scope.can("concern.file"), joined=joined,
                           notice=next((n for n in ("joined", "withdrawn") if page.request.query_params.get(n) == "1"),
                                       None))

    async def _detail(self, page: PageDep, scope: TenantScope, concern_id: uuid.UUID, status_code: int = 200,
                      rating_error: str | None = None, score: str = "", comment: str = "",
                      revisit_errors: dict[str, str] | None = None,
                      revisit_values: dict[str, str] | None = None, edit_errors: dict[str, str] | None = None,
                      edit_values: dict[str, str] | None = None, edit_form: str = "") -> Response:
        service = ConcernService(page.session, scope)
        row = await service.get(concern_id)
        concern = (await service.to_out([row]))[0]
        revisits = await rounds(page.session, row)
        waiting = revisits[-1] if revisits and revisits[-1].answered_at is None else None
        topic = rating = summary = None
        may_rate = False
        if concern.topic is not None:
            topic = await TopicService(page.session, scope).topic(concern.topic)
            if topic.state in PUBLIC_STATES:
                rating = await page.session.scalar(select(Rating).where(Rating.topic_id == topic.id,
                                                                        Rating.user_id == scope.user_id))
                summary = await rating_summary(page.session, topic.id)
                may_rate = scope.can("topic.rate") and topic.state in COMMANDS["rate"].moves
        if rating is not None and not score:
            score, comment = str(rating.score), rating.comment
        # taken over by the level above: where it is handled now, as the public tracking page says it
        above = await handled_above(page.session, page.tenant, row.reference) if row.status == "taken_over" else None
        return page.render("resident/concern.html", status_code=status_code, concern=concern, topic=topic, above=above,
                           rating=rating, summary=summary, may_rate=may_rate, rating_error=rating_error,
                           score=score, comment=comment, public_states=PUBLIC_STATES,
                           filed=page.request.query_params.get("filed") == "1",
                           rated=page.request.query_params.get("rated") == "1",
                           revisits=[r for r in revisits if r.answered_at is not None], waiting=waiting,
                           may_answer=waiting is not None and row.resident_id == scope.user_id,
                           may_phone=waiting is not None and scope.can("concern.triage"),
                           revisit_errors=revisit_errors or {}, revisit_values=revisit_values or {},
                           satisfaction=SATISFACTION, solved_names=SOLVED_NAMES, channel_names=CHANNEL_NAMES,
                           revisited=page.request.query_params.get("revisited") == "1",
                           edited=page.request.query_params.get("edited") == "1",
                           withdrawn=page.request.query_params.get("withdrawn") == "1",
                           categories=await service.categories() if concern.editable else {},
                           compounds=await CompoundService(page.session).all() if concern.editable else [],
                           edit_errors=edit_errors or {}, edit_values=edit_values or {}, edit_form=edit_form)

    @get("/me/concerns/{concern_id:str}")
    async def my_concern(self, page: PageDep, concern_id: FromPath[str]) -> Response:
        """One's own concern; or one joined, as its public view (what its notices link to, for its supporters too)."""
        scope = await page.scope("concern.read")
        cid = _concern_id(page, concern_id)
        try:
            return await self._detail(page, scope, cid)
        except NotFound:
            related = RelatedService(page.session, scope)
            joined = await related.joined_one(cid)
            if joined is None:
                raise
            [view] = await related.views([joined])
            return page.render("resident/joined_concern.html", concern=view)

    @post("/me/concerns/{concern_id:str}/edit", status_code=303)
    async def edit(self, request: Request, page: PageDep, concern_id: FromPath[str]) -> Response:
        """The filer corrects their concern before staff triage it; refused, the form comes back as typed."""
        scope = await page.scope("concern.file")
        cid = _concern_id(page, concern_id)
        values = {k: str(v).strip() for k, v in (await request.form()).items() if k != "_csrf_token"}
        try:
            data = ConcernEdit(
                title=values.get("title", ""), description=values.get("description", ""),
                category=values.get("category", ""), place=values.get("place") or None,
                compound=_uuid_or_none(values.get("compound", ""), "compound", page._("Choose a compound from the list.")),
                building=_uuid_or_none(values.get("building", ""), "building", page._("Choose a building from the list.")))
            await CorrectionService(ConcernService(page.session, scope)).edit(cid, data)
        except DomainError as exc:
            await page.take_back(exc)
            scope = await page.scope("concern.read")
            return await self._detail(page, scope, cid, exc.status, edit_errors=page.errors(exc, "title"),
                                      edit_values=values, edit_form="edit")
        return Redirect(f"{page.base}/me/concerns/{cid}?edited=1", status_code=303)

    @post("/me/concerns/{concern_id:str}/withdraw", status_code=303)
    async def withdraw(self, request: Request, page: PageDep, concern_id: FromPath[str]) -> Response:
        scope = await page.scope("concern.file")
        cid = _concern_id(page, concern_id)
        values = {k: str(v).strip() for k, v in (await request.form()).items() if k != "_csrf_token"}
        try:
            await CorrectionService(ConcernService(page.session, scope)).withdraw(cid, values.get("reason") or None)
        except DomainError as exc:
            await page.take_back(exc)
            scope = await page.scope("concern.read")
            return await self._detail(page, scope, cid, exc.status, edit_errors=page.errors(exc, "reason"),
                                      edit_values=values, edit_form="withdraw")
        return Redirect(f"{page.base}/me/concerns/{cid}?withdrawn=1", status_code=303)

    @get("/me/concerns/{concern_id:str}/photos/{photo_id:str}")
    async def concern_photo(self, request: Request, page: PageDep, concern_id: FromPath[str],
                            photo_id: FromPath[str]) -> Response[bytes]:
        scope = await page.scope("concern.read")
        photo = page.path_id(photo_id, page._("There is no such photo here."))
        data, content_type = await ConcernService(page.session, scope, request.app.state.photo_store).photo(
            _concern_id(page, concern_id), photo)
        return Response(data, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"})

    @post("/me/concerns/{concern_id:str}/rating", status_code=303)
    async def rate(self, request: Request, page: PageDep, concern_id: FromPath[str]) -> Response:
        scope = await page.scope("topic.rate")
        concern_uuid = _concern_id(page, concern_id)
        concern = await ConcernService(page.session, scope).get(concern_uuid)
        if concern.topic_id is None:
            raise NotFound(page._("This concern has not fed a topic yet."))
        submitted = await request.form()
        raw_score, comment = str(submitted.get("score") or "").strip(), str(submitted.get("comment") or "")
        try:
            score = int(raw_score)
        except ValueError:
            return await self._detail(page, scope, concern_uuid, 422, page._("Choose a score from 1 to 5."),
                                      raw_score, comment)
        try:
            await TopicService(page.session, scope).rate(concern.topic_id, RatingIn(score=score, comment=comment))
        except DomainError as exc:
            scope = await _rolled_back(page, "topic.rate")
            return await self._detail(page, scope, concern_uuid, exc.status, page.refusal(exc), raw_score, comment)
        return Redirect(f"{page.base}/me/concerns/{concern_uuid}?rated=1", status_code=303)

    @post("/me/concerns/{concern_id:str}/revisit", status_code=303)
    async def revisit(self, request: Request, page: PageDep, concern_id: FromPath[str]) -> Response:
        """The resident's answer to the open round, or (channel phone) staff recording a phone revisit."""
        scope = await page.scope("concern.read")
        concern_uuid = _concern_id(page, concern_id)
        values = {k: str(v) for k, v in (await request.form()).items() if k != "_csrf_token"}
        solved = {"yes": True, "no": False}.get(values.get("solved", ""))
        if solved is None:
            return await self._detail(page, scope, concern_uuid, 422,
                                      revisit_errors={"solved": page._("Say whether it was solved.")},
                                      revisit_values=values)
        data = RevisitIn(solved=solved, satisfaction=values.get("satisfaction", ""),
                         channel=values.get("channel") or "self", note=values.get("note", "")[:2000] or None)
        try:
            await RevisitService(page.session, scope).answer(concern_uuid, data)
        except DomainError as exc:
            await page.take_back(exc)
            scope = await page.scope("concern.read")
            return await self._detail(page, scope, concern_uuid, exc.status,
                                      revisit_errors={exc.field or "form": page.refusal(exc)}, revisit_values=values)
        return Redirect(f"{page.base}/me/concerns/{concern_uuid}?revisited=1#revisit", status_code=303)


CONTROLLERS: list[type[Controller]] = [ResidentController]

"""The portal's public pages (no sign-in): home, published results, the meeting calendar, following a
concern by its reference, and signing in and out."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select

from core import clock
from core.accounts.services import AccountDeactivated, LoginService, UserService
from core.concerns.services import public_status
from core.errors import DomainError, NotFound
from core.http import DbSession, PageNumber, client_address, start_session
from core.portal.pages import Page, PageDep, Pager, provide_page, session_cookie, tenantless_context
from core.publishing.services import counting_below, handled_above, public_meetings, published_results
from core.reporting.rates import public_rates
from core.reporting.services import public_stats
from core.tenancy.models import KIND_NAMES, Tenant
from core.topics.calendar import ics_response, meeting_calendar
from core.topics.machine import PUBLIC_STATES, STEP_NAMES, STEPS
from core.topics.machine import STATE_NAMES as TOPIC_STATE_NAMES

PER_PAGE = 10


@dataclass
class SignIn:
    username: str = ""
    password: str = ""
    next: str = ""


@dataclass
class TrackForm:
    reference: str = ""


def safe_next(page: Page, target: str) -> str:
    """Only back into this portal: never an open redirect to another site."""
    return target if target.startswith(page.base + "/") and not target.startswith("//") else page.base + "/"


def tree_rows(tenants: Sequence[Tenant]) -> list[tuple[Tenant, int]]:
    """Tenants in the tree's order (sorted by path), each with its depth among them: 0 for the highest shown. A
    tenant whose parent is not listed (archived) is placed one below its nearest listed ancestor, never deeper."""
    listed: dict[uuid.UUID, int] = {}
    rows = []
    for tenant in tenants:
        ancestors = tenant.ancestor_ids[:-1]
        depth = next((listed[a] + 1 for a in reversed(ancestors) if a in listed), 0)
        listed[tenant.id] = depth
        rows.append((tenant, depth))
    return rows


class PortalRootController(Controller):
    """The platform's front door: every community's portal, by district and street."""

    path = "/"

    @get("/")
    async def index(self, request: Request, db_session: DbSession) -> Response:
        tenants = (await db_session.scalars(select(Tenant).where(Tenant.archived.is_(False))
                                            .order_by(Tenant.path).limit(2000))).all()
        return Template(template_name="index.html", context={**tenantless_context(request), "tree": tree_rows(tenants),
                                                             "kind_names": KIND_NAMES})


class PortalPublicController(Controller):
    path = "/t/{slug:str}"
    dependencies = {"page": Provide(provide_page)}

    @get("/", name="portal.home")
    async def home(self, request: Request, page: PageDep) -> Response:
        year = clock.today().year
        results, _ = await published_results(page.session, 3, 0)
        async with counting_below(page.session, page.tenant):
            stats = await public_stats(page.session, page.tenant, year)
            rates = await public_rates(page.session, page.tenant, year)
        return page.render(
            "home.html", stats=stats, results=results, rates=rates, below=page.tenant.kind != "community",
            meetings=await public_meetings(page.session, upcoming=True, limit=5),
            mechanisms=request.app.state.plugins.mechanism_names(),
            blocks=await request.app.state.plugins.portal_blocks(page.session, page.tenant), steps=STEP_NAMES,
        )

    @get("/results")
    async def results(self, page: PageDep, p: PageNumber = 1) -> Response:
        pager = Pager.at(p, PER_PAGE)
        results, total = await published_results(page.session, pager.per_page, pager.offset)
        return page.render("results.html", results=results, pager=pager.of(total), steps=STEP_NAMES)

    @get("/results/{topic_id:str}")
    async def result(self, page: PageDep, topic_id: FromPath[str]) -> Response:
        try:  # a mistyped link is a page not found, not a malformed request
            found, _ = await published_results(page.session, 1, 0, topic_id=uuid.UUID(topic_id))
        except ValueError:
            found = []
        if not found:
            raise NotFound(page._("There is no published result here."))
        return page.render("result.html", result=found[0], steps=STEP_NAMES)

    @get("/meetings")
    async def meetings(self, request: Request, page: PageDep) -> Response:
        return page.render("meetings.html", upcoming=await public_meetings(page.session, upcoming=True, limit=50),
                           past=await public_meetings(page.session, upcoming=False, limit=20),
                           mechanisms=request.app.state.plugins.mechanism_names(), public_states=PUBLIC_STATES)

    @get("/meetings.ics", media_type="text/calendar")
    async def meetings_feed(self, request: Request, page: PageDep) -> Response[bytes]:
        upcoming = await public_meetings(page.session, upcoming=True, limit=200)
        past = await public_meetings(page.session, upcoming=False, limit=200)
        body = meeting_calendar(page.tenant, [*past, *upcoming], request.app.state.plugins.mechanism_names())
        return ics_response(body, f"{page.tenant.slug}-meetings.ics")

    @get("/track")
    async def track_form(self, page: PageDep, reference: FromQuery[str | None] = None) -> Response:
        if reference:
            return Redirect(f"{page.base}/track/{reference.strip().upper()}")
        return page.render("track.html", concern=None, reference="", error=None)

    @get("/track/{reference:str}")
    async def track(self, request: Request, page: PageDep, reference: FromPath[str]) -> Response:
        client = client_address(request)
        try:
            concern = await public_status(page.session, page.tenant, reference, client)
        except NotFound:
            return page.render("track.html", status_code=404, concern=None, reference=reference,
                               error=page._("No concern has this tracking code here. Check the code and try again."))
        above = await handled_above(page.session, page.tenant, concern.reference) if concern.status == "taken_over" else None
        return page.render("track.html", concern=concern, reference=reference, error=None, steps=STEPS, above=above,
                           step_names=STEP_NAMES, topic_state_names=TOPIC_STATE_NAMES)

    @get("/login")
    async def login_form(self, page: PageDep, next: FromQuery[str] = "") -> Response:
        return page.render("login.html", next=safe_next(page, next), username="", error=None)

    @post("/login", status_code=303)
    async def login(self, request: Request, page: PageDep,
                    data: Annotated[SignIn, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Response:
        settings = request.app.state.settings
        service = LoginService(page.session, request.app.state.passwords, settings.login_max_failures,
                               settings.login_window_seconds)
        try:
            user = await service.authenticate(data.username.strip(), data.password, client_address(request))
        except DomainError as exc:
            # The failed attempt is counted (throttling) before the page answers: commit it, then say why.
            await page.session.commit()
            return page.render("login.html", status_code=exc.status, next=safe_next(page, data.next),
                               username=data.username, error=page._("Wrong username or password.")
                               if exc.status == 401 and not isinstance(exc, AccountDeactivated) else page.refusal(exc))
        token, lifetime = await start_session(request, page.session, user, "password")
        response = Redirect(safe_next(page, data.next), status_code=303)
        response.cookies.append(session_cookie(request, token, int(lifetime.total_seconds())))
        return response

    @post("/logout", status_code=303)
    async def logout(self, request: Request, page: PageDep) -> Response:
        if page.user is not None:  # the cookie's session ends everywhere, not only in this browser
            await UserService(page.session).sign_out(page.user.id, page.user.session_version)
        # What the installed portal kept on this device (the field page, the queue, the recent concerns) goes too.
        response = Redirect(page.base + "/", status_code=303, headers={"Clear-Site-Data": '"cache", "storage"'})
        response.cookies.append(session_cookie(request, None, 0))
        return response

    @get("/{rest:path}", include_in_schema=False)
    async def not_found(self, page: PageDep, rest: FromPath[str]) -> Response:
        raise NotFound(page._("There is no such page here."))

"""District and street administrators in the portal: a dashboard over every community below (figures per
community, charts drawn without any script), escalated concerns to take over or send back, and onboarding a
new community (or street) with its first staff account."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import func, select

from core import clock
from core.accounts.services import MemberService, UserService
from core.authz.rules import ROLES, grant_action
from core.concerns.models import Concern
from core.concerns.services import ConcernService, category_names
from core.errors import DomainError, InvalidInput, InvalidInputs, NotFound
from core.http import PageNumber
from core.inputs import period as check_period
from core.portal import when
from core.portal.i18n import N_
from core.portal.pages import Page, PageDep, Pager, provide_page
from core.related.hot import hot_topics
from core.reporting.rates import ranking, report_month, tenant_rates
from core.reporting.services import community_dashboard, sort_rows
from core.tenancy.models import ALLOWED_PARENT_KINDS, KIND_NAMES, TENANT_KINDS, Tenant
from core.tenancy.scope import TenantScope
from core.tenancy.services import TenantService
from core.timelimits.adjustments import ClockService

ESCALATIONS_PER_PAGE = 50
# The table's columns, in order: (key, English msgid). Sorting takes only these keys.
COLUMNS = (
    ("name", N_("Community")),
    ("parent", N_("Under")),
    ("concerns_received", N_("Concerns received")),
    ("resolved_directly", N_("Resolved directly")),
    ("topics", N_("Topics")),
    ("consultations_held", N_("Consultations held")),
    ("matters_completed", N_("Matters completed")),
    ("median_days_to_completion", N_("Median days to completion")),
    ("overdue_action_items", N_("Overdue action items")),
    ("average_rating", N_("Residents' rating")),
)
SORTABLE = {key for key, _label in COLUMNS}
# The first staff account of a new tenant, by its kind.
STAFF_ROLE = {"community": "community_staff", "street": "street_staff", "town": "street_staff"}
PLUGIN_LABELS = {"liaison_station": N_("Liaison station of deputies"),
                 "cppcc_consultation": N_("CPPCC consultation"), "red_pavilion": N_("Red pavilion deliberation")}
EXTENSION_NOTICES = {"approved": N_("Approved: the community's deadline to resolve moved on."),
                     "refused": N_("Refused: the community's deadline stays; they were told why.")}
NOTICES = {"taken_over": N_("Taken over: the matter is now a concern of this level, reference {reference}."),
           "sent_back": N_("Sent back to the community with your instructions.")}


@dataclass
class WaitingBelow:
    """A tenant below (a street, a town) with concerns its communities escalated to it, still waiting."""

    tenant: Tenant
    waiting: int


async def waiting_below(scope: TenantScope) -> list[WaitingBelow]:
    """Each tenant below the scope's (a district's streets) with concerns escalated to it still waiting, and how
    many, in the tree's order. Read in the scope's subtree: another district's never appear. The waiting concerns
    are counted by where they wait, then kept to the tenants below in the tree (asked of the concerns as one
    condition, the planner would compare every waiting concern with every tenant below)."""
    session, tenant = scope.session, scope.tenant
    async with scope.subtree():
        counts = dict((await session.execute(select(Concern.escalated_to_id, func.count())
                                             .where(Concern.status == "escalated")
                                             .group_by(Concern.escalated_to_id))).all())
    at = [tenant_id for tenant_id in counts if tenant_id is not None]
    tenants = (await session.scalars(select(Tenant).where(
        Tenant.id.in_(at), Tenant.path.startswith(tenant.path), Tenant.id != tenant.id).order_by(Tenant.path))).all() \
        if at else []
    return [WaitingBelow(t, int(counts[t.id])) for t in tenants]


async def escalations_below(scope: TenantScope, limit: int,
                            offset: int) -> tuple[list[tuple[Concern, Tenant, str]], int, list[WaitingBelow]]:
    """A page of the concerns waiting at every tenant below the scope's, oldest first, each with the tenant it
    waits at and the name of the community it came from; their number; and `waiting_below`."""
    session, streets = scope.session, await waiting_below(scope)
    at = {w.tenant.id: w.tenant for w in streets}
    concerns: Sequence[Concern] = []
    if at:
        async with scope.subtree():  # what each concern says stays with the street: its number and the community's name
            concerns = (await session.scalars(select(Concern).where(
                Concern.status == "escalated", Concern.escalated_to_id.in_(list(at)))
                .order_by(Concern.created_at, Concern.id).limit(limit).offset(offset))).all()
    communities = dict((await session.execute(select(Tenant.id, Tenant.name).where(
        Tenant.id.in_({c.tenant_id for c in concerns})))).all()) if concerns else {}
    items = [(c, at[c.escalated_to_id], communities.get(c.tenant_id, "")) for c in concerns if c.escalated_to_id in at]
    return items, sum(w.waiting for w in streets), streets


def _child_kinds(tenant: Tenant) -> list[str]:
    return [kind for kind in TENANT_KINDS if tenant.kind in ALLOWED_PARENT_KINDS[kind] and kind in STAFF_ROLE]


EMPTY_ONBOARD = {"slug": "", "name": "", "kind": "", "plugins": [], "username": "", "display_name": "", "phone": "",
                 "password": ""}


def _concern_id(page: Page, raw: str) -> uuid.UUID:
    return page.path_id(raw, page._("There is no such escalated concern here."))


class AdminController(Controller):
    path = "/t/{slug:str}/admin"
    dependencies = {"page": Provide(provide_page)}

    # 1. the dashboard ---------------------------------------------------------------------------------

    @get("/")
    async def dashboard(self, page: PageDep, sort: FromQuery[str] = "", dir: FromQuery[str] = "asc") -> Response:
        scope = await page.scope("stats.read")
        today = clock.today()
        errors: dict[str, str] = {}
        query = page.request.query_params
        raw = {key: query.get(key, "")[:when.MAX_LENGTH] for key in ("from", "to", "month")}
        parsed: dict[str, Any] = {}
        for key, label in (("from", page._("From")), ("to", page._("To")), ("month", page._("Month of the rates"))):
            try:
                parsed[key] = when.read(page._, raw[key], "month" if key == "month" else "date", field=key, label=label)
            except InvalidInput as exc:
                parsed[key], errors[key] = None, page.refusal(exc)
        start = parsed["from"] or datetime.date(today.year, 1, 1)
        end = parsed["to"] or today
        if "from" not in errors and "to" not in errors:
            try:
                check_period(start, end)
            except InvalidInputs as exc:
                errors |= exc.by_field(page._)
        if errors.keys() & {"from", "to"}:  # show the form with its errors, and the figures of this year meanwhile
            start, end = datetime.date(today.year, 1, 1), today
        try:
            month = report_month(when.shown(parsed["month"], "month") or None)
        except InvalidInput:
            errors.setdefault("month", page._("Enter a month like 2026-11, not after this one."))
            month = today.replace(day=1)
        sort = sort if sort in SORTABLE else ""  # none: the tree's order (street by street)
        descending = dir == "desc" and bool(sort)
        board = await community_dashboard(scope, start, end)
        rows = sort_rows(board.rows, sort, descending) if sort else board.rows
        period = {key: raw[key] for key in ("from", "to", "month")} if not errors else {}
        can_rates = await page.can("rates.read")
        rates = await tenant_rates(scope, month) if can_rates else None
        ranked = await ranking(scope, month) if can_rates else None
        hot = await hot_topics(scope, month)
        can_escalations = await page.can("concern.escalation")
        waiting_below_here = await waiting_below(scope) if can_escalations else []

        def sort_link(column: str) -> str:
            flip = "asc" if column == sort and descending else ("desc" if column == sort else
                                                                  ("asc" if column in ("name", "parent") else "desc"))
            query = {k: v for k, v in period.items() if v}
            return f"{page.base}/admin?" + urlencode({**query, "sort": column, "dir": flip})

        return page.render(
            "admin/dashboard.html", status_code=422 if errors else 200, board=board, rows=rows,
            columns=COLUMNS, sort=sort, descending=descending, sort_link=sort_link, errors=errors, raw=raw,
            date_from=start, date_to=end, month=month.strftime("%Y-%m"), rates=rates, ranking=ranked,
            rate_bars=[(row.name, round(100 * (row.composite or 0), 1)) for row in ranked.ranked] if ranked else [],
            hot=hot,
            can_escalations=can_escalations, waiting_below=waiting_below_here,
            can_extensions=await page.can("concern.extension_decide"), can_onboard=await page.can("tenant.create_child"),
        )

    # 2. escalated concerns -------------------------------------------------------------------------------

    async def _escalations(self, page: Page, pager: Pager, status_code: int = 200, errors: dict[str, str] | None = None,
                           instructions: dict[str, str] | None = None, notice: str | None = None) -> Response:
        scope = await page.scope("concern.escalation")
        service = ConcernService(page.session, scope, page.request.app.state.photo_store)
        concerns, total = await service.escalations(pager.per_page, pager.offset)
        shown = await service.to_out(concerns)
        origin_ids = {c.tenant_id for c in concerns}
        origins = dict((await page.session.execute(select(Tenant.id, Tenant.name).where(
            Tenant.id.in_(origin_ids)))).all()) if origin_ids else {}
        items = [(out, origins.get(c.tenant_id, "")) for c, out in zip(concerns, shown, strict=True)]
        return page.render("admin/escalations.html", status_code=status_code, items=items, pager=pager.of(total),
                           errors=errors or {}, instructions=instructions or {}, notice=notice)

    @get("/escalations")
    async def escalations(self, page: PageDep, notice: FromQuery[str | None] = None,
                          reference: FromQuery[str] = "", p: PageNumber = 1) -> Response:
        message = page._(NOTICES[notice]).format(reference=reference) if notice in NOTICES else None
        return await self._escalations(page, Pager.at(p, ESCALATIONS_PER_PAGE), notice=message)

    @get("/escalations/below")
    async def escalations_of_those_below(self, page: PageDep, p: PageNumber = 1) -> Response:
        """Every concern waiting at a tenant below (a district's streets), each linked to where it is answered."""
        scope = await page.scope("concern.escalation")
        pager = Pager.at(p, ESCALATIONS_PER_PAGE)
        items, total, streets = await escalations_below(scope, pager.per_page, pager.offset)
        return page.render("admin/escalations_below.html", items=items, streets=streets, pager=pager.of(total),
                           categories=await category_names(page.session))

    @post("/escalations/{concern_id:str}/take-over", status_code=303)
    async def take_over(self, page: PageDep, concern_id: FromPath[str]) -> Response:
        scope = await page.scope("concern.escalation")
        service = ConcernService(page.session, scope, page.request.app.state.photo_store)
        taken = await service.take_over(_concern_id(page, concern_id))
        query = urlencode({"notice": "taken_over", "reference": taken.reference})
        return Redirect(f"{page.base}/admin/escalations?{query}", status_code=303)

    @post("/escalations/{concern_id:str}/send-back", status_code=303)
    async def send_back(self, request: Request, page: PageDep, concern_id: FromPath[str],
                        p: PageNumber = 1) -> Response:
        scope = await page.scope("concern.escalation")
        form = await request.form()
        text = str(form.get("instructions") or "")
        service = ConcernService(page.session, scope, request.app.state.photo_store)
        try:
            await service.send_back(_concern_id(page, concern_id), text)
        except DomainError as exc:
            if exc.field != "instructions":
                raise
            await page.rollback()
            message = page._("Write the instructions for the community.") if not text.strip() else page.refusal(exc)
            return await self._escalations(page, Pager.at(p, ESCALATIONS_PER_PAGE), status_code=422,
                                           errors={concern_id: message},
                                           instructions={concern_id: text})
        return Redirect(f"{page.base}/admin/escalations?notice=sent_back", status_code=303)

    # 2b. extensions (延期) the tenants directly below asked for ------------------------------------------------

    async def _extensions(self, page: Page, pager: Pager, status_code: int = 200, errors: dict[str, str] | None = None,
                          notes: dict[str, str] | None = None, notice: str | None = None) -> Response:
        scope = await page.scope("concern.extension_decide")
        items, total = await ClockService(page.session, scope).pending_extensions(pager.per_page, pager.offset)
        return page.render("admin/extensions.html", status_code=status_code, items=items, pager=pager.of(total),
                           errors=errors or {}, notes=notes or {}, notice=notice)

    @get("/extensions")
    async def extensions(self, page: PageDep, notice: FromQuery[str | None] = None, p: PageNumber = 1) -> Response:
        message = page._(EXTENSION_NOTICES[notice]) if notice in EXTENSION_NOTICES else None
        return await self._extensions(page, Pager.at(p, ESCALATIONS_PER_PAGE), notice=message)

    @post("/extensions/{extension_id:str}/decision", status_code=303)
    async def decide_extension(self, request: Request, page: PageDep, extension_id: FromPath[str],
                               p: PageNumber = 1) -> Response:
        scope = await page.scope("concern.extension_decide")
        form = await request.form()
        approve, note = form.get("decision") == "approve", str(form.get("note") or "")
        try:
            await ClockService(page.session, scope).decide(page.path_id(extension_id), approve, note)
        except DomainError as exc:
            await page.take_back(exc)
            return await self._extensions(page, Pager.at(p, ESCALATIONS_PER_PAGE), status_code=exc.status,
                                          errors={extension_id: page.refusal(exc)}, notes={extension_id: note})
        return Redirect(f"{page.base}/admin/extensions?notice={'approved' if approve else 'refused'}", status_code=303)

    # 3. onboarding ---------------------------------------------------------------------------------------

    def _onboard_form(self, page: Page, status_code: int = 200, values: dict[str, Any] | None = None,
                      errors: dict[str, str] | None = None) -> Response:
        kinds = _child_kinds(page.tenant)
        values = values or {**EMPTY_ONBOARD, "kind": kinds[0] if kinds else ""}
        return page.render("admin/onboard.html", status_code=status_code, values=values, errors=errors or {},
                           kinds=[(k, KIND_NAMES[k]) for k in kinds],
                           plugins=[(p, PLUGIN_LABELS.get(p, p)) for p in page.request.app.state.installed_plugins])

    @get("/onboard")
    async def onboard_form(self, page: PageDep) -> Response:
        await page.scope("tenant.create_child")
        return self._onboard_form(page)

    @post("/onboard", status_code=303)
    async def onboard(self, request: Request, page: PageDep) -> Response:
        scope = await page.scope("tenant.create_child")
        form = await request.form()
        values: dict[str, Any] = {key: str(form.get(key) or "").strip() for key in EMPTY_ONBOARD if key != "plugins"}
        values["plugins"] = [str(p) for p in form.getall("plugins")] if "plugins" in form else []
        password = str(form.get("password") or "")
        kinds = _child_kinds(page.tenant)
        known = set(EMPTY_ONBOARD) | {"password"}
        errors: dict[str, str] = {}

        def refused(exc: DomainError) -> None:
            if exc.field is None and not isinstance(exc, InvalidInputs):  # not about the input: the error page
                raise exc
            for name, message in page.errors(exc).items():
                where = name if name in known else ("kind" if name == "parent" else "slug")
                errors.setdefault(where, message)

        # One transaction: the tenant, its first staff account and the role; any refusal undoes all three. The
        # tenant and the account are each tried even when the other is refused, so the form names every field
        # to correct at once (a savepoint keeps one refusal from spoiling the other's check).
        tenant = user = None
        try:
            if values["kind"] not in kinds:  # the service would refuse it too; say so next to the field
                raise InvalidInput(page._("Choose one of the kinds offered."), field="kind")
            async with page.session.begin_nested():
                tenant = await TenantService(page.session, request.app.state.installed_plugins).create(
                    values["slug"], values["name"], values["kind"], page.tenant, values["plugins"])
        except DomainError as exc:
            refused(exc)
        try:
            async with page.session.begin_nested():
                user = await UserService(page.session).create(values["username"], password,
                                                              values["display_name"] or None, values["phone"] or None,
                                                              passwords=request.app.state.passwords)
        except DomainError as exc:
            refused(exc)
        if tenant is None or user is None:
            await page.rollback()
            # A taken slug or username is a conflict for the API; for the form it is input to correct: 422. What
            # the person typed stays in the form, the password too.
            return self._onboard_form(page, status_code=422, values={**values, "password": password}, errors=errors)
        role = STAFF_ROLE[values["kind"]]
        # Granting is authorized in the new tenant as the API's member grant is (role.<role> there).
        async with scope.acting_in(tenant) as child:
            child.require(grant_action(role))
            await MemberService(page.session, child.tenant).grant(user.username, role, scope.user_id)
        return Redirect(f"{page.base}/admin/onboard/{tenant.slug}", status_code=303)

    @get("/onboard/{child:str}")
    async def onboarded(self, request: Request, page: PageDep, child: FromPath[str]) -> Response:
        """What onboarding created: the tenant, its plugins, its members (phone numbers masked)."""
        scope = await page.scope("tenant.create_child")
        found = await page.session.scalar(select(Tenant).where(
            Tenant.slug == child, Tenant.parent_id == page.tenant.id))
        if found is None:
            raise NotFound(page._("There is no such community under this one."))
        async with scope.acting_in(found) as there:
            there.require("member.read")
            members, _total = await MemberService(page.session, there.tenant).page(scope.user_id, False, 50, 0)
        return page.render("admin/onboarded.html", child=found, members=members, kind_names=KIND_NAMES,
                           role_names=ROLES, plugin_labels=PLUGIN_LABELS)


CONTROLLERS: list[type[Controller]] = [AdminController]

"""The signed-in user's workspace (/t/{slug}/me): the pages their roles here open to them, one link each."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Controller, Response, get
from litestar.di import Provide

from core.errors import Unauthenticated
from core.portal.i18n import N_
from core.portal.pages import PageDep, provide_page


@dataclass(frozen=True)
class Entry:
    action: str  # shown when the user may do this here
    path: str  # under /t/{slug}
    label: str  # English msgid
    plugin: str | None = None  # shown only where the tenant has enabled this plugin


# Every workspace page, in the order people use them. The pages themselves check the same action again.
ENTRIES = (
    Entry("concern.file", "/concerns/new", N_("Raise a concern")),
    Entry("concern.file", "/me/concerns", N_("My concerns")),
    Entry("concern.file_on_behalf", "/field", N_("Filing in the field (works offline)")),
    Entry("concern.triage", "/staff/inbox", N_("Triage inbox")),
    Entry("topic.manage", "/staff/topics", N_("Topics by step")),
    Entry("action.progress", "/actions", N_("My action items")),
    Entry("liaison.duty_list", "/deputy", N_("Duty list and receptions"), "liaison_station"),
    Entry("cppcc.read", "/cppcc", N_("Research topics and problem lists"), "cppcc_consultation"),
    Entry("pavilion.read", "/pavilion", N_("Red pavilion sessions"), "red_pavilion"),
    Entry("member.read", "/staff/people", N_("People and roles")),
    Entry("compound.manage", "/staff/compounds", N_("Compounds, buildings and the join QR code")),
    Entry("timelimit.read", "/staff/time-limits", N_("Time limits")),
    Entry("residence.confirm", "/staff/residents", N_("Residents and where they live")),
    Entry("stats.read", "/admin", N_("Dashboard of the communities below")),
    Entry("concern.escalation", "/admin/escalations", N_("Escalated concerns")),
    Entry("tenant.create_child", "/admin/onboard", N_("Onboard a community")),
)


class WorkspaceController(Controller):
    path = "/t/{slug:str}/me"
    dependencies = {"page": Provide(provide_page)}

    @get("/")
    async def workspace(self, page: PageDep) -> Response:
        if page.user is None:
            raise Unauthenticated(page._("Please sign in first."))
        enabled = set(page.tenant.plugins or ())
        entries = [entry for entry in ENTRIES
                   if (entry.plugin is None or entry.plugin in enabled) and await page.can(entry.action)]
        return page.render("workspace.html", entries=entries)

"""The signed-in user's workspace (/t/{slug}/me): the pages their roles here open to them, one link each."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Controller, Response, get
from litestar.di import Provide

from core.errors import Unauthenticated
from core.portal.pages import PageDep, provide_page


@dataclass(frozen=True)
class Entry:
    action: str  # shown when the user may do this here
    path: str  # under /t/{slug}
    label: str  # English msgid
    plugin: str | None = None  # shown only where the tenant has enabled this plugin


# Every workspace page, in the order people use them. The pages themselves check the same action again.
ENTRIES = (
    Entry("concern.file", "/concerns/new", "Raise a concern"),
    Entry("concern.file", "/me/concerns", "My concerns"),
    Entry("concern.triage", "/staff/inbox", "Triage inbox"),
    Entry("topic.manage", "/staff/topics", "Topics by step"),
    Entry("action.progress", "/actions", "My action items"),
    Entry("liaison.duty_list", "/deputy", "Duty list and receptions", "liaison_station"),
    Entry("cppcc.read", "/cppcc", "Research topics and problem lists", "cppcc_consultation"),
    Entry("pavilion.read", "/pavilion", "Red pavilion sessions", "red_pavilion"),
    Entry("stats.read", "/admin", "Dashboard of the communities below"),
    Entry("concern.escalation", "/admin/escalations", "Escalated concerns"),
    Entry("tenant.create_child", "/admin/onboard", "Onboard a community"),
)


def _(message: str) -> str:
    """Marks a message for the catalogue; it is translated where it is shown."""
    return message


_("Raise a concern"), _("My concerns"), _("Triage inbox"), _("Topics by step"), _("My action items")
_("Duty list and receptions"), _("Research topics and problem lists"), _("Dashboard of the communities below")
_("Escalated concerns"), _("Onboard a community"), _("Red pavilion sessions")


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

"""The signed-in person's notification pages: the inbox (站内信) of every tenant's messages to them, marking them
read, and their choice of channels per kind. The queries and rules are `core.notifications.services`'; these
pages read forms and show what it answers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Redirect

from core.errors import DomainError, Unauthenticated
from core.http import PageNumber
from core.notifications import services
from core.notifications.models import Notification
from core.portal.i18n import N_
from core.portal.pages import COUNTS_BELL, Page, PageDep, Pager, provide_page

PER_PAGE = 20
# The channels a person picks on the page; any other they chose through the API (a webhook) is kept as it is.
SHOWN_CHANNELS = {"email": N_("Email"), "sms": N_("SMS")}
# What each kind of notification is about, as the settings page names it (every kind in services.KINDS).
KIND_LABELS = {
    "concern.accepted": N_("My concern was accepted"),
    "concern.rejected": N_("My concern was not accepted"),
    "concern.resolved": N_("My concern was resolved directly"),
    "concern.escalated": N_("My concern was escalated"),
    "concern.in_topic": N_("My concern became part of a topic"),
    "concern.merged": N_("My concern was merged with another about the same matter"),
    "concern.revisit": N_("Asked whether my resolved concern was solved"),
    "topic.meeting_scheduled": N_("A meeting on my topic was scheduled"),
    "topic.result_published": N_("The result of my topic was published"),
    "topic.action_completed": N_("An action item of my topic was completed"),
    "meeting.invited": N_("I am invited to a meeting"),
    "meeting.rescheduled": N_("A meeting I am invited to was moved"),
    "meeting.cancelled": N_("A meeting I am invited to was cancelled"),
    "meeting.reminder": N_("Reminder the day before a meeting"),
    "action.assigned": N_("An action item was assigned to me"),
    "action.due_soon": N_("An action item of mine is due soon"),
    "action.overdue": N_("An action item of mine is overdue"),
    "action.overdue_in": N_("An action item here is overdue (staff)"),
    "concern.new": N_("A new concern arrived (staff)"),
    "concern.escalated_in": N_("A concern was escalated to us (staff)"),
    "follow_up.low_rating": N_("A low rating needs a follow-up visit (staff)"),
    "concern.reopened_in": N_("A concern was reopened: its resident says it was not solved (staff)"),
    "concern.deadline_warning": N_("A concern here is due soon (staff)"),
    "concern.supervised": N_("A supervision notice about an overdue concern here (staff)"),
    "concern.supervised_below": N_("A concern of a tenant below is overdue (staff)"),
    "concern.auto_escalated": N_("An overdue concern here was escalated (staff)"),
    "concern.extension_requested": N_("A tenant below asks for an extension (staff)"),
    "concern.extension_approved": N_("Our extension request was approved (staff)"),
    "concern.extension_refused": N_("Our extension request was refused (staff)"),
}


@dataclass
class Item:
    """One message as the inbox shows it."""

    row: Notification
    tenant_name: str
    link: str | None  # a path on our own site only: a message's link never leads elsewhere


@dataclass
class Row:
    """One kind on the settings page: what is chosen (or would be sent by default), as the form shows it."""

    kind: str
    label: str
    channels: list[str]
    digest: bool
    default: bool
    hidden: list[str]  # chosen channels the page does not offer (kept when saving)


def _row(choice: services.Choice, channels: list[str], digest: bool) -> Row:
    """`choice` as the form shows it, with the channels and digest the form holds (as saved, or as sent)."""
    hidden = [ch for ch in choice.channels if ch not in SHOWN_CHANNELS]
    return Row(choice.kind, KIND_LABELS.get(choice.kind, choice.kind), channels, digest, choice.default, hidden)


def _local_path(link: str | None) -> str | None:
    return link if link and link.startswith("/") and not link.startswith("//") else None


def _signed_in(page: Page) -> uuid.UUID:
    if page.user is None:
        raise Unauthenticated(page._("Please sign in first."))
    return page.user.id


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


class NotificationsController(Controller):
    path = "/t/{slug:str}/notifications"
    dependencies = {"page": Provide(provide_page)}

    # --- the inbox ---------------------------------------------------------------------------------------

    @get("/", opt={COUNTS_BELL: True})
    async def inbox(self, page: PageDep, p: PageNumber = 1) -> Response:
        me = _signed_in(page)
        pager = Pager.at(p, PER_PAGE)
        found = await services.inbox(page.session, me, unread_only=False, limit=pager.per_page, offset=pager.offset)
        page.unread = found.unread  # the inbox's own count is the bell's
        items = [Item(row, name, _local_path(row.link)) for row, _slug, name in found.items]
        return page.render("notifications.html", items=items, pager=pager.of(found.total),
                           marked=page.request.query_params.get("marked"))

    @post("/{notification_id:str}/read", status_code=303, opt={COUNTS_BELL: True})
    async def read_one(self, request: Request, page: PageDep, notification_id: FromPath[str],
                       p: PageNumber = 1) -> Response:
        me = _signed_in(page)
        nid = page.path_id(notification_id, page._("There is no such notification."))
        await services.mark_read(page.session, me, nid)
        if _is_htmx(request):  # the item's state, now read, and the bell in the header with its new count
            return page.render("_notification_state.html", nid=nid, read=True,
                               unread=await services.unread_count(page.session, me))
        return Redirect(f"{page.base}/notifications{Pager.at(p, PER_PAGE).query}#n-{nid}", status_code=303)

    @post("/read", status_code=303, opt={COUNTS_BELL: True})
    async def read_all(self, page: PageDep) -> Response:
        marked = await services.mark_read(page.session, _signed_in(page))
        return Redirect(f"{page.base}/notifications?marked={marked}", status_code=303)

    # --- choices of channel --------------------------------------------------------------------------------

    async def _settings(self, page: Page, rows: list[Row], errors: dict[str, str], status_code: int = 200) -> Response:
        return page.render("notification_settings.html", status_code=status_code, rows=rows, errors=errors,
                           channels=SHOWN_CHANNELS, saved=page.request.query_params.get("saved") == "1")

    @get("/settings")
    async def settings(self, page: PageDep) -> Response:
        me = _signed_in(page)
        rows = [_row(c, [ch for ch in c.channels if ch in SHOWN_CHANNELS], c.digest)
                for c in await services.choices(page.session, me)]
        return await self._settings(page, rows, {})

    @post("/settings", status_code=303)
    async def save_settings(self, request: Request, page: PageDep) -> Response:
        me = _signed_in(page)
        form = await request.form()
        rows: list[Row] = []
        errors: dict[str, str] = {}
        for current in await services.choices(page.session, me):
            row = _row(current, [str(v) for v in form.getall(f"channels-{current.kind}", [])],
                       form.get(f"digest-{current.kind}") == "on")
            rows.append(row)
            wanted = [*row.channels, *row.hidden]
            # Only a changed kind becomes the person's own choice: the others keep following the default.
            if sorted(set(wanted)) == sorted(current.channels) and row.digest == current.digest:
                continue
            try:
                await services.choose(page.session, me, current.kind, wanted, row.digest)
            except DomainError as exc:
                errors[current.kind] = " ".join(page.errors(exc).values())
        if errors:  # nothing is saved unless everything is
            await page.rollback()
            return await self._settings(page, rows, errors, status_code=422)
        return Redirect(f"{page.base}/notifications/settings?saved=1", status_code=303)


CONTROLLERS: list[type[Controller]] = [NotificationsController]

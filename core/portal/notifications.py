"""The signed-in person's notification pages: the inbox (站内信) of every tenant's messages to them, and marking
them read. The queries are `core.notifications.services`'; these pages read forms and show what it answers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Redirect

from core.errors import Unauthenticated
from core.http import PageNumber
from core.notifications import services
from core.notifications.models import Notification
from core.portal.pages import COUNTS_BELL, Page, PageDep, Pager, provide_page

PER_PAGE = 20


@dataclass
class Item:
    """One message as the inbox shows it."""

    row: Notification
    tenant_name: str
    link: str | None  # a path on our own site only: a message's link never leads elsewhere


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


CONTROLLERS: list[type[Controller]] = [NotificationsController]

"""The liaison station's portal page (/t/{slug}/deputy): the signed-in deputy's duty list with its notes and
feedback, a form to record what they did on each item, and the stations' next receptions. Staff, who see
every deputy's items, choose a deputy; a street's or district's staff read the lists of every community below
(notes are written in the community's own portal)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core.accounts.models import User
from core.errors import DomainError
from core.portal.pages import Page, PageDep
from core.portal.plugin_pages import plugin_page
from core.topics.machine import PUBLIC_STATES
from core.topics.models import Topic
from plugins.liaison_station import NAME
from plugins.liaison_station.models import DUTY_STATES, DutyItem
from plugins.liaison_station.services import NOTE_KINDS, LiaisonService, NoteIn, next_receptions


@dataclass
class NoteForm:
    kind: str = "other"
    text: str = ""


async def _deputies(page: Page, service: LiaisonService) -> list[tuple[str, str]]:
    """Deputies who have items here, or below (for the staff's filter): (username, name)."""
    async with service.below():
        deputy_ids = set((await page.session.scalars(select(DutyItem.deputy_id).distinct())).all())
    rows = await page.session.execute(
        select(User.username, User.display_name).where(User.id.in_(deputy_ids)).order_by(User.username))
    return [(username, name or username) for username, name in rows.all()] if deputy_ids else []


async def _render(page: Page, deputy: str | None, status_code: int = 200, error: DomainError | None = None,
                  failed_item: uuid.UUID | None = None, form: NoteForm | None = None, noted: bool = False) -> Response:
    scope = await page.scope("liaison.duty_list")
    service = LiaisonService(page.session, scope)
    staff = service.is_staff
    chosen = deputy if staff and deputy else None
    items = await service.merged_duty_list(chosen, None)
    receptions = [{"text": page.phrase(r), "at": r["at"]} for r in (await next_receptions(page.session))[:10]]
    topic_ids = {i.topic for i in items if i.topic}
    topics: dict[Any, Topic] = {}
    if topic_ids:
        async with service.below():
            topics = {t.id: t for t in (await page.session.scalars(select(Topic).where(Topic.id.in_(topic_ids)))).all()}
    return page.render(
        "liaison_station/deputy.html", status_code=status_code, items=items, topics=topics,
        public_states=PUBLIC_STATES, receptions=receptions, staff=staff,
        deputies=await _deputies(page, service) if staff else [], from_above=service.from_above, deputy=chosen or "", note_kinds=NOTE_KINDS,
        error=error, failed_item=failed_item, form=form or NoteForm(), duty_states=DUTY_STATES, noted=noted)


class DeputyPortalController(Controller):
    path = "/t/{slug:str}/deputy"
    dependencies = {"page": plugin_page(NAME)}

    @get("/")
    async def duty_list(self, page: PageDep, deputy: FromQuery[str | None] = None,
                        noted: FromQuery[int | None] = None) -> Response:
        return await _render(page, deputy, noted=bool(noted))

    @post("/items/{item_id:uuid}/notes", status_code=303)
    async def add_note(self, page: PageDep, item_id: FromPath[uuid.UUID],
                       data: Annotated[NoteForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
                       deputy: FromQuery[str | None] = None) -> Response:
        scope = await page.scope("liaison.duty_note")
        try:
            await LiaisonService(page.session, scope).add_note(item_id, NoteIn(kind=data.kind, text=data.text))
        except DomainError as exc:
            await page.take_back(exc)
            return await _render(page, deputy, status_code=exc.status, error=exc, failed_item=item_id, form=data)
        target = f"{page.base}/deputy?noted=1" + (f"&deputy={quote(deputy)}" if deputy else "")
        return Redirect(f"{target}#item-{item_id}", status_code=303)

"""The API of a person's notifications (`/api/v1/me/notifications`), one-click unsubscribe, and, in development
only, `/dev/outbox`: every message any channel sent."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy import select

from core.accounts.models import User
from core.errors import Unauthenticated
from core.http import DbSession, Limit, Offset, Principal
from core.inputs import Input
from core.notifications import services
from core.notifications.delivery import read_unsubscribe_token
from core.notifications.models import Notification
from core.tenancy.models import Tenant
from core.tenancy.scope import within


class NotificationOut(msgspec.Struct):
    id: uuid.UUID
    tenant: str
    tenant_name: str
    kind: str
    subject: str
    body: str
    link: str | None
    created_at: datetime.datetime
    read_at: datetime.datetime | None


class InboxOut(msgspec.Struct):
    items: list[NotificationOut]
    total: int
    unread: int
    limit: int
    offset: int


class ChoiceOut(msgspec.Struct):
    kind: str
    channels: list[str]
    digest: bool
    default: bool


class ChoiceIn(Input):
    channels: list[str] = msgspec.field(default_factory=list)
    digest: bool = False


class ReadOut(msgspec.Struct):
    marked: int
    unread: int


async def _me(request: Request, session: DbSession) -> uuid.UUID:
    principal: Principal = request.user
    found = await session.scalar(select(User.id).where(User.id == principal.user_id, User.active.is_(True),
                                                       User.session_version == principal.session_version))
    if found is None:
        raise Unauthenticated("账号不存在或已停用，请重新登录")
    return found


class MyNotificationsController(Controller):
    path = "/api/v1/me"
    tags = ["通知 Notifications"]

    @get("/notifications", summary="我的站内信（各租户），最新在前")
    async def list_mine(self, request: Request, db_session: DbSession, limit: Limit = 20, offset: Offset = 0,
                        unread: Annotated[bool, QueryParameter(description="只看未读")] = False) -> InboxOut:
        page = await services.inbox(db_session, await _me(request, db_session), unread_only=unread,
                                    limit=limit, offset=offset)
        return InboxOut(items=[NotificationOut(row.id, slug, name, row.kind, row.subject, row.body, row.link,
                                               row.created_at, row.read_at) for row, slug, name in page.items],
                        total=page.total, unread=page.unread, limit=limit, offset=offset)

    @post("/notifications/{notification_id:uuid}/read", status_code=HTTP_200_OK, summary="标为已读")
    async def read_one(self, request: Request, db_session: DbSession, notification_id: FromPath[uuid.UUID]) -> ReadOut:
        me = await _me(request, db_session)
        marked = await services.mark_read(db_session, me, notification_id)
        return ReadOut(marked, await services.unread_count(db_session, me))

    @post("/notifications/read", status_code=HTTP_200_OK, summary="全部标为已读")
    async def read_all(self, request: Request, db_session: DbSession) -> ReadOut:
        me = await _me(request, db_session)
        marked = await services.mark_read(db_session, me)
        return ReadOut(marked, 0)

    @get("/notification-preferences", summary="我的通知方式：每类通知的渠道（站内信总是开启），或改为每日摘要")
    async def my_choices(self, request: Request, db_session: DbSession) -> list[ChoiceOut]:
        return [ChoiceOut(c.kind, c.channels, c.digest, c.default)
                for c in await services.choices(db_session, await _me(request, db_session))]

    @put("/notification-preferences/{kind:str}", summary="设置一类通知的渠道（email、sms、webhook）或每日摘要")
    async def choose(self, request: Request, db_session: DbSession, kind: FromPath[str],
                     data: JSONBody[ChoiceIn]) -> ChoiceOut:
        c = await services.choose(db_session, await _me(request, db_session), kind, data.channels, data.digest)
        return ChoiceOut(c.kind, c.channels, c.digest, c.default)


UNSUBSCRIBED = ("<!doctype html><html lang=zh-CN><meta charset=utf-8><title>已退订</title>"
                "<body style='font-family:sans-serif;max-width:32em;margin:3em auto'>"
                "<h1>已退订</h1><p>此类通知将不再通过{channel}发送；站内信仍可在门户查看。</p></body></html>")
CHANNEL_NAMES = {"email": "电子邮件", "sms": "短信"}


class UnsubscribeController(Controller):
    """One click from an e-mail or SMS link (GET shows the result, POST is RFC 8058's one-click), no sign-in."""

    path = "/unsubscribe"
    tags = ["通知 Notifications"]
    opt = {"exclude_from_auth": True}

    async def _do(self, request: Request, session: DbSession, token: str) -> Response[str]:
        found = read_unsubscribe_token(request.app.state.settings.secret_key, token)
        if found is None:
            raise NotFoundException("退订链接无效")
        user_id, kind, channel = found
        await services.unsubscribe(session, user_id, kind, channel)
        return Response(UNSUBSCRIBED.format(channel=CHANNEL_NAMES.get(channel, channel)), media_type="text/html")

    @get("/{token:str}", summary="退订一类通知（邮件、短信中的链接）")
    async def by_link(self, request: Request, db_session: DbSession, token: FromPath[str]) -> Response[str]:
        return await self._do(request, db_session, token)

    @post("/{token:str}", status_code=HTTP_200_OK, summary="一键退订（RFC 8058 List-Unsubscribe-Post）")
    async def one_click(self, request: Request, db_session: DbSession, token: FromPath[str]) -> Response[str]:
        return await self._do(request, db_session, token)


class OutboxEntry(msgspec.Struct):
    id: uuid.UUID
    tenant: str
    channel: str
    kind: str
    to: str | None
    subject: str
    body: str
    link: str | None
    status: str  # pending (with deliver_after: held for quiet hours), sending, sent, failed, skipped
    deliver_after: datetime.datetime | None
    provider_message_id: str | None
    sent_at: datetime.datetime | None


class DevOutboxController(Controller):
    """Development only: what every channel sent (or would have), newest first, so a newcomer sees it — those
    held for quiet hours too, with the time they will go."""

    path = "/dev/outbox"
    opt = {"exclude_from_auth": True}
    include_in_schema = False

    @get("/", summary="开发环境：所有渠道发出的通知")
    async def outbox(self, request: Request, db_session: DbSession, limit: Limit = 100,
                     offset: Offset = 0) -> list[OutboxEntry]:
        if request.app.state.settings.env != "development":
            raise NotFoundException()
        rows: list[Any] = []
        # Tenant by tenant, as Row-Level Security allows on PostgreSQL (a development database is small).
        for tenant in (await db_session.scalars(select(Tenant).order_by(Tenant.path))).all():
            async with within(db_session, tenant):
                rows.extend((await db_session.execute(
                    select(Notification, Tenant.slug, User.email, User.phone)
                    .join(Tenant, Tenant.id == Notification.tenant_id)
                    .outerjoin(User, User.id == Notification.recipient_id)
                    .where(Notification.channel != "inbox", Notification.status != "digest"))).all())
        rows.sort(key=lambda r: r[0].created_at, reverse=True)
        rows = rows[offset:offset + limit]
        return [OutboxEntry(row.id, slug, row.channel, row.kind,
                            row.address or (email if row.channel == "email" else phone),
                            row.subject, row.body, row.link, row.status, row.deliver_after, row.provider_message_id,
                            row.sent_at)
                for row, slug, email, phone in rows]

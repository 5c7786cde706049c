"""Webhooks: a tenant's own URLs receive its notifications as signed JSON — registering them, writing their rows
in the event's transaction, delivering them, and the check a receiver runs.

A tenant's staff register a URL (`/api/v1/tenants/{slug}/webhooks`) and are shown its secret once. Each
notification of a kind the webhook receives (all kinds when it names none) is POSTed to it as JSON::

    {"id", "kind", "tenant", "subject", "body", "link", "params", "sent_at"}

with three headers:

- `X-Yishi-Delivery`: the notification's id; a retry sends the same id again, so a receiver dedupes by it;
- `X-Yishi-Timestamp`: when it was signed, in Unix seconds;
- `X-Yishi-Signature`: `sha256=` and the hex HMAC-SHA256, keyed with the secret, of `f"{timestamp}.{raw body}"`.

A receiver recomputes the signature over the raw body it received (`verify_signature`), compares in constant
time, and refuses a timestamp more than five minutes away from its own clock, so a captured request cannot be
replayed later. Any 2xx answer is delivery; anything else (or no answer within the timeout) is retried with
backoff, and after the last try the row is a dead letter (`yishi notifications failed|retry`). See
docs/webhooks.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.db import TenantContext
from core.errors import InvalidInput, NotFound, Problems
from core.http import DbSession, Scope, provide_tenant_scope
from core.inputs import Input, cap
from core.notifications.channels import Address, DeliveryError, Message
from core.notifications.messages import DEFAULT_LANGUAGE, KINDS, render
from core.notifications.models import Notification, NotificationWebhook
from core.settings import Settings
from core.tenancy.models import Tenant

SIGNATURE_HEADER, TIMESTAMP_HEADER, DELIVERY_HEADER = "X-Yishi-Signature", "X-Yishi-Timestamp", "X-Yishi-Delivery"
REPLAY_WINDOW = 300  # seconds a receiver accepts a signed request for
URL_LIMIT = 300
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
KEY_LIMIT = 120  # notification.dedup_key
TENANT_PARAM = "tenant_slug"  # in a webhook row's params: the channel is handed the message, not the row


# --- signing and verifying -------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The `X-Yishi-Signature` of `body` signed at `timestamp`: sha256=<hex HMAC-SHA256(secret, "ts.body")>."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str | int, signature: str, body: bytes, now: float,
                     window: int = REPLAY_WINDOW) -> bool:
    """A receiver's check: the signature is the secret's over this very body and timestamp, and the timestamp is
    within `window` seconds of `now` (Unix seconds) either way — an old request replayed is refused."""
    try:
        at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - at) > window:
        return False
    return hmac.compare_digest(sign(secret, at, body), signature or "")


# --- writing ---------------------------------------------------------------------------------------------------


def _dedup_key(dedup_key: str, kind: str, webhook_id: uuid.UUID) -> str:
    # The kind is in it: one event is several kinds (a meeting scheduled, its invitations), each its own message.
    key = f"{dedup_key}:{kind}:{webhook_id.hex}"
    return key if len(key) <= KEY_LIMIT else hashlib.sha256(key.encode()).hexdigest()


async def webhook_rows(session: AsyncSession, ctx: TenantContext, kind: str, facts: dict[str, Any], *,
                       dedup_key: str, event_id: uuid.UUID | None, link: str | None,
                       texts: dict[str, tuple[str, str]] | None = None) -> list[Notification]:
    """The rows telling each of the tenant's active webhooks that receive `kind` of it, in zh-CN."""
    hooks = (await session.scalars(select(NotificationWebhook).where(
        NotificationWebhook.tenant_id == ctx.tenant_id, NotificationWebhook.active.is_(True))
        .order_by(NotificationWebhook.created_at))).all()
    hooks = [hook for hook in hooks if not hook.kinds or kind in hook.kinds]
    if not hooks:
        return []
    tenant = await session.get(Tenant, ctx.tenant_id)
    subject, body = render(kind, DEFAULT_LANGUAGE, facts, texts)
    now = clock.now()
    params = {k: str(v) for k, v in facts.items() if not k.endswith("link")}
    params[TENANT_PARAM] = tenant.slug if tenant is not None else ""
    return [Notification(
        tenant_id=ctx.tenant_id, id=uuid.uuid4(), recipient_id=None, webhook_id=hook.id, channel="webhook",
        kind=kind, dedup_key=_dedup_key(dedup_key, kind, hook.id), event_id=event_id, urgent=False,
        language=DEFAULT_LANGUAGE, subject=subject, body=body, link=link, params=params, status="pending",
        deliver_after=None, attempts=0, created_at=now, updated_at=now) for hook in hooks]


async def webhook_address(session: AsyncSession, webhook_id: uuid.UUID) -> Address | None:
    """Where a webhook's row goes, and its secret; None once the webhook is deleted or switched off."""
    hook = await session.scalar(select(NotificationWebhook).where(NotificationWebhook.id == webhook_id))
    if hook is None or not hook.active:
        return None
    return Address(url=hook.url, secret=hook.secret)


# --- delivering ------------------------------------------------------------------------------------------------


class Webhook:
    """POSTs a notification to a tenant's URL as signed JSON; any 2xx is delivery."""

    name = "webhook"
    per_second = 20.0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def configured(self) -> bool:
        return True  # each webhook carries its own address

    def payload(self, message: Message, tenant: str) -> bytes:
        return json.dumps({
            "id": str(message.notification_id), "kind": message.kind, "tenant": tenant, "subject": message.subject,
            "body": message.body, "link": message.link, "params": message.params,
            "sent_at": clock.now().isoformat(timespec="seconds"),
        }, ensure_ascii=False, separators=(",", ":")).encode()

    async def send(self, message: Message, to: Address) -> str:
        if not to.url or not to.secret:
            raise DeliveryError("webhook: 没有地址或密钥")
        body = self.payload(message, message.params.get(TENANT_PARAM, ""))
        timestamp = int(clock.now().timestamp())
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Yishi-Webhook/1",
                   TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(to.secret, timestamp, body),
                   DELIVERY_HEADER: str(message.notification_id)}
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
                response = await client.post(to.url, content=body, headers=headers)
        except httpx.HTTPError as failed:
            raise DeliveryError(f"webhook: {type(failed).__name__}: {failed}") from failed
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"webhook: HTTP {response.status_code}: {response.text[:200]}")
        return str(message.notification_id)


# --- the API ---------------------------------------------------------------------------------------------------


class WebhookIn(Input):
    url: Annotated[str, cap(URL_LIMIT)]
    kinds: list[Annotated[str, cap(48)]] = msgspec.field(default_factory=list)
    description: Annotated[str, cap(200)] = ""


class WebhookOut(msgspec.Struct):
    id: uuid.UUID
    url: str
    kinds: list[str]
    active: bool
    description: str


class WebhookCreated(WebhookOut):
    secret: str  # shown this once: keep it where the receiver can read it


def _out(hook: NotificationWebhook) -> WebhookOut:
    return WebhookOut(hook.id, hook.url, list(hook.kinds), hook.active, hook.description)


def check(data: WebhookIn, production: bool) -> None:
    problems = Problems()
    parts = urlsplit(data.url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.add(InvalidInput("网址须以 http:// 或 https:// 开头并包含主机名", field="url"))
    elif production and parts.scheme != "https":
        problems.add(InvalidInput("生产环境的网址须使用 https://", field="url"))
    unknown = sorted(set(data.kinds) - set(KINDS))
    if unknown:
        problems.add(InvalidInput("没有这类通知：{kind}", field="kinds", kind=", ".join(unknown)))
    problems.raise_any()


class WebhookController(Controller):
    path = "/api/v1/tenants/{slug:str}/webhooks"
    tags = ["通知 Notifications"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/", opt={"action": "webhook.manage"}, summary="本租户的 Webhook（不含密钥）")
    async def list_webhooks(self, db_session: DbSession, tenant_scope: Scope) -> list[WebhookOut]:
        hooks = await db_session.scalars(select(NotificationWebhook).where(
            NotificationWebhook.tenant_id == tenant_scope.tenant.id).order_by(NotificationWebhook.created_at))
        return [_out(hook) for hook in hooks]

    @post("/", opt={"action": "webhook.manage"}, status_code=HTTP_201_CREATED,
          summary="登记 Webhook：返回签名密钥，仅此一次")
    async def create_webhook(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                             data: JSONBody[WebhookIn]) -> Response[WebhookCreated]:
        tenant: Tenant = tenant_scope.tenant
        check(data, production=request.app.state.settings.env == "production")
        hook = NotificationWebhook(tenant_id=tenant.id, url=data.url.strip(), secret=secrets.token_hex(32),
                                   kinds=sorted(set(data.kinds)), active=True, description=data.description)
        db_session.add(hook)
        await db_session.flush()
        return Response(WebhookCreated(hook.id, hook.url, list(hook.kinds), hook.active, hook.description,
                                       hook.secret), status_code=HTTP_201_CREATED)

    @delete("/{webhook_id:uuid}", opt={"action": "webhook.manage"}, summary="删除 Webhook：不再发送，待发的跳过")
    async def delete_webhook(self, db_session: DbSession, tenant_scope: Scope, webhook_id: FromPath[uuid.UUID]) -> None:
        hook = await db_session.scalar(select(NotificationWebhook).where(
            NotificationWebhook.tenant_id == tenant_scope.tenant.id, NotificationWebhook.id == webhook_id))
        if hook is None:
            raise NotFound("没有这个 Webhook")
        await db_session.delete(hook)
        await db_session.flush()


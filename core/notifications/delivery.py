"""Delivering one notification, as a job of the job engine: at most once to the provider per success, its
message id recorded before it is handed over, retried with backoff and given up (`failed`) after a few tries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import uuid
from typing import Any

from sqlalchemy import select

from core import clock
from core.accounts.models import User
from core.errors import NotFound
from core.notifications.channels import Address, Channel, DeliveryError, Email, Message, Pace
from core.notifications.models import Notification
from core.notifications.sms import Sms
from core.notifications.webhooks import Webhook, webhook_address
from core.settings import Settings
from core.tenancy.scope import system_session

log = logging.getLogger("yishi.notifications")
MAX_ATTEMPTS = 6  # then the row is a dead letter: `yishi notifications failed|retry`
MAC_BYTES = 16  # of the unsubscribe token's HMAC; raw bytes, so it is cut off by length, never by a separator
DEV_PROVIDER = "dev-outbox"  # what "sent" a message of an unconfigured channel in development


def unsubscribe_token(secret: str, user_id: uuid.UUID, kind: str, channel: str) -> str:
    """A token that turns `kind` off in `channel` for this user, by one click, with no sign-in."""
    claim = f"{user_id}:{kind}:{channel}"
    mac = hmac.new(secret.encode(), claim.encode(), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(claim.encode() + mac).decode().rstrip("=")


def read_unsubscribe_token(secret: str, token: str) -> tuple[uuid.UUID, str, str] | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        claim, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        expected = hmac.new(secret.encode(), claim, hashlib.sha256).digest()[:MAC_BYTES]
        if len(raw) <= MAC_BYTES or not hmac.compare_digest(mac, expected):
            return None
        user, kind, channel = claim.decode().split(":")
        return uuid.UUID(user), kind, channel
    except (ValueError, UnicodeDecodeError):
        return None


def channels(settings: Settings, plugins: Any | None = None) -> dict[str, Channel]:
    """The channels of this installation by name: e-mail, SMS, webhooks and any a plugin adds."""
    found: dict[str, Channel] = {"email": Email(settings), "sms": Sms(settings), "webhook": Webhook(settings)}
    if plugins is not None:
        for channel in plugins.notification_channels(settings):
            found[channel.name] = channel
    return found


class Deliverer:
    """What a worker process needs to deliver: the app's state, the channels, one pace per channel."""

    def __init__(self, state: Any, channels: dict[str, Channel]) -> None:
        self.state = state
        self.settings = state.settings
        self.channels = channels
        self.paces = {name: Pace(channel.per_second) for name, channel in channels.items()}

    def absolute(self, path: str | None) -> str | None:
        return None if not path else path if "://" in path else self.settings.public_url.rstrip("/") + path

    async def deliver(self, tenant_id: uuid.UUID, notification_id: uuid.UUID) -> str:
        """Deliver the row if it still waits; answer what became of it. Raises DeliveryError to be retried."""
        try:
            return await self._deliver(tenant_id, notification_id)
        except NotFound:  # the tenant is gone (deleted with its notifications): nothing is left to send
            return "missing"

    async def _deliver(self, tenant_id: uuid.UUID, notification_id: uuid.UUID) -> str:
        async with system_session(self.state, tenant_id) as session:
            row = await session.scalar(select(Notification).where(Notification.id == notification_id)
                                       .with_for_update())
            if row is None or row.status not in ("pending", "sending"):
                return row.status if row is not None else "missing"
            channel = self.channels.get(row.channel)
            to = await self._address(session, row)
            if channel is None or to is None:
                row.status, row.last_error = "skipped", "没有可用的渠道或地址"
                return row.status
            if not channel.configured():
                if self.settings.env == "development":  # readable at /dev/outbox instead
                    row.status, row.provider_message_id, row.sent_at = "sent", DEV_PROVIDER, clock.now()
                else:
                    row.status, row.last_error = "skipped", f"渠道 {row.channel} 未配置"
                return row.status
            message = Message(notification_id=row.id, kind=row.kind, subject=row.subject, body=row.body,
                              link=self.absolute(row.link), unsubscribe=self._unsubscribe(row), params=row.params)
            # Recorded before it is handed over: a worker killed mid-send leaves `sending`, and the retry sends
            # the same message id again (receivers and providers dedupe by it) instead of a new message.
            row.status, row.attempts = "sending", row.attempts + 1
            attempt = row.attempts
        await self.paces[channel.name].wait()
        try:
            provider_id = await channel.send(message, to)
        except DeliveryError as failed:
            async with system_session(self.state, tenant_id) as session:
                row = await session.get(Notification, (tenant_id, notification_id))
                assert row is not None
                row.last_error = str(failed)[:2000]
                row.status = "failed" if attempt >= MAX_ATTEMPTS else "pending"
            if attempt >= MAX_ATTEMPTS:
                log.warning("notification %s failed for good: %s", notification_id, failed)
                return "failed"
            raise
        async with system_session(self.state, tenant_id) as session:
            row = await session.get(Notification, (tenant_id, notification_id))
            assert row is not None
            row.status, row.provider_message_id, row.sent_at, row.last_error = "sent", provider_id, clock.now(), None
        return "sent"

    async def _address(self, session: Any, row: Notification) -> Address | None:
        if row.webhook_id is not None:
            return await webhook_address(session, row.webhook_id)
        if row.address is not None:  # a verification code, to a phone that may have no account
            return Address(phone=row.address)
        user = await session.get(User, row.recipient_id) if row.recipient_id else None
        if user is None or not user.active:
            return None
        return Address(email=user.email, phone=user.phone)

    def _unsubscribe(self, row: Notification) -> str | None:
        if row.recipient_id is None or row.channel not in ("email", "sms"):
            return None
        token = unsubscribe_token(self.settings.secret_key, row.recipient_id, row.kind, row.channel)
        return self.absolute(f"/unsubscribe/{token}")

"""What a channel is — it takes a rendered message and an address and returns the provider's message id — and
e-mail over SMTP; SMS and webhooks are in their own modules, and plugins may add more
(`yishi_notification_channels`)."""

from __future__ import annotations

import asyncio
import email.policy
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from html import escape
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from core.settings import Settings


@dataclass(frozen=True)
class Message:
    """One notification as a channel sends it: its text and the absolute links it carries."""

    notification_id: uuid.UUID
    kind: str
    subject: str
    body: str
    link: str | None  # absolute
    unsubscribe: str | None  # absolute: one click turns this kind off for this channel
    params: dict[str, str] = field(default_factory=dict)  # an SMS template's parameters


@dataclass(frozen=True)
class Address:
    email: str | None = None
    phone: str | None = None
    url: str | None = None  # a webhook's
    secret: str | None = None  # a webhook's signing secret


class Channel(Protocol):
    name: str
    per_second: float  # at most this many sends per second from one worker process

    def configured(self) -> bool: ...

    async def send(self, message: Message, to: Address) -> str: ...


class DeliveryError(Exception):
    """The provider refused or could not be reached: the job is retried later, with backoff."""


# Lines as SMTP allows (998): a long header such as List-Unsubscribe stays one plain URL, not folded into
# encoded words a mail client cannot follow.
_SMTP_POLICY = email.policy.SMTP.clone(max_line_length=998)


class Email:
    """E-mail over SMTP (`YISHI_SMTP_URL`: smtp://user:password@host:port?from=…, smtps:// for TLS)."""

    name = "email"
    per_second = 20.0

    def __init__(self, settings: Settings) -> None:
        self.url = settings.smtp_url

    def configured(self) -> bool:
        return bool(self.url)

    def build(self, message: Message, to: Address) -> EmailMessage:
        parts = urlsplit(self.url)
        sender = parse_qs(parts.query).get("from", ["yishi@localhost"])[0]
        mail = EmailMessage(policy=_SMTP_POLICY)
        mail["From"], mail["To"], mail["Subject"] = sender, to.email or "", message.subject
        mail["Date"] = formatdate(usegmt=True)
        # The notification's own id: a retried delivery carries the same Message-ID, which receivers dedupe.
        mail["Message-ID"] = f"<{message.notification_id}@yishi>"
        mail["X-Yishi-Kind"] = message.kind
        if message.unsubscribe:
            mail["List-Unsubscribe"] = f"<{message.unsubscribe}>"
            mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        text = message.body + (f"\n\n{message.link}" if message.link else "")
        if message.unsubscribe:
            text += f"\n\n退订此类通知 / Unsubscribe: {message.unsubscribe}"
        mail.set_content(text)
        link = f'<p><a href="{escape(message.link)}">{escape(message.link)}</a></p>' if message.link else ""
        off = (f'<p style="color:#888;font-size:12px"><a href="{escape(message.unsubscribe)}">退订此类通知</a></p>'
               if message.unsubscribe else "")
        mail.add_alternative(f"<html><body><p>{escape(message.body)}</p>{link}{off}</body></html>", subtype="html")
        return mail

    async def send(self, message: Message, to: Address) -> str:
        parts = urlsplit(self.url)
        mail = self.build(message, to)
        try:
            await aiosmtplib.send(
                mail, hostname=parts.hostname or "localhost", port=parts.port or (465 if parts.scheme == "smtps" else 25),
                username=unquote(parts.username) if parts.username else None,
                password=unquote(parts.password) if parts.password else None,
                use_tls=parts.scheme == "smtps", start_tls=None if parts.scheme == "smtps" else False, timeout=15)
        except (aiosmtplib.SMTPException, OSError) as failed:
            raise DeliveryError(f"SMTP: {failed}") from failed
        return str(mail["Message-ID"])


class Pace:
    """At most `per_second` sends per second in this process: a channel's providers throttle bursts."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self.next_at = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            now = time.monotonic()
            if self.next_at > now:
                await asyncio.sleep(self.next_at - now)
            self.next_at = max(now, self.next_at) + self.interval

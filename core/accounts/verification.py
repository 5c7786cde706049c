"""Six-digit codes sent by SMS that prove a person holds a phone: to join a community, sign in, reset a password,
file once without an account, or change one's number. Codes expire, are single-use, allow a few wrong tries,
and are throttled per phone and per client; no answer tells whether a phone has an account."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from core import clock
from core.accounts.models import VerificationCode
from core.db import column_values
from core.errors import InvalidInput, TooManyRequests
from core.notifications.messages import DEFAULT_LANGUAGE, render
from core.notifications.models import Notification
from core.notifications.outbox import add
from core.tenancy.models import Tenant

# Joining a community, signing in, resetting a password, filing once without an account, changing one's number.
PURPOSES = ("join", "sign_in", "reset", "file", "phone")
CODE_KIND = "verification.code"  # the notification kind (and SMS template) a code is sent as
LIFETIME = datetime.timedelta(minutes=5)
MAX_TRIES = 5  # wrong codes a code survives; then it is spent and a new one must be asked for
# Sending: one code a minute to a phone for each purpose, five an hour in all; twenty an hour from one client,
# whatever the phones.
PHONE_GAP = datetime.timedelta(seconds=60)
PHONE_PER_HOUR = 5
CLIENT_PER_HOUR = 20


def _digest(secret: str, phone: str, purpose: str, code: str) -> str:
    return hmac.new(secret.encode(), f"{phone}:{purpose}:{code}".encode(), hashlib.sha256).hexdigest()


def validate_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise InvalidInput("验证码用途须为 {choices} 之一", field="purpose", choices=", ".join(PURPOSES))


async def send_code(session: AsyncSession, tenant: Tenant, phone: str, purpose: str, client: str,
                    secret: str, *, deliver: bool = True) -> None:
    """Send a fresh code to `phone` for `purpose`, in `tenant`'s name (the session acts in it), unless the phone or the client has asked
    too often (429, saying when to try again). The same whether or not the phone has an account: who holds the
    phone learns it from the code; nobody else learns anything. Without `deliver` (signing in to a phone that
has no account) the code is made and counted alike, and never sent."""
    validate_purpose(purpose)
    now = clock.now()
    hour_ago = now - datetime.timedelta(hours=1)
    recent = (await session.execute(select(VerificationCode.created_at, VerificationCode.purpose).where(
        VerificationCode.phone == phone, VerificationCode.created_at > hour_ago)
        .order_by(VerificationCode.created_at.desc()))).all()
    same = [at for at, asked_for in recent if asked_for == purpose]
    from_client = await session.scalar(select(func.count()).select_from(VerificationCode).where(
        VerificationCode.client == client, VerificationCode.created_at > hour_ago))
    wait = None
    if same and same[0] + PHONE_GAP > now:
        wait = same[0] + PHONE_GAP - now
    elif len(recent) >= PHONE_PER_HOUR:
        wait = recent[PHONE_PER_HOUR - 1].created_at + datetime.timedelta(hours=1) - now
    elif (from_client or 0) >= CLIENT_PER_HOUR:
        wait = datetime.timedelta(minutes=10)
    if wait is not None:
        seconds = max(1, int(wait.total_seconds()) + 1)
        raise TooManyRequests("获取验证码过于频繁，请 {seconds} 秒后再试", headers={"Retry-After": str(seconds)},
                              seconds=seconds)
    code = f"{secrets.randbelow(1_000_000):06d}"
    # A newer code replaces any older one still waiting for this phone and purpose.
    await session.execute(update(VerificationCode).where(
        VerificationCode.phone == phone, VerificationCode.purpose == purpose, VerificationCode.used_at.is_(None))
        .values(used_at=now))
    session.add(VerificationCode(phone=phone, purpose=purpose, code_hash=_digest(secret, phone, purpose, code),
                                 asked_in_id=tenant.id, client=client[:64], expires_at=now + LIFETIME, tries=0,
                                 created_at=now, updated_at=now))  # the clock's time: the throttle counts by it
    if not deliver:
        await session.flush()
        return
    facts = {"code": code, "tenant": tenant.name, "minutes": "5"}
    subject, body = render(CODE_KIND, DEFAULT_LANGUAGE, facts)
    message = Notification(
        tenant_id=tenant.id, id=uuid7(), recipient_id=None, address=phone, channel="sms", kind=CODE_KIND,
        dedup_key=f"code:{uuid.uuid4()}", urgent=True, language=DEFAULT_LANGUAGE, subject=subject, body=body,
        link=None, params={"code": code, "minutes": "5"}, status="pending", deliver_after=None, attempts=0,
        created_at=now, updated_at=now)
    await add(session, [column_values(message)])
    await session.flush()


async def check_code(session: AsyncSession, phone: str, purpose: str, code: str, secret: str) -> None:
    """Spend the phone's waiting code for `purpose` if `code` is it; otherwise count a wrong try, commit it (the
    refused request is rolled back; the count must outlive it) and refuse."""
    now = clock.now()
    waiting = await session.scalar(select(VerificationCode).where(
        VerificationCode.phone == phone, VerificationCode.purpose == purpose, VerificationCode.used_at.is_(None))
        .order_by(VerificationCode.created_at.desc()).limit(1).with_for_update())
    if waiting is None or waiting.expires_at <= now or waiting.tries >= MAX_TRIES:
        raise InvalidInput("验证码不正确或已过期，请重新获取", field="code")
    if not hmac.compare_digest(waiting.code_hash, _digest(secret, phone, purpose, code.strip())):
        waiting.tries += 1
        if waiting.tries >= MAX_TRIES:
            waiting.used_at = now
        await session.commit()
        raise InvalidInput("验证码不正确或已过期，请重新获取", field="code")
    waiting.used_at = now
    await session.flush()


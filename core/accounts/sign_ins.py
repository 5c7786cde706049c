"""A person's sessions, as far as they can be told apart: the log of their recent successful sign-ins (when,
how, from which network and browser), and signing out every other device. One session version per user ends
every token and cookie at once, so "the other devices" are all of them but the one re-issued its own."""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.accounts.models import SignIn, User

KEPT_SIGN_INS = 20  # per user: older ones are deleted as a new one is written
USER_AGENT_LENGTH = 200


def network_of(address: str) -> str:
    """The client's network, not its address: an IPv4 address to its /24, an IPv6 one to its /48."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


async def record_sign_in(session: AsyncSession, user: User, method: str, client: str, user_agent: str) -> None:
    """Log a successful sign-in, keeping the user's last `KEPT_SIGN_INS`. Called where a session starts (never
    on every request)."""
    session.add(SignIn(user_id=user.id, at=clock.now(), method=method, client=network_of(client),
                       user_agent=user_agent.replace("\x00", "")[:USER_AGENT_LENGTH]))
    await session.flush()
    kept = (select(SignIn.id).where(SignIn.user_id == user.id).order_by(SignIn.at.desc(), SignIn.id.desc())
            .limit(KEPT_SIGN_INS))
    await session.execute(delete(SignIn).where(SignIn.user_id == user.id, SignIn.id.not_in(kept)))


async def recent_sign_ins(session: AsyncSession, user_id: uuid.UUID) -> list[SignIn]:
    return list((await session.scalars(select(SignIn).where(SignIn.user_id == user_id)
                                       .order_by(SignIn.at.desc(), SignIn.id.desc()))).all())


async def forget_sign_ins(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(delete(SignIn).where(SignIn.user_id == user_id))


async def sign_out_elsewhere(session: AsyncSession, user: User) -> None:
    """End every session of the person's: the caller issues its own anew, so that this device stays signed in
    (one session version per user: every other token and cookie stops working at once)."""
    user.session_version += 1
    await session.flush()


@dataclass(frozen=True)
class Device:
    browser: str  # a name, or "" when the user agent says nothing we know
    system: str


_BROWSERS = (("MicroMessenger", "WeChat"), ("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("CriOS/", "Chrome"), ("Safari/", "Safari"), ("curl/", "curl"),
             ("python-httpx", "httpx"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("HarmonyOS", "HarmonyOS"), ("Android", "Android"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def device_of(user_agent: str) -> Device:
    """What a person recognises of a user agent: the browser and the system, by name."""
    browser = next((name for token, name in _BROWSERS if token in user_agent), "")
    system = next((name for token, name in _SYSTEMS if token in user_agent), "")
    return Device(browser, system)

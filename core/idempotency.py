"""Idempotency-Key handling: a retried request gets the first answer back and creates nothing twice."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from advanced_alchemy.types import GUID
from sqlalchemy import Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JsonB, TenantOwned
from core.errors import Conflict, InvalidInput


class IdempotencyRecord(TenantOwned, Base):
    """The first answer to a request sent with an Idempotency-Key, replayed for every retry."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", "key"),)

    user_id: Mapped[uuid.UUID] = mapped_column(GUID)
    key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JsonB)


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


async def _stored(session: AsyncSession, user_id: uuid.UUID, key: str, fingerprint: str) -> tuple[int, Any] | None:
    record = await session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
    )
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise Conflict("这个 Idempotency-Key 已用于另一个不同的请求", field="Idempotency-Key")
    return record.status_code, record.response


async def once(session: AsyncSession, user_id: uuid.UUID, key: str | None, fingerprint: str,
               run: Callable[[], Awaitable[tuple[int, dict[str, Any]]]]) -> tuple[int, dict[str, Any]]:
    """Run `run` once per (user, key) in this tenant; later calls with the same key replay its answer."""
    if key is None:
        return await run()
    if not 1 <= len(key) <= 100:
        raise InvalidInput("Idempotency-Key 须为 1–100 个字符", field="Idempotency-Key")
    if (stored := await _stored(session, user_id, key, fingerprint)) is not None:
        return stored
    status, body = await run()
    session.add(IdempotencyRecord(user_id=user_id, key=key, request_hash=fingerprint, status_code=status,
                                  response=body))
    try:
        await session.flush()
    except IntegrityError:
        # A concurrent retry won the race: drop everything this attempt wrote and answer as the first did.
        await session.rollback()
        if (stored := await _stored(session, user_id, key, fingerprint)) is not None:
            return stored
        raise
    return status, body

"""Idempotency-Key handling: a retried request gets the first answer back and creates nothing twice.

Optimistic: the request runs, and its answer is written under the key together with the change it makes
(one statement on PostgreSQL). A retry whose first attempt already committed collides on the key's unique
index, rolls everything of its own back, and answers as the first did. First attempts, by far the common
case, pay no lookup and no extra round trip. The same key with another body answers 409.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from advanced_alchemy.types import GUID
from litestar.params import HeaderParameter
from sqlalchemy import Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from uuid_utils.compat import uuid7

from core import clock
from core.db import Base, JsonB, TenantOwned
from core.errors import Conflict, InvalidInput

# A route's Idempotency-Key header parameter.
IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key", required=False,
                                                       description="重试同一请求时沿用同一个键，不会重复创建")]


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


@dataclass(frozen=True)
class Claim:
    """A request's Idempotency-Key: the service writes `record(...)` together with the change it makes."""

    tenant_id: uuid.UUID
    user_id: uuid.UUID
    key: str
    fingerprint: str

    @classmethod
    def of(cls, tenant_id: uuid.UUID, user_id: uuid.UUID, key: str | None, fingerprint: str) -> Claim | None:
        if key is None:
            return None
        if not 1 <= len(key) <= 100:
            raise InvalidInput("Idempotency-Key 须为 1–100 个字符", field="Idempotency-Key")
        return cls(tenant_id, user_id, key, fingerprint)

    def record(self, status: int, answer: dict[str, Any]) -> IdempotencyRecord:
        """The row that keeps this request's answer, every column set (it is written without the ORM)."""
        return IdempotencyRecord(**self.columns(status, answer))

    def columns(self, status: int, answer: dict[str, Any]) -> dict[str, Any]:
        """`record`'s values by attribute, for a statement that writes it with the change."""
        now = clock.now()
        return {"tenant_id": self.tenant_id, "id": uuid7(), "user_id": self.user_id, "key": self.key,
                "request_hash": self.fingerprint, "status_code": status, "response": answer,
                "created_at": now, "updated_at": now}


async def _stored(session: AsyncSession, claim: Claim) -> tuple[int, Any] | None:
    record = await session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.user_id == claim.user_id, IdempotencyRecord.key == claim.key)
    )
    if record is None:
        return None
    if record.request_hash != claim.fingerprint:
        raise Conflict("这个 Idempotency-Key 已用于另一个不同的请求", field="Idempotency-Key")
    return record.status_code, record.response


async def remember(session: AsyncSession, claim: Claim | None, status: int,
                   answer: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """For a `run` of `once` whose change is several writes: keep the answer under the claim's key, in the change's
    own transaction (a used key fails here, and `once` replays its first answer instead)."""
    if claim is not None:
        session.add(claim.record(status, answer))
        await session.flush()
    return status, answer


async def once(session: AsyncSession, claim: Claim | None, run: Callable[[], Awaitable[tuple[int, dict[str, Any]]]],
               *, look_first: bool = False) -> tuple[int, dict[str, Any]]:
    """Run `run`, which writes `claim.record(...)` with its change; a key used before replays its first answer.
    A request that spends something before it writes (a phone's code, which a retry no longer has) `look_first`s."""
    if look_first and claim is not None and (stored := await _stored(session, claim)) is not None:
        return stored
    try:
        return await run()
    except IntegrityError:
        if claim is None:
            raise
        # The key was used before (or by a concurrent retry that won): drop everything this attempt wrote.
        await session.rollback()
        if (stored := await _stored(session, claim)) is not None:
            return stored
        raise

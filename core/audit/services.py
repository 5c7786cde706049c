"""Checking the audit chain as an operator: every tenant's chain verified, and signed checkpoints of their heads.

A checkpoint is the head (seq and link) of every tenant's chain, signed with the audit key. Kept outside the
database, it lets a later `verify --since` prove that nothing before it was rewritten — even by someone who
holds the key, who could re-link an edited chain so that it verifies on its own.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import uuid
from dataclasses import dataclass

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.errors import InvalidInput
from core.events import GENESIS, BrokenLink, ChainPoint, EventChainHead, audit_key, verify_chain
from core.tenancy.models import Tenant
from core.tenancy.scope import within
from core.tenancy.services import tenants_named

FORMAT = "yishi.audit-checkpoint"


class TenantHead(msgspec.Struct):
    slug: str
    id: uuid.UUID
    seq: int
    hash: str
    at: datetime.datetime | None  # when its newest event was written (None: no event yet)


class Checkpoint(msgspec.Struct):
    format: str
    taken_at: datetime.datetime
    tenants: list[TenantHead]
    signature: str = ""  # HMAC-SHA256 with the audit key of the checkpoint without its signature

    def signature_with(self, key: bytes) -> str:
        unsigned = msgspec.json.encode(msgspec.structs.replace(self, signature=""))
        return hmac.new(key, unsigned, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    slug: str
    checked: int
    broken: BrokenLink | None


async def _snapshot(session: AsyncSession) -> None:
    """On PostgreSQL every chain and head is read from one snapshot, whatever the app writes meanwhile (before
    any query: the isolation level is the transaction's)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


async def verify_chains(session: AsyncSession, slug: str | None = None,
                        since: Checkpoint | None = None) -> list[ChainReport]:
    """Verify every tenant's chain (or one tenant's), from the genesis to its head; with `since`, a checkpoint
    signed with this installation's key, each chain must also still hold the link it names."""
    await _snapshot(session)
    key = audit_key(session)
    if since is not None and not hmac.compare_digest(since.signature_with(key), since.signature):
        raise InvalidInput("检查点的签名不符：文件被改动过，或不是用本安装的审计密钥签的")
    tenants = await tenants_named(session, slug)
    points = {head.id: ChainPoint(head.seq, head.hash) for head in (since.tenants if since else ())}
    here = {tenant.id for tenant in tenants}
    reports = [ChainReport(head.slug, 0, BrokenLink(head.seq, None, "检查点里的这个租户已不在本安装"))
               for head in (since.tenants if since and not slug else ()) if head.id not in here]
    for tenant in tenants:
        # One tenant at a time, through the same walls as the app: an operator command, not a bypass.
        async with within(session, tenant):
            checked, broken = await verify_chain(session, points.get(tenant.id))
        reports.append(ChainReport(tenant.slug, checked, broken))
    return reports


async def take_checkpoint(session: AsyncSession) -> tuple[Checkpoint | None, list[ChainReport]]:
    """Verify every chain and sign their heads; no checkpoint while any chain is broken (it would vouch for it)."""
    reports = await verify_chains(session)
    if any(report.broken for report in reports):
        return None, reports
    heads = []
    for tenant in (await session.scalars(select(Tenant).order_by(Tenant.path))).all():
        async with within(session, tenant):
            head = (await session.execute(select(EventChainHead.seq, EventChainHead.hash, EventChainHead.at))).first()
        heads.append(TenantHead(tenant.slug, tenant.id, *(head or (0, GENESIS, None))))
    checkpoint = Checkpoint(FORMAT, clock.now(), heads)
    return msgspec.structs.replace(checkpoint, signature=checkpoint.signature_with(audit_key(session))), reports


def encode(checkpoint: Checkpoint) -> bytes:
    return msgspec.json.format(msgspec.json.encode(checkpoint), indent=2) + b"\n"


def decode(raw: bytes) -> Checkpoint:
    try:
        checkpoint = msgspec.json.decode(raw, type=Checkpoint)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise InvalidInput("这不是议事审计检查点文件") from None
    if checkpoint.format != FORMAT:
        raise InvalidInput("这不是议事审计检查点文件")
    return checkpoint

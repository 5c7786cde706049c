"""The append-only event log: one hash-chained event per state change, per tenant, never edited."""

from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Executable,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Update,
    bindparam,
    cast,
    extract,
    func,
    insert,
    inspect,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import AUDIT_KEY, Base, JsonB, TenantContext, TenantOwned, column_values, make_persistent, table_of
from core.observability import count_transition
from core.tenancy.models import Tenant

GENESIS = "0" * 64
# The session's plugin manager (set per request by the app): plugins hear of every event of their tenants.
PLUGINS_KEY = "yishi.plugins"


class WorkflowEvent(TenantOwned, Base):
    """One state change of a concern, topic, meeting or action item. The app role may only add and read."""

    __tablename__ = "workflow_event"
    # By topic: a topic's timeline; by subject: a concern's (the staff concern page).
    __table_args__ = (UniqueConstraint("tenant_id", "seq"), Index("ix_workflow_event_tenant_topic", "tenant_id", "topic_id"),
                      Index("ix_workflow_event_tenant_subject", "tenant_id", "subject_id"))

    seq: Mapped[int] = mapped_column(Integer)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[uuid.UUID] = mapped_column(GUID)
    topic_id: Mapped[uuid.UUID | None] = mapped_column(GUID)
    action: Mapped[str] = mapped_column(String(48))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str | None] = mapped_column(String(24))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(GUID)
    at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class EventChainHead(TenantOwned, Base):
    """The newest link of a tenant's chain; its row lock serializes the tenant's event writers."""

    __tablename__ = "event_chain_head"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS)
    at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC)


EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def micros(at: datetime.datetime) -> int:
    """Microseconds since the epoch, exactly (no float): how a link's time enters its hash."""
    return (at - EPOCH) // datetime.timedelta(microseconds=1)


def link_hash(key: bytes, prev_hash: str, seq: int, at: datetime.datetime, content: str) -> str:
    """A link: the previous hash, the place and time in the chain, and the digest of what happened, keyed.

    An HMAC with the audit key, which the database never holds: a row written with database access alone
    (a forged event, a re-linked edit) fails verification. The writer, the verifier and migration 0005 use it.
    """
    message = f"{prev_hash}:{seq}:{micros(at)}:{content}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def hmac_pads(key: bytes) -> dict[str, bytes]:
    """HMAC-SHA256's inner and outer padded keys (RFC 2104), so that PostgreSQL's own sha256() computes
    `link_hash` too (`link_hash_sql`). They are as secret as the key: sent with a statement, never stored."""
    block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    return {"ipad": block.translate(_XOR_36), "opad": block.translate(_XOR_5C)}


# Each byte XOR 0x36 and XOR 0x5C, as the standard library's hmac pads its keys: one translate() per filing,
# not a loop over the key's 64 bytes in Python.
_XOR_36, _XOR_5C = bytes(x ^ 0x36 for x in range(256)), bytes(x ^ 0x5C for x in range(256))


def link_hash_sql(prev: ColumnElement[str], seq: ColumnElement[int], at: ColumnElement[datetime.datetime],
                  content: ColumnElement[str]) -> ColumnElement[str]:
    """`link_hash` as a SQL expression, for a statement that links in PostgreSQL (filing): the same message
    (`prev:seq:micros:content`, as UTF-8), keyed with the pads of `hmac_pads`, which the statement is given as
    the parameters `ipad` and `opad`. A test holds it to `link_hash` on random inputs.
    """
    at_micros = cast(extract("epoch", at) * 1_000_000, BigInteger)
    message = prev + ":" + cast(seq, Text) + ":" + cast(at_micros, Text) + ":" + content
    ipad, opad = bindparam("ipad", type_=LargeBinary), bindparam("opad", type_=LargeBinary)
    inner = func.sha256(ipad.concat(func.convert_to(message, "UTF8")), type_=LargeBinary)
    return func.encode(func.sha256(opad.concat(inner), type_=LargeBinary), "hex", type_=String)


def audit_key(session: AsyncSession) -> bytes:
    """The key of this session's links, given by its sessionmaker (`core.db.create_sessionmaker`)."""
    key = session.info.get(AUDIT_KEY)
    if not key:
        raise RuntimeError("this session has no audit key: make it with core.db.create_sessionmaker")
    return key


def content_digest(event: WorkflowEvent | dict[str, Any]) -> str:
    """The digest of what an event says (who, what, from, to, payload): everything but its place and time."""
    get = event.get if isinstance(event, dict) else lambda name: getattr(event, name)
    fields = {
        "tenant_id": str(get("tenant_id")),
        "subject_kind": get("subject_kind"),
        "subject_id": str(get("subject_id")),
        "topic_id": str(get("topic_id")) if get("topic_id") else None,
        "action": get("action"),
        "from": get("from_state"),
        "to": get("to_state"),
        "actor_id": str(get("actor_id")) if get("actor_id") else None,
        "payload": get("payload") or {},
    }
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Link:
    """The next place in a tenant's chain; the head's row lock holds the tenant's other writers until commit."""

    head_id: uuid.UUID
    seq: int
    prev_hash: str
    last_at: datetime.datetime | None
    number: int | None = None  # the value of the counter bumped with it (None: the counter has no row yet)


async def append_event(session: AsyncSession, ctx: TenantContext, **event: Any) -> WorkflowEvent:
    """Append one event to the tenant's chain, in the caller's transaction (see `write_event`)."""
    return await write_event(session, ctx, await next_link(session, ctx), **event)


async def next_link(session: AsyncSession, ctx: TenantContext, bump: Update | None = None,
                    bump_params: dict[str, Any] | None = None) -> Link:
    """Lock the tenant's chain head and take its next place.

    `bump` is an UPDATE … RETURNING one integer (a yearly counter, say), built once and written with the
    parameters `b_tenant_id` and `b_now` (for updated_at); it runs with the advance, in one round trip on PostgreSQL, so its number is
    handed out under the head's lock.
    """
    connection = await session.connection()
    params = {"b_tenant_id": ctx.tenant_id, "b_now": clock.now(), **(bump_params or {})}
    number = None
    head: Sequence[Any] | None
    if bump is None:
        head = (await connection.execute(_ADVANCE, params)).first()
    elif connection.dialect.name == "postgresql":
        number, *columns = (await connection.execute(_advance_bumping(bump), params)).one()
        head = None if columns[0] is None else columns
    else:
        number = (await connection.execute(bump, params)).scalar()
        head = (await connection.execute(_ADVANCE, params)).first()
    if head is None:
        # The tenant's first event creates its chain head; if two first events race, the loser's insert
        # fails harmlessly and it advances the head the winner made.
        with contextlib.suppress(IntegrityError):
            async with session.begin_nested():
                now = clock.now()
                await session.execute(insert(EventChainHead).values(
                    tenant_id=ctx.tenant_id, id=uuid.uuid4(), seq=0, hash=GENESIS, at=now, created_at=now,
                    updated_at=now))
        head = (await connection.execute(_ADVANCE, params)).one()
    return Link(head[0], head[1], head[2], head[3], number)


async def write_event(session: AsyncSession, ctx: TenantContext, link: Link, *, subject_kind: str,
                      subject_id: uuid.UUID, action: str, from_state: str | None, to_state: str | None,
                      actor_id: uuid.UUID | None, topic_id: uuid.UUID | None = None,
                      payload: dict[str, Any] | None = None, new_rows: Sequence[Base] = ()) -> WorkflowEvent:
    """Write one event at `link` and move the head past it.

    `new_rows` are new objects of the state change itself (a filed concern, say): they are inserted with the
    event, in one statement on PostgreSQL, without a flush, and then join the session as persistent objects.
    """
    # Times never go backwards within a tenant's chain, whatever the clocks of several workers say.
    at = clock.now()
    if link.last_at is not None and at <= link.last_at:
        at = link.last_at + datetime.timedelta(microseconds=1)
    values = dict(
        tenant_id=ctx.tenant_id, seq=link.seq, subject_kind=subject_kind, subject_id=subject_id, topic_id=topic_id,
        action=action, from_state=from_state, to_state=to_state, actor_id=actor_id, at=at, payload=payload or {},
    )
    event = WorkflowEvent(id=uuid.uuid4(), **values, prev_hash=link.prev_hash,
                          hash=link_hash(audit_key(session), link.prev_hash, link.seq, at, content_digest(values)),
                          created_at=at, updated_at=at)
    rows = [*new_rows, event]
    written = [column_values(row) for row in rows]
    head = {"head_id": link.head_id, "head_tenant_id": ctx.tenant_id, "head_hash": event.hash, "head_at": at}
    # Core statements built once per shape (compiled once), on the session's connection: every value is
    # given explicitly, tenant_id included, and on PostgreSQL Row-Level Security checks each row.
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        params = {f"w{number}_{key}": value for number, values in enumerate(written) for key, value in values.items()}
        await connection.execute(_write_together(tuple(type(row) for row in rows)), {**params, **head})
    else:
        for row, values in zip(rows, written, strict=True):
            await connection.execute(insert(table_of(type(row))), values)
        await connection.execute(_MOVE_HEAD, head)
    for row in new_rows:
        make_persistent(session, row)
    await after_event(session, ctx, event)
    return event


async def after_event(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent) -> None:
    """What follows every event written: it is counted (when committed), and the tenant's plugins hear of it."""
    tenant = await session.get(Tenant, ctx.tenant_id)  # loaded by the request already: no query
    count_transition(session.sync_session, event.action, tenant.kind if tenant else "unknown")
    plugins = session.info.get(PLUGINS_KEY)
    if plugins is not None:
        await plugins.on_event(session, ctx, event)


_HEAD = table_of(EventChainHead)
_MOVE_HEAD = (update(_HEAD).where(_HEAD.c.id == bindparam("head_id"), _HEAD.c.tenant_id == bindparam("head_tenant_id"))
              .values(hash=bindparam("head_hash"), at=bindparam("head_at"), updated_at=bindparam("head_at")))
_ADVANCE = (
    update(_HEAD).where(_HEAD.c.tenant_id == bindparam("b_tenant_id"))
    .values(seq=_HEAD.c.seq + 1, updated_at=bindparam("b_now"))
    .returning(_HEAD.c.id, _HEAD.c.seq, _HEAD.c.hash, _HEAD.c.at)
)


@functools.cache
def _write_together(kinds: tuple[type[Base], ...]) -> Executable:
    """PostgreSQL: one INSERT per row as a data-modifying CTE of the head's move, so all go in one round trip."""
    statement = _MOVE_HEAD
    for number, kind in enumerate(kinds):
        columns = [attr.columns[0] for attr in inspect(kind).column_attrs]
        insert_row = insert(table_of(kind)).values(
            {column.key: bindparam(f"w{number}_{column.key}", type_=column.type) for column in columns})
        statement = statement.add_cte(insert_row.cte(f"write_{number}"))
    return statement


@functools.cache
def _advance_bumping(bump: Update) -> Executable:
    """PostgreSQL: the bump and the advance as data-modifying CTEs of one SELECT that always answers one row:
    the number, then the head (NULLs when the tenant has no head yet)."""
    bumped, advanced = bump.cte("bump"), _ADVANCE.cte("advance")
    one = select(literal(1).label("one")).subquery("one")
    return select(select(*bumped.c).scalar_subquery(), *advanced.c).select_from(one.outerjoin(advanced, true()))


@dataclass(frozen=True)
class ChainPoint:
    """A place in a tenant's chain and the link there (a checkpoint of its head, say)."""

    seq: int
    hash: str


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    event_id: uuid.UUID | None  # None: the link is missing
    reason: str


class ChainWalk:
    """The checks of one tenant's chain, link after link from the genesis, then its end against the head.

    Every link is recomputed with `key`, and the last must be the one the head names, so deleted newest
    events are a missing tail. With `since` (a checkpoint), the chain must still hold that very link: a chain
    rewritten before it, even by someone holding the key, no longer does. Events are `WorkflowEvent`s or
    dicts of their columns (an import's rows).
    """

    def __init__(self, key: bytes, head: ChainPoint, since: ChainPoint | None = None) -> None:
        self.key, self.head, self.since = key, head, since
        self.prev_hash, self.checked = GENESIS, 0

    def step(self, event: WorkflowEvent | dict[str, Any]) -> BrokenLink | None:
        get: Callable[[str], Any] = event.get if isinstance(event, dict) else lambda name: getattr(event, name)
        seq, event_id, link = get("seq"), get("id"), get("hash")
        if seq != self.checked + 1:
            return BrokenLink(seq, event_id, f"序号不连续：应为 {self.checked + 1}")
        if get("prev_hash") != self.prev_hash:
            return BrokenLink(seq, event_id, "与前一条记录的链接不符")
        if link_hash(self.key, self.prev_hash, seq, get("at"), content_digest(event)) != link:
            return BrokenLink(seq, event_id, "记录内容已被改动，或记录是伪造的：链接与审计密钥算出的不符")
        if self.since is not None and seq == self.since.seq and link != self.since.hash:
            return BrokenLink(seq, event_id, "与检查点记下的链接不符：此前的记录被改写过")
        if seq > self.head.seq:
            return BrokenLink(seq, event_id, f"链头只记到第 {self.head.seq} 条，这条记录在链头之外")
        self.prev_hash, self.checked = link, seq
        return None

    def end(self) -> BrokenLink | None:
        if self.since is not None and self.checked < self.since.seq:
            return BrokenLink(self.checked + 1, None,
                              f"链尾缺失：检查点记到第 {self.since.seq} 条，现在只到第 {self.checked} 条")
        if self.checked < self.head.seq:
            return BrokenLink(self.checked + 1, None,
                              f"链尾缺失：链头记到第 {self.head.seq} 条，现在只到第 {self.checked} 条")
        if self.prev_hash != self.head.hash:
            return BrokenLink(self.checked, None, "最后一条记录与链头记下的链接不符")
        return None


async def verify_chain(session: AsyncSession, since: ChainPoint | None = None) -> tuple[int, BrokenLink | None]:
    """Walk the current tenant's chain up to its head (see `ChainWalk`); returns how many links were checked and
    the first broken one. Read it in one snapshot (`core.audit`): a write committed meanwhile would look broken.
    """
    found = (await session.execute(select(EventChainHead.seq, EventChainHead.hash))).first()
    walk = ChainWalk(audit_key(session), ChainPoint(*found) if found else ChainPoint(0, GENESIS), since)
    async for event in await session.stream_scalars(select(WorkflowEvent).order_by(WorkflowEvent.seq)):
        if (broken := walk.step(event)) is not None:
            return walk.checked, broken
    return walk.checked, walk.end()


def relink(events: list[dict[str, Any]], head: dict[str, Any] | None, source_key: bytes,
           key: bytes) -> BrokenLink | None:
    """Re-link one tenant's chain (its rows and its head, as dicts of columns, in place) from `source_key` to
    `key`, after verifying it under `source_key`: a broken chain is returned, never blessed."""
    ordered = sorted(events, key=lambda event: event["seq"])
    walk = ChainWalk(source_key, ChainPoint(head["seq"], head["hash"]) if head else ChainPoint(0, GENESIS))
    for event in ordered:
        if (broken := walk.step(event)) is not None:
            return broken
    if (broken := walk.end()) is not None:
        return broken
    prev_hash = GENESIS
    for event in ordered:
        event["prev_hash"] = prev_hash
        event["hash"] = prev_hash = link_hash(key, prev_hash, event["seq"], event["at"], content_digest(event))
    if head:
        head["hash"] = prev_hash
    return None

"""audit links keyed with an HMAC; the chain head forgets the link before its newest

Each link becomes an HMAC with the audit key (YISHI_AUDIT_KEY, by default derived from the secret key), which
the database never holds, so a row forged with database access alone no longer verifies. Every chain is
verified under the unkeyed formula of 0004 first — its links, and its last link against its head, so that a
chain whose newest events were deleted is not blessed either — and only then re-linked, in order. A broken
chain stops the upgrade. The downgrade does the same the other way round.

PostgreSQL cannot compute a keyed link without the key, so filing no longer appends a link in one statement
and the head's prev_hash (that statement's RETURNING, revision 0004) goes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from core.events import content_digest, link_hash

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
# (previous hash, seq, at, the event's columns) → its link
Formula = Callable[[str, int, datetime.datetime, dict[str, Any]], str]


def _unkeyed(prev: str, seq: int, at: datetime.datetime, event: dict[str, Any]) -> str:
    """The link formula of 0004 (frozen here): sha256(prev:seq:micros:digest of the canonical content)."""
    fields = {"tenant_id": event["tenant_id"], "subject_kind": event["subject_kind"],
              "subject_id": event["subject_id"], "topic_id": event["topic_id"], "action": event["action"],
              "from": event["from_state"], "to": event["to_state"], "actor_id": event["actor_id"],
              "payload": event["payload"] or {}}
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    content = hashlib.sha256(canonical.encode()).hexdigest()
    micros = (at - EPOCH) // datetime.timedelta(microseconds=1)
    return hashlib.sha256(f"{prev}:{seq}:{micros}:{content}".encode()).hexdigest()


def _keyed(prev: str, seq: int, at: datetime.datetime, event: dict[str, Any]) -> str:
    return link_hash(context.config.attributes["audit_key"].encode(), prev, seq, at, content_digest(event))


def _utc(value: Any) -> datetime.datetime:
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def _id(value: Any) -> str | None:
    """A GUID as str() of its UUID, whatever the driver hands back (SQLite: 16 bytes)."""
    if value is None:
        return None
    return str(uuid.UUID(bytes=value) if isinstance(value, bytes) else uuid.UUID(str(value)))


def _event(row: Any) -> dict[str, Any]:
    payload = json.loads(row.payload) if isinstance(row.payload, str) else row.payload
    return {"tenant_id": _id(row.tenant_id), "subject_kind": row.subject_kind, "subject_id": _id(row.subject_id),
            "topic_id": _id(row.topic_id), "action": row.action, "from_state": row.from_state,
            "to_state": row.to_state, "actor_id": _id(row.actor_id), "payload": payload or {}}


def _relink(verify: Formula, link: Formula, with_prev: bool = False) -> None:
    """Re-link every tenant's chain from `verify`'s formula to `link`'s once verified; `with_prev`: the head
    also remembers the link before its newest (as revision 0004 has it)."""
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    # Every tenant, not every head: with Row-Level Security forced, the owner sees no head before it acts as
    # the head's tenant, and a chain whose head is missing must stop the upgrade too.
    for (tenant_id,) in bind.execute(sa.text("SELECT id FROM tenant")).all():
        if postgres:
            bind.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": _id(tenant_id)})
        head = bind.execute(sa.text("SELECT seq, hash FROM event_chain_head WHERE tenant_id = :t"),
                            {"t": tenant_id}).first()
        head_seq, head_hash = head if head else (0, GENESIS)
        rows = bind.execute(sa.text(
            "SELECT id, tenant_id, seq, subject_kind, subject_id, topic_id, action, from_state, to_state, actor_id,"
            " at, payload, prev_hash, hash FROM workflow_event WHERE tenant_id = :t ORDER BY seq"),
            {"t": tenant_id}).all()

        def broken(seq: int, tenant_id: Any = tenant_id) -> RuntimeError:
            return RuntimeError(f"workflow_event chain of tenant {_id(tenant_id)} is broken at seq {seq}: "
                                "run `yishi audit verify` on the previous release before migrating")

        old_prev = new_prev = head_prev = GENESIS
        for expected, row in enumerate(rows, start=1):
            event, at = _event(row), _utc(row.at)
            if row.seq != expected or row.prev_hash != old_prev or verify(old_prev, row.seq, at, event) != row.hash:
                raise broken(row.seq)
            new = link(new_prev, row.seq, at, event)
            bind.execute(sa.text("UPDATE workflow_event SET prev_hash = :p, hash = :h WHERE tenant_id = :t AND id = :i"),
                         {"p": new_prev, "h": new, "t": row.tenant_id, "i": row.id})
            head_prev, old_prev, new_prev = new_prev, row.hash, new
        if (head_seq, head_hash) != (len(rows), old_prev):  # the newest events were deleted (or the head moved)
            raise broken(len(rows) + 1)
        bind.execute(sa.text("UPDATE event_chain_head SET hash = :h WHERE tenant_id = :t"), {"h": new_prev, "t": tenant_id})
        if with_prev:
            bind.execute(sa.text("UPDATE event_chain_head SET prev_hash = :p WHERE tenant_id = :t"),
                         {"p": head_prev, "t": tenant_id})


def upgrade() -> None:
    _relink(verify=_unkeyed, link=_keyed)
    with op.batch_alter_table('event_chain_head') as batch:
        batch.drop_column('prev_hash')


def downgrade() -> None:
    op.add_column('event_chain_head', sa.Column('prev_hash', sa.String(length=64), nullable=False,
                                                server_default=GENESIS))
    _relink(verify=_keyed, link=_unkeyed, with_prev=True)

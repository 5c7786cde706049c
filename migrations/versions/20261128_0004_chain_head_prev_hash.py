"""chain head keeps its previous hash; links hashed as prev:seq:micros:content

The head remembers the link before it, so one statement can append a link and return both hashes (the
busiest write, filing a concern, is then one statement on PostgreSQL). The link formula becomes one that
PostgreSQL can compute as well; the chains written before are re-linked under it, in order. Nothing was
deployed with the former formula, and every chain is verified under the old one before it is re-linked:
a chain that was already broken stops the upgrade rather than being blessed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 07:58:00
"""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _utc(value: Any) -> datetime.datetime:
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def _id(value: Any) -> str | None:
    """A GUID as str() of its UUID, whatever the driver hands back (SQLite: 16 bytes)."""
    if value is None:
        return None
    return str(uuid.UUID(bytes=value) if isinstance(value, bytes) else uuid.UUID(str(value)))


def _fields(row: Any) -> dict[str, Any]:
    payload = json.loads(row.payload) if isinstance(row.payload, str) else row.payload
    return {
        "tenant_id": _id(row.tenant_id), "subject_kind": row.subject_kind, "subject_id": _id(row.subject_id),
        "topic_id": _id(row.topic_id), "action": row.action, "from": row.from_state, "to": row.to_state,
        "actor_id": _id(row.actor_id), "payload": payload or {},
    }


def _canonical(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def upgrade() -> None:
    op.add_column('event_chain_head', sa.Column('prev_hash', sa.String(length=64), nullable=False,
                                                server_default=GENESIS))
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    for (tenant_id,) in bind.execute(sa.text("SELECT tenant_id FROM event_chain_head")).all():
        if postgres:  # Row-Level Security may apply to the owner too (FORCE): act as the tenant
            bind.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": _id(tenant_id)})
        rows = bind.execute(sa.text(
            "SELECT id, tenant_id, seq, subject_kind, subject_id, topic_id, action, from_state, to_state, actor_id,"
            " at, payload, prev_hash, hash FROM workflow_event WHERE tenant_id = :t ORDER BY seq"),
            {"t": tenant_id}).all()
        old_prev = new_prev = GENESIS
        for row in rows:
            fields, at = _fields(row), _utc(row.at)
            old = hashlib.sha256((old_prev + _canonical({**fields, "seq": row.seq,
                                  "at": at.isoformat(timespec="microseconds")})).encode()).hexdigest()
            if old != row.hash or row.prev_hash != old_prev:
                raise RuntimeError(f"workflow_event chain of tenant {_id(tenant_id)} is broken at seq {row.seq}: "
                                   "run `yishi audit verify` on the previous release before upgrading")
            content = hashlib.sha256(_canonical(fields).encode()).hexdigest()
            micros = (at - EPOCH) // datetime.timedelta(microseconds=1)
            new = hashlib.sha256(f"{new_prev}:{row.seq}:{micros}:{content}".encode()).hexdigest()
            bind.execute(sa.text("UPDATE workflow_event SET prev_hash = :p, hash = :h WHERE tenant_id = :t AND id = :i"),
                         {"p": new_prev, "h": new, "t": row.tenant_id, "i": row.id})
            head_prev, old_prev, new_prev = new_prev, row.hash, new
        if rows:
            bind.execute(sa.text("UPDATE event_chain_head SET hash = :h, prev_hash = :p WHERE tenant_id = :t"),
                         {"h": new_prev, "p": head_prev, "t": tenant_id})


def downgrade() -> None:
    op.drop_column('event_chain_head', 'prev_hash')

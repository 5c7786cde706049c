"""Database plumbing: the engine, sessions, and the application wall that scopes every query to one tenant."""

from __future__ import annotations

import uuid
import weakref
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar, cast

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import GUID
from sqlalchemy import JSON, ForeignKey, Table, event, inspect, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    make_transient_to_detached,
    mapped_column,
    with_loader_criteria,
)
from sqlalchemy.sql import Select, visitors
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.util import await_only

Base = UUIDv7AuditBase
_Row = TypeVar("_Row")
# JSON, stored as JSONB on PostgreSQL. (advanced-alchemy's JsonB does not work with SQLAlchemy 2.1.)
JsonB = JSON().with_variant(JSONB(), "postgresql")
TENANT_KEY = "yishi.tenant"
USER_KEY = "yishi.user_id"
# The key of the audit chain's links (bytes), given to every session by its sessionmaker: see core/events.py.
AUDIT_KEY = "yishi.audit_key"
# Execution option for the few reads that are deliberately not tenant-scoped (a user's own grants, operator
# commands). On PostgreSQL, Row-Level Security still applies to them.
ALL_TENANTS = "yishi_all_tenants"


class TenantScopeError(RuntimeError):
    """A tenant-owned table was touched without a tenant context: a programming error, never user input."""


@dataclass(frozen=True, slots=True)
class TenantContext:
    """The tenant a unit of work acts in; `subtree` widens reads (never writes) to the tenants below it."""

    tenant_id: uuid.UUID
    path: str
    subtree: bool = False


class TenantOwned:
    """Mixin for rows that belong to one tenant: `tenant_id` leads the primary key (Citus-ready)."""

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("tenant.id"), primary_key=True, sort_order=-200
    )


def table_of(model: type[Any]) -> Table:
    """A model's table, typed as the Table it is (SQLAlchemy types `__table__` as any FromClause)."""
    return cast(Table, model.__table__)


def tenant_tables() -> list[str]:
    """Names of every tenant-owned table (the ones Row-Level Security must cover)."""
    return sorted(table.name for table in _tenant_table_objects())


# Makes a session's tenant and user the transaction's, for Row-Level Security (set_config(..., true) is
# transaction-local). Only `core.tenancy.scope` changes which tenant a session acts in. `app.tenant_path` is the
# tenant's own (a written row's `tenant_path` defaults to it); `app.subtree` = 'on' widens reads to the tenants below.
SET_TENANT_CONFIG = text(
    "SELECT set_config('app.tenant_id', :tenant_id, true), set_config('app.tenant_path', :tenant_path, true),"
    " set_config('app.subtree', :subtree, true), set_config('app.user_id', :user_id, true)"
)
# Session info: the settings go as `SET LOCAL` statements (a Citus coordinator forwards those to its workers, with
# citus.propagate_set_commands = 'local'; a set_config call inside a query stays on the coordinator).
SET_LOCAL_KEY = "yishi.set_local"


def tenant_config(session: Session) -> dict[str, str]:
    """The settings `SET_TENANT_CONFIG` gives the transaction for the tenant and user `session` acts in."""
    ctx: TenantContext | None = session.info.get(TENANT_KEY)
    user_id = session.info.get(USER_KEY)
    return {
        "tenant_id": str(ctx.tenant_id) if ctx else "",
        "tenant_path": ctx.path if ctx else "",
        "subtree": "on" if ctx and ctx.subtree else "",
        "user_id": str(user_id) if user_id else "",
    }


def set_local_sql(params: dict[str, str]) -> str:
    """The settings as `SET LOCAL` statements in one message (values are ids, paths of hex digits and 'on'; quoted
    all the same)."""
    return "; ".join(f"SET LOCAL app.{name} = '{value.replace(chr(39), chr(39) * 2)}'" for name, value in params.items())


def apply_tenant_config(session: Session, connection: Connection) -> None:
    """Give the transaction on `connection` the settings of the tenant and user `session` acts in."""
    params = tenant_config(session)
    if not session.info.get(SET_LOCAL_KEY):
        connection.execute(SET_TENANT_CONFIG, params)
        return
    # Citus forwards SET LOCAL, not set_config. The first goes through SQLAlchemy, whose driver adapter sends the
    # transaction's BEGIN before it (lazily, at its first statement); the others in one simple-protocol message
    # on the driver itself (SQLAlchemy prepares each statement, and a prepared statement holds one command).
    first, *rest = set_local_sql(params).split("; ")
    connection.exec_driver_sql(first)
    driver = connection.connection.driver_connection
    await_only(driver.execute("; ".join(rest)))  # type: ignore[union-attr]


@event.listens_for(Session, "after_begin")
def _set_transaction_tenant(session: Session, transaction: Any, connection: Connection) -> None:
    # The settings are transaction-local, so a pooled connection never carries a tenant onwards.
    if connection.dialect.name == "postgresql" and (session.info.get(TENANT_KEY) or session.info.get(USER_KEY)):
        apply_tenant_config(session, connection)  # nothing to set: spare the round trip


def _references_tenant_table(statement: Any) -> bool:
    """Whether a statement reads a tenant table anywhere, subqueries included. Remembered for a statement built
    once and reused, and for every statement of the same shape: a request builds its statements anew, and walking
    each one's whole tree costs more than running it. The shape is SQLAlchemy's cache key, which it memoizes on
    the statement and compiles by anyway; a statement without one is walked each time."""
    known = _REFERENCES.get(statement)
    if known is not None:
        return known
    shape = statement._generate_cache_key() if isinstance(statement, ClauseElement) else None
    known = _REFERENCES_BY_SHAPE.get(shape.key) if shape is not None else None
    if known is None:
        tables = _tenant_table_objects()
        known = any(isinstance(element, Table) and element in tables for element in visitors.iterate(statement))
        if shape is not None:
            if len(_REFERENCES_BY_SHAPE) >= _SHAPES_KEPT:  # a bound, like SQLAlchemy's own statement cache
                _REFERENCES_BY_SHAPE.clear()
            _REFERENCES_BY_SHAPE[shape.key] = known
    _REFERENCES[statement] = known
    return known


_REFERENCES: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
_REFERENCES_BY_SHAPE: dict[tuple[Any, ...], bool] = {}
_SHAPES_KEPT = 5000


@cache
def _tenant_table_objects() -> frozenset[Table]:
    return frozenset(_tenant_entities())


@cache
def _tenant_entities() -> dict[Table, type[Any]]:
    """Each tenant table and the model mapped to it."""
    return {cast(Table, m.local_table): m.class_ for m in Base.registry.mappers if issubclass(m.class_, TenantOwned)}


def _entities_named(statement: Select[Any], nested: bool) -> Select[Any]:
    """`statement` with the models of its tenant tables named in its FROM list where SQLAlchemy would not see them.

    The loader criteria below reach the models SQLAlchemy finds through a SELECT's columns and FROM list. A
    SELECT of plain aggregates whose table comes only from a WHERE built with and_()/or_() — `select(func.count())
    .where(and_(Concern.created_at >= lo, Concern.created_at < hi))` — has none, and would read every tenant on
    SQLite, where nothing else walls it. Naming its tables changes no SQL; it makes the criteria apply. A
    subquery of that kind cannot be repaired from outside (it may be correlated to the query around it), so with
    `nested` (on SQLite, where the check pays for itself) it fails closed, to be fixed where it is written."""
    if nested:
        for element in visitors.iterate(statement):
            if (element is not statement and isinstance(element, Select) and not element._propagate_attrs
                    and _references_tenant_table(element)):
                raise TenantScopeError("a subquery reads a tenant table SQLAlchemy cannot see: name it with select_from()")
    if statement._propagate_attrs or not _references_tenant_table(statement):
        return statement
    entities = _tenant_entities()
    named = []
    for from_ in statement.get_final_froms():
        if isinstance(from_, Table) and from_ in entities:
            named.append(entities[from_])
        elif not isinstance(from_, Table) and _references_tenant_table(from_):
            raise TenantScopeError("a query joins a tenant table SQLAlchemy cannot see: select the model, not its table")
    return statement.select_from(*named)


@event.listens_for(Session, "do_orm_execute")
def _scope_to_tenant(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete) or state.execution_options.get(ALL_TENANTS):
        return
    ctx: TenantContext | None = state.session.info.get(TENANT_KEY)
    if ctx is None:
        # Fail closed: a tenant table touched with no tenant is a bug, never "every tenant".
        if _references_tenant_table(state.statement):
            raise TenantScopeError("tenant-owned data queried without a tenant context")
        return
    if state.is_select and isinstance(state.statement, Select):
        bind = state.session.bind
        state.statement = _entities_named(state.statement, nested=bind is not None and bind.dialect.name == "sqlite")
    if ctx.subtree and state.is_select:
        tree = Base.metadata.tables["tenant"]  # the tree's table, by name: its model is built on this module
        subtree = select(tree.c.id).where(tree.c.path.startswith(ctx.path))
        criteria = lambda cls: cls.tenant_id.in_(subtree)  # noqa: E731
    else:
        tenant_id = ctx.tenant_id
        criteria = lambda cls: cls.tenant_id == tenant_id  # noqa: E731
    # with_loader_criteria reaches every occurrence of a tenant entity, subqueries included.
    state.statement = state.statement.options(
        with_loader_criteria(TenantOwned, criteria, include_aliases=True, track_closure_variables=True)
    )


def column_values(obj: Any) -> dict[str, Any]:
    """An ORM object's column values keyed by column name, as a Core insert of its table takes them."""
    return {column: getattr(obj, attribute) for attribute, column in _column_keys(obj.__class__)}


@cache
def _column_keys(model: Any) -> tuple[tuple[str, str], ...]:
    """(attribute, column) of each of a model's columns, looked up once: every event and notice is written so."""
    return tuple((attr.key, attr.columns[0].key) for attr in inspect(model).column_attrs)


def unsaved(model: type[_Row], **values: Any) -> _Row:
    """A new `model` object holding `values` (by attribute), made without the ORM's attribute events (a
    microsecond each; a concern has 35 columns): for a row written without the ORM, which `make_persistent`
    then adds to the session as it is. An unknown attribute is refused, as the model's constructor would."""
    if unknown := values.keys() - _attribute_keys(cast(Any, model)):
        raise TypeError(f"{model.__name__} has no attribute {', '.join(sorted(unknown))}")
    row = model.__mapper__.class_manager.new_instance()  # type: ignore[attr-defined]
    row.__dict__.update(values)
    return row


@cache
def _attribute_keys(model: Any) -> frozenset[str]:
    return frozenset(attribute for attribute, _ in _column_keys(model))


def make_persistent(session: Any, row: Any) -> None:
    """A row written without the ORM joins the session as what it now is (every column set: none expired)."""
    values = row.__dict__
    for key in _attribute_keys(cast(Any, type(row))):  # written as NULL: loaded as None, not an unsaved change
        values.setdefault(key, None)
    make_transient_to_detached(row)
    session.add(row)


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session: Session, flush_context: Any, instances: Any) -> None:
    ctx: TenantContext | None = session.info.get(TENANT_KEY)
    for obj in session.new:
        if not isinstance(obj, TenantOwned):
            continue
        if ctx is None:
            raise TenantScopeError(f"{type(obj).__name__} written without a tenant context")
        if obj.tenant_id is None:
            obj.tenant_id = ctx.tenant_id
        elif obj.tenant_id != ctx.tenant_id:
            raise TenantScopeError(f"{type(obj).__name__} written into another tenant")
    for obj in session.dirty:
        if isinstance(obj, TenantOwned) and (ctx is None or obj.tenant_id != ctx.tenant_id):
            raise TenantScopeError(f"{type(obj).__name__} changed outside its tenant")


async def end_read(session: AsyncSession) -> None:
    """End a transaction that has only read, before slow work (decoding photos): on SQLite a transaction holds
    the write lock from its first statement (`_sqlite_begin`), and other writers would wait on it, then fail.
    The next statement begins a new transaction; on PostgreSQL, with the tenant set again (`after_begin`)."""
    if session.bind is None or session.bind.dialect.name != "sqlite" or not session.in_transaction():
        return
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("end_read() after a write: it would commit half a change")
    await session.commit()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the driver, opens transactions (so SAVEPOINTs work); see _sqlite_begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front: concurrent writers queue (busy_timeout) instead of failing on
    # a stale snapshot, so no acknowledged write is lost on the embedded database.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    kwargs: dict[str, Any] = {"echo": echo}
    if url.startswith("postgresql"):
        # A fixed pool: overflow connections are closed on return, and reopening them under load costs more
        # than waiting briefly for a pooled one.
        kwargs.update(pool_size=pool_size, max_overflow=0, pool_timeout=10)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def create_sessionmaker(engine: AsyncEngine, audit_key: str, info: dict[str, Any] | None = None, *,
                        set_local: bool = False) -> async_sessionmaker[AsyncSession]:
    """Sessions of the app and its commands, each holding the audit key (the database never sees it) and `info`;
    `set_local`: the tenant settings go as SET LOCAL (Citus)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False,
                              info={AUDIT_KEY: audit_key.encode(), SET_LOCAL_KEY: set_local, **(info or {})})

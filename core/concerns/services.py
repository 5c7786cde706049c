"""Rules of concerns: filing (with references), who sees which, triage, escalation one level up, photos."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import functools
import hmac
import itertools
import re
import secrets
import typing
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, overload

from sqlalchemy import (
    ColumnElement,
    Executable,
    Interval,
    Text,
    bindparam,
    cast,
    exists,
    func,
    insert,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from core import clock, keyset
from core.accounts import phone_reads
from core.accounts.models import User
from core.accounts.residency import residents_confirmed, verifies_residency
from core.accounts.services import PHONE_RE, mask_phone
from core.concerns.models import (
    CHANNELS,
    DEFAULT_CATEGORIES,
    EDITABLE_STATES,
    STATE_NAMES,
    UNMERGE_WITHIN,
    Concern,
    ConcernCategory,
    Photo,
    ReferenceCounter,
    tracking_code,
)
from core.concerns.schemas import ConcernCreate, ConcernOut, Deadlines, DuplicateOf, PublicConcern
from core.db import Base, TenantContext, make_persistent, table_of, unsaved
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, Problems
from core.events import (
    EventChainHead,
    Link,
    WorkflowEvent,
    after_event,
    append_event,
    audit_key,
    content_digest,
    hmac_pads,
    link_hash_sql,
    next_link,
    write_event,
)
from core.i18n import Label
from core.idempotency import Claim, IdempotencyRecord
from core.inputs import not_one_of, nul_in
from core.media import CleanImage, PhotoStore
from core.notifications.outbox import fan_out_soon
from core.redaction import public_summary, redact
from core.tenancy.models import Tenant
from core.tenancy.scope import TenantScope
from core.tenancy.services import resolve_place
from core.throttle import Throttle
from core.timelimits import clock as timelimits
from core.timelimits import revisits
from core.timelimits.models import URGENCIES
from core.topics.machine import PUBLIC_STATES, STEP_NAMES, STEPS
from core.topics.machine import STATE_NAMES as TOPIC_STATE_NAMES
from core.topics.models import Topic
from core.topics.schemas import EventOut

# Each sort's column and whether it runs newest (largest) first; the id breaks ties the same way, so a page's
# last row is a key the next page starts after (core/keyset.py).
SORTS: dict[str, tuple[Any, bool] | None] = {
    "created_at": (Concern.created_at, False),
    "-created_at": (Concern.created_at, True),
    "updated_at": (Concern.updated_at, False),
    "-updated_at": (Concern.updated_at, True),
    "status": (Concern.status, False),
    "category": (Concern.category, False),
    "reference": (Concern.reference, False),
    "light": None,  # red first, then yellow, then green, each soonest due first (timelimits.light_rank)
}
CATEGORY_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
MAX_PHOTOS = 9
# The secret after a reference (JSX-2026-000123-7QKM): no 0/O or 1/I to misread; 32⁴ codes per reference.
TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 characters: five random bits each
TRACKING_LENGTH = 4
# Public lookups by tracking code, per client address: wrong codes allowed before a pause.
LOOKUP_MAX_FAILURES = 30
LOOKUP_WINDOW_SECONDS = 15 * 60
# triage action → (states it may start from, resulting state, the field that must be given)
TRIAGE = {
    "accept": (("submitted",), "accepted", None),
    "reject": (("submitted",), "rejected", "reason"),
    "resolve_directly": (("submitted", "accepted"), "resolved", "note"),
    "escalate": (("submitted", "accepted"), "escalated", "reason"),
}


_COUNTER = table_of(ReferenceCounter)
_CONCERN = table_of(Concern)
_HEAD = table_of(EventChainHead)
# Built once (compiled once): filing is the busiest write there is.
_NEXT_NUMBER = (update(_COUNTER).where(_COUNTER.c.tenant_id == bindparam("b_tenant_id"), _COUNTER.c.year == bindparam("b_year"))
                .values(value=_COUNTER.c.value + 1, updated_at=bindparam("b_now")).returning(_COUNTER.c.value))
# The same bump for the one-statement filing, answering the tenant too (to join on). Derived here, before anything
# reads `_NEXT_NUMBER`'s columns: SQLAlchemy remembers a statement's RETURNING columns once read, and a copy made
# later with more of them would still list only the first.
_NUMBER = _NEXT_NUMBER.returning(_COUNTER.c.tenant_id)


def _row(model: type[Base], prefix: str, computed: dict[str, ColumnElement[Any]]) -> dict[str, ColumnElement[Any]]:
    """Every column of `model` by name: the SQL `computed` gives for it, else the bind parameter `prefix` + its key
    (given by `_bound`), so a new column needs no edit here.

    Each is cast to its column's type without a length (`$1::VARCHAR`): the column itself refuses a value too long
    for it, where a cast to VARCHAR(n) would cut it.
    """
    return {column.name: computed.get(column.key, bindparam(prefix + column.key, type_=column.type))
            for _, column in _columns(model)}


@functools.cache
def _columns(model: type[Base]) -> list[tuple[str, Any]]:
    """`model`'s columns, each with the name of its attribute."""
    return [(attr.key, attr.columns[0]) for attr in inspect(model).column_attrs]


def _bound(prefix: str, model: type[Base], values: dict[str, Any]) -> dict[str, Any]:
    """A new row's `values` (by attribute) as the parameters of `_row(model, prefix, ...)`, unset columns as None.
    Read from a dict (an object's own, or none): the ORM's attribute reads cost about 0.1 ms for a concern's 35
    columns, on the busiest write."""
    return {name: values.get(key) for key, name in _parameter_names(model, prefix)}


@functools.cache
def _parameter_names(model: type[Base], prefix: str) -> tuple[tuple[str, str], ...]:
    """(attribute, parameter name) of each of `model`'s columns under `prefix`, named once."""
    return tuple((key, prefix + column.key) for key, column in _columns(model))


def _insert_from(model: type[Base], row: dict[str, ColumnElement[Any]], source: Any) -> Any:
    """INSERT … SELECT of `row` (see `_row`) for each row of `source`, a CTE: when it has none, nothing is written."""
    return insert(table_of(model)).from_select(list(row), select(*row.values()).select_from(source))


@functools.cache
def _file_statement(with_record: bool) -> Executable:
    """Filing in one PostgreSQL statement (data-modifying CTEs, all or nothing), built from the models:

    - `old`: the tenant's chain head, locked (its lock serializes the tenant's event writers);
    - `number`: the year's next reference number (`_NEXT_NUMBER`), taken under that lock;
    - `head`: the head moved one place on, its link computed by PostgreSQL (`link_hash_sql`);
    - `filed`, `event`, `record`: the concern with its reference, its event at that link, and (`with_record`)
      the Idempotency-Key record with the answer (a used key fails the whole statement).

    Every write hangs on `old` and `number`: with no head or no counter for the year it writes nothing and
    answers no row. It answers the number and the new link.
    """
    old = (select(_HEAD.c.tenant_id, _HEAD.c.seq, _HEAD.c.hash, _HEAD.c.at)
           .where(_HEAD.c.tenant_id == bindparam("b_tenant_id")).with_for_update().cte("old"))
    number = _NUMBER.where(_COUNTER.c.tenant_id == old.c.tenant_id).cte("number")
    now = bindparam("b_now", type_=_HEAD.c.at.type)
    # Times never go backwards within a tenant's chain, whatever the clocks of several workers say.
    at = func.greatest(now, old.c.at + literal(datetime.timedelta(microseconds=1), Interval()), type_=_HEAD.c.at.type)
    seq = old.c.seq + 1
    link = link_hash_sql(old.c.hash, seq, at, bindparam("content", type_=Text))
    head = (update(_HEAD).where(_HEAD.c.tenant_id == old.c.tenant_id, _HEAD.c.tenant_id == number.c.tenant_id)
            .values(seq=seq, at=at, hash=link, updated_at=now)
            .returning(number.c.value.label("number"), _HEAD.c.seq, _HEAD.c.at, old.c.hash.label("prev_hash"),
                       _HEAD.c.hash).cte("head"))
    # Six digits at least, as Python's :06d: lpad alone would cut a seventh (the millionth concern of a year).
    digits = cast(head.c.number, Text)
    reference = bindparam("reference_stem", type_=Text) + func.lpad(digits, func.greatest(6, func.length(digits)), "0")
    concern = _row(Concern, "c_", {"reference": reference})
    filed = (_insert_from(Concern, concern, head)
             .returning(_CONCERN.c.id, _CONCERN.c.reference, _CONCERN.c.status, _CONCERN.c.tracking_secret)
             .cte("filed"))
    event = _row(WorkflowEvent, "e_", {"seq": head.c.seq, "at": head.c.at, "prev_hash": head.c.prev_hash,
                                       "hash": head.c.hash, "created_at": head.c.at, "updated_at": head.c.at})
    writes = [filed, _insert_from(WorkflowEvent, event, head).cte("event")]
    if with_record:
        # `filed_answer`, from the row just written.
        answer = {"id": cast(filed.c.id, Text), "reference": filed.c.reference, "status": filed.c.status,
                  "tracking_code": filed.c.reference + "-" + filed.c.tracking_secret}
        record = _row(IdempotencyRecord, "r_", {"response": func.jsonb_build_object(*itertools.chain(*answer.items()))})
        writes.append(_insert_from(IdempotencyRecord, record, filed).cte("record"))
    return select(*head.c).add_cte(*writes)


class Page(NamedTuple):
    """A page of concerns: how many match in all (None when paging by cursor), and the cursor of the next page
    (None on the last one, and for the light sort, which changes with the clock)."""

    items: list[Concern]
    total: int | None
    next_cursor: str | None


# Every column of a concern, by its attribute's name, but the ORM's own (its insert sentinel): what a page reads.
LISTED = tuple(getattr(Concern, column.key) for column in inspect(Concern).column_attrs
               if not column.key.startswith("_"))
_LISTING = select(*LISTED)  # built once: each page only adds its filters
# Beside each listed concern: who filed it, and whether it has photos (`to_out` then asks only for those that do).
_ABOUT_LISTED = (User.username.label("filer_username"), User.display_name.label("filer_name"),
                 exists().where(Photo.owner_kind == "concern", Photo.owner_id == Concern.id).label("has_photos"))
_MATCHED = func.count().over().label("matched")  # how many the filters match in all
@functools.cache
def _listed_row(names: tuple[str, ...]) -> Any:
    """A named tuple of a page's columns: its attributes are read at C speed (SQLAlchemy's own rows look each
    name up anew), and a page of 50 concerns reads about 2,000 of them."""
    return collections.namedtuple("ListedConcern", names)  # noqa: PYI024 (made at runtime from the columns)


# What each sortable column's values are, for reading them back out of a cursor.
_KEY_KINDS: dict[str, type] = {"created_at": datetime.datetime, "updated_at": datetime.datetime, "status": str,
                               "category": str, "reference": str}


@dataclass(frozen=True)
class ConcernFilters:
    status: str | None = None
    category: str | None = None
    compound: uuid.UUID | None = None
    created_from: datetime.date | None = None
    created_to: datetime.date | None = None
    sort: str = "-created_at"
    in_topic: bool | None = None  # False: accepted concerns still waiting for a topic
    light: str | None = None  # red, yellow or green: open concerns of that light
    reopened: bool | None = None  # True: concerns reopened (重办) at least once
    filed_by_me: bool = False  # only those the reader filed (a grid worker's own, staff's too)


def reference_prefix(tenant: Tenant) -> str:
    """JSX for 建设巷 when the portal says so; otherwise drawn from the slug."""
    if prefix := (tenant.portal or {}).get("reference_prefix"):
        return prefix
    parts = [p for p in tenant.slug.split("-") if p]
    letters = "".join(p[0] for p in parts) if len(parts) > 1 else tenant.slug[:3]
    return re.sub(r"[^A-Za-z]", "", letters).upper() or "YS"


async def category_names(session: AsyncSession) -> dict[str, str]:
    """Category code → name: the defaults and those the session's tenant (or tenants) added, in code order."""
    extra = (await session.execute(select(ConcernCategory.code, ConcernCategory.name)
                                   .order_by(ConcernCategory.code))).all()
    return {**DEFAULT_CATEGORIES, **dict(extra)}


def filed_answer(concern: Concern) -> dict[str, str | None]:
    """What filing answers (and an Idempotency-Key replays): the concern's id, reference, status and tracking code."""
    return {"id": str(concern.id), "reference": concern.reference, "status": concern.status,
            "tracking_code": concern.tracking_code}


def deadlines_of(concern: Concern, now: datetime.datetime) -> Deadlines:
    return Deadlines(urgency=concern.urgency, respond_by=concern.respond_by, resolve_by=concern.resolve_by,
                     responded_at=concern.responded_at, paused=concern.paused_at is not None,
                     light=timelimits.light(concern, now))


def _duplicate_of(concern: Concern, references: dict[uuid.UUID, str]) -> DuplicateOf | None:
    if concern.duplicate_of_id is None or concern.merged_at is None or concern.duplicate_of_id not in references:
        return None
    return DuplicateOf(id=concern.duplicate_of_id, reference=references[concern.duplicate_of_id],
                       merged_at=concern.merged_at, undo_until=concern.merged_at + UNMERGE_WITHIN)


def new_tracking_secret() -> str:
    """`TRACKING_LENGTH` characters of `TRACKING_ALPHABET` (32 of them: five random bits each), drawn at once."""
    bits = secrets.randbits(5 * TRACKING_LENGTH)
    return "".join(TRACKING_ALPHABET[(bits >> (5 * i)) & 31] for i in range(TRACKING_LENGTH))


@overload
def clean_text(value: str | None, field: str, label: Label, max_len: int, required: Literal[True] = True) -> str: ...
@overload
def clean_text(value: str | None, field: str, label: Label, max_len: int, required: bool) -> str | None: ...
def clean_text(value: str | None, field: str, label: Label, max_len: int, required: bool = True) -> str | None:
    """`value` trimmed, or None when left empty and not `required`; refused when empty, too long or holding a NUL."""
    value = (value or "").strip()
    if not value:
        if required:
            raise InvalidInput("{label}不能为空", field=field, label=label)
        return None
    if (refused := nul_in(value, field)) is not None:
        raise refused
    if len(value) > max_len:
        raise InvalidInput("{label}不能超过 {max_len} 个字", field=field, label=label, max_len=max_len)
    return value


async def checked_filing(session: AsyncSession, data: ConcernCreate, problems: Problems) -> dict[str, Any]:
    """The columns of a new concern that `data` gives, whoever files it (title, description, category, place),
    each refusal kept in `problems` for the caller to raise with its own."""
    title = problems.take(clean_text, data.title, "title", Label("标题"), 120)
    description = problems.take(clean_text, data.description, "description", Label("描述"), 5000)
    place = problems.take(clean_text, data.place, "place", Label("地点"), 200, required=False)
    # The default categories need no query; only a tenant's own additions are looked up.
    if data.category not in DEFAULT_CATEGORIES and data.category not in (categories := await category_names(session)):
        problems.add(InvalidInput("未知分类 {category}；可用：{choices}", field="category", category=data.category,
                                  choices=", ".join(categories)))
    compound_id = building_id = None
    try:
        compound_id, building_id = await resolve_place(session, data.compound, data.building)
    except InvalidInput as refused:
        problems.add(refused)
    if data.urgency not in URGENCIES:
        problems.add(not_one_of("urgency", URGENCIES))
    return {"title": title, "description": description, "category": data.category, "compound_id": compound_id,
            "building_id": building_id, "place": place, "status": "submitted", "urgency": data.urgency}


@dataclass(frozen=True)
class NewConcern:
    """Writes a new concern of `tenant`, for `actor_id` (None: a resident with no account, filing by phone)."""

    session: AsyncSession
    tenant: Tenant
    actor_id: uuid.UUID | None

    @property
    def ctx(self) -> TenantContext:
        return TenantContext(self.tenant.id, self.tenant.path)

    async def write(self, action: str, payload: dict, claim: Claim | None = None, **fields: Any) -> Concern:
        """A new concern of this tenant with its reference, its event and (with a claim) its idempotency record.

        Filing is the busiest write there is. On PostgreSQL it is one statement (`_file_statement`): the year's
        number and the chain's next link under the head's lock, the concern, its event and the record; the
        keyed link is computed by PostgreSQL from the key's pads. A tenant's first filing of a year (no counter
        yet, or no chain) takes the steps every other event takes, as SQLite always does. Both write the same
        rows: this concern, this event and `claim.record`.
        """
        now = clock.now()
        policy = await timelimits.policy_for(self.session, self.tenant)
        fields.update(timelimits.started(policy, fields["category"], fields.pop("urgency", None) or "normal", now),
                      reopened=0, supporters=0)
        concern = unsaved(Concern, tenant_id=self.tenant.id, id=uuid7(), created_at=now, updated_at=now, reference="",
                          tracking_secret=new_tracking_secret(), **fields)
        event: dict[str, Any] = dict(subject_kind="concern", subject_id=concern.id, topic_id=None, action=action, from_state=None,
                     to_state=concern.status, actor_id=self.actor_id, payload=payload)
        year = clock.local(now).year  # the communities' year: a concern filed at 00:30 on 1 January is the new year's
        stem = f"{reference_prefix(self.tenant)}-{year}-"  # and the number in six digits: JSX-2026-000123
        # Its keys in the similarity index are written once it has committed, by the fan-out of the event log
        # (`core.related.index.follow`): computing and writing them here cost filing a quarter of its speed.
        fan_out_soon(self.session, self.ctx)
        connection = await self.session.connection()
        if connection.dialect.name == "postgresql" and await self._file_in_one_statement(connection, concern, event,
                                                                                          claim, stem, year, now):
            return concern
        link = await self._link_with_number(year)
        concern.reference = f"{stem}{link.number:06d}"
        await write_event(self.session, self.ctx, link, **event,
                          new_rows=[concern, *([claim.record(201, filed_answer(concern))] if claim else [])])
        return concern

    async def _file_in_one_statement(self, connection: Any, concern: Concern, event: dict[str, Any],
                                     claim: Claim | None, stem: str, year: int, now: datetime.datetime) -> bool:
        """`_file_statement`; False, having written nothing, when the tenant has no chain or no counter this year."""
        written = unsaved(WorkflowEvent, tenant_id=self.tenant.id, id=uuid.uuid4(), **event)
        params = {"b_tenant_id": self.tenant.id, "b_year": year, "b_now": now, "reference_stem": stem,
                  "content": content_digest(written), **hmac_pads(audit_key(self.session))}
        # Each row's columns under its prefix (`_row`); those the statement computes go unused.
        params.update(_bound("c_", Concern, concern.__dict__), **_bound("e_", WorkflowEvent, written.__dict__))
        if claim is not None:
            params.update(_bound("r_", IdempotencyRecord, claim.columns(201, {})))
        row = (await connection.execute(_file_statement(claim is not None), params)).first()
        if row is None:
            return False
        number, written.seq, written.at, written.prev_hash, written.hash = row
        written.created_at = written.updated_at = written.at
        concern.reference = f"{stem}{number:06d}"
        make_persistent(self.session, concern)  # first: what hears of the event finds it without a query
        await after_event(self.session, self.ctx, written)
        return True

    async def _link_with_number(self, year: int) -> Link:
        """The chain's next link, with the year's next reference number taken under the same lock."""
        params = {"b_year": year}
        link = await next_link(self.session, self.ctx, _NEXT_NUMBER, params)
        if link.number is None:  # the tenant's first concern of the year
            try:
                async with self.session.begin_nested():
                    now = clock.now()
                    await self.session.execute(insert(ReferenceCounter).values(
                        tenant_id=self.tenant.id, id=uuid.uuid4(), year=year, value=1, created_at=now, updated_at=now))
                number = 1
            except IntegrityError:  # another request opened the year first (it held the lock before us)
                number = (await (await self.session.connection()).execute(
                    _NEXT_NUMBER, {"b_tenant_id": self.tenant.id, "b_now": clock.now(), **params})).scalar()
            link = dataclasses.replace(link, number=number)
        return link


class _Person(NamedTuple):
    username: str
    display_name: str | None


class ConcernService:
    """Concerns of the scope's tenant, as the signed-in user may see and change them."""

    def __init__(self, session: AsyncSession, scope: TenantScope, photos: PhotoStore | None = None) -> None:
        self.session = session
        self.scope = scope
        self.tenant = scope.tenant
        self.photos = photos
        self._people: dict[uuid.UUID, _Person] = {}  # filers' names, as read with a page
        self._photoless: set[uuid.UUID] = set()  # concerns a page found without photos

    @property
    def ctx(self) -> TenantContext:
        return self.scope.ctx

    # --- categories ------------------------------------------------------------------------------------

    async def categories(self) -> dict[str, str]:
        return await category_names(self.session)

    async def add_category(self, code: str, name: str) -> None:
        if not CATEGORY_CODE_RE.fullmatch(code):
            raise InvalidInput("分类代码须为小写字母开头的 2–40 个小写字母、数字或下划线", field="code")
        name = clean_text(name, "name", Label("分类名称"), 50)
        if code in await self.categories():
            raise Conflict("分类 {code} 已存在", field="code", code=code)
        self.session.add(ConcernCategory(code=code, name=name))
        await self.session.flush()

    # --- filing ----------------------------------------------------------------------------------------

    async def file(self, data: ConcernCreate, claim: Claim | None = None) -> Concern:
        """File a concern; with a `claim`, its Idempotency-Key and answer are written in the same statement."""
        on_behalf = bool(data.resident_name or data.resident_phone)
        if on_behalf and not self.scope.can("concern.file_on_behalf"):
            raise Forbidden("只有网格员、人大代表或工作人员可以代居民反映诉求")
        if data.urgency != "normal" and not self.scope.can("concern.file_on_behalf"):
            raise Forbidden("紧急程度由网格员或工作人员判定；居民反映的诉求按一般诉求办理")
        problems = Problems()  # every bad field at once
        fields = await checked_filing(self.session, data, problems)
        resident_name = problems.take(clean_text, data.resident_name, "resident_name", Label("居民姓名"), 50,
                                      required=False)
        if data.channel not in CHANNELS:
            problems.add(InvalidInput("渠道须为 {choices} 之一", field="channel", choices=", ".join(CHANNELS)))
        if data.resident_phone and not PHONE_RE.fullmatch(data.resident_phone):
            problems.add(InvalidInput("居民手机号须为 11 位中国大陆手机号", field="resident_phone"))
        problems.raise_any()
        return await self._write_new(
            "concern.filed", {"channel": data.channel}, claim, **fields, channel=data.channel,
            filed_by_id=self.scope.user_id, resident_id=None if on_behalf else self.scope.user_id,
            resident_name=resident_name, resident_phone=data.resident_phone,
        )

    async def _write_new(self, action: str, payload: dict, claim: Claim | None = None, **fields: Any) -> Concern:
        return await NewConcern(self.session, self.tenant, self.scope.user_id).write(action, payload, claim, **fields)

    # --- reading ---------------------------------------------------------------------------------------

    def _visible(self, statement):
        if self.scope.can("concern.read_all"):
            return statement
        mine = self.scope.user_id
        return statement.where((Concern.filed_by_id == mine) | (Concern.resident_id == mine))

    async def get(self, concern_id: uuid.UUID, *, for_update: bool = False) -> Concern:
        """The concern, if the user may see it; `for_update` locks its row (and reads it afresh) for a change that
        depends on its state: two staff triaging it at once then act one after the other."""
        statement = self._visible(select(Concern).where(Concern.id == concern_id))
        if for_update:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        concern = await self.session.scalar(statement)
        if concern is None:
            raise NotFound("没有这条诉求")
        return concern

    async def events(self, concern: Concern, limit: int = 200) -> list[EventOut]:
        """The concern's timeline: its events, oldest first (the first `limit`), each with who acted."""
        events = (await self.session.scalars(select(WorkflowEvent).where(
            WorkflowEvent.subject_kind == "concern", WorkflowEvent.subject_id == concern.id)
            .order_by(WorkflowEvent.seq).limit(limit))).all()
        actors = {e.actor_id for e in events if e.actor_id}
        people = {row.id: row for row in (await self.session.execute(
            select(User.id, User.username, User.display_name).where(User.id.in_(actors)))).all()} if actors else {}
        return [EventOut(seq=e.seq, action=e.action, from_state=e.from_state, to_state=e.to_state,
                         actor=people[e.actor_id].username if e.actor_id in people else None, at=e.at,
                         payload=e.payload, hash=e.hash,
                         actor_name=(people[e.actor_id].display_name or people[e.actor_id].username)
                         if e.actor_id in people else None) for e in events]

    async def page(self, filters: ConcernFilters, limit: int, offset: int = 0, cursor: str | None = None) -> Page:
        """A page of the concerns the filters match, `offset` rows in or after `cursor` (a key from the page
        before: then the total is not counted, since counting is the walk a cursor saves)."""
        if filters.sort not in SORTS:
            raise not_one_of("sort", SORTS)
        if filters.status is not None and filters.status not in STATE_NAMES:
            raise not_one_of("status", STATE_NAMES)
        keyed = SORTS[filters.sort]
        if cursor is not None and keyed is None:
            raise InvalidInput("按红黄绿灯排序时不能用游标翻页（灯色随时间变化）：请用 offset", field="cursor")
        if cursor is not None and offset:
            raise InvalidInput("cursor 与 offset 只能用其一", field="offset")
        # The concern's columns as plain rows, not mapped objects: a page is read, never changed, and a row is
        # built and read at a fraction of an object's cost.
        statement = self._visible(_LISTING)
        if filters.status:
            statement = statement.where(Concern.status == filters.status)
        if filters.category:
            statement = statement.where(Concern.category == filters.category)
        if filters.compound:
            statement = statement.where(Concern.compound_id == filters.compound)
        if filters.created_from:
            statement = statement.where(Concern.created_at >= clock.day_start(filters.created_from))
        if filters.created_to:
            statement = statement.where(Concern.created_at < clock.day_start(filters.created_to + datetime.timedelta(days=1)))
        if filters.in_topic is not None:
            statement = statement.where(Concern.topic_id.is_not(None) if filters.in_topic else Concern.topic_id.is_(None))
        if filters.reopened is not None:
            statement = statement.where(Concern.reopened > 0 if filters.reopened else Concern.reopened == 0)
        if filters.filed_by_me:
            statement = statement.where(Concern.filed_by_id == self.scope.user_id)
        if filters.light is not None:
            if filters.light not in timelimits.LIGHTS:
                raise not_one_of("light", timelimits.LIGHTS)
            statement = statement.where(timelimits.light_rank(clock.now()) == timelimits.LIGHTS.index(filters.light))
        if keyed is None:
            order: tuple[Any, ...] = (timelimits.light_rank(clock.now()), timelimits.due(), Concern.id)
        else:
            column, descending = keyed
            order = (column.desc(), Concern.id.desc()) if descending else (column.asc(), Concern.id.asc())
            if cursor is not None:
                key = keyset.decode(cursor, filters.sort, (_KEY_KINDS[column.key], uuid.UUID))
                statement = statement.where(keyset.after((column, Concern.id), key, descending))
        # One query for the page, how many match in all (unless paging by cursor), whether more follow, the names
        # of those who filed them and which have photos (both for `to_out`, which then asks for no more).
        counted = cursor is None
        result = await self.session.execute(
            statement.add_columns(*_ABOUT_LISTED, *((_MATCHED,) if counted else ()))
            .outerjoin(User, User.id == Concern.filed_by_id)
            .order_by(*order).limit(limit + 1).offset(offset))
        shape = _listed_row(tuple(result.keys()))
        rows = [shape._make(row) for row in result]
        more = len(rows) > limit
        rows = rows[:limit]
        total: int | None = None
        if counted:
            if rows:
                total = int(rows[0].matched)
            else:  # past the last page (or nothing at all): counted on its own
                total = int(await self.session.scalar(
                    select(func.count()).select_from(statement.subquery())) or 0) if offset else 0
        self._people.update({row.filed_by_id: _Person(row.filer_username, row.filer_name)
                             for row in rows if row.filer_username is not None})
        self._photoless.update(row.id for row in rows if not row.has_photos)
        # Read-only rows with every column of a concern, which the callers read as they read a Concern.
        concerns = typing.cast("list[Concern]", rows)
        next_cursor = None
        if more and keyed is not None:
            last = concerns[-1]
            next_cursor = keyset.encode(filters.sort, (getattr(last, keyed[0].key), last.id))
        return Page(concerns, total, next_cursor)

    async def to_out(self, concerns: Sequence[Concern]) -> list[ConcernOut]:
        """Shape a page of concerns with a fixed number of queries, whatever the page size."""
        ids = [c.id for c in concerns]
        users = {c.filed_by_id for c in concerns if c.filed_by_id is not None}  # None: filed by phone, no account
        if unknown := users - self._people.keys():  # those `page` read already are known
            self._people.update({row.id: _Person(row.username, row.display_name) for row in (await self.session.execute(
                select(User.id, User.username, User.display_name).where(User.id.in_(unknown)))).all()})
        people = self._people
        photos: dict[uuid.UUID, list[uuid.UUID]] = {}
        if with_photos := [i for i in ids if i not in self._photoless]:
            rows = await self.session.execute(select(Photo.owner_id, Photo.id).where(
                Photo.owner_kind == "concern", Photo.owner_id.in_(with_photos)).order_by(Photo.created_at))
            for owner_id, photo_id in rows:
                photos.setdefault(owner_id, []).append(photo_id)
        parents = {c.escalated_to_id for c in concerns if c.escalated_to_id}
        slugs = dict((await self.session.execute(
            select(Tenant.id, Tenant.slug).where(Tenant.id.in_(parents)))).all()) if parents else {}
        # A tenant adds categories but never renames the defaults: a page of default ones needs no query.
        categories = DEFAULT_CATEGORIES if all(c.category in DEFAULT_CATEGORIES for c in concerns) \
            else await self.categories()
        confirmed = await self._residents_confirmed(concerns)
        merged = {c.duplicate_of_id for c in concerns if c.duplicate_of_id}
        survivors = dict((await self.session.execute(
            select(Concern.id, Concern.reference).where(Concern.id.in_(merged)))).all()) if merged else {}
        show_phone, now = self.scope.can("person.phone"), clock.now()
        if show_phone:  # logged where they were read (PIPL): the reader's tenant
            await phone_reads.record(self.session, self.tenant.id, self.scope.user_id, "concern",
                                     [c.id for c in concerns if c.resident_phone])
        return [
            ConcernOut(
                id=c.id, reference=c.reference, title=c.title, description=c.description, category=c.category,
                category_name=categories.get(c.category, c.category), channel=c.channel, compound=c.compound_id,
                building=c.building_id, place=c.place, public_summary=public_summary(c),
                public_summary_edited=c.public_summary is not None,
                tracking_code=tracking_code(c.reference, c.tracking_secret),
                status=c.status, status_name=STATE_NAMES[c.status],
                resident_name=c.resident_name,
                resident_phone=c.resident_phone if show_phone else mask_phone(c.resident_phone),
                filed_by=people[c.filed_by_id].username if c.filed_by_id in people else "", triage_reason=c.triage_reason,
                triage_note=c.triage_note, instructions=c.instructions,
                escalated_to=slugs.get(c.escalated_to_id) if c.escalated_to_id else None, topic=c.topic_id,
                photos=photos.get(c.id, []), created_at=c.created_at, updated_at=c.updated_at,
                deadlines=(deadlines := deadlines_of(c, now)), light=deadlines.light, reopened=c.reopened,
                resident_confirmed=confirmed.get(c.id), duplicate_of=_duplicate_of(c, survivors),
                supporters=c.supporters,
                filed_by_name=(people[c.filed_by_id].display_name or people[c.filed_by_id].username)
                if c.filed_by_id in people else "",
                editable=c.status in EDITABLE_STATES and self.scope.user_id in (c.filed_by_id, c.resident_id),
            )
            for c in concerns
        ]

    async def _residents_confirmed(self, concerns: Sequence[Concern]) -> dict[uuid.UUID, bool]:
        """For staff of a community that verifies residency: by concern, whether its resident is confirmed (one
        query for the page). Nothing for anyone else, nor for a concern of another tenant (an escalated one), nor
        for one that names no resident of the community (filed on someone's behalf, or by staff themselves)."""
        if not (verifies_residency(self.tenant) and self.scope.can("concern.read_all")):
            return {}
        ours = [c for c in concerns if c.resident_id and c.tenant_id == self.tenant.id]
        confirmed = await residents_confirmed(self.session, (c.resident_id for c in ours if c.resident_id))
        return {c.id: confirmed[c.resident_id] for c in ours if c.resident_id in confirmed}

    # --- triage ----------------------------------------------------------------------------------------

    async def triage(self, concern_id: uuid.UUID, action: str, reason: str | None, note: str | None) -> Concern:
        if action not in TRIAGE:
            raise not_one_of("action", TRIAGE)
        required = TRIAGE[action][2]
        reason = clean_text(reason, "reason", Label("理由"), 2000, required=required == "reason")
        note = clean_text(note, "note", Label("办理说明"), 2000, required=required == "note")
        return await apply_triage(self.session, self.tenant, await self.get(concern_id, for_update=True), action,
                                  reason, note,
                                  self.scope.user_id)

    async def set_public_summary(self, concern_id: uuid.UUID, summary: str | None) -> Concern:
        """What the public reads of the concern from now on; none: its title with personal data taken out."""
        summary = clean_text(summary, "public_summary", Label("公开摘要"), 120, required=False)
        concern = await self.get(concern_id)
        if summary is not None and redact(summary, (concern.resident_name, concern.resident_phone)) != summary:
            raise InvalidInput("公开摘要不能含手机号、身份证号、邮箱或居民姓氏", field="public_summary")
        concern.public_summary = summary
        await self.session.flush()
        await self._event(concern, "concern.public_summary", concern.status, concern.status,
                          {"public_summary": summary})
        return concern

    async def _event(self, concern: Concern, action: str, from_state: str | None, to_state: str,
                     payload: dict | None = None, ctx: TenantContext | None = None) -> None:
        await append_event(self.session, ctx or self.ctx, subject_kind="concern", subject_id=concern.id,
                           action=action, from_state=from_state, to_state=to_state, actor_id=self.scope.user_id,
                           topic_id=concern.topic_id, payload=payload)

    # --- photos ----------------------------------------------------------------------------------------

    async def add_photo(self, concern_id: uuid.UUID, image: CleanImage) -> Photo:
        concern = await self.get(concern_id)
        if concern.filed_by_id != self.scope.user_id and not self.scope.can("concern.triage"):
            raise Forbidden("只有反映人或工作人员可以补充照片")
        count = await self.session.scalar(select(func.count()).select_from(Photo).where(
            Photo.owner_kind == "concern", Photo.owner_id == concern.id))
        if (count or 0) >= MAX_PHOTOS:
            raise Conflict("每条诉求最多 {limit} 张照片", limit=MAX_PHOTOS)
        assert self.photos is not None
        key = await self.photos.save(self.session, self.tenant.id, image)
        photo = Photo(owner_kind="concern", owner_id=concern.id, storage_key=key, content_type=image.content_type,
                      size=len(image.data), width=image.width, height=image.height, uploaded_by_id=self.scope.user_id)
        self.session.add(photo)
        await self.session.flush()
        return photo

    async def photo(self, concern_id: uuid.UUID, photo_id: uuid.UUID) -> tuple[bytes, str]:
        concern = await self.get(concern_id)
        photo = await self.session.scalar(select(Photo).where(
            Photo.id == photo_id, Photo.owner_kind == "concern", Photo.owner_id == concern.id))
        if photo is None:
            raise NotFound("没有这张照片")
        assert self.photos is not None
        return await self.photos.load(photo.storage_key), photo.content_type

    # --- escalations (acting as the parent) --------------------------------------------------------------

    async def escalations(self, limit: int, offset: int) -> tuple[list[Concern], int]:
        """Concerns the tenants directly below escalated to this one, still waiting for an answer."""
        async with self.scope.subtree():
            statement = select(Concern).where(Concern.escalated_to_id == self.tenant.id, Concern.status == "escalated")
            total = await self.session.scalar(select(func.count()).select_from(statement.subquery()))
            page = (await self.session.scalars(statement.order_by(Concern.created_at).limit(limit).offset(offset))).all()
        return list(page), int(total or 0)

    async def _escalated(self, concern_id: uuid.UUID) -> tuple[Concern, Tenant]:
        """An escalated concern waiting for this tenant's answer, and the tenant below that escalated it."""
        async with self.scope.subtree():
            concern = await self.session.scalar(select(Concern).where(
                Concern.id == concern_id, Concern.escalated_to_id == self.tenant.id))
        if concern is None:
            raise NotFound("没有上报到本级的这条诉求")
        if concern.status != "escalated":
            raise Conflict("诉求当前为「{state}」，已处理过", state=Label(STATE_NAMES[concern.status]))
        child = await self.session.get(Tenant, concern.tenant_id)
        assert child is not None
        return concern, child

    async def take_over(self, concern_id: uuid.UUID) -> Concern:
        """The parent handles the matter itself: a concern of its own, linked to the original."""
        original, child = await self._escalated(concern_id)
        async with self.scope.acting_in(child) as there:
            original.status = "taken_over"
            await self.session.flush()
            await self._event(original, "concern.taken_over", "escalated", "taken_over",
                              {"by_tenant": self.tenant.slug}, ctx=there.ctx)
        return await self._write_new(
            "concern.taken_over", {"origin": original.reference},
            title=original.title, description=original.description, category=original.category,
            channel=original.channel, place=original.place, status="accepted", filed_by_id=original.filed_by_id,
            resident_id=original.resident_id, resident_name=original.resident_name,
            resident_phone=original.resident_phone, triage_reason=original.triage_reason,
            origin_tenant_id=original.tenant_id, origin_concern_id=original.id,
        )

    async def send_back(self, concern_id: uuid.UUID, instructions: str) -> Concern:
        instructions = clean_text(instructions, "instructions", Label("处理意见"), 2000)
        original, child = await self._escalated(concern_id)
        async with self.scope.acting_in(child) as there:
            original.status, original.instructions = "accepted", instructions
            timelimits.reschedule(original)  # back in its tenant's hands: its clock's alerts go on
            await self.session.flush()
            await self._event(original, "concern.returned", "escalated", "accepted",
                              {"by_tenant": self.tenant.slug, "instructions": instructions}, ctx=there.ctx)
        return original


TRIAGE_NAMES = {"accept": "受理", "reject": "驳回", "resolve_directly": "直接办结", "escalate": "上报"}


async def apply_triage(session: AsyncSession, tenant: Tenant, concern: Concern, action: str, reason: str | None,
                       note: str | None, actor_id: uuid.UUID | None, *, event: str | None = None,
                       payload: dict | None = None) -> Concern:
    """Triage `concern` of `tenant` (its reason and note already checked): its state, its clock and one event
    (`event`, else concern.<action>). Staff triage through `ConcernService.triage`; the time-limit sweep escalates
    a concern long overdue through here too, as the platform (no actor)."""
    from_states, to_state, _required = TRIAGE[action]
    if concern.status not in from_states:
        raise Conflict("诉求当前为「{state}」，不能{action}", state=Label(STATE_NAMES[concern.status]),
                       action=Label(TRIAGE_NAMES[action]))
    if action == "escalate":
        if tenant.parent_id is None:
            raise Conflict("本租户没有上级，无法上报")
        concern.escalated_to_id = tenant.parent_id
    from_state, now = concern.status, clock.now()
    concern.status, concern.triage_reason, concern.triage_note = to_state, reason, note
    timelimits.responded(concern, now)
    if to_state in ("rejected", "resolved"):
        concern.closed_at = now
        timelimits.closed(concern)
    await session.flush()
    await append_event(session, TenantContext(tenant.id, tenant.path), subject_kind="concern", subject_id=concern.id,
                       action=event or f"concern.{action}", from_state=from_state, to_state=to_state,
                       actor_id=actor_id, topic_id=concern.topic_id,
                       payload={"reason": reason, "note": note} if payload is None else payload)
    if to_state == "resolved":  # the resident is asked whether it was solved, and how satisfied they are
        await revisits.open_round(session, TenantContext(tenant.id, tenant.path), concern, actor_id)
    return concern


async def public_status(session: AsyncSession, tenant: Tenant, code: str, client: str) -> PublicConcern:
    """Follow a concern by its tracking code (reference and secret): its public summary and status, nothing about
    the person. A bare reference, a wrong secret and an unknown reference answer alike, and count against the
    client: references are sequential, so a client that guesses is slowed down."""
    throttle, key, now = Throttle(session, LOOKUP_WINDOW_SECONDS), f"track:{client}", clock.now()
    await throttle.check([key], now)
    reference, _, secret = code.strip().upper().rpartition("-")
    concern = await session.scalar(select(Concern).where(Concern.reference == reference)) if reference else None
    # Compared in constant time, and against a stand-in when there is no concern: both misses take one path.
    expected = concern.tracking_secret if concern is not None and concern.tracking_secret else "-" * TRACKING_LENGTH
    if not (hmac.compare_digest(secret.encode(), expected.encode()) and concern is not None):
        await throttle.fail({key: LOOKUP_MAX_FAILURES}, now)
        await session.commit()  # the failure must outlive the request, which ends in an error
        raise NotFound("没有这个查询码")
    categories = await category_names(session)
    topic = await session.get(Topic, (tenant.id, concern.topic_id)) if concern.topic_id else None
    return PublicConcern(
        reference=concern.reference, summary=public_summary(concern),
        category_name=categories.get(concern.category, concern.category), status=concern.status,
        status_name=STATE_NAMES[concern.status], topic_state=topic.state if topic else None,
        topic_step=f"{STEP_NAMES[STEPS[topic.state]]}（{TOPIC_STATE_NAMES[topic.state]}）" if topic else None,
        result=f"/t/{tenant.slug}/results/{topic.id}" if topic and topic.state in PUBLIC_STATES else None,
        created_at=concern.created_at, updated_at=concern.updated_at, supporters=concern.supporters,
    )

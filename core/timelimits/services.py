"""Rules of time limits: the effective policy of a tenant (its own values, else its ancestors', else the
platform's defaults), a child only tightening what is set above it, and the deadlines of a concern filed now.

Inheritance, for each category, urgency and kind (respond or resolve): the values set from the root down to the
tenant are taken in turn, each replacing the one before if it is not looser (`calendar.not_looser`), so the
nearest value applies unless a tenant above has since set a tighter one. At each level a value for the category
itself comes before that level's value for any category ("*"). Where nobody set anything the platform's default
applies, and the first tenant that sets a value may set any (the default is no ceiling). Working hours and the
escalation settings are the nearest tenant's that set them.
"""

from __future__ import annotations

import datetime
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.concerns.models import DEFAULT_CATEGORIES, ConcernCategory
from core.db import ALL_TENANTS
from core.errors import InvalidInput, InvalidInputs
from core.i18n import Label
from core.inputs import label, not_one_of
from core.tenancy.models import TENANT_KINDS, Tenant
from core.timelimits.calendar import (
    DEFAULT_HOURS,
    Limit,
    WorkingHours,
    add,
    hours_text,
    not_looser,
    parse_duration,
    parse_hours,
)
from core.timelimits.models import ANY_CATEGORY, ANY_CATEGORY_NAME, KINDS, URGENCIES, TimeLimit, TimeLimitSetting
from core.timelimits.schemas import LimitIn, LimitOut, PolicyIn, PolicyOut, TenantRef, ValueOut

# The platform's defaults, from common 接诉即办 practice: urgent matters answered within 2 hours and settled within
# a day; normal ones answered within 24 hours and settled within 7 working days; complex ones answered within
# 24 hours too (contacting the resident takes no longer for a complex matter) and settled within 15 working days.
DEFAULTS: dict[tuple[str, str], tuple[str, bool]] = {
    ("urgent", "respond"): ("PT2H", False), ("urgent", "resolve"): ("P1D", False),
    ("normal", "respond"): ("PT24H", False), ("normal", "resolve"): ("P7D", True),
    ("complex", "respond"): ("PT24H", False), ("complex", "resolve"): ("P15D", True),
}
# Kinds of tenant a red concern may be escalated up to; "street" (大事不出街) unless a policy says otherwise.
CEILING_KINDS = tuple(kind for kind in TENANT_KINDS if kind != "community")
DEFAULT_CEILING = "street"
MAX_ESCALATE_AFTER = 720  # hours red before escalating: at most a month
MODE_NAMES = {False: Label("自然时间"), True: Label("工作时间")}
Key = tuple[str, str, str]  # (category, urgency, kind)


@dataclass(frozen=True)
class Source:
    """The tenant a value was set in."""

    slug: str
    name: str


@dataclass(frozen=True)
class Value:
    """An effective value and where it came from (None: the platform's default)."""

    limit: Limit
    source: Source | None


@dataclass
class Policy:
    """A tenant's time limits after inheritance."""

    tenant_id: uuid.UUID
    cells: dict[Key, Value]
    own: list[LimitIn]
    hours: WorkingHours
    hours_source: Source | None
    escalate_after_hours: int | None
    escalate_after_source: Source | None
    escalate_ceiling: str
    escalate_ceiling_source: Source | None
    own_setting: TimeLimitSetting | None = None
    # This tenant's own values that no longer apply: a tenant above has since set a tighter one.
    overridden: set[Key] = field(default_factory=set)

    def value(self, category: str, urgency: str, kind: str) -> Value:
        return self.cells.get((category, urgency, kind)) or self.cells[(ANY_CATEGORY, urgency, kind)]

    @property
    def categories(self) -> list[str]:
        """Any category first, then those some tenant on the way set a value for."""
        return [ANY_CATEGORY, *sorted({category for category, _u, _k in self.cells} - {ANY_CATEGORY})]


@dataclass
class _Level:
    source: Source
    values: dict[Key, Limit]
    setting: TimeLimitSetting | None


def default_limit(urgency: str, kind: str) -> Limit:
    text, working = DEFAULTS[(urgency, kind)]
    return Limit(parse_duration(text, kind), working)


def _limits_of(row: TimeLimit) -> Iterable[tuple[Key, Limit]]:
    for kind in KINDS:
        text = getattr(row, kind)
        if text is not None:
            yield (row.category, row.urgency, kind), Limit(parse_duration(text, kind), getattr(row, f"{kind}_working"))


async def _chain(session: AsyncSession, tenant: Tenant) -> list[_Level]:
    """The tenant's ancestors and itself, root first, each with its own values: one query. It reads above the
    tenant, which the application wall would not let through; Row-Level Security lets reads reach ancestors of
    these two tables (migration 0017), and the WHERE names exactly them."""
    ancestors = tenant.ancestor_ids
    rows = (await session.execute(
        select(Tenant.id, Tenant.slug, Tenant.name, TimeLimitSetting, TimeLimit)
        .outerjoin(TimeLimitSetting, TimeLimitSetting.tenant_id == Tenant.id)
        .outerjoin(TimeLimit, TimeLimit.tenant_id == Tenant.id)
        .where(Tenant.id.in_(ancestors))
        .execution_options(**{ALL_TENANTS: True}))).all()
    levels: dict[uuid.UUID, _Level] = {}
    for tenant_id, slug, name, setting, limit in rows:
        level = levels.setdefault(tenant_id, _Level(Source(slug, name), {}, setting))
        if limit is not None:
            level.values.update(_limits_of(limit))
    return [levels[tenant_id] for tenant_id in ancestors if tenant_id in levels]


def _hours_of(setting: TimeLimitSetting | None) -> WorkingHours | None:
    return parse_hours(setting.working_hours) if setting is not None and setting.working_hours else None


def _fold(levels: Sequence[_Level], hours: WorkingHours) -> tuple[dict[Key, Value], set[Key]]:
    """Each value set on the way down, by the rule in the module's docstring; and the keys whose value the last
    level set but which do not apply."""
    categories = {ANY_CATEGORY} | {category for level in levels for category, _u, _k in level.values}
    cells: dict[Key, Value] = {}
    overridden: set[Key] = set()
    for category in categories:
        for urgency in URGENCIES:
            for kind in KINDS:
                key = (category, urgency, kind)
                current = Value(default_limit(urgency, kind), None)
                for i, level in enumerate(levels):
                    limit = level.values.get(key) or level.values.get((ANY_CATEGORY, urgency, kind))
                    if limit is None:
                        continue
                    if current.source is None or not_looser(limit, current.limit, hours):
                        current = Value(limit, level.source)
                    elif i == len(levels) - 1 and key in level.values:
                        overridden.add(key)
                cells[key] = current
    return cells, overridden


def _nearest(levels: Sequence[_Level], attribute: str) -> tuple[object, Source | None]:
    for level in reversed(levels):
        value = getattr(level.setting, attribute, None) if level.setting is not None else None
        if value:
            return value, level.source
    return None, None


async def effective_policy(session: AsyncSession, tenant: Tenant) -> Policy:
    """The time limits in force in `tenant`, each with the tenant it came from; its own rows in `own`."""
    levels = await _chain(session, tenant)
    hours, hours_source = DEFAULT_HOURS, None
    for level in reversed(levels):
        found = _hours_of(level.setting)
        if found is not None:
            hours, hours_source = found, level.source
            break
    cells, overridden = _fold(levels, hours)
    after, after_source = _nearest(levels, "escalate_after_hours")
    ceiling, ceiling_source = _nearest(levels, "escalate_ceiling")
    policy = Policy(tenant.id, cells, [], hours, hours_source, after if isinstance(after, int) else None,
                    after_source, str(ceiling or DEFAULT_CEILING), ceiling_source)
    mine = levels[-1] if levels and levels[-1].source.slug == tenant.slug else None
    if mine is not None:
        policy.overridden, policy.own_setting = overridden, mine.setting
        for category, urgency in sorted({(c, u) for c, u, _k in mine.values}):
            respond, resolve = (mine.values.get((category, urgency, kind)) for kind in KINDS)
            policy.own.append(LimitIn(
                urgency=urgency, category=category, respond=respond.duration.text if respond else None,
                respond_working=bool(respond and respond.working), resolve=resolve.duration.text if resolve else None,
                resolve_working=bool(resolve and resolve.working)))
    return policy


def deadlines(policy: Policy, category: str, urgency: str, filed_at: datetime.datetime,
              hours: WorkingHours | None = None) -> tuple[datetime.datetime, datetime.datetime]:
    """When a concern of `category` and `urgency` filed at `filed_at` must be responded to and resolved (UTC)."""
    if urgency not in URGENCIES:
        raise not_one_of("urgency", URGENCIES)
    respond, resolve = (policy.value(category, urgency, kind).limit for kind in KINDS)
    hours = hours or policy.hours
    return (add(filed_at, respond.duration, respond.working, hours),
            add(filed_at, resolve.duration, resolve.working, hours))


async def categories(session: AsyncSession) -> dict[str, str]:
    """The categories a tenant's limits may name: the defaults and the tenant's own."""
    own = (await session.execute(select(ConcernCategory.code, ConcernCategory.name))).all()
    return {**DEFAULT_CATEGORIES, **{code: name for code, name in own}}


# How long a worker reuses a tenant's policy for filings: a change applies to concerns filed after it, everywhere
# within this long (at once in the process that made it).
POLICY_TTL_SECONDS = 30.0
_policies: dict[uuid.UUID, tuple[float, Policy]] = {}


async def policy_for(session: AsyncSession, tenant: Tenant) -> Policy:
    """The tenant's effective policy, reused for `POLICY_TTL_SECONDS` (filing is the busiest write there is)."""
    cached = _policies.get(tenant.id)
    if cached is not None and time.monotonic() - cached[0] < POLICY_TTL_SECONDS:
        return cached[1]
    policy = await effective_policy(session, tenant)
    _policies[tenant.id] = (time.monotonic(), policy)
    return policy


def forget_policies() -> None:
    """After a policy changes here (and in tests that move the clock): the next filing reads it anew."""
    _policies.clear()


class PolicyService:
    """Replacing a tenant's own time limits and settings (PUT), refusing what would loosen an ancestor's."""

    def __init__(self, session: AsyncSession, tenant: Tenant) -> None:
        self.session = session
        self.tenant = tenant

    async def replace(self, data: PolicyIn) -> Policy:
        levels = await _chain(self.session, self.tenant)
        above = [level for level in levels if level.source.slug != self.tenant.slug]
        problems: list[InvalidInput] = []
        hours = self._hours(data, above, problems)
        known = await categories(self.session)
        inherited, _ = _fold(above, hours)
        rows: list[TimeLimit] = []
        seen: set[tuple[str, str]] = set()
        for i, item in enumerate(data.limits):
            where = f"limits[{i}]"
            category = item.category.strip() or ANY_CATEGORY
            if category != ANY_CATEGORY and category not in known:
                problems.append(not_one_of(f"{where}.category", [ANY_CATEGORY, *known]))
                continue
            if item.urgency not in URGENCIES:
                problems.append(not_one_of(f"{where}.urgency", URGENCIES))
                continue
            if (category, item.urgency) in seen:
                problems.append(InvalidInput("{name}重复：同一类别和紧急程度只能设一次", field=f"{where}.urgency",
                                             name=label("limits")))
                continue
            seen.add((category, item.urgency))
            row = TimeLimit(category=category, urgency=item.urgency, respond=None, resolve=None,
                            respond_working=False, resolve_working=False)
            for kind in KINDS:
                text = getattr(item, kind)
                working = bool(getattr(item, f"{kind}_working"))
                if text is None or not text.strip():
                    continue
                field_name = f"{where}.{kind}"
                try:
                    limit = Limit(parse_duration(text, field_name), working)
                except InvalidInput as refused:
                    problems.append(refused)
                    continue
                ceiling = inherited.get((category, item.urgency, kind)) or inherited[(ANY_CATEGORY, item.urgency, kind)]
                if ceiling.source is not None and not not_looser(limit, ceiling.limit, hours):
                    problems.append(InvalidInput(
                        "{name}不能宽于{tenant}规定的 {value}（{mode}）：下级只能收紧时限", field=field_name,
                        name=label(kind), tenant=ceiling.source.name, value=ceiling.limit.duration.text,
                        mode=MODE_NAMES[ceiling.limit.working]))
                    continue
                setattr(row, kind, limit.duration.text)
                setattr(row, f"{kind}_working", working)
            if row.respond is not None or row.resolve is not None:
                rows.append(row)
        after = data.escalate_after_hours
        if after is not None and not 1 <= after <= MAX_ESCALATE_AFTER:
            problems.append(InvalidInput("{name}须在 {first} 至 {last} 之间", field="escalate_after_hours",
                                         name=label("escalate_after_hours"), first=1, last=MAX_ESCALATE_AFTER))
        ceiling_kind = data.escalate_ceiling
        if ceiling_kind is not None and ceiling_kind not in CEILING_KINDS:
            problems.append(not_one_of("escalate_ceiling", CEILING_KINDS))
        if problems:
            raise InvalidInputs(problems)
        await self._write(rows, data, hours if data.working_hours is not None else None)
        forget_policies()  # the tenant's and those below it: their next filings read the new limits
        return await effective_policy(self.session, self.tenant)

    def _hours(self, data: PolicyIn, above: list[_Level], problems: list[InvalidInput]) -> WorkingHours:
        """The working hours the tenant's limits are counted in: its new ones, else those it inherits."""
        if data.working_hours is not None:
            try:
                return parse_hours(data.working_hours)
            except InvalidInput as refused:
                problems.append(refused)
        for level in reversed(above):
            found = _hours_of(level.setting)
            if found is not None:
                return found
        return DEFAULT_HOURS

    async def _write(self, rows: list[TimeLimit], data: PolicyIn, hours: WorkingHours | None) -> None:
        await self.session.execute(delete(TimeLimit))  # the wall keeps it to this tenant's own rows
        self.session.add_all(rows)
        setting = await self.session.scalar(select(TimeLimitSetting))
        if setting is None:
            setting = TimeLimitSetting()
            self.session.add(setting)
        setting.working_hours = hours_text(hours) if hours is not None else None
        setting.escalate_after_hours = data.escalate_after_hours
        setting.escalate_ceiling = data.escalate_ceiling
        await self.session.flush()


def _ref(source: Source | None) -> TenantRef | None:
    return TenantRef(source.slug, source.name) if source is not None else None


def policy_out(tenant: Tenant, policy: Policy, names: dict[str, str]) -> PolicyOut:
    """The policy as the API answers it."""
    def value(category: str, urgency: str, kind: str) -> ValueOut:
        found = policy.value(category, urgency, kind)
        return ValueOut(found.limit.duration.text, found.limit.working, _ref(found.source),
                        found.source is not None and found.source.slug == tenant.slug)

    setting = policy.own_setting
    own = PolicyIn(limits=policy.own, working_hours=setting.working_hours if setting else None,
                   escalate_after_hours=setting.escalate_after_hours if setting else None,
                   escalate_ceiling=setting.escalate_ceiling if setting else None)
    return PolicyOut(
        tenant=TenantRef(tenant.slug, tenant.name),
        limits=[LimitOut(category, names.get(category, ANY_CATEGORY_NAME if category == ANY_CATEGORY else category),
                         urgency, urgency_name, value(category, urgency, "respond"), value(category, urgency, "resolve"))
                for category in policy.categories for urgency, urgency_name in URGENCIES.items()],
        working_hours=hours_text(policy.hours), working_hours_source=_ref(policy.hours_source),
        escalate_after_hours=policy.escalate_after_hours, escalate_after_hours_source=_ref(policy.escalate_after_source),
        escalate_ceiling=policy.escalate_ceiling, escalate_ceiling_source=_ref(policy.escalate_ceiling_source),
        own=own, overridden=sorted("/".join(key) for key in policy.overridden))

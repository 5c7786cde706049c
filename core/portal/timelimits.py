"""Staff read their tenant's time limits in the portal (/t/{slug}/staff/time-limits): what is in force for each
category and urgency and where it came from ("来自 甲区"), and a form to tighten or clear their own values, with
each refusal next to its field. The rules are the services'."""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body

from core.errors import DomainError, InvalidInput, InvalidInputs
from core.inputs import label
from core.portal.pages import Page, PageDep, provide_page
from core.tenancy.models import KIND_NAMES
from core.timelimits.calendar import parse_duration
from core.timelimits.models import ANY_CATEGORY, ANY_CATEGORY_NAME, KINDS, URGENCIES
from core.timelimits.schemas import LimitIn, PolicyIn, PolicyOut
from core.timelimits.services import CEILING_KINDS, PolicyService, categories, effective_policy, policy_out

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
CELL = re.compile(r"^(respond|resolve)-(.+)-(urgent|normal|complex)$")
LIMIT_FIELD = re.compile(r"^limits\[(\d+)\]\.(\w+)")
NEW = "new"  # the form's row for a category not listed yet


def human(page: Page, duration: str, working: bool) -> str:
    """"P7D" in working time as "7 个工作日", "PT2H" as "2 小时"."""
    _ = page._
    parsed = parse_duration(duration, "duration")
    parts = []
    if parsed.days:
        parts.append((_("{n} working days") if working else _("{n} days")).format(n=parsed.days))
    hours, rest = divmod(int(parsed.time.total_seconds()) // 60, 60)
    if hours:
        parts.append((_("{n} working hours") if working else _("{n} hours")).format(n=hours))
    if rest:
        parts.append(_("{n} minutes").format(n=rest))
    return " ".join(parts)


def _form_of(answer: PolicyOut) -> dict[str, str]:
    """The form filled in with the tenant's own values."""
    form: dict[str, str] = {}
    for limit in answer.own.limits:
        for kind in KINDS:
            value = getattr(limit, kind)
            if value:
                form[f"{kind}-{limit.category}-{limit.urgency}"] = value
                if getattr(limit, f"{kind}_working"):
                    form[f"{kind}_working-{limit.category}-{limit.urgency}"] = "on"
    if answer.own.working_hours:
        form["working_hours"] = ", ".join(f"{start}-{end}" for start, end in answer.own.working_hours)
    if answer.own.escalate_after_hours is not None:
        form["escalate_after_hours"] = str(answer.own.escalate_after_hours)
    form["escalate_ceiling"] = answer.own.escalate_ceiling or ""
    return form


def _limit(form: dict[str, str], row: str, category: str, urgency: str, prefix: str) -> LimitIn | None:
    values = {kind: form.get(f"{prefix}{kind}-{row}" if prefix != "new_" else f"new_{kind}", "").strip()
              for kind in KINDS}
    if not any(values.values()):
        return None
    working = {kind: form.get(f"{kind}_working-{row}" if prefix != "new_" else f"new_{kind}_working") == "on"
               for kind in KINDS}
    return LimitIn(urgency=urgency, category=category, respond=values["respond"] or None,
                   respond_working=working["respond"], resolve=values["resolve"] or None,
                   resolve_working=working["resolve"])


def _policy_in(form: dict[str, str], rows: list[str]) -> PolicyIn:
    """What the form asks for, as the API takes it; `rows` says which row of the form each limit came from."""
    limits: list[LimitIn] = []
    problems: list[InvalidInput] = []
    cells = sorted({(found.group(2), found.group(3)) for name in form if (found := CELL.fullmatch(name))})
    wanted = [(f"{category}-{urgency}", category, urgency, "") for category, urgency in cells]
    if form.get("new_urgency") in URGENCIES and (form.get("new_category") or "").strip():
        wanted.append((NEW, form["new_category"].strip(), form["new_urgency"], "new_"))
    for row, category, urgency, prefix in wanted:
        try:
            limit = _limit(form, row, category, urgency, prefix)
        except InvalidInputs as refused:  # a value beyond its cap
            for problem in refused.problems:
                problem.field = f"limits[{len(limits)}].{problem.field}"
            problems.extend(refused.problems)
            limits.append(LimitIn(urgency=urgency))
            rows.append(row)
            continue
        if limit is not None:
            limits.append(limit)
            rows.append(row)
    blocks = [re.split(r"\s*[-–~至]\s*", block) for block in re.split(r"[,，;；\s]+", form.get("working_hours", "").strip())
              if block]
    after = form.get("escalate_after_hours", "").strip()
    hours = None
    if after:
        try:
            hours = int(after)
        except ValueError:
            problems.append(InvalidInput("{name}应为整数", field="escalate_after_hours",
                                         name=label("escalate_after_hours")))
    if problems:
        raise InvalidInputs(problems)
    return PolicyIn(limits=limits, working_hours=blocks or None, escalate_after_hours=hours,
                    escalate_ceiling=form.get("escalate_ceiling") or None)


def _errors(page: Page, exc: DomainError, rows: list[str]) -> dict[str, str]:
    """Each refusal by the name of the form's field: `limits[2].resolve` is the resolve box of the form's row."""
    shown: dict[str, str] = {}
    for problem in exc.problems if isinstance(exc, InvalidInputs) else [exc]:
        field = problem.field or "form"
        found = LIMIT_FIELD.match(field)
        if found and int(found.group(1)) < len(rows):
            row, part = rows[int(found.group(1))], found.group(2)
            kind = part.removesuffix("_working") if part.removesuffix("_working") in KINDS else "respond"
            if row == NEW:
                name = f"new_{part}" if part in ("category", "urgency") else f"new_{kind}"
            else:
                name = f"{kind}-{row}"
        else:
            name = field.split("[")[0]
        shown.setdefault(name, page.refusal(problem))
    return shown


class TimeLimitPages(Controller):
    path = "/t/{slug:str}/staff"
    dependencies = {"page": Provide(provide_page)}

    async def _page(self, page: Page, *, status_code: int = 200, errors: dict[str, str] | None = None,
                    form: dict[str, str] | None = None, saved: bool = False) -> Response:
        await page.scope("timelimit.read")
        names = await categories(page.session)
        answer = policy_out(page.tenant, await effective_policy(page.session, page.tenant), names)
        rows: dict[str, list[Any]] = {}
        for limit in answer.limits:
            rows.setdefault(limit.category, []).append(limit)
        return page.render("staff/time_limits.html", status_code=status_code, policy=answer, rows=rows,
                           form=form if form is not None else _form_of(answer), errors=errors or {}, saved=saved,
                           can_manage=await page.can("timelimit.manage"), urgencies=URGENCIES,
                           categories={ANY_CATEGORY: ANY_CATEGORY_NAME, **names}, ceilings=CEILING_KINDS, kind_names=KIND_NAMES,
                           human=lambda value: human(page, value.duration, value.working))

    @get("/time-limits")
    async def time_limits(self, page: PageDep) -> Response:
        return await self._page(page)

    @post("/time-limits", status_code=200)
    async def save_time_limits(self, page: PageDep, data: Form) -> Response:
        scope = await page.scope("timelimit.manage")
        rows: list[str] = []
        try:
            wanted = _policy_in(data, rows)
            await PolicyService(page.session, scope.tenant).replace(wanted)
        except DomainError as exc:
            await page.take_back(exc)
            return await self._page(page, status_code=exc.status, errors=_errors(page, exc, rows), form=data)
        return await self._page(page, saved=True)


CONTROLLERS = [TimeLimitPages]

"""Open data (开放数据): a tenant's published results, their action items, its yearly figures and its monthly rates
as CSV, XLSX and JSON at stable URLs, for anyone — built from the public pages' own queries, so nothing private can get in."""

from __future__ import annotations

import csv
import datetime
import io
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.concerns.models import Concern
from core.publishing.schemas import PublicResult
from core.publishing.services import counting_below, published_results
from core.reporting.rates import monthly_rates
from core.reporting.schemas import PublicStats, Rate
from core.reporting.services import public_stats
from core.tenancy.models import Tenant

PAGE = 200
RATE_MONTHS = 24  # the monthly rates go back this far at most
CONTENT_TYPES = {
    "csv": "text/csv",  # Litestar adds "; charset=utf-8" to text types
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


class OpenResult(msgspec.Struct):
    """One published result (协商结果), as the public results page shows it."""

    id: uuid.UUID
    title: str
    decision: str
    method: str
    state: str
    state_name: str
    published_at: datetime.datetime | None
    completed_at: datetime.datetime | None
    action_items: int
    action_items_completed: int
    rating_count: int
    average_rating: float | None


class OpenAction(msgspec.Struct):
    """One action item (执行事项) of a published result, with its progress."""

    result_id: uuid.UUID
    result_title: str
    title: str
    owner_org: str | None
    due_date: datetime.date
    percent: int
    status: str
    overdue: bool


class OpenRates(msgspec.Struct):
    """One month's rates of the tenant itself (docs/rates.md): each rate's numerator, denominator and ratio."""

    month: str
    concerns_received: int
    response_numerator: int
    response_denominator: int
    response_rate: float | None
    on_time_numerator: int
    on_time_denominator: int
    on_time_rate: float | None
    solved_numerator: int
    solved_denominator: int
    solved_rate: float | None
    satisfied_numerator: int
    satisfied_denominator: int
    satisfied_rate: float | None
    reopened_numerator: int
    reopened_denominator: int
    reopened_rate: float | None
    revisited_numerator: int
    revisited_denominator: int
    revisited_rate: float | None
    median_hours_to_respond: float | None
    median_hours_to_resolve: float | None


class OpenDataDocument(msgspec.Struct):
    """The JSON form: the rows of the CSV and XLSX forms, with where and when they come from."""

    tenant: str
    tenant_name: str
    dataset: str
    generated_at: datetime.datetime
    fields: dict[str, str]
    items: list[Any]


@dataclass(frozen=True)
class Dataset:
    title: str  # the spreadsheet's sheet name
    row_type: type[msgspec.Struct]
    labels: dict[str, str]  # field → what it means, in Chinese (the XLSX 说明 sheet, the JSON `fields`)
    rows: Callable[[AsyncSession, Tenant], Awaitable[Sequence[msgspec.Struct]]]


async def _all_results(session: AsyncSession) -> list[PublicResult]:
    results: list[PublicResult] = []
    while True:
        page, total = await published_results(session, PAGE, len(results))
        results.extend(page)
        if not page or len(results) >= total:
            return results


def _local(moment: datetime.datetime | None) -> datetime.datetime | None:
    return clock.local(moment) if moment is not None else None


async def result_rows(session: AsyncSession, tenant: Tenant) -> list[OpenResult]:
    return [OpenResult(
        id=r.id, title=r.title, decision=r.decision, method=r.method, state=r.state, state_name=r.state_name,
        published_at=_local(r.published_at), completed_at=_local(r.completed_at), action_items=len(r.actions),
        action_items_completed=sum(1 for a in r.actions if a.status == "completed"), rating_count=r.rating_count,
        average_rating=r.average_rating) for r in await _all_results(session)]


async def action_rows(session: AsyncSession, tenant: Tenant) -> list[OpenAction]:
    return [OpenAction(result_id=r.id, result_title=r.title, title=a.title, owner_org=a.owner_org,
                       due_date=a.due_date, percent=a.percent, status=a.status, overdue=a.overdue)
            for r in await _all_results(session) for a in r.actions]


async def stats_rows(session: AsyncSession, tenant: Tenant) -> list[PublicStats]:
    """The portal's yearly figures, one row per year since the tenant (or its oldest concern) began; a street's,
    district's or city's over every tenant below it, as its portal shows them."""
    this_year = clock.today().year
    async with counting_below(session, tenant):
        first_concern = await session.scalar(select(func.min(Concern.created_at)))
        first = min(clock.local(tenant.created_at).year, clock.local(first_concern).year if first_concern else this_year)
        return [await public_stats(session, tenant, year) for year in range(max(first, 2000), this_year + 1)]


async def rates_rows(session: AsyncSession, tenant: Tenant) -> list[OpenRates]:
    """The tenant's rates (a street's, district's or city's over every tenant below it), one row per month since it
    (or its oldest concern) began, the last 24 at most."""
    this_month = clock.today().replace(day=1)
    async with counting_below(session, tenant):
        first_concern = await session.scalar(select(func.min(Concern.created_at)))
        began = min(clock.local(tenant.created_at).date(), clock.local(first_concern).date() if first_concern else this_month)
        months = [this_month]
        while len(months) < RATE_MONTHS and months[-1] > max(began.replace(day=1), datetime.date(2000, 1, 1)):
            months.append((months[-1] - datetime.timedelta(days=1)).replace(day=1))
        monthly = await monthly_rates(session, tenant.id, sorted(months))
    rows = []
    for first, figures in monthly:
        cells: dict[str, Any] = {}
        for name in ("response", "on_time", "solved", "satisfied", "reopened", "revisited"):
            counted: Rate = getattr(figures, name)
            cells |= {f"{name}_numerator": counted.numerator, f"{name}_denominator": counted.denominator,
                      f"{name}_rate": counted.ratio}
        rows.append(OpenRates(month=first.strftime("%Y-%m"), concerns_received=figures.concerns_received,
                              median_hours_to_respond=figures.median_hours_to_respond,
                              median_hours_to_resolve=figures.median_hours_to_resolve, **cells))
    return rows


def _rate_labels(name: str, numerator: str, denominator: str) -> dict[str, str]:
    return {f"{name}_numerator": numerator, f"{name}_denominator": denominator, f"{name}_rate": f"{numerator}÷{denominator}"}


DATASETS = {
    "results": Dataset("协商结果", OpenResult, {
        "id": "结果编号", "title": "议题", "decision": "协商结果", "method": "议定方式（consensus 协商一致 / vote 表决）",
        "state": "状态代码", "state_name": "状态", "published_at": "公开时间（北京时间）",
        "completed_at": "办结时间（北京时间）", "action_items": "执行事项数", "action_items_completed": "已完成执行事项数",
        "rating_count": "居民评价数", "average_rating": "平均评分（1–5）"}, result_rows),
    "actions": Dataset("执行事项", OpenAction, {
        "result_id": "结果编号", "result_title": "议题", "title": "执行事项", "owner_org": "责任单位",
        "due_date": "完成期限", "percent": "进度（%）", "status": "状态（open 进行中 / completed 已完成）",
        "overdue": "是否逾期"}, action_rows),
    "stats": Dataset("年度统计", PublicStats, {
        "year": "年度", "consultations_held": "协商次数", "matters_completed": "办成实事",
        "concerns_received": "收到诉求", "median_days_to_completion": "从诉求到办结的天数（中位数）",
        "average_rating": "平均评分（1–5）"}, stats_rows),
    "rates": Dataset("月度三率", OpenRates, {
        "month": "月份（北京时间）", "concerns_received": "收到诉求",
        **_rate_labels("response", "响应率分子：按时响应的诉求", "响应率分母：本月收到、已响应或已到响应时限的诉求"),
        **_rate_labels("on_time", "按时办结率分子：按时办结的诉求", "按时办结率分母：本月到期、已办结或已到期的诉求"),
        **_rate_labels("solved", "解决率分子：回访答“已解决”", "解决率分母：本月回答是否解决的回访"),
        **_rate_labels("satisfied", "满意率分子：满意与基本满意", "满意率分母：本月回答满意度的回访"),
        **_rate_labels("reopened", "重办率分子：答“未解决”而重办", "重办率分母：本月办结后发出的回访"),
        **_rate_labels("revisited", "回访率分子：已回答的回访", "回访率分母：本月发出的回访"),
        "median_hours_to_respond": "响应用时中位数（小时）", "median_hours_to_resolve": "办结用时中位数（小时）"},
        rates_rows),
}


def _fields(row_type: type[msgspec.Struct]) -> tuple[str, ...]:
    return row_type.__struct_fields__


def _text(value: Any) -> Any:
    """A CSV cell: ISO dates and times, true/false, and no text a spreadsheet would run as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.date):  # dates and times alike
        return value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(dataset: Dataset, rows: Sequence[msgspec.Struct]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese text correctly; CRLF lines (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    fields = _fields(dataset.row_type)
    writer.writerow(fields)
    for row in rows:
        writer.writerow([_text(getattr(row, name)) for name in fields])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(dataset: Dataset, rows: Sequence[msgspec.Struct], tenant: Tenant, generated_at: datetime.datetime) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(dataset.title)
    fields = _fields(dataset.row_type)
    sheet.append(list(fields))

    def cell(value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, datetime.datetime):
            return clock.local(value).replace(tzinfo=None)  # Excel has no time zones: Beijing time
        if isinstance(value, str) and value.startswith("="):
            text = WriteOnlyCell(sheet, value=value)
            text.data_type = "s"  # text, never a formula
            return text
        return value

    for row in rows:
        sheet.append([cell(getattr(row, name)) for name in fields])
    about = workbook.create_sheet("说明")
    about.append(["字段", "含义"])
    for name in fields:
        about.append([name, dataset.labels[name]])
    about.append([])
    about.append(["租户", f"{tenant.name}（{tenant.slug}）"])
    about.append(["生成时间", clock.local(generated_at).replace(tzinfo=None)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def open_data(session: AsyncSession, tenant: Tenant, name: str, fmt: str) -> Response[bytes]:
    dataset = DATASETS[name]
    rows = await dataset.rows(session, tenant)
    generated_at = clock.local(clock.now())  # given on the communities' clock, with its offset
    if fmt == "csv":
        body = to_csv(dataset, rows)
    elif fmt == "xlsx":
        body = to_xlsx(dataset, rows, tenant, generated_at)
    else:
        body = msgspec.json.encode(OpenDataDocument(
            tenant=tenant.slug, tenant_name=tenant.name, dataset=name, generated_at=generated_at,
            fields=dataset.labels, items=list(rows)))
    return Response(body, media_type=CONTENT_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{tenant.slug}-{name}.{fmt}"',
        "Cache-Control": "public, max-age=300",
    })

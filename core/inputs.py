"""What every input may hold, checked in one place for every schema: text within its column and free of NUL,
dates within the platform's years, lists of bounded size — and a refusal that names every bad field at once,
in the reader's language, by the name the form gives it."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import Annotated, Any, get_args, get_origin

import msgspec
from litestar import Request, Response
from litestar.exceptions import ValidationException
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState as ConnectionState
from msgspec import inspect as mi

from core.errors import InvalidInput, InvalidInputs, MalformedInput, problem_response
from core.i18n import Label

FIRST_DAY = datetime.date(2000, 1, 1)
LAST_DAY = datetime.date(2100, 12, 31)
# Caps for what a schema leaves open: a text column (Text) or a JSON list/object (JSON columns).
TEXT_CAP = 5000
ITEMS_CAP = 500
INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # an Integer column, unless the schema bounds the field itself
NESTING_CAP = 32  # free-form JSON (a tenant's portal settings) nests no deeper than this
KEY_CAP = 200  # and names its keys in no more than this


def cap(max_length: int) -> msgspec.Meta:
    """A text field's cap, its column's length: `title: Annotated[str, cap(120)]`."""
    return msgspec.Meta(max_length=max_length)


def one_of(choices: Iterable[str], max_length: int) -> msgspec.Meta:
    """A code field's cap and, for the schema's readers, the codes a service accepts: the service checks them
    itself (so that a form hears of every bad field at once, in its words), this only documents the same list."""
    return msgspec.Meta(max_length=max_length, extra_json_schema={"extra": {"enum": list(choices)}})


# The name each field has on the forms (and in the schema's docs); the API's `errors[].field` keeps the code.
FIELD_LABELS: dict[str, Label] = {
    "action": Label("处理方式"), "adopted": Label("是否采纳"), "agenda": Label("议程"), "answer": Label("答复"),
    "archived": Label("是否归档"), "aspect": Label("方面"), "attendance": Label("出席情况"),
    "attendees": Label("参加人员"), "building": Label("楼栋"), "building_id": Label("楼栋"), "buildings": Label("楼栋"),
    "category": Label("类别"), "channel": Label("渠道"), "code": Label("代码"), "comment": Label("意见"),
    "community": Label("社区"), "compound": Label("小区"), "compound_id": Label("小区"), "compounds": Label("小区"),
    "concern_ids": Label("诉求"), "counts": Label("各选项票数"), "date": Label("日期"), "day": Label("日"),
    "department": Label("职能部门"), "deputy": Label("代表"), "description": Label("详细描述"),
    "due_date": Label("完成期限"), "eligible_voters": Label("应到人数"), "end": Label("结束时间"),
    "ends_at": Label("结束时间"), "findings": Label("调研发现"), "group": Label("群体"),
    "has_property_company": Label("是否有物业公司"), "held_at": Label("接待时间"),
    "instructions": Label("指导意见"), "invitees": Label("参会人员"), "kind": Label("类型"),
    "mechanism": Label("协商形式"), "members": Label("成员"), "method": Label("表决方式"),
    "minutes": Label("会议纪要"), "name": Label("名称"), "note": Label("备注"), "notes": Label("备注"),
    "opinions": Label("各方意见"), "option": Label("选项"), "options": Label("选项"),
    "orgs": Label("单位"), "owner_org": Label("责任单位"), "owner_user": Label("责任人"),
    "parent": Label("上级"), "participants": Label("参加人员"), "party_committee": Label("党组织"),
    "party_members": Label("党员"), "password": Label("密码"), "percent": Label("完成进度"),
    "phone": Label("手机号"), "place": Label("地点"), "plugins": Label("插件"), "portal": Label("门户设置"),
    "problem_ids": Label("问题"), "question": Label("问题"), "reason": Label("理由"),
    "requests": Label("诉求"), "resident_name": Label("居民姓名"), "resident_phone": Label("居民电话"),
    "residents_received": Label("接待居民人数"), "responses": Label("答卷"), "role": Label("角色"),
    "roles": Label("角色"), "schedule": Label("接待安排"), "scheduled_for": Label("时间"),
    "score": Label("评分"), "slug": Label("网址代码"), "start": Label("开始时间"),
    "starts_at": Label("开始时间"), "statements": Label("发言"), "station": Label("联络站"),
    "tenant": Label("租户"), "text": Label("内容"), "time": Label("时间"), "title": Label("标题"),
    "topics": Label("议题"), "user": Label("用户"), "username": Label("用户名"), "users": Label("用户"),
    "venue": Label("地点"), "votes": Label("票数"), "weekday": Label("星期"), "who": Label("发言人"),
    "privacy_version": Label("隐私政策版本"), "accept_privacy": Label("同意隐私政策"), "sms_consent": Label("接收短信通知"),
    "old_password": Label("原密码"), "new_password": Label("新密码"), "purpose": Label("用途"), "confirm": Label("确认"),
    "year": Label("年份"), "limit": Label("每页条数"), "offset": Label("跳过的条数"), "p": Label("页码"),
    "from": Label("开始日期"), "to": Label("结束日期"), "state": Label("状态"), "status": Label("状态"),
    "in_topic": Label("是否已纳入议题"), "mine": Label("只看我的"), "overdue": Label("是否逾期"),
    "reference": Label("编号"), "display_name": Label("显示名称"), "photo": Label("照片"), "photos": Label("照片"),
    "limits": Label("时限"), "urgency": Label("紧急程度"), "respond": Label("响应时限"), "resolve": Label("办结时限"),
    "respond_working": Label("响应时限按工作时间计"), "resolve_working": Label("办结时限按工作时间计"),
    "working_hours": Label("工作时段"), "escalate_after_hours": Label("红灯后自动上报的小时数"),
    "escalate_ceiling": Label("最高上报层级"),
    "days": Label("有效天数"), "active": Label("是否启用"),
    "solved": Label("是否解决"), "satisfaction": Label("满意度"),
    "duplicates": Label("重复诉求"),
}


def label(field: str) -> str:
    """The form's name of a field (`invitees.orgs[0]` is named by `orgs`, `portal.intro` by `portal`); the code
    itself when it has none."""
    names = [part for part in re.split(r"[.\[\]]", field) if part and not part.isdigit()]
    return next((FIELD_LABELS[name] for name in reversed(names) if name in FIELD_LABELS), field)


# --- the checks every input gets ------------------------------------------------------------------------------


def _check(value: Any, kind: mi.Type, field: str) -> Iterator[InvalidInput]:
    """What is wrong with one already-typed value (nothing for a sound one)."""
    if isinstance(kind, mi.UnionType):
        for option in kind.types:
            if _accepts(option, value):
                yield from _check(value, option, field)
                return
        return
    if isinstance(kind, mi.StrType) and isinstance(value, str):
        yield from _check_text(value, kind.max_length or TEXT_CAP, field)
    elif isinstance(kind, mi.IntType) and isinstance(value, int) and kind.ge is None and kind.le is None:
        if not INT_MIN <= value <= INT_MAX:
            yield InvalidInput("{name}超出范围", field=field, name=label(field))
    elif isinstance(kind, (mi.DateType, mi.DateTimeType)) and isinstance(value, datetime.date):
        if not FIRST_DAY <= _day(value) <= LAST_DAY:
            yield out_of_range(field)
    elif isinstance(kind, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)) and isinstance(value, (list, set, frozenset, tuple)):
        if len(value) > (kind.max_length or ITEMS_CAP):
            yield InvalidInput("{name}最多 {bound} 项", field=field, name=label(field), bound=kind.max_length or ITEMS_CAP)
            return
        for i, item in enumerate(value):
            yield from _check(item, kind.item_type, f"{field}[{i}]")
    elif isinstance(kind, mi.DictType) and isinstance(value, Mapping):
        if len(value) > (kind.max_length or ITEMS_CAP):
            yield InvalidInput("{name}最多 {bound} 项", field=field, name=label(field), bound=kind.max_length or ITEMS_CAP)
            return
        for key, item in value.items():
            yield from _check(key, kind.key_type, field)
            yield from _check(item, kind.value_type, f"{field}.{key}")
    elif isinstance(kind, mi.AnyType):
        yield from _check_free(value, field, 0)


def nul_in(value: str, field: str) -> InvalidInput | None:
    """The refusal of text holding a NUL (PostgreSQL cannot store one), for services that take text a page read
    from a form without a schema; None for text without one."""
    return InvalidInput("{name}不能包含空字符", field=field, name=label(field)) if "\x00" in value else None


def _check_text(value: str, max_length: int, field: str) -> Iterator[InvalidInput]:
    if (refused := nul_in(value, field)) is not None:
        yield refused
    elif len(value) > max_length:
        yield InvalidInput("{name}最多 {bound} 个字", field=field, name=label(field), bound=max_length)


def _check_free(value: Any, field: str, depth: int) -> Iterator[InvalidInput]:
    """Free-form JSON (stored as JSON): bounded depth and size, and no NUL, which PostgreSQL's JSONB refuses."""
    if depth > NESTING_CAP:
        yield InvalidInput("{name}嵌套过深", field=field, name=label(field))
    elif isinstance(value, str):
        yield from _check_text(value, TEXT_CAP, field)
    elif isinstance(value, (list, dict)):
        if len(value) > ITEMS_CAP:
            yield InvalidInput("{name}最多 {bound} 项", field=field, name=label(field), bound=ITEMS_CAP)
            return
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str):
                yield from _check_text(key, KEY_CAP, field)
            yield from _check_free(item, field, depth + 1)


_PYTHON_TYPES: dict[type[mi.Type], type] = {
    mi.StrType: str, mi.NoneType: type(None), mi.DateType: datetime.date, mi.DateTimeType: datetime.datetime,
    mi.ListType: list, mi.DictType: dict, mi.BoolType: bool, mi.IntType: int}


def _accepts(kind: mi.Type, value: Any) -> bool:
    python = _PYTHON_TYPES.get(type(kind))
    return python is not None and isinstance(value, python)


def _day(value: datetime.date) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def not_one_of(field: str, choices: Iterable[str]) -> InvalidInput:
    """The refusal of a code that is not among `choices` (a state, a kind, a sort), naming the field as the form
    does and listing what it may be."""
    return InvalidInput("{name}须为 {choices} 之一", field=field, name=label(field), choices=", ".join(choices))


def out_of_range(field: str) -> InvalidInput:
    return InvalidInput("{name}须在 {first} 至 {last} 之间", field=field, name=label(field), first=FIRST_DAY.isoformat(),
                        last=LAST_DAY.isoformat())


def period(date_from: datetime.date | None, date_to: datetime.date | None, *, fields: tuple[str, str] = ("from", "to"),
           ) -> None:
    """A period asked for in a query string (a body's dates are checked by `Input`): each end within the
    platform's years, the end not before the start."""
    problems = [out_of_range(field) for field, day in zip(fields, (date_from, date_to), strict=True)
                if day is not None and not FIRST_DAY <= _day(day) <= LAST_DAY]
    if not problems and date_from is not None and date_to is not None and date_to < date_from:
        problems.append(InvalidInput("{end}不能早于{start}", field=fields[1], end=label(fields[1]),
                                     start=label(fields[0])))
    if problems:
        raise InvalidInputs(problems)


@cache
def _fields(cls: type) -> tuple[tuple[str, mi.Type], ...]:
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    return tuple((f.name, f.type) for f in info.fields)


def problems_of(obj: msgspec.Struct) -> list[InvalidInput]:
    return [problem for name, kind in _fields(type(obj)) for problem in _check(getattr(obj, name), kind, name)]


class Input(msgspec.Struct, forbid_unknown_fields=True):
    """A request's shape. However it is built — decoded from JSON, converted from a form, constructed by a
    page — it holds only what the database and the calendar can take, or it refuses, naming every field."""

    def __post_init__(self) -> None:
        problems = problems_of(self)
        if problems:
            raise InvalidInputs(problems)


# --- explaining what the decoder refused ----------------------------------------------------------------------

_TYPE_NAMES = {
    "str": Label("文本"), "int": Label("整数"), "float": Label("数字"), "bool": Label("true 或 false"),
    "array": Label("列表"), "object": Label("对象"), "uuid": Label("编号（UUID）"), "date": Label("日期"),
    "datetime": Label("日期时间"),
}
_EXPECTED = re.compile(r"Expected `([^`]+)`(?:, got `([^`]+)`)?(?: (of length )?([<>]=?) ?(-?[\d.e+]+))?")


def translate(message: str, field: str) -> InvalidInput:
    """One of msgspec's English refusals, said in Chinese of the field by its form's name."""
    name = label(field)
    if message.startswith("Object missing required field"):
        return MalformedInput("{name}必填", field=field, name=name)
    if message.startswith("Object contains unknown field"):
        return MalformedInput("不认识的字段 {code}", field=field, code=field)
    if "RFC3339 encoded datetime" in message or "with a timezone" in message:
        return MalformedInput("{name}应为日期时间，如 2026-12-01T09:00:00+08:00", field=field, name=name)
    if "RFC3339 encoded date" in message or "ISO8601" in message:
        return MalformedInput("{name}应为日期，如 2026-12-01", field=field, name=name)
    if message.startswith("Invalid UUID"):
        return MalformedInput("{name}应为编号（UUID）", field=field, name=name)
    if message.startswith("Invalid enum value"):
        return InvalidInput("{name}不是可选的值", field=field, name=name)
    if "matching regex" in message:
        return InvalidInput("{name}格式不对", field=field, name=name)
    found = _EXPECTED.match(message)
    if found:
        expected, got, of_length, relation, bound = found.groups()
        base = expected.split(" | ")[0]
        shown = _bound(bound, relation) if relation else ""
        fewer = bool(relation) and relation.startswith("<")
        if of_length and base == "str":
            return (InvalidInput("{name}最多 {bound} 个字", field=field, name=name, bound=shown) if fewer
                    else InvalidInput("{name}至少 {bound} 个字", field=field, name=name, bound=shown))
        if of_length:
            return (InvalidInput("{name}最多 {bound} 项", field=field, name=name, bound=shown) if fewer
                    else InvalidInput("{name}至少 {bound} 项", field=field, name=name, bound=shown))
        if relation:
            return (InvalidInput("{name}不能大于 {bound}", field=field, name=name, bound=shown) if fewer
                    else InvalidInput("{name}不能小于 {bound}", field=field, name=name, bound=shown))
        return MalformedInput("{name}应为{kind}", field=field, name=name, kind=_TYPE_NAMES.get(base, base))
    return InvalidInput("{name}不符合规则", field=field, name=name)


def _bound(bound: str, relation: str) -> str:
    """msgspec says `> 0` of an integer; a person reads `≥ 1`."""
    try:
        number = int(bound)
    except ValueError:
        return bound
    return str(number + 1 if relation == ">" else number - 1 if relation == "<" else number)


_AT = re.compile(r" - at `\$((?:\.[^`\[]+|\[\d+\])*)`$")


def _located(error: msgspec.ValidationError, prefix: str) -> InvalidInput:
    text = str(error)
    found = _AT.search(text)
    path = found.group(1) if found else ""
    message = text[: found.start()] if found else text
    missing = re.search(r"field `([^`]+)`", message)
    if missing and message.startswith("Object "):
        path += "." + missing.group(1)
    field = (prefix + path).strip(".")
    return translate(message, field)


def explain(target: Any, raw: Any) -> list[InvalidInput]:
    """Every field of `raw` that `target` (a struct type) refuses, each in its own words — msgspec stops at the
    first one, and a person wants to mend a form once."""
    if not (isinstance(target, type) and issubclass(target, msgspec.Struct)):
        try:
            msgspec.convert(raw, target, strict=False)
        except msgspec.ValidationError as error:
            return [_located(error, "")]
        return []
    if not isinstance(raw, dict):
        return [MalformedInput("请求体应为 JSON 对象")]
    problems: list[InvalidInput] = []
    fields = {f.encode_name: f for f in msgspec.structs.fields(target)}
    for name in raw:
        if name not in fields and target.__struct_config__.forbid_unknown_fields:
            problems.append(MalformedInput("不认识的字段 {code}", field=str(name), code=str(name)))
    for name, f in fields.items():
        if name not in raw:
            if f.required:
                problems.append(MalformedInput("{name}必填", field=name, name=label(name)))
            continue
        annotation = f.type
        nested = _struct_of(annotation)
        if nested is not None and isinstance(raw[name], dict):
            problems.extend(_prefixed(explain(nested, raw[name]), name))
            continue
        try:
            value = msgspec.convert(raw[name], annotation, strict=False)
        except msgspec.ValidationError as error:
            problems.append(_located(error, name))
        except InvalidInputs as refused:  # a nested struct's own checks
            problems.extend(_prefixed(refused.problems, name))
        else:
            problems.extend(_check(value, mi.type_info(annotation), name))
    return problems


def _struct_of(annotation: Any) -> type | None:
    info = mi.type_info(annotation)
    if isinstance(info, mi.UnionType):
        structs = [t for t in info.types if isinstance(t, mi.StructType)]
        info = structs[0] if len(structs) == 1 else info
    return info.cls if isinstance(info, mi.StructType) else None


def _prefixed(problems: list[InvalidInput], prefix: str) -> list[InvalidInput]:
    for problem in problems:
        problem.field = f"{prefix}.{problem.field}" if problem.field else prefix
    return problems


# --- the answer to a request the framework refused -----------------------------------------------------------


def _body_type(request: Request) -> Any:
    parameter = request.route_handler.parsed_fn_signature.parameters.get("data")
    if parameter is None:
        return None
    annotation = parameter.annotation
    return get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation


def refused_request(request: Request, exc: ValidationException) -> InvalidInputs:
    """Litestar refused the query or the body: each bad field said in Chinese by its form's name — for the body,
    every bad field at once (the decoder stops at the first)."""
    items = [item for item in exc.extra if isinstance(item, dict)] if isinstance(exc.extra, list) else []
    problems: list[InvalidInput] = []
    if any(item.get("source") == "body" or item.get("key") == "data" for item in items):
        raw = ConnectionState.from_scope(request.scope).json  # what the body decoded to, kept by the request
        target = _body_type(request)
        if target is not None and raw is not Empty:
            problems = explain(target, raw)
    problems += [translate(str(item.get("message", "")), str(item.get("key") or "")) for item in items
                 if item.get("source") != "body" and item.get("key") != "data"]
    if not problems:
        problems = [translate(str(item.get("message", "")), str(item.get("key") or "")) for item in items]
    refused = InvalidInputs(problems or [MalformedInput("请求无效")])
    # A body that breaks only rules (too long, out of range) is 422, like the services' refusals; a request of
    # the wrong shape, or a mistyped query or path, is 400.
    if not all(item.get("source") == "body" or item.get("key") == "data" for item in items) or any(
            isinstance(p, MalformedInput) for p in refused.problems):
        refused.status = 400
    return refused


def invalid_request(request: Request, exc: ValidationException) -> Response:
    return problem_response(request, refused_request(request, exc))

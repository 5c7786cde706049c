"""Domain errors and their translation into RFC 9457 problem details (never a stack trace)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException, ProblemDetailsPlugin
from sqlalchemy.exc import StatementError

from core.i18n import Label, as_is, in_language

log = logging.getLogger("yishi.errors")
DETAIL_SEPARATOR = Label("；")  # between the messages of several refused fields


class DomainError(Exception):
    """A rule of the domain refused the request; `status` says which kind of refusal.

    `message` is Chinese and doubles as the catalogue's message id. Anything that varies is passed as a named
    parameter, never formatted in: `NotFound("没有租户 {slug}", slug=slug)`. A `Label` parameter is translated
    too, and a list parameter is joined with the language's separator. The API answers in Chinese (`.message`);
    the portal shows the same refusal in the reader's language (`in_language`). The test suite fails on a
    refusal built with an f-string or missing from the English catalogue (`python -m core.portal.messages`).
    """

    status = 400
    title = "请求无效"

    def __init__(self, message: str, *, field: str | None = None, headers: dict[str, str] | None = None,
                 **params: object) -> None:
        self.template = message
        self.params = params
        self.message = in_language(message, params, as_is)
        super().__init__(self.message)
        self.field = field
        self.headers = headers

    def in_language(self, gettext: Callable[[str], str]) -> str:
        """The refusal in the language `gettext` translates into, its labels translated too."""
        return in_language(self.template, self.params, gettext)


class InvalidInput(DomainError):
    status = 422
    title = "输入不符合规则"


class MalformedInput(InvalidInput):
    """A request of the wrong shape: a field missing, of the wrong type, or not known at all."""

    status = 400
    title = "请求无效"


class InvalidInputs(InvalidInput):
    """Several fields refused at once: each keeps its own message and field; the detail says them all."""

    def __init__(self, problems: Sequence[InvalidInput]) -> None:
        self.problems = list(problems)
        super().__init__("输入有 {count} 处不符合规则：{details}", count=len(self.problems),
                         details=DETAIL_SEPARATOR.join(p.message for p in self.problems))
        self.field = self.problems[0].field if len(self.problems) == 1 else None

    def in_language(self, gettext: Callable[[str], str]) -> str:
        details = gettext(DETAIL_SEPARATOR).join(p.in_language(gettext) for p in self.problems)
        return gettext(self.template).format(count=len(self.problems), details=details)

    def by_field(self, gettext: Callable[[str], str]) -> dict[str, str]:
        """Each refused field's message, for a form that shows them beside its fields."""
        shown: dict[str, str] = {}
        for problem in self.problems:
            shown.setdefault((problem.field or "form").split("[")[0].replace(".", "_"), problem.in_language(gettext))
        return shown


class Problems:
    """Refusals gathered so that a form hears of every bad field at once, not one per try:
    `title = problems.take(clean_text, data.title, …)` keeps the refusal and goes on; `raise_any()` ends it."""

    def __init__(self) -> None:
        self.found: list[InvalidInput] = []

    def take(self, check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return check(*args, **kwargs)
        except InvalidInputs as refused:
            self.found.extend(refused.problems)
        except InvalidInput as refused:
            self.found.append(refused)
        return None

    def add(self, refused: InvalidInput) -> None:
        self.found.append(refused)

    def raise_any(self) -> None:
        if len(self.found) == 1:
            raise self.found[0]
        if self.found:
            raise InvalidInputs(self.found)


class NotFound(DomainError):
    status = 404
    title = "未找到"


class Conflict(DomainError):
    status = 409
    title = "与当前状态冲突"


class Forbidden(DomainError):
    status = 403
    title = "无权执行此操作"


class Gone(DomainError):
    """What was there is no more, for good: a used, expired or revoked link."""

    status = 410
    title = "已失效"


class Unauthenticated(DomainError):
    status = 401
    title = "需要登录"


class TooManyRequests(DomainError):
    status = 429
    title = "尝试次数过多"


class Unavailable(DomainError):
    """A service the request needs (the photo store) does not answer: worth trying again later."""

    status = 503
    title = "服务暂时不可用"


def _problem(status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None,
             headers: dict[str, str] | None = None) -> ProblemDetailsException:
    extra = {"errors": errors} if errors else None
    return ProblemDetailsException(status_code=status, title=title, detail=detail, extra=extra, headers=headers)


def _from_domain(exc: DomainError) -> ProblemDetailsException:
    errors: list[dict[str, str | None]] | None
    if isinstance(exc, InvalidInputs):
        errors = [{"field": p.field, "message": p.message} for p in exc.problems]
    else:
        errors = [{"field": exc.field, "message": exc.message}] if exc.field else None
    return _problem(exc.status, exc.title, exc.message, errors, exc.headers)


_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")
_AT_PATH = re.compile(r"at `\$\.([^`]+)`")


def _field_of(item: dict[str, Any]) -> str | None:
    """The field a validation error is about; msgspec names a missing or nested one only in its message."""
    key, message = item.get("key"), str(item.get("message", ""))
    if key in (None, "data"):
        found = _MISSING_FIELD.search(message) or _AT_PATH.search(message)
        if found:
            return found.group(1)
    return key


def _from_http(exc: HTTPException) -> ProblemDetailsException:
    status = exc.status_code
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    errors = None
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        # Litestar reports each failed field as {"key", "message", "source"}; name them "field" for clients.
        errors = [
            {"field": _field_of(item), "message": item.get("message"), "source": item.get("source")}
            for item in exc.extra
            if isinstance(item, dict)
        ]
    detail = exc.detail
    if status == 500:
        detail = "服务器内部错误"
    return _problem(status, title, detail, errors, exc.headers)


def problem_response(request: Request, exc: DomainError) -> Response:
    return _from_domain(exc).to_response(request)


def _unexpected(request: Request, exc: Exception) -> Response:
    if is_refused_value(exc):
        return _refused_by_database(exc).to_response(request)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _problem(500, "Internal Server Error", "服务器内部错误，请稍后再试").to_response(request)


# What the database refuses of a value (too long, a NUL, a number or date it cannot hold). The schemas refuse
# all of these first, naming the field (`core.inputs`); this is the wall behind them, so that no route answers
# 500 for a value a person sent. The tests treat an answer from here as a schema that forgot its caps.
OUT_OF_RANGE_TITLE = "数据超出允许范围"


def _refused_by_database(exc: Exception) -> ProblemDetailsException:
    log.warning("the database refused a value the schemas let through: %s", exc)
    return _problem(422, OUT_OF_RANGE_TITLE, "输入的内容超出了允许的长度或范围，或含有不能保存的字符")


def is_refused_value(exc: BaseException) -> bool:
    """Whether `exc` is the database (or its driver) refusing a value, not a fault of ours."""
    if isinstance(exc, OverflowError):
        return True
    original = getattr(exc, "orig", None) or exc.__cause__
    if isinstance(exc, StatementError) and isinstance(original, OverflowError):
        return True
    sqlstate = getattr(original, "sqlstate", None) or getattr(getattr(original, "__cause__", None), "sqlstate", None)
    # Class 22 is "data exception": a value too long, out of range, or with a character the encoding lacks.
    return isinstance(sqlstate, str) and sqlstate.startswith("22")


def problem_details_plugin() -> ProblemDetailsPlugin:
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            exception_to_problem_detail_map={DomainError: _from_domain, HTTPException: _from_http},
        )
    )


EXCEPTION_HANDLERS: dict[int | type[Exception], Any] = {Exception: _unexpected}

"""Domain errors and their translation into RFC 9457 problem details (never a stack trace)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException, ProblemDetailsPlugin

from core.i18n import as_is, in_language

log = logging.getLogger("yishi.errors")


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


class NotFound(DomainError):
    status = 404
    title = "未找到"


class Conflict(DomainError):
    status = 409
    title = "与当前状态冲突"


class Forbidden(DomainError):
    status = 403
    title = "无权执行此操作"


class Unauthenticated(DomainError):
    status = 401
    title = "需要登录"


class TooManyRequests(DomainError):
    status = 429
    title = "尝试次数过多"


def _problem(status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None,
             headers: dict[str, str] | None = None) -> ProblemDetailsException:
    extra = {"errors": errors} if errors else None
    return ProblemDetailsException(status_code=status, title=title, detail=detail, extra=extra, headers=headers)


def _from_domain(exc: DomainError) -> ProblemDetailsException:
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


def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _problem(500, "Internal Server Error", "服务器内部错误，请稍后再试").to_response(request)


def problem_details_plugin() -> ProblemDetailsPlugin:
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            exception_to_problem_detail_map={DomainError: _from_domain, HTTPException: _from_http},
        )
    )


EXCEPTION_HANDLERS = {Exception: _unexpected}

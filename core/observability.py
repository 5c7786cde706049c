"""What operators see: JSON logs carrying the request id, tenant and user (never a person's data), and
Prometheus metrics at /metrics (requests by route and status, latency, database pool, workflow transitions)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any, cast

import structlog
from litestar.plugins.prometheus import PrometheusController
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")  # a caller's id is kept only if it looks like one
TRANSITIONS_KEY = "yishi.transitions"

# --- logs ------------------------------------------------------------------------------------------------

_SHARED: list[structlog.typing.Processor] = [
    structlog.contextvars.merge_contextvars,  # request_id, tenant, user_id of the request being served
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def json_handler(stream: Any = None) -> logging.Handler:
    """A handler writing one JSON object per line (stderr by default), whoever logged the record."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    structlog.processors.JSONRenderer(ensure_ascii=False)],
        foreign_pre_chain=_SHARED,
    ))
    return handler


def configure_json_logging(level: int = logging.INFO) -> None:
    """JSON logs for our loggers and every library's alike."""
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    root.handlers[:] = [json_handler()]
    root.setLevel(level)


def bind_request(**values: Any) -> None:
    """Add to what every log line of the current request carries (tenant slug, user id: no personal data)."""
    structlog.contextvars.bind_contextvars(**{key: str(value) for key, value in values.items() if value is not None})


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    """Gives each request an id (the caller's X-Request-ID if well-formed), logs carry it, the answer echoes it."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == REQUEST_ID_HEADER.encode()), "")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        # The route too: the log of unmasked phone numbers says on which one they were read.
        structlog.contextvars.bind_contextvars(request_id=request_id, route=f"{scope.get('method', '')} {scope['path']}")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER.encode(), request_id.encode())]
            await send(message)

        await app(scope, receive, send_with_id)

    return middleware


# --- metrics ---------------------------------------------------------------------------------------------

TRANSITIONS = Counter("yishi_workflow_transitions", "Committed workflow transitions (events)",
                      ["action", "tenant_kind"])
# Gauges summed over the live worker processes when PROMETHEUS_MULTIPROC_DIR is set (`yishi serve` prepares it).
POOL_IN_USE = Gauge("yishi_db_pool_in_use", "Database connections checked out of the pool",
                    multiprocess_mode="livesum")
POOL_SIZE = Gauge("yishi_db_pool_size", "Connections the pool keeps", multiprocess_mode="livesum")


def watch_pool(engine: AsyncEngine) -> None:
    """Count the engine's connections in use as they are checked out and back in."""
    POOL_SIZE.set(getattr(engine.sync_engine.pool, "size", lambda: 0)())
    event.listen(engine.sync_engine, "checkout", lambda *_: POOL_IN_USE.inc())
    event.listen(engine.sync_engine, "checkin", lambda *_: POOL_IN_USE.dec())


def count_transition(session: Any, action: str, tenant_kind: str) -> None:
    """Counted when the transaction commits (a rolled-back transition never happened)."""
    session.info.setdefault(TRANSITIONS_KEY, []).append((action, tenant_kind))


@event.listens_for(Session, "after_commit")
def _commit_transitions(session: Session) -> None:
    for action, kind in session.info.pop(TRANSITIONS_KEY, ()):
        TRANSITIONS.labels(action=action, tenant_kind=kind).inc()


@event.listens_for(Session, "after_soft_rollback")
def _drop_transitions(session: Session, previous_transaction: Any) -> None:
    session.info.pop(TRANSITIONS_KEY, None)


# Requests by route template, not raw path: one series per route however many tenants and ids there are. The
# names and labels are those of Litestar's Prometheus middleware, which this replaces: it built a URL object, five
# label sets and four metric lookups a request, a twentieth of the busiest write's time.
_LABELS = ("method", "path", "status_code", "app_name")
REQUESTS = Counter("yishi_requests_total", "Total requests", _LABELS)
REQUEST_ERRORS = Counter("yishi_requests_error_total", "Total errors in requests", _LABELS)
REQUEST_TIME = Histogram("yishi_request_duration_seconds", "Request duration, in seconds", _LABELS)
IN_PROGRESS = Gauge("yishi_requests_in_progress", "Total requests currently in progress", _LABELS,
                    multiprocess_mode="livesum")
_NOT_MEASURED = ("/metrics", "/static/")


def request_metrics_middleware(app: ASGIApp) -> ASGIApp:
    """Counts and times each request by its route's template, method and status (a route's middleware: a path no
    route answers has no series)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        template = scope.get("path_template") or scope["path"]
        if template.startswith(_NOT_MEASURED):
            await app(scope, receive, send)
            return
        method = cast(Any, scope)["method"]  # an HTTP scope: it has one
        running = IN_PROGRESS.labels(method, template, 200, "yishi")
        status = [500]  # what an exception that escapes every handler becomes

        async def send_with_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        started = time.perf_counter()
        running.inc()
        try:
            await app(scope, receive, send_with_status)
        finally:
            running.dec()
            labels = (method, template, status[0], "yishi")
            if status[0] >= 500:
                REQUEST_ERRORS.labels(*labels).inc()
            REQUESTS.labels(*labels).inc()
            REQUEST_TIME.labels(*labels).observe(time.perf_counter() - started)

    return middleware


class MetricsController(PrometheusController):
    """GET /metrics in the Prometheus text format (several workers: set PROMETHEUS_MULTIPROC_DIR)."""

    path = "/metrics"
    opt = {"exclude_from_auth": True}
    include_in_schema = False

"""Wiring the portal into the app: its router (with pages for errors), templates, static files, CSRF and the
`{slug}.{YISHI_PORTAL_DOMAIN}` host names."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any, cast

from litestar import Controller, Router
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Receive, Scope, Send

from core.clock import local
from core.errors import DomainError
from core.portal import (
    account,
    admin,
    documents,
    invitations,
    notifications,
    offline,
    people,
    places,
    resident,
    residents,
    staff,
    timelimits,
)
from core.portal.pages import portal_error
from core.portal.public import PortalPublicController, PortalRootController
from core.portal.workspace import WorkspaceController
from core.settings import Settings

HERE = Path(__file__).parent


def local_time(value: datetime.datetime | str | None) -> str:
    """Times as people here read them: Beijing time, to the minute. A time kept as ISO text in a JSON column (a
    deputy's note) is read first; text that is no time shows as nothing."""
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            return ""
    return local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _engine_callback(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters["local_time"] = local_time
    engine.engine.autoescape = True


def template_config(extra_directories: list[Path] | None = None) -> TemplateConfig:
    """The portal's templates, then the plugins' (each under its plugin's name)."""
    return TemplateConfig(directory=[HERE / "templates", *(extra_directories or [])], engine=JinjaTemplateEngine,
                          engine_callback=_engine_callback)


def csrf_config(settings: Settings) -> CSRFConfig:
    """Every portal form carries a token; API clients (bearer tokens, no cookies) and probes are not forms."""
    return CSRFConfig(secret=settings.secret_key, cookie_name="yishi_csrf", cookie_samesite="lax",
                      cookie_secure=settings.env == "production", cookie_httponly=False,
                      # One-click unsubscribe is POSTed by mail clients; its token is its own proof (RFC 8058).
                      exclude=["^/api/", "^/open311/", "^/health", "^/ready", "^/schema", "^/unsubscribe/"])


def portal_routers(plugin_pages: list[type[Controller]]) -> list[Router]:
    """The portal's pages (the public ones last: their catch-all answers 404 for any other path)."""
    # HTTPException too: the problem-details plugin claims it app-wide, and a page answers with a page.
    handlers: dict[int | type[Exception], Any] = {DomainError: portal_error, HTTPException: portal_error, ValidationException: portal_error,
                Exception: portal_error}
    pages: list[Any] = [PortalRootController, WorkspaceController, *resident.CONTROLLERS, *staff.CONTROLLERS,
             *admin.CONTROLLERS, *notifications.CONTROLLERS, *account.CONTROLLERS, *people.CONTROLLERS,
             *timelimits.CONTROLLERS, *invitations.CONTROLLERS, *places.CONTROLLERS, *residents.CONTROLLERS,
             *documents.CONTROLLERS, *offline.CONTROLLERS,
             *plugin_pages,
             PortalPublicController]
    return [
        Router(path="/", route_handlers=pages, exception_handlers=handlers, include_in_schema=False,
               opt={"exclude_from_auth": True}),
        create_static_files_router(path="/static", directories=[HERE / "static"], opt={"exclude_from_auth": True},
                                   include_in_schema=False),
    ]


def portal_host_middleware(domain: str):
    """`jianshexiang.yishi.example.cn/results` is served as `/t/jianshexiang/results` (API paths stay as they are)."""
    suffix = "." + domain.lower().lstrip(".")

    def middleware(app: ASGIApp) -> ASGIApp:
        async def handle(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "").split(":")[0].lower()
                path = scope["path"]
                if host.endswith(suffix) and not path.startswith(("/t/", "/api/", "/static/", "/open311/", "/health",
                                                                  "/ready", "/schema")):
                    slug = host[: -len(suffix)]
                    if slug and "." not in slug:
                        scope = cast(Scope, {**scope, "path": f"/t/{slug}{path}", "raw_path": f"/t/{slug}{path}".encode()})
            await app(scope, receive, send)

        return handle

    return middleware

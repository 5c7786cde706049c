"""The application factory: one place that wires settings, database, auth, errors and routes together."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from datetime import timedelta

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import ValidationException
from litestar.logging.config import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.security.jwt import JWTAuth, Token

from core.accounts.controllers import (
    AuthController,
    InvitationController,
    JoinController,
    MeController,
    MemberController,
    MyDataController,
    MyPasswordController,
    PasswordController,
    PhoneReadController,
    PublicInvitationController,
    ResidentController,
)
from core.accounts.services import Passwords
from core.apidocs import DOCS_PATH, assets_router, render_plugins
from core.authz.authorizer import Authorizer
from core.authz.rules import ACTIONS, RULES
from core.concerns.controllers import CategoryController, ConcernController, EscalationController, PhoneFilingController
from core.db import create_engine, create_sessionmaker
from core.errors import EXCEPTION_HANDLERS, problem_details_plugin
from core.headers import security_headers
from core.health import health, ready
from core.http import (
    Principal,
    RememberingJWTMiddleware,
    YishiRequest,
    principal_from_token,
    provide_db_session,
    refuse_nul,
)
from core.inputs import invalid_request
from core.media import MAX_BYTES, photo_store_from
from core.notifications.controllers import DevOutboxController, MyNotificationsController, UnsubscribeController
from core.notifications.jobs import JOBS_KEY, in_process
from core.notifications.jobs import build as build_jobs
from core.notifications.webhooks import WebhookController
from core.observability import (
    MetricsController,
    configure_json_logging,
    request_context_middleware,
    request_metrics_middleware,
    watch_pool,
)
from core.open311.controllers import Open311Controller
from core.plugins import Plugins
from core.portal.plugin_pages import plugin_portal_pages, plugin_template_dirs
from core.portal.setup import csrf_config, portal_host_middleware, portal_routers, template_config
from core.publishing.controllers import OpenDataController, PublicController
from core.related.cluster_controllers import HotController, SuggestionController
from core.related.controllers import RelatedController
from core.related.merge_controllers import MergeController
from core.reporting.controllers import RatesController, StatsController
from core.settings import Settings, get_settings
from core.tenancy.controllers import TenantController
from core.timelimits.controllers import (
    ConcernClockController,
    ExtensionController,
    RevisitController,
    TimeLimitController,
)
from core.topics.controllers import ActionController, FollowUpController, MeetingController, TopicController


def plugin_routers(plugins: Plugins) -> list[Router]:
    """Each plugin's controllers, marked with its name so that tenants without it get 404."""
    return [Router(path="/", route_handlers=controllers, opt={"plugin": name})
            for name, controllers in sorted(plugins.contributions.routes.items())]


def create_app(settings: Settings | None = None, plugins: Plugins | None = None) -> Litestar:
    settings = settings or get_settings()
    if not logging.getLogger().handlers:  # a server worker: nobody configured logging, so we do
        configure_json_logging()
    plugins = plugins or Plugins()
    engine = create_engine(settings.database_url, echo=settings.sql_echo, pool_size=settings.db_pool_size)
    watch_pool(engine)
    # Whole paths: a pattern matches anywhere in a path, and a tenant may well be called "readyville".
    no_sign_in = ["^/health$", "^/ready$", "^/schema(/|$)", "^/metrics$"]
    jwt_auth = JWTAuth[Principal, Token](
        token_secret=settings.secret_key,
        retrieve_user_handler=principal_from_token,
        accepted_audiences=[settings.token_audience],
        default_token_expiration=timedelta(minutes=settings.token_minutes),
        exclude=no_sign_in,
        authentication_middleware_class=RememberingJWTMiddleware,
    )

    jobs = build_jobs(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        try:
            if settings.jobs_in_process:
                async with in_process(app.state):
                    yield
            else:
                yield
        finally:
            await engine.dispose()

    app = Litestar(
        route_handlers=[
            health, ready, AuthController, PasswordController, MeController, MyPasswordController, MyDataController,
            JoinController, PhoneReadController, InvitationController, PublicInvitationController,
            TenantController, MemberController, ResidentController, ConcernController, PhoneFilingController,
            CategoryController, EscalationController, RelatedController, TopicController, MeetingController, ActionController,
            FollowUpController, TimeLimitController, RevisitController, ConcernClockController, ExtensionController,
            StatsController, RatesController, SuggestionController, HotController, PublicController,
            Open311Controller, OpenDataController,
            *plugin_routers(plugins), *portal_routers(plugin_portal_pages(plugins)), MetricsController,
            MyNotificationsController, UnsubscribeController, DevOutboxController, WebhookController,
            MergeController, assets_router(),
        ],
        middleware=[refuse_nul, request_context_middleware, request_metrics_middleware],
        request_class=YishiRequest,
        template_config=template_config(plugin_template_dirs(plugins)),
        csrf_config=csrf_config(settings),
        # A 10 MB photo plus the multipart envelope; the photo itself is checked against MAX_BYTES.
        request_max_body_size=MAX_BYTES + 1024 * 1024,
        dependencies={"db_session": Provide(provide_db_session)},
        on_app_init=[jwt_auth.on_app_init],
        plugins=[problem_details_plugin()],
        exception_handlers={**EXCEPTION_HANDLERS, ValidationException: invalid_request},
        lifespan=[lifespan],
        state=State({
            "settings": settings,
            "engine": engine,
            # On SQLite the job engine's queue is in this process: sessions hand it their notifications on commit.
            "sessionmaker": create_sessionmaker(engine, settings.audit_key,
                                                {} if settings.is_postgres else {JOBS_KEY: jobs},
                                                set_local=settings.database_citus),
            "jobs": jobs,
            "authorizer": Authorizer(rules=[*RULES, *plugins.contributions.rules],
                                     actions={**ACTIONS, **plugins.contributions.actions}),
            "plugins": plugins,
            "passwords": Passwords(settings.password_hash),
            "jwt_auth": jwt_auth,
            "installed_plugins": plugins.names,
            "photo_store": photo_store_from(settings),
        }),
        openapi_config=OpenAPIConfig(
            title="Yishi 议事 API", version="1", path=DOCS_PATH, render_plugins=render_plugins(no_sign_in)
        ),
        debug=settings.debug,
        # Litestar's own logger only; the root logger (and its handlers) belongs to the process running us.
        logging_config=LoggingConfig(configure_root_logger=False),
    )
    if settings.portal_domain:
        # Host names are mapped onto /t/{slug} before routing, so the same routes serve both.
        app.asgi_handler = portal_host_middleware(settings.portal_domain)(app.asgi_handler)
    app.asgi_handler = security_headers(settings)(app.asgi_handler)
    return app

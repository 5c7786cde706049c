"""Security headers on every response (`secure`'s ASGI middleware): a Content-Security-Policy that allows only the
portal's own scripts and styles, no framing, no MIME sniffing, a cautious Referrer-Policy, and HSTS in production."""

from __future__ import annotations

import secure
from litestar.types import ASGIApp, Receive, Scope, Send
from secure.middleware.asgi import SecureASGIMiddleware

from core.settings import Settings

# The API docs page (Swagger UI) is Litestar's: its script and styles are ours (core.apidocs serves them), but it
# starts Swagger UI with an inline script and Swagger UI sets inline styles, so /schema gets a policy of its own
# that allows those; everything else (the portal above all) gets the strict one.
DOCS_PREFIX = "/schema"


def _csp(docs: bool) -> secure.ContentSecurityPolicy:
    csp = (secure.ContentSecurityPolicy().default_src("'self'").img_src("'self'", "data:").object_src("'none'")
           .base_uri("'none'").form_action("'self'").frame_ancestors("'none'"))
    if docs:
        return csp.script_src("'self'", "'unsafe-inline'").style_src("'self'", "'unsafe-inline'")
    # No inline script at all; style attributes only (the portal's bars take their widths from data), never a
    # <style> element (htmx's own indicator styles are switched off in base.html's htmx-config).
    return csp.script_src("'self'").style_src("'self'").style_src_attr("'unsafe-inline'")


def _policy(settings: Settings, docs: bool) -> secure.Secure:
    production = settings.env == "production"
    return secure.Secure(
        csp=_csp(docs),
        xfo=secure.XFrameOptions().deny(),  # frame-ancestors' older spelling, for older browsers
        xcto=secure.XContentTypeOptions().nosniff(),
        referrer=secure.ReferrerPolicy().strict_origin_when_cross_origin(),
        # Only where the site is served over HTTPS: a browser would otherwise refuse a plain-HTTP development run.
        hsts=secure.StrictTransportSecurity().max_age(63072000).include_subdomains() if production else None,
    )


def security_headers(settings: Settings):
    """Wraps the app's ASGI handler, outside routing, so that 404s and other framework answers carry them too."""

    def middleware(app: ASGIApp) -> ASGIApp:
        portal = SecureASGIMiddleware(app, secure=_policy(settings, docs=False))
        docs = SecureASGIMiddleware(app, secure=_policy(settings, docs=True))

        async def handle(scope: Scope, receive: Receive, send: Send) -> None:
            chosen = docs if scope.get("path", "").startswith(DOCS_PREFIX) else portal
            await chosen(scope, receive, send)  # type: ignore[arg-type]

        return handle

    return middleware

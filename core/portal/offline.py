"""The installable portal: its web app manifest and icon, the service worker (served under the tenant's path so
that its scope covers the tenant's pages), the page shown offline, and the field filing page with its two JSON
ends (send one filing queued on the phone, once per Idempotency-Key; the filer's recent concerns to read offline).
The queue itself lives in the browser (static/offline-store.js); these routes only answer it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide

from core import clock
from core.concerns.services import ConcernFilters, ConcernService
from core.errors import DomainError
from core.portal.pages import Page, PageDep, provide_page
from core.portal.resident import CHANNEL_LABELS, MAX_FORM_PHOTOS, ConcernForm, default_channel, file_from_form
from core.tenancy.services import CompoundService
from core.timelimits.models import URGENCIES

STATIC = Path(__file__).parent / "static"
RECENT = 20  # the filer's recent concerns kept on the phone
COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?$")
DEFAULT_COLOUR = "#b3261e"  # the portal's red (portal.css --red)
# Read at every request, not cached: a deploy that changes it must reach the next update check.
NO_STORE = {"Cache-Control": "no-cache"}


def theme_colour(page: Page) -> str:
    """The tenant's theme colour (portal setting theme_color) where it is a plain hex colour, else the portal's red."""
    chosen = str((page.tenant.portal or {}).get("theme_color") or "")
    return chosen if COLOUR_RE.fullmatch(chosen) else DEFAULT_COLOUR


def _json(body: dict[str, Any], status_code: int = 200) -> Response:
    return Response(body, status_code=status_code, headers={"Cache-Control": "no-store"})


def _refused(message: str, status_code: int, errors: dict[str, str] | None = None) -> Response:
    """A refusal the phone's queue shows as it is (`refused`: retrying the same filing will not help)."""
    return _json({"refused": True, "message": message, "errors": errors or {}}, status_code)


class OfflineController(Controller):
    path = "/t/{slug:str}"
    dependencies = {"page": Provide(provide_page)}

    @get("/manifest.webmanifest")
    async def manifest(self, page: PageDep) -> Response:
        return Response({
            "name": f"{page.tenant.name} · 议事", "short_name": page.tenant.name[:12], "lang": "zh-CN",
            "start_url": f"{page.base}/me", "scope": f"{page.base}/", "id": f"{page.base}/",
            "display": "standalone", "background_color": "#faf7f4", "theme_color": theme_colour(page),
            "icons": [{"src": f"{page.base}/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
        }, media_type="application/manifest+json", headers=NO_STORE)

    @get("/icon.svg")
    async def icon(self, page: PageDep) -> Response:
        """The tenant's icon: its name's first character on its theme colour."""
        letter = escape(page.tenant.name[:1] or "议")
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><rect width="512" height="512" '
               f'rx="96" fill="{theme_colour(page)}"/><text x="256" y="350" text-anchor="middle" font-size="300" '
               f'fill="#fff" font-family="sans-serif">{letter}</text></svg>')
        return Response(svg.encode(), media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})

    @get("/sw.js")
    async def service_worker(self, page: PageDep) -> Response:
        # Served here rather than from /static: a worker's scope is its script's folder, /t/{slug}/.
        return Response((STATIC / "sw.js").read_bytes(), media_type="text/javascript", headers=NO_STORE)

    @get("/offline")
    async def offline(self, page: PageDep) -> Response:
        """What the service worker shows for a page that needs the network while there is none."""
        return page.render("offline.html")

    @get("/field")
    async def field(self, page: PageDep) -> Response:
        """The filing form that works without signal (for those who file on residents' behalf)."""
        scope = await page.scope("concern.file_on_behalf")
        form = ConcernForm(channel=default_channel(scope))
        _ = page._
        messages = {
            "online": _("Online: what you file is sent at once."),
            "offline": _("No signal: what you file is kept on this phone and sent when the connection returns."),
            "waiting": _("Waiting to upload"), "sending": _("Uploading…"), "sent": _("Uploaded"),
            "refused": _("Refused"), "signin": _("Sign in again to upload what is waiting."),
            "edit": _("Edit and send again"), "remove": _("Delete"), "editing": _("Editing a refused filing"),
            "saved": _("Saved on this phone."), "photos": _("{count} photos"),
            "too_many": _("Choose at most {count} photos.").format(count=MAX_FORM_PHOTOS),
            "required": _("Fill in the title, what is wrong and the category."),
            "synced": _("Last synced: {time}"), "never": _("Not synced yet: open this page once with signal."),
            "none": _("You have not raised any concern yet."),
            "confirm_remove": _("Delete this filing from the phone? It has not been sent."),
        }
        return page.render("resident/field.html", form=form, errors={}, on_behalf=True, channels=CHANNEL_LABELS,
                           urgencies=URGENCIES, max_photos=MAX_FORM_PHOTOS,
                           categories=await ConcernService(page.session, scope).categories(),
                           compounds=await CompoundService(page.session).all(), messages=messages)

    @post("/field/concerns", status_code=201)
    async def send(self, request: Request, page: PageDep) -> Response:
        """One filing from the phone's queue: filed once per Idempotency-Key (a retry answers as the first did)."""
        _ = page._
        if page.user is None:
            return _json({"message": _("Please sign in first.")}, 401)
        key = request.headers.get("idempotency-key")
        if not key:
            return _refused(_("The filing has no Idempotency-Key."), 400)
        try:
            await page.scope("concern.file_on_behalf")
            filing = await file_from_form(request, page, await request.form(), key)
        except DomainError as exc:
            await page.rollback()
            return _refused(page.refusal(exc), exc.status)
        if filing.answer is None:
            first = filing.errors.get("form") or next(iter(filing.errors.values()), "")
            return _refused(first, filing.status, filing.errors)
        return _json(filing.answer, 201)

    @get("/field/mine")
    async def mine(self, page: PageDep) -> Response:
        """The concerns the signed-in person filed lately, as the phone keeps them to read offline."""
        if page.user is None:
            return _json({"message": page._("Please sign in first.")}, 401)
        scope = await page.scope("concern.read")
        service = ConcernService(page.session, scope)
        found = (await service.page(ConcernFilters(sort="-created_at", filed_by_me=True), RECENT, 0)).items
        return _json({
            "synced_at": clock.local(clock.now()).strftime("%Y-%m-%d %H:%M"),
            "concerns": [{"id": str(c.id), "reference": c.reference, "title": c.title,
                          "status": page._(c.status_name), "filed": clock.local(c.created_at).strftime("%Y-%m-%d %H:%M"),
                          "photos": len(c.photos)}
                         for c in await service.to_out(found)],
        })


CONTROLLERS: list[type[Controller]] = [OfflineController]

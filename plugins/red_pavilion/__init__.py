"""红色议事亭 / 党群温馨庭院: Party-led deliberation at venues — "每月一议事" every month, "有事来商量" on demand —
with Party members' participation recorded per session and tallied per year."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.hookspecs import hookimpl
from core.i18n import Label

NAME = "red_pavilion"
VERSION = "1.0.0"
TITLE = "红色议事亭"

STAFF = ["community_staff", "street_staff", "district_admin"]


@hookimpl
def yishi_register_rules(register: Any) -> None:
    from core.authz.rules import TENANT_ROLES

    register(action="pavilion.read", description="查看议事场所、议事会安排与党员参与", roles=list(TENANT_ROLES))
    register(action="pavilion.manage", description="设立议事场所、安排每月一议事与有事来商量、记录党员参与",
             roles=STAFF)


@hookimpl
def yishi_register_routes(register: Any) -> None:
    from plugins.red_pavilion.controllers import PavilionController, PavilionFeedController

    register(PavilionController)
    register(PavilionFeedController)


@hookimpl
def yishi_portal_pages() -> list[Any]:
    from plugins.red_pavilion.portal import PavilionPortalController

    return [PavilionPortalController]


@hookimpl
def yishi_migrations() -> Path:
    return Path(__file__).with_name("migrations")


@hookimpl
async def yishi_on_event(session: Any, tenant: Any, event: Any) -> None:
    from plugins.red_pavilion.services import follow_event

    await follow_event(session, event)


@hookimpl
async def yishi_statistics(session: Any, tenant: Any, date_from: Any, date_to: Any) -> dict[str, Any]:
    from plugins.red_pavilion.services import period_figures

    return await period_figures(session, date_from, date_to)


@hookimpl
async def yishi_portal_blocks(session: Any, tenant: Any) -> list[dict[str, Any]]:
    from plugins.red_pavilion.services import upcoming_sessions

    items = await upcoming_sessions(session)
    return [{"title": Label("每月一议事 · 有事来商量"), "items": items}] if items else []


@hookimpl
async def yishi_demo(client: Any) -> dict[str, str]:
    from plugins.red_pavilion.demo import replay

    return await replay(client)

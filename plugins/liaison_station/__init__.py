"""人大代表庭院联络站: deputies receive residents at stations; each request becomes a concern and a duty-list item.

The plugin's hooks: its actions and rules, its routes under /api/v1/tenants/{slug}/liaison, the
`liaison_station` meeting mechanism, its migrations, and an event handler that keeps every duty-list
item in step with the core topic it fed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.hookspecs import hookimpl
from core.i18n import Label

NAME = "liaison_station"
VERSION = "1.0.0"
TITLE = "人大代表庭院联络站"

STAFF = ["community_staff", "street_staff", "district_admin"]


@hookimpl
def yishi_register_rules(register: Any) -> None:
    from core.authz.rules import TENANT_ROLES

    register(action="liaison.read", description="查看联络站与接待安排", roles=list(TENANT_ROLES))
    register(action="liaison.manage", description="设立联络站、排定代表接待", roles=STAFF)
    register(action="liaison.reception", description="记录代表接待与群众诉求", roles=["deputy", *STAFF])
    register(action="liaison.duty_list", description="查看履职清单（代表看自己的）", roles=["deputy", *STAFF])
    register(action="liaison.duty_note", description="记录履职情况与群众反馈", roles=["deputy", *STAFF])


@hookimpl
def yishi_register_routes(register: Any) -> None:
    from plugins.liaison_station.controllers import LiaisonController, LiaisonFeedController

    register(LiaisonController)
    register(LiaisonFeedController)


@hookimpl
def yishi_register_mechanisms(register: Any) -> None:
    register("liaison_station", "庭院联络站议事会")


@hookimpl
def yishi_portal_pages() -> list[Any]:
    from plugins.liaison_station.portal import DeputyPortalController

    return [DeputyPortalController]


@hookimpl
def yishi_migrations() -> Path:
    return Path(__file__).with_name("migrations")


@hookimpl
async def yishi_on_event(session: Any, tenant: Any, event: Any) -> None:
    from plugins.liaison_station.services import follow_event

    await follow_event(session, event)


@hookimpl
async def yishi_erase_old_phones(session: Any, tenant: Any, closed_before: Any) -> int:
    from plugins.liaison_station.services import erase_old_phones

    return await erase_old_phones(session, closed_before)


@hookimpl
def yishi_notification_rules() -> list[Any]:
    from plugins.liaison_station.notifications import RULES

    return RULES


@hookimpl
async def yishi_portal_blocks(session: Any, tenant: Any) -> list[dict[str, Any]]:
    from plugins.liaison_station.services import next_receptions

    items = await next_receptions(session)
    return [{"title": Label("人大代表接待安排"), "items": items}] if items else []


@hookimpl
async def yishi_demo(client: Any) -> dict[str, str]:
    from plugins.liaison_station.demo import replay

    return await replay(client)

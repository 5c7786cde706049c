"""The plugin API: every hook a local mechanism (or a third party) can implement, with when it runs.

A plugin is a module (built-in under `plugins/<name>/`, or an installed package declaring an entry point in
the group `yishi.plugins`) whose functions are marked `@hookimpl` and named like the specs below. Hooks
that take a `register` callback are called once at start-up, for every installed plugin; hooks that take a
`tenant` run only for tenants that enabled the plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.events import WorkflowEvent
    from core.tenancy.models import Tenant

hookspec = pluggy.HookspecMarker("yishi")
hookimpl = pluggy.HookimplMarker("yishi")


@hookspec
def yishi_register_rules(register: Callable[..., None]) -> None:
    """Declare actions and the roles allowed to take them, once at start-up.

    Call `register(action="liaison.reception", description="记录接待", roles=["deputy", "community_staff"])`
    for each action. They join casbin's global rule set and `docs/roles.md`.
    """


@hookspec
def yishi_notification_rules() -> list[Any]:
    """More rules of who is told of which event (core.notifications.rules.Rule): a plugin's own events, say a
    deputy's new duty-list item. They apply in the tenants that enabled the plugin."""


@hookspec
def yishi_notification_channels(settings: Any) -> list[Any]:
    """More channels messages may leave by (core.notifications.channels.Channel): a WeChat template message, say."""


@hookspec
def yishi_register_routes(register: Callable[[Any], None]) -> None:
    """Contribute Litestar controllers, once at start-up.

    Call `register(Controller)` for each; their paths must start with `/api/v1/tenants/{slug:str}/`. Every
    route must declare `opt={"action": …}` and use the tenant scope dependency; in a tenant that has not
    enabled the plugin its routes answer 404.
    """


@hookspec
def yishi_register_mechanisms(register: Callable[[str, str], None]) -> None:
    """Add meeting mechanisms (议事机制) to `monthly` and `on_demand`: `register("liaison_station", "庭院联络站")`."""


@hookspec
async def yishi_erase_old_phones(session: AsyncSession, tenant: Tenant, closed_before: Any) -> int:
    """Erase the phone numbers the plugin keeps of residents on matters of `tenant` closed before `closed_before`
    (the tenant's retention, `core.accounts.retention`); how many. Runs nightly, whether or not the tenant has the
    plugin on today: what it kept while it was on is erased all the same."""


@hookspec
def yishi_migrations() -> Path | None:
    """The folder of the plugin's Alembic revisions (on the plugin's own branch label), or None."""


@hookspec
async def yishi_on_event(session: AsyncSession, tenant: Tenant, event: WorkflowEvent) -> None:
    """React to a state change of the core (concern filed, topic moved, meeting decided, result published,
    action item completed …), inside the same transaction, after its event was written.

    Runs only for tenants that enabled the plugin. Raising refuses the whole change.
    """


@hookspec
async def yishi_workflow_guard(session: AsyncSession, tenant: Tenant, topic: Any, command: str, to_state: str) -> None:
    """Before a topic command (research, schedule, minutes, decide, publish, add_action, progress,
    complete_action, withdraw, rate) does anything: raise a `core.errors.DomainError` to refuse it with a
    message for the user. Runs only for tenants that enabled the plugin; it cannot allow what the core's
    state machine refuses.
    """


@hookspec
async def yishi_statistics(session: AsyncSession, tenant: Tenant, date_from: Any, date_to: Any) -> dict[str, Any]:
    """The plugin's own figures for a tenant over [date_from, date_to], shown under its name in `GET /stats`.

    Runs only for tenants that enabled the plugin.
    """


@hookspec
async def yishi_portal_blocks(session: AsyncSession, tenant: Tenant) -> list[dict[str, Any]]:
    """Blocks for the tenant's public portal home, each `{"title": …, "items": [{"text": …, "at": …}]}`:
    e.g. the next reception at the liaison station. Public: never a resident's personal data.

    The portal shows a block in the reader's language: its title through the catalogue (a `core.i18n.Label`),
    and an item built with `core.i18n.phrase(Label("{…}…"), **params)` as its template with its params (the
    API keeps the Chinese `text`). Third-party plugins ship their own catalogues.

    Runs only for tenants that enabled the plugin; served at `GET /api/v1/tenants/{slug}/public/blocks`.
    """


@hookspec
def yishi_portal_pages() -> list[Any]:
    """The plugin's own portal pages: Litestar controllers whose paths start with `/t/{slug:str}/`, once at
    start-up. Their templates live in the plugin's `templates/<plugin name>/` folder, which the portal's
    Jinja loader searches after its own.

    Each controller depends on `core.portal.plugin_pages.plugin_page(NAME)` (a `Page` that answers 404 in
    a tenant that has not enabled the plugin) and authorizes with `await page.scope(action)`, as the API does.
    """


@hookspec
def yishi_cli(group: Any) -> None:
    """Add click commands to `yishi`: `group.add_command(my_command)`."""


@hookspec
async def yishi_demo(client: Any) -> dict[str, str]:
    """Replay the plugin's demo cases through the API (an in-process httpx client); return case → outcome."""

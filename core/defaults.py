"""The core's own contributions, made through the same hooks as a plugin's and registered before any plugin."""

from __future__ import annotations

from typing import Any

from core.db import TenantContext
from core.events import PLUGINS_KEY
from core.hookspecs import hookimpl
from core.notifications.outbox import fan_out_soon, notify_event


@hookimpl
def yishi_register_mechanisms(register: Any) -> None:
    register("monthly", "每月一议事")
    register("on_demand", "有事来商量")


@hookimpl
async def yishi_on_event(session: Any, tenant: Any, event: Any) -> None:
    """The people the event names are told of it in its own transaction (its tenant's role holders hear from the
    fan-out of the event log, `core.notifications.fanout`)."""
    plugins = session.info.get(PLUGINS_KEY)
    extra = plugins.notification_rules(tenant) if plugins is not None else []
    ctx = TenantContext(tenant.id, tenant.path)
    await notify_event(session, ctx, event, extra)
    fan_out_soon(session, ctx)  # any event may change the figures, which the fan-out recounts

"""Loading plugins (built-in and entry points), and calling their hooks only for tenants that enabled them."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import pluggy

from core import defaults, hookspecs
from core.authz.rules import ROLES, Action

log = logging.getLogger("yishi.plugins")
BUILTIN = ("plugins.liaison_station", "plugins.red_pavilion", "plugins.cppcc_consultation")
# The name the core's own hook implementations (core/defaults.py) are registered under: not a plugin, so no
# tenant switches it on or off, and no plugin may take the name.
CORE = "core"
ENTRY_POINT_GROUP = "yishi.plugins"
TENANT_PREFIX = "/api/v1/tenants/{slug:str}/"
PORTAL_PREFIX = "/t/{slug:str}/"


@dataclass
class PluginInfo:
    name: str
    version: str
    title: str
    module: ModuleType


@dataclass
class Contributions:
    """What the core and the installed plugins contribute through the registering hooks, collected once."""

    actions: dict[str, Action] = field(default_factory=dict)
    rules: list[tuple[str, str]] = field(default_factory=list)
    routes: dict[str, list[Any]] = field(default_factory=dict)
    mechanisms: dict[str, tuple[str, str]] = field(default_factory=dict)  # code → (Chinese name, CORE or plugin)
    migrations: list[Path] = field(default_factory=list)
    portal_pages: dict[str, list[Any]] = field(default_factory=dict)  # plugin → its portal controllers


class Plugins:
    """The plugin manager of one app (or one `yishi` command): its state is its own, never a module's."""

    def __init__(self, builtin: Iterable[str] = BUILTIN, entry_point_group: str | None = ENTRY_POINT_GROUP) -> None:
        self.pm = pluggy.PluginManager("yishi")
        self.pm.add_hookspecs(hookspecs)
        self.pm.register(defaults, name=CORE)
        self.info: dict[str, PluginInfo] = {}
        for module_name in builtin:
            self._add(importlib.import_module(module_name))
        if entry_point_group:
            for entry in entry_points(group=entry_point_group):
                self._add(entry.load(), default_name=entry.name)
        # A hookimpl whose name matches no hookspec is a typo that would silently never run: fail now.
        self.pm.check_pending()
        self.contributions = self._collect()

    def _add(self, module: ModuleType, default_name: str | None = None) -> None:
        name = getattr(module, "NAME", None) or default_name or module.__name__.rsplit(".", 1)[-1]
        if name == CORE:
            raise RuntimeError(f"plugin {module.__name__} is named {CORE}, which is the core's")
        if name in self.info:
            raise RuntimeError(f"two plugins are named {name}: {self.info[name].module.__name__}, {module.__name__}")
        self.pm.register(module, name=name)
        self.info[name] = PluginInfo(name, getattr(module, "VERSION", "0"), getattr(module, "TITLE", name), module)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self.info))

    def _collect(self) -> Contributions:
        found = Contributions()
        for name in (CORE, *self.names):  # the core first: a plugin cannot take over one of its codes
            caller = self._only(name)

            def register_rule(action: str, description: str, roles: Iterable[str], _plugin: str = name) -> None:
                if action in found.actions:
                    raise RuntimeError(f"plugin {_plugin} declares action {action} twice")
                unknown = set(roles) - set(ROLES)
                if unknown:
                    raise RuntimeError(f"plugin {_plugin}: unknown roles {sorted(unknown)} for {action}")
                found.actions[action] = Action(action, description)
                found.rules.extend((role, action) for role in roles)

            def register_route(controller: Any, _plugin: str = name) -> None:
                path = getattr(controller, "path", "")
                if not path.startswith(TENANT_PREFIX):
                    raise RuntimeError(f"plugin {_plugin}: route {path} must start with {TENANT_PREFIX}")
                found.routes.setdefault(_plugin, []).append(controller)

            def register_mechanism(code: str, title: str, _plugin: str = name) -> None:
                if code in found.mechanisms:
                    raise RuntimeError(f"plugin {_plugin}: mechanism {code} is {found.mechanisms[code][1]}'s")
                found.mechanisms[code] = (title, _plugin)

            caller.yishi_register_rules(register=register_rule)
            caller.yishi_register_routes(register=register_route)
            caller.yishi_register_mechanisms(register=register_mechanism)
            for pages in caller.yishi_portal_pages():
                for controller in pages or ():
                    path = getattr(controller, "path", "")
                    if not path.startswith(PORTAL_PREFIX):
                        raise RuntimeError(f"plugin {name}: portal page {path} must start with {PORTAL_PREFIX}")
                    found.portal_pages.setdefault(name, []).append(controller)
            for folder in caller.yishi_migrations():
                if folder is not None:
                    found.migrations.append(Path(folder))
        return found

    def mechanism_names(self) -> dict[str, str]:
        """Every registered meeting mechanism's Chinese name, by code: a meeting is named by its mechanism even
        where the plugin that added it has since been switched off."""
        return {code: title for code, (title, _plugin) in self.contributions.mechanisms.items()}

    def mechanisms_for(self, tenant: Any) -> dict[str, str]:
        """The mechanisms a tenant may hold meetings under: the core's, and those of the plugins it enabled."""
        enabled = {CORE, *(tenant.plugins or ())}
        return {code: title for code, (title, plugin) in self.contributions.mechanisms.items() if plugin in enabled}

    def _only(self, name: str) -> Any:
        """The hook relay restricted to one plugin (so each plugin's contribution is attributed to it)."""
        others = [p for n, p in self.pm.list_name_plugin() if n != name]
        return _Subset(self.pm, others)

    async def on_event(self, session: Any, ctx: Any, event: Any) -> None:
        """Tell the plugins the tenant enabled about a state change; others never run for it."""
        impls = self.pm.hook.yishi_on_event.get_hookimpls()
        if not impls:
            return
        from core.tenancy.models import Tenant

        tenant = await session.get(Tenant, ctx.tenant_id)
        for name in (CORE, *(tenant.plugins or ())):  # the core's own (notifications) first, always
            if name != CORE and name not in self.info:
                continue
            for impl in impls:
                if impl.plugin_name != name:
                    continue
                try:
                    await cast(Any, impl.function)(session=session, tenant=tenant, event=event)
                except Exception:
                    log.exception("plugin %s failed on %s in tenant %s", name, event.action, tenant.slug)
                    raise

    async def erase_old_phones(self, session: Any, tenant: Any, closed_before: Any) -> int:
        """Every installed plugin erases the phone numbers it kept past the tenant's retention; how many."""
        return sum([await cast(Any, impl.function)(session=session, tenant=tenant, closed_before=closed_before)
                    for impl in self.pm.hook.yishi_erase_old_phones.get_hookimpls()])

    def notification_channels(self, settings: Any) -> list[Any]:
        """Channels the installed plugins add (core.notifications.channels.Channel)."""
        return [channel for found in self.pm.hook.yishi_notification_channels(settings=settings) for channel in found]

    def notification_rules(self, tenant: Any) -> list[Any]:
        """The notification rules of the plugins the tenant enabled (core.notifications.rules.Rule)."""
        return [rule for impl in self._enabled("yishi_notification_rules", tenant) for rule in impl.function()]

    def _enabled(self, hook: str, tenant: Any) -> list[Any]:
        """The implementations of `hook` by plugins the tenant enabled."""
        enabled = set(tenant.plugins or ())
        return [impl for impl in getattr(self.pm.hook, hook).get_hookimpls() if impl.plugin_name in enabled]

    async def guard(self, session: Any, tenant: Any, topic: Any, command: str, to_state: str) -> None:
        for impl in self._enabled("yishi_workflow_guard", tenant):
            await impl.function(session=session, tenant=tenant, topic=topic, command=command, to_state=to_state)

    async def statistics(self, session: Any, tenant: Any, date_from: Any, date_to: Any) -> dict[str, Any]:
        return {impl.plugin_name: await impl.function(session=session, tenant=tenant, date_from=date_from,
                                                      date_to=date_to)
                for impl in self._enabled("yishi_statistics", tenant)}

    async def portal_blocks(self, session: Any, tenant: Any) -> list[dict[str, Any]]:
        blocks = []
        for impl in self._enabled("yishi_portal_blocks", tenant):
            for block in await impl.function(session=session, tenant=tenant):
                blocks.append({"plugin": impl.plugin_name, **block})
        return blocks

    async def demo(self, client: Any) -> dict[str, str]:
        outcomes: dict[str, str] = {}
        for impl in self.pm.hook.yishi_demo.get_hookimpls():
            for case, outcome in (await cast(Any, impl.function)(client=client)).items():
                outcomes[f"{impl.plugin_name}.{case}"] = outcome
        return outcomes


class _Subset:
    """Calls hooks of every plugin but the excluded ones (pluggy's subset_hook_caller, by attribute)."""

    def __init__(self, pm: pluggy.PluginManager, excluded: list[Any]) -> None:
        self._pm = pm
        self._excluded = excluded

    def __getattr__(self, hook: str) -> Any:
        return self._pm.subset_hook_caller(hook, remove_plugins=self._excluded)

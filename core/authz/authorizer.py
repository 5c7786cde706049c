"""The decision point: casbin's answer per role and action, applied to a user's grants on a tenant's ancestry.

Casbin evaluates the global role → action rules once, at start-up, into a table; a decision then looks up
the user's roles on the tenant and its ancestors (at most five dictionary lookups), so its cost does not
grow with the number of tenants. A user's grants are cached per process and reloaded whenever the
user's `authz_version` (read on every request) has moved: a grant or revoke in one process is seen by
every process on its next request, without a message bus.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import casbin

from core.authz.rules import ACTIONS, ROLES, RULES, Action

MODEL_PATH = Path(__file__).with_name("model.conf")
# casbin logs its whole model at INFO on every load, even with enable_log=False.
logging.getLogger("casbin").setLevel(logging.WARNING)


@dataclass(frozen=True, slots=True)
class Grants:
    """Which roles a user holds, by tenant id (hex), as of `version`."""

    user_id: uuid.UUID
    version: int
    platform_admin: bool = False
    by_tenant: dict[str, frozenset[str]] = field(default_factory=dict)


class Authorizer:
    """Answers "may this user do this action in this tenant?" for one process."""

    def __init__(self, rules: list[tuple[str, str]] | None = None, actions: dict[str, Action] | None = None,
                 cache_size: int = 200_000) -> None:
        self.actions = dict(actions or ACTIONS)
        self.enforcer = casbin.Enforcer(casbin.Enforcer.new_model(path=str(MODEL_PATH)), enable_log=False)
        self.enforcer.add_policies([[role, *action.split(".", 1)] for role, action in (rules or RULES)])
        # The whole decision table, evaluated by casbin once: action → the roles that may take it.
        self.allowed: dict[str, frozenset[str]] = {
            name: frozenset(role for role in ROLES if self.enforcer.enforce(role, action.obj, action.act))
            for name, action in self.actions.items()
        }
        self._cache: OrderedDict[uuid.UUID, Grants] = OrderedDict()
        self._cache_size = cache_size
        self._role_sets: dict[frozenset[str], frozenset[str]] = {}

    def permits(self, grants: Grants, tenant_path: str, action: str) -> bool:
        allowed = self.allowed[action]  # an unknown action is a programming error, so KeyError is right
        if grants.platform_admin and "platform_admin" in allowed:
            return True
        for tenant_hex in tenant_path.strip("/").split("/"):
            roles = grants.by_tenant.get(tenant_hex)
            if roles and not roles.isdisjoint(allowed):
                return True
        return False

    def cached(self, user_id: uuid.UUID, version: int, platform_admin: bool) -> Grants | None:
        """The user's grants as of `version` (their `authz_version`, read in the caller's transaction), if this
        process holds them; `core.tenancy.scope.grants_of` loads them otherwise."""
        cached = self._cache.get(user_id)
        if cached is None or cached.version != version or cached.platform_admin != platform_admin:
            return None
        self._cache.move_to_end(user_id)
        return cached

    def last_known(self, user_id: uuid.UUID) -> Grants | None:
        """The user's grants as this process last knew them, whatever their version: a guess a reader checks
        against the `authz_version` it reads (`cached`) before trusting it."""
        return self._cache.get(user_id)

    def remember(self, user_id: uuid.UUID, version: int, platform_admin: bool,
                 roles: Iterable[tuple[uuid.UUID, str]]) -> Grants:
        """The user's grants as of `version`, from their (tenant id, role) pairs, kept for their next request."""
        by_tenant: dict[str, set[str]] = {}
        for tenant_id, role in roles:
            by_tenant.setdefault(sys.intern(tenant_id.hex), set()).add(role)
        grants = Grants(user_id, version, platform_admin,
                        {tenant: self._shared(roles) for tenant, roles in by_tenant.items()})
        self._cache[user_id] = grants
        self._cache.move_to_end(user_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return grants

    def forget(self, user_id: uuid.UUID) -> None:
        self._cache.pop(user_id, None)

    def _shared(self, roles: set[str]) -> frozenset[str]:
        """One frozenset per distinct set of roles: 100,000 residents share a single {"resident"}."""
        key = frozenset(roles)
        return self._role_sets.setdefault(key, key)

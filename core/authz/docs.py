"""Renders docs/roles.md, the role × action matrix, from the declared rules (a test keeps the file current)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.authz.authorizer import Authorizer
from core.authz.rules import ACTIONS, ROLES, RULES

if TYPE_CHECKING:
    from core.plugins import Plugins


def render_roles_markdown(plugins: Plugins) -> str:
    """The matrix of the core's rules and `plugins`' (docs/roles.md is made where only the built-in ones are
    installed: they are part of the product, third-party ones vary by installation)."""
    authorizer = Authorizer(rules=[*RULES, *plugins.contributions.rules],
                            actions={**ACTIONS, **plugins.contributions.actions})
    roles = list(ROLES)
    lines = [
        "# 角色与权限 Roles and permissions",
        "",
        "Generated from `core/authz/rules.py` and the built-in plugins by `yishi roles docs > docs/roles.md`;",
        "do not edit by hand",
        "(`tests/authz/test_roles_doc.py` fails when this file is stale).",
        "",
        "A role granted on a tenant holds there and in every tenant below it, never in its siblings or",
        "ancestors. `platform_admin` holds everywhere.",
        "",
        "| action | 说明 | " + " | ".join(f"{ROLES[r]}<br>`{r}`" for r in roles) + " |",
        "|---|---|" + "---|" * len(roles),
    ]
    for name, action in authorizer.actions.items():
        allowed = authorizer.allowed[name]
        cells = " | ".join("✓" if role in allowed else "" for role in roles)
        lines.append(f"| `{name}` | {action.description} | {cells} |")
    return "\n".join(lines) + "\n"

"""docs/roles.md is generated from the declared rules; it must never drift from them."""

from core.authz.docs import render_roles_markdown
from core.plugins import Plugins
from tests.conftest import ROOT

# The product's plugins: docs/roles.md is made where no third-party one is installed.
BUILT_IN = Plugins(entry_point_group=None)


def test_roles_doc_is_current() -> None:
    on_disk = (ROOT / "docs" / "roles.md").read_text(encoding="utf-8")
    assert on_disk == render_roles_markdown(BUILT_IN), "docs/roles.md is stale: run `make docs`"


def test_roles_doc_shows_every_role_and_action() -> None:
    text = render_roles_markdown(BUILT_IN)
    for needle in ("`platform_admin`", "`department`", "`tenant.create_child`", "`role.resident`"):
        assert needle in text

"""The tenant scope: the one way to act in a tenant, restoring the tenant it changed however a block ends."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from litestar import Litestar
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from core.concerns.models import Concern
from core.concerns.schemas import ConcernCreate
from core.concerns.services import ConcernService
from core.db import TENANT_KEY, TenantScopeError
from core.errors import Forbidden, NotFound, Unauthenticated
from core.tenancy.models import Compound, Tenant
from core.tenancy.scope import TenantScope, tenant_session

pytestmark = pytest.mark.usefixtures("world")
ROOT = Path(__file__).resolve().parents[2]
SCOPE_MODULE = ROOT / "core" / "tenancy" / "scope.py"


def test_only_the_scope_module_changes_which_tenant_a_session_acts_in() -> None:
    """No other module calls the scope's private switch, writes the session's tenant or sets it on PostgreSQL."""
    offenders = []
    for path in sorted([*ROOT.glob("core/**/*.py"), *ROOT.glob("plugins/**/*.py"), *ROOT.glob("tenants/**/*.py"),
                        *ROOT.glob("tests/**/*.py")]):
        if path == SCOPE_MODULE:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            called = node.func if isinstance(node, ast.Call) else None
            name = getattr(called, "id", None) or getattr(called, "attr", None)
            if name in ("use_tenant", "_use_tenant"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {name}")
            if isinstance(node, ast.Name) and node.id == "SET_TENANT_CONFIG" and path.name != "db.py":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} uses SET_TENANT_CONFIG")
            if isinstance(node, ast.Assign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Subscript) and "KEY" in ast.unparse(target.slice) \
                            and ast.unparse(target.slice) in ("TENANT_KEY", "USER_KEY"):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} writes {ast.unparse(target)}")
    assert offenders == []


async def _tenant_named(scope: TenantScope, slug: str) -> Tenant:
    tenant = await scope.session.scalar(select(Tenant).where(Tenant.slug == slug))
    assert tenant is not None
    return tenant


async def _compounds(scope: TenantScope) -> set[str]:
    return set((await scope.session.scalars(select(Compound.name))).all())


async def _database_tenant(scope: TenantScope) -> str | None:
    """The tenant PostgreSQL's Row-Level Security sees this transaction act in (None on SQLite)."""
    if scope.session.bind.dialect.name != "postgresql":
        return None
    return await scope.session.scalar(text("SELECT current_setting('app.tenant_id', true)"))


async def test_a_job_acts_in_a_tenant_walled_like_a_request(app: Litestar) -> None:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        assert scope.tenant.slug == "comm-a" and scope.can("concern.triage") and not scope.can("tenant.create_child")
        assert await _compounds(scope) == {"甲小区"}
        concern = await ConcernService(scope.session, scope).file(ConcernCreate(title="路灯不亮", description="三号楼前", category="environment"))
    async with tenant_session(app, "comm-b", "badmin") as other:
        assert await other.session.scalar(select(Concern).where(Concern.id == concern.id)) is None
    async with tenant_session(app, concern.tenant_id, "cstaff") as again:  # by id too; the filing was committed
        assert (await again.session.get(Concern, (concern.tenant_id, concern.id))) is not None


async def test_a_job_that_raises_writes_nothing(app: Litestar) -> None:
    with pytest.raises(RuntimeError):
        async with tenant_session(app, "comm-a", "cstaff") as scope:
            await ConcernService(scope.session, scope).file(ConcernCreate(title="半途而废", description="不会留下", category="environment"))
            raise RuntimeError("the job failed")
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        assert await scope.session.scalar(select(Concern).where(Concern.title == "半途而废")) is None


async def test_a_job_for_nobody_or_nowhere_is_refused(app: Litestar) -> None:
    with pytest.raises(Unauthenticated):
        async with tenant_session(app, "comm-a", "no-such-user"):
            pass
    with pytest.raises(NotFound):
        async with tenant_session(app, "no-such-tenant", "cstaff"):
            pass


async def test_subtree_widens_reads_and_gives_the_tenant_back_even_on_a_refusal(app: Litestar) -> None:
    async with tenant_session(app, "street-a", "sstaff") as scope:
        assert await _compounds(scope) == set()
        async with scope.subtree():
            assert await _compounds(scope) == {"甲小区", "乙小区"}
        assert await _compounds(scope) == set()
        with pytest.raises(Forbidden):
            async with scope.subtree():
                scope.require("tenant.create_child")
        assert scope.session.info[TENANT_KEY] == scope.ctx
        assert await _compounds(scope) == set()
        assert await _database_tenant(scope) in (None, str(scope.tenant.id))


async def test_acting_in_a_tenant_below_and_back(app: Litestar) -> None:
    async with tenant_session(app, "street-a", "sstaff") as scope:
        community = await _tenant_named(scope, "comm-a")
        async with scope.acting_in(community) as there:
            assert there.tenant is community and there.parent_slug == "street-a" and there.can("concern.triage")
            assert await _compounds(there) == {"甲小区"}
            assert await _database_tenant(there) in (None, str(community.id))
        assert scope.session.info[TENANT_KEY] == scope.ctx
        assert await _database_tenant(scope) in (None, str(scope.tenant.id))
        with pytest.raises(Forbidden):
            async with scope.acting_in(community) as there:
                there.require("tenant.create_child")
        assert scope.session.info[TENANT_KEY] == scope.ctx


async def test_acting_in_a_tenant_that_is_not_below_is_refused(app: Litestar) -> None:
    async with tenant_session(app, "street-a", "sstaff") as scope:
        for slug in ("street-a", "district-a", "district-b"):  # itself, above, sideways
            with pytest.raises(TenantScopeError):
                async with scope.acting_in(await _tenant_named(scope, slug)):
                    pass
        assert scope.session.info[TENANT_KEY] == scope.ctx


async def test_a_failed_statement_inside_a_block_still_gives_the_tenant_back(app: Litestar) -> None:
    """On PostgreSQL the failed statement aborts the transaction; its rollback begins a new one, in the tenant."""
    async with tenant_session(app, "street-a", "sstaff") as scope:
        community, home = await _tenant_named(scope, "comm-a"), scope.ctx
        with pytest.raises(DBAPIError):
            async with scope.acting_in(community):
                await scope.session.execute(text("SELECT * FROM no_such_table"))
        assert scope.session.info[TENANT_KEY] == home
        await scope.session.rollback()
        assert await _compounds(scope) == set()
        assert await _database_tenant(scope) in (None, str(home.tenant_id))

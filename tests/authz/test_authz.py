"""Authorization: every role × action on a tenant, below it, beside it and above it; and two processes in sync."""

from __future__ import annotations

import fnmatch
import uuid

import pytest
from litestar import Litestar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import User
from core.accounts.services import MemberService
from core.app import create_app
from core.authz.authorizer import Authorizer, Grants
from core.authz.rules import ACTIONS, RULES, TENANT_ROLES
from core.tenancy.models import Tenant
from core.tenancy.scope import current_grants, within
from tests.conftest import http_client

# A small tree: parent → own → child, and own's sibling.
PARENT, OWN, CHILD, SIBLING = (uuid.uuid4().hex for _ in range(4))
PATHS = {
    "parent": f"/{PARENT}/",
    "own": f"/{PARENT}/{OWN}/",
    "descendant": f"/{PARENT}/{OWN}/{CHILD}/",
    "sibling": f"/{PARENT}/{SIBLING}/",
}


def declared(role: str, action: str) -> bool:
    """What the rules say, read independently of casbin: the oracle the decisions are checked against."""
    return any(r == role and fnmatch.fnmatchcase(action, pattern) for r, pattern in RULES)


AUTHORIZER = Authorizer()


@pytest.mark.parametrize("role", TENANT_ROLES)
def test_every_role_and_action_on_own_descendant_sibling_and_parent(role: str) -> None:
    grants = Grants(uuid.uuid4(), 0, False, {OWN: frozenset({role})})
    for action in ACTIONS:
        expected = declared(role, action)
        assert AUTHORIZER.permits(grants, PATHS["own"], action) is expected, (role, action, "own")
        assert AUTHORIZER.permits(grants, PATHS["descendant"], action) is expected, (role, action, "descendant")
        assert AUTHORIZER.permits(grants, PATHS["sibling"], action) is False, (role, action, "sibling")
        assert AUTHORIZER.permits(grants, PATHS["parent"], action) is False, (role, action, "parent")


def test_platform_admin_holds_everywhere_and_nobody_else_does_without_a_grant() -> None:
    admin = Grants(uuid.uuid4(), 0, True, {})
    nobody = Grants(uuid.uuid4(), 0, False, {})
    for action in ACTIONS:
        for path in PATHS.values():
            assert AUTHORIZER.permits(admin, path, action)
            assert not AUTHORIZER.permits(nobody, path, action)


def test_the_matrix_is_not_trivial() -> None:
    # Guards the oracle itself: the platform admin may do everything, every other role is refused something.
    for action in ACTIONS:
        assert declared("platform_admin", action), action
    for role in TENANT_ROLES:
        assert not all(declared(role, action) for action in ACTIONS), role
    assert declared("community_staff", "role.resident") and not declared("community_staff", "role.district_admin")


def test_an_unknown_action_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        AUTHORIZER.permits(Grants(uuid.uuid4(), 0, True, {}), PATHS["own"], "tenant.explode")


@pytest.mark.usefixtures("world")
async def test_two_enforcers_over_one_database_see_a_role_change_on_their_next_decision(app: Litestar) -> None:
    first, second = Authorizer(), Authorizer()
    async with app.state.sessionmaker() as session:
        tenant, outsider = await _tenant_and_user(session, "comm-a", "outsider")
        for authorizer in (first, second):
            grants = await current_grants(session, authorizer, outsider, 0)
            assert grants is not None and not authorizer.permits(grants, tenant.path, "tenant.read")
        await session.commit()

    async with app.state.sessionmaker() as session:  # "process one" grants
        async with within(session, tenant):
            await MemberService(session, tenant).grant("outsider", "resident", None)
        await session.commit()

    async with app.state.sessionmaker() as session:  # "process two" decides on its next request
        grants = await current_grants(session, second, outsider, 0)
        assert second.permits(grants, tenant.path, "tenant.read")
        assert first.permits(await current_grants(session, first, outsider, 0), tenant.path, "tenant.read")
        async with within(session, tenant):
            await MemberService(session, tenant).revoke("outsider", "resident")
        await session.commit()

    async with app.state.sessionmaker() as session:
        for authorizer in (first, second):
            assert not authorizer.permits(await current_grants(session, authorizer, outsider, 0), tenant.path, "tenant.read")


@pytest.mark.usefixtures("world")
async def test_two_app_processes_over_one_database_agree_on_the_next_request(app: Litestar) -> None:
    other = create_app(app.state.settings)
    async with http_client(app) as one, http_client(other) as two:
        async def token(client, username: str) -> dict[str, str]:
            body = (await client.post("/api/v1/auth/token", json={"username": username,
                                                                  "password": "password-123"})).json()
            return {"Authorization": f"Bearer {body['access_token']}"}

        outsider = await token(two, "outsider")
        assert (await two.get("/api/v1/tenants/comm-a", headers=outsider)).status_code == 403
        granted = await one.post("/api/v1/tenants/comm-a/members", json={"user": "outsider", "role": "resident"},
                                 headers=await token(one, "cstaff"))
        assert granted.status_code == 201
        assert (await two.get("/api/v1/tenants/comm-a", headers=outsider)).status_code == 200


async def _tenant_and_user(session: AsyncSession, slug: str, username: str) -> tuple[Tenant, uuid.UUID]:
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
    user_id = await session.scalar(select(User.id).where(User.username == username))
    assert tenant is not None and user_id is not None
    return tenant, user_id

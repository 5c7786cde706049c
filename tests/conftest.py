"""Test harness: every database test runs on SQLite and, when reachable, on PostgreSQL with RLS in force.

Each backend gets a freshly migrated database for the session (PostgreSQL: the app connects as a
non-owner role, exactly as in production); every test starts from empty tables and a small tenant tree.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import msgspec
import pytest
import pytest_asyncio
from click.testing import CliRunner, Result
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

import core.models  # noqa: F401
from core import settings as settings_module
from core.app import create_app
from core.cli import main
from core.db import Base
from core.migrate import upgrade
from core.notifications.fanout import fan_out
from core.plugins import Plugins
from core.settings import Settings
from core.tenancy.manifest import Manifest, apply_manifest

PG_ADMIN_URL = os.environ.get("YISHI_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
APP_ROLE = "yishi_test_app"
PASSWORD = "password-123"

WORLD = """
tenants:
  - slug: city-a
    name: 甲市
    kind: city
    plugins: [cppcc_consultation]
    children:
      - slug: district-a
        name: 甲区
        kind: district
        children:
          - slug: street-a
            name: 甲街道
            kind: street
            children:
              - slug: comm-a
                name: 甲社区
                kind: community
                portal: {reference_prefix: JSX}
                plugins: [liaison_station]
                compounds: [{name: 甲小区, buildings: [1号楼, 2号楼]}]
              - slug: comm-b
                name: 乙社区
                kind: community
                compounds: [{name: 乙小区, buildings: [9号楼]}]
      - slug: district-b
        name: 乙区
        kind: district
        plugins: [cppcc_consultation]
  - slug: city-b
    name: 乙市
    kind: city
users:
  - {username: admin, password: password-123, roles: [{role: platform_admin}]}
  - {username: dadmin, password: password-123, phone: "13900000001", roles: [{role: district_admin, tenant: district-a}]}
  - {username: badmin, password: password-123, roles: [{role: district_admin, tenant: district-b}]}
  - {username: sstaff, password: password-123, roles: [{role: street_staff, tenant: street-a}]}
  - {username: cstaff, password: password-123, phone: "13900000003", roles: [{role: community_staff, tenant: comm-a}]}
  - {username: bstaff, password: password-123, roles: [{role: community_staff, tenant: comm-b}]}
  - {username: grid, password: password-123, roles: [{role: grid_worker, tenant: comm-a}]}
  - {username: resident, password: password-123, name: 柳先生, phone: "13812341234", roles: [{role: resident, tenant: comm-a}]}
  - {username: outsider, password: password-123}
  - {username: wuye, password: password-123, name: 甲物业, roles: [{role: property_company, tenant: comm-a}]}
  - {username: zhujian, password: password-123, name: 甲区住建局, roles: [{role: department, tenant: district-a}]}
  - {username: neighbour, password: password-123, roles: [{role: resident, tenant: comm-a}]}
  - {username: deputy, password: password-123, name: 甲代表, roles: [{role: deputy, tenant: district-a}]}
  - {username: member, password: password-123, roles: [{role: cppcc_member, tenant: city-a}]}
  - {username: member2, password: password-123, roles: [{role: cppcc_member, tenant: city-a}]}
  - {username: deputy2, password: password-123, name: 乙代表, roles: [{role: deputy, tenant: comm-a}]}
"""


def _pg_reachable() -> bool:
    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL), timeout=3)
        except (TimeoutError, OSError, asyncpg.PostgresError):
            return False
        await conn.close()
        return True

    return asyncio.run(probe())


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


PG_REACHABLE = _pg_reachable()
BACKENDS = ["sqlite", "postgresql"] if PG_REACHABLE else ["sqlite"]


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI") and not PG_REACHABLE:
        # In CI the PostgreSQL half of the suite is not optional: .ci/run starts the server.
        pytest.exit(f"PostgreSQL is not reachable at {PG_ADMIN_URL}", returncode=1)


@dataclass
class DatabaseUnderTest:
    backend: str
    settings: Settings

    @property
    def is_postgres(self) -> bool:
        return self.backend == "postgresql"


async def _admin_execute(*statements: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session", params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseUnderTest]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "yishi.db"
        settings = Settings(database_url=f"sqlite+aiosqlite:///{path}", password_hash="cheapest",
                            media_dir=str(tmp_path_factory.mktemp("media")))
        upgrade(settings, Plugins())
        yield DatabaseUnderTest("sqlite", settings)
        return
    name = f"yishi_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_admin_execute(f'CREATE DATABASE "{name}"'))
    base = make_url(PG_ADMIN_URL)
    owner_url = base.set(database=name).render_as_string(hide_password=False)
    app_url = base.set(database=name, username=APP_ROLE, password=None).render_as_string(hide_password=False)
    settings = Settings(database_url=app_url, migrations_database_url=owner_url, password_hash="cheapest",
                        media_dir=str(tmp_path_factory.mktemp("media")))
    upgrade(settings, Plugins())
    try:
        yield DatabaseUnderTest("postgresql", settings)
    finally:
        asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest_asyncio.fixture(scope="session")
async def owner_engine(database: DatabaseUnderTest) -> AsyncIterator[AsyncEngine]:
    """The owner's connection: for cleaning up between tests and for catalogue checks, never for the app."""
    engine = create_async_engine(database.settings.owner_database_url, poolclass=NullPool)
    yield engine
    await engine.dispose()


async def truncate_all(engine: AsyncEngine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if engine.dialect.name == "postgresql":
        # The job engine's queue too: a job left by one test must not run in the next one's worker.
        queue = ["procrastinate_jobs", "procrastinate_periodic_defers", "procrastinate_workers"]
        # DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE rewrites every table's files (half a second
        # a test). The owner is a superuser: replica mode skips the foreign keys' triggers, so the order does not
        # matter, and one round trip (a script, on the driver's simple protocol) deletes everything.
        async with engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            await driver.execute("BEGIN; SET LOCAL session_replication_role = replica; "
                                 + " ".join(f'DELETE FROM "{t}";' for t in [*tables, *queue]) + " COMMIT;")
        return
    async with engine.begin() as conn:
        for table in tables:
            await conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(scope="session")
def app(database: DatabaseUnderTest) -> Litestar:
    return create_app(database.settings)


@pytest_asyncio.fixture
async def clean(owner_engine: AsyncEngine) -> None:
    await truncate_all(owner_engine)


@pytest_asyncio.fixture
async def session(app: Litestar, clean: None) -> AsyncIterator[AsyncSession]:
    """A session of the app's own connection (the non-owner role on PostgreSQL)."""
    async with app.state.sessionmaker() as session:
        yield session


async def load_world(app: Litestar, manifest_yaml: str = WORLD) -> None:
    async with app.state.sessionmaker() as session:
        await apply_manifest(session, msgspec.yaml.decode(manifest_yaml.encode(), type=Manifest),
                             app.state.installed_plugins, passwords=app.state.passwords)
        await session.commit()


@pytest_asyncio.fixture
async def world(app: Litestar, clean: None) -> None:
    """The small tree of WORLD with one user per interesting role; password `password-123`."""
    await load_world(app)


def http_client(app: Litestar) -> httpx.AsyncClient:
    """A client that runs the app in the test's own event loop (Litestar's test client uses another
    thread's loop, which pooled asyncpg connections cannot cross)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def reads_figures(request: httpx.Request) -> bool:
    """A read of the figures the fan-out keeps: a tenant's `/stats` and `/rates` (and their ranking), its hot topics
    (which tenants to group), a portal's `/public/stats` and `/public/rates`, open data's `stats.*` and `rates.*`, a
    portal's home page and a district's dashboard."""
    path = request.url.path.rstrip("/")
    return request.method == "GET" and (path.endswith(("/stats", "/rates", "/rates/ranking", "/related/hot"))
                                        or "/open-data/stats." in path or "/open-data/rates." in path
                                        or re.fullmatch(r"(/t/[^/]+)?(/admin)?", path) is not None)


@pytest_asyncio.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """The app's client. Before a read of the figures the fan-out of the event log has caught up, as the worker
    has within seconds of every write (it keeps them: `core.reporting.tallies`)."""

    async def caught_up(request: httpx.Request) -> None:
        if reads_figures(request):
            await fan_out(app.state)

    async with http_client(app) as client:
        client.event_hooks["request"].append(caught_up)
        yield client


class Auth:
    """Signs users in through the real token endpoint and remembers their headers."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self._headers: dict[str, dict[str, str]] = {}

    async def __call__(self, username: str) -> dict[str, str]:
        if username not in self._headers:
            response = await self.client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
            assert response.status_code == 200, response.text
            self._headers[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return self._headers[username]


@pytest.fixture
def auth(client: httpx.AsyncClient) -> Auth:
    return Auth(client)


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def yishi(database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """The `yishi` command line against the database under test: `yishi("tenants", "apply", path)`."""
    monkeypatch.setenv("YISHI_DATABASE_URL", database.settings.database_url)
    monkeypatch.setenv("YISHI_MIGRATIONS_DATABASE_URL", database.settings.owner_database_url)
    monkeypatch.setenv("YISHI_PASSWORD_HASH", database.settings.password_hash)
    settings_module.get_settings.cache_clear()

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    yield run
    settings_module.get_settings.cache_clear()

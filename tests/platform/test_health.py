"""Probes: /health answers while the process lives, /ready only while the database answers."""

from httpx import AsyncClient

from core.app import create_app
from core.settings import Settings
from tests.conftest import http_client


async def test_health_and_ready_answer_ok(client: AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_ready_is_503_when_the_database_is_unreachable(tmp_path) -> None:
    app = create_app(Settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none"))
    async with http_client(app) as client:
        assert (await client.get("/health")).status_code == 200
        response = await client.get("/ready")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "数据库不可达" in response.json()["detail"]

"""Operators' view: JSON logs with request id, tenant and user and no personal data; Prometheus metrics."""

from __future__ import annotations

import io
import json
import logging

import pytest
from httpx import AsyncClient
from prometheus_client import REGISTRY

from tests.conftest import Auth
from tests.helpers import BASE, file

pytestmark = pytest.mark.usefixtures("world")


def transitions(action: str, kind: str = "community") -> float:
    return REGISTRY.get_sample_value("yishi_workflow_transitions_total", {"action": action, "tenant_kind": kind}) or 0.0


async def test_metrics_count_requests_by_route_and_committed_transitions_only(client: AsyncClient, auth: Auth) -> None:
    headers = await auth("resident")
    before = transitions("concern.filed")
    await file(client, headers, **{"Idempotency-Key": "m-1"})
    await file(client, headers, **{"Idempotency-Key": "m-1"})  # a retry: rolled back, not a transition
    assert transitions("concern.filed") == before + 1
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    # One series per route template, not per tenant or id.
    assert 'path="/api/v1/tenants/{slug}/concerns"' in text and "comm-a" not in text
    assert "yishi_request_duration_seconds_bucket" in text
    assert "yishi_db_pool_in_use" in text and "yishi_db_pool_size" in text


async def test_the_pool_gauge_follows_connections_in_and_out(app) -> None:  # noqa: ANN001
    before = REGISTRY.get_sample_value("yishi_db_pool_in_use")
    async with app.state.engine.connect() as connection:
        await connection.exec_driver_sql("SELECT 1")
        assert REGISTRY.get_sample_value("yishi_db_pool_in_use") == before + 1
    assert REGISTRY.get_sample_value("yishi_db_pool_in_use") == before


async def test_every_answer_carries_a_request_id_and_keeps_a_well_formed_one(client: AsyncClient) -> None:
    made = await client.get("/health")
    assert len(made.headers["x-request-id"]) == 32
    kept = await client.get("/health", headers={"X-Request-ID": "trace-abc-12345"})
    assert kept.headers["x-request-id"] == "trace-abc-12345"
    refused = await client.get("/health", headers={"X-Request-ID": "bad id\nwith newline"})
    assert refused.headers["x-request-id"] != "bad id\nwith newline"


async def test_logs_are_json_with_request_tenant_and_user_but_no_personal_data(client: AsyncClient,
                                                                                 auth: Auth) -> None:
    from core.observability import json_handler

    await file(client, await auth("grid"), {"channel": "grid_worker", "resident_name": "柳先生",
                                                      "resident_phone": "13812341234"})
    stream = io.StringIO()
    handler = json_handler(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        staff = await auth("cstaff")
        # Reading unmasked phones is audited: that log line must name who and where, not what was read.
        answer = await client.get(f"{BASE}/concerns", headers={**staff, "X-Request-ID": "req-0000-1111"})
        assert answer.status_code == 200 and "13812341234" in answer.text
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    ours = [line for line in lines if line.get("request_id") == "req-0000-1111"]
    assert ours, stream.getvalue()
    assert all(line["tenant"] == "comm-a" and line["user_id"] for line in ours)
    assert all("level" in line and "timestamp" in line for line in ours)
    assert "13812341234" not in stream.getvalue() and "柳先生" not in stream.getvalue()


async def test_each_answer_is_counted_and_timed_under_its_route_and_status(client: AsyncClient, auth: Auth) -> None:
    headers = await auth("resident")
    route = "/api/v1/tenants/{slug}/concerns/{concern_id}"

    def answered(status: str) -> float:
        labels = {"method": "GET", "path": route, "status_code": status, "app_name": "yishi"}
        return REGISTRY.get_sample_value("yishi_requests_total", labels) or 0.0

    before_found, before_missing = answered("200"), answered("404")
    concern = await file(client, headers)
    assert (await client.get(f"{BASE}/concerns/{concern['id']}", headers=headers)).status_code == 200
    missing = "00000000-0000-0000-0000-000000000000"
    assert (await client.get(f"{BASE}/concerns/{missing}", headers=headers)).status_code == 404
    assert (answered("200"), answered("404")) == (before_found + 1, before_missing + 1)
    timed = REGISTRY.get_sample_value("yishi_request_duration_seconds_count",
                                      {"method": "GET", "path": route, "status_code": "404", "app_name": "yishi"})
    assert timed is not None and timed >= 1
    assert REGISTRY.get_sample_value("yishi_requests_in_progress",
                                     {"method": "GET", "path": route, "status_code": "200", "app_name": "yishi"}) == 0

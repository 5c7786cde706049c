"""Open data: published results, action items and yearly figures as CSV, XLSX and JSON, with nothing private in them."""

from __future__ import annotations

import csv
import datetime
import io
import json

import pytest
from httpx import AsyncClient
from openpyxl import load_workbook

from core import clock
from tests.conftest import Auth
from tests.helpers import BASE, WATER, topic_at

pytestmark = pytest.mark.usefixtures("world")
OPEN = f"{BASE}/public/open-data"
DATASETS = ("results", "actions", "stats")
# What residents told the community about themselves: none of it may reach open data.
PRIVATE = ("柳先生", "13812341234", "王秀英", "13987654321", "3单元502室", "西北角的居民每天步行7分钟取水", "resident")


def parse(fmt: str, body: bytes) -> tuple[list[str], list[dict], str]:
    """Header, rows (as text) and every character of the file, whatever its format."""
    if fmt == "csv":
        assert body.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
        text = body.decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        return list(rows[0]) if rows else next(csv.reader(io.StringIO(text))), rows, text
    if fmt == "xlsx":
        workbook = load_workbook(io.BytesIO(body))
        data = workbook.worksheets[0]
        values = [[cell.value for cell in row] for row in data.iter_rows()]
        header = [str(v) for v in values[0]]
        rows = [{h: ("" if v is None else str(v)) for h, v in zip(header, row, strict=True)} for row in values[1:]]
        everything = " ".join(str(cell.value) for sheet in workbook.worksheets for row in sheet.iter_rows()
                              for cell in row)
        assert workbook.sheetnames[1] == "说明"
        return header, rows, everything
    document = json.loads(body)
    rows = [{k: ("" if v is None else str(v)) for k, v in item.items()} for item in document["items"]]
    return list(document["fields"]), rows, body.decode()


async def fetch(client: AsyncClient, path: str) -> bytes:
    response = await client.get(path)
    assert response.status_code == 200, (path, response.text)
    return response.content


async def test_each_dataset_in_each_format_has_the_published_result_and_nothing_private(client: AsyncClient,
                                                                                       auth: Auth) -> None:
    topic_id, _ = await topic_at(client, auth, "completed")
    staff = await auth("cstaff")
    drafted = await client.post(f"{BASE}/topics", json={"title": "尚未公开的议题"}, headers=staff)
    assert drafted.status_code == 201, drafted.text
    filed = await client.post(f"{BASE}/concerns", headers=await auth("grid"), json={
        **WATER, "title": "楼道堆放杂物", "description": "住在3单元502室，楼道被杂物堵住", "channel": "grid_worker",
        "resident_name": "王秀英", "resident_phone": "13987654321"})
    assert filed.status_code == 201, filed.text
    year = str(clock.today().year)
    for fmt in ("csv", "xlsx", "json"):
        results = parse(fmt, await fetch(client, f"{OPEN}/results.{fmt}"))
        actions = parse(fmt, await fetch(client, f"{OPEN}/actions.{fmt}"))
        stats = parse(fmt, await fetch(client, f"{OPEN}/stats.{fmt}"))
        header, rows, text = results
        assert header[:3] == ["id", "title", "decision"], fmt
        assert [(r["id"], r["title"], r["state"]) for r in rows] == [(topic_id, "增设直饮水机", "completed")], fmt
        assert rows[0]["decision"] == "5天内在小区北侧增设直饮水机一台" and rows[0]["action_items_completed"] == "1"
        assert "尚未公开的议题" not in text, fmt
        _, rows, _ = actions
        assert [(r["result_id"], r["title"], r["owner_org"], r["percent"]) for r in rows] == [
            (topic_id, "安装直饮水机", "宁夏鑫盛物业", "100")], fmt
        _, rows, _ = stats
        this_year = next(r for r in rows if r["year"] == year)
        assert (this_year["consultations_held"], this_year["matters_completed"], this_year["concerns_received"]) == \
            ("1", "1", "2"), fmt
        for _, _, text in (results, actions, stats):
            for secret in PRIVATE:
                assert secret not in text, (fmt, secret)


async def test_content_types_and_file_names(client: AsyncClient) -> None:
    expected = {"csv": "text/csv; charset=utf-8",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "json": "application/json"}
    for name in DATASETS:
        for fmt, content_type in expected.items():
            response = await client.get(f"{OPEN}/{name}.{fmt}")
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == content_type
            assert response.headers["content-disposition"] == f'attachment; filename="comm-a-{name}.{fmt}"'
            header, rows, _ = parse(fmt, response.content)  # an empty dataset still parses, with its header
            assert header and (rows == [] if name != "stats" else rows)


async def test_a_tenants_open_data_holds_only_its_own_results(client: AsyncClient, auth: Auth) -> None:
    await topic_at(client, auth, "published")
    for slug in ("comm-b", "street-a"):  # a sibling, and the parent: neither publishes comm-a's results
        for fmt in ("csv", "xlsx", "json"):
            for name in ("results", "actions"):
                _, rows, text = parse(fmt, await fetch(client, f"/api/v1/tenants/{slug}/public/open-data/{name}.{fmt}"))
                assert rows == [] and "直饮水机" not in text, (slug, name, fmt)
        _, rows, _ = parse("json", await fetch(client, f"/api/v1/tenants/{slug}/public/open-data/stats.json"))
        # Figures, unlike results, add up: the parent's count its communities', as its portal shows them.
        held = {r["consultations_held"] for r in rows}
        assert (held == {"0"}) if slug == "comm-b" else ("1" in held), (slug, held)


def test_text_that_looks_like_a_formula_stays_text() -> None:
    import uuid

    from core.publishing.opendata import DATASETS as SETS
    from core.publishing.opendata import OpenAction, to_csv, to_xlsx
    from core.tenancy.models import Tenant

    row = OpenAction(result_id=uuid.uuid4(), result_title='=HYPERLINK("http://x","点我")', title="-清运", owner_org=None,
                     due_date=datetime.date(2026, 8, 1), percent=0, status="open", overdue=False)
    _, rows, _ = parse("csv", to_csv(SETS["actions"], [row]))
    assert rows[0]["result_title"].startswith("'=") and rows[0]["title"] == "'-清运" and rows[0]["owner_org"] == ""
    body = to_xlsx(SETS["actions"], [row], Tenant(slug="comm-a", name="甲社区"), datetime.datetime.now(datetime.UTC))
    cell = load_workbook(io.BytesIO(body)).worksheets[0]["B2"]
    assert cell.data_type == "s" and cell.value == row.result_title


async def test_unknown_or_archived_tenants_and_unknown_files_are_404(client: AsyncClient, auth: Auth) -> None:
    for path in ("/api/v1/tenants/nowhere/public/open-data/results.csv", f"{OPEN}/residents.csv",
                 f"{OPEN}/results.txt", f"{OPEN}/results", f"{OPEN}/results.csv.json"):
        assert (await client.get(path)).status_code == 404, path
    archived = await client.patch("/api/v1/tenants/comm-b", json={"archived": True}, headers=await auth("dadmin"))
    assert archived.status_code == 200, archived.text
    for name in DATASETS:
        response = await client.get(f"/api/v1/tenants/comm-b/public/open-data/{name}.json")
        assert response.status_code == 404 and response.headers["content-type"].startswith("application/problem+json")

"""Open311 GeoReport v2: services, filing with a client app's key, following requests, the spec's errors and XML."""

from __future__ import annotations

import asyncio
import datetime
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable

import pytest
from click.testing import Result
from httpx import AsyncClient, Response
from litestar import Litestar
from sqlalchemy import select, update

from core.concerns.models import Concern
from core.tenancy.models import Tenant
from core.tenancy.scope import within
from tests.conftest import Auth
from tests.helpers import O311, REPORT, filed, new_key, post_report, topic_at

pytestmark = pytest.mark.usefixtures("world")
API = "/api/v1/tenants/comm-a"
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
def xml(response: Response) -> ET.Element:
    assert response.headers["content-type"] == "text/xml; charset=utf-8", response.headers["content-type"]
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)


def assert_spec_error(response: Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    if response.headers["content-type"].startswith("text/xml"):
        root = xml(response)
        assert root.tag == "errors" and [e.tag for e in root] == ["error"] * len(root)
        errors = [{"code": int(e.findtext("code")), "description": e.findtext("description")} for e in root]
    else:
        assert response.headers["content-type"].startswith("application/json")
        errors = response.json()
    assert isinstance(errors, list) and errors and all(set(e) == {"code", "description"} for e in errors)
    assert errors[0]["code"] == status
    text = " ".join(e["description"] for e in errors)
    assert all(word in text for word in words), text


# --- services ------------------------------------------------------------------------------------------


async def test_categories_are_the_services_in_json_and_xml(client: AsyncClient, auth: Auth) -> None:
    added = await client.post(f"{API}/categories", json={"code": "elevator", "name": "电梯维修"},
                              headers=await auth("cstaff"))
    assert added.status_code == 201, added.text
    response = await client.get(f"{O311}/services.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    services = response.json()
    assert all(list(s) == SERVICE_FIELDS for s in services)
    by_code = {s["service_code"]: s for s in services}
    assert by_code["noise"]["service_name"] == "噪声扰民" and by_code["noise"]["metadata"] is False
    assert by_code["noise"]["type"] == "realtime" and "噪音" in by_code["noise"]["keywords"]
    assert by_code["elevator"]["service_name"] == "电梯维修"
    # Another tenant has only the defaults.
    other = (await client.get("/open311/v2/comm-b/services.json")).json()
    assert "elevator" not in {s["service_code"] for s in other} and len(other) == len(services) - 1

    root = xml(await client.get(f"{O311}/services.xml"))
    assert root.tag == "services" and {e.tag for e in root} == {"service"}
    noise = next(e for e in root if e.findtext("service_code") == "noise")
    assert [child.tag for child in noise] == SERVICE_FIELDS
    assert noise.findtext("metadata") == "false" and noise.findtext("type") == "realtime"
    assert len(root) == len(services)


async def test_a_service_definition_has_no_attributes_and_unknown_codes_are_404(client: AsyncClient) -> None:
    assert (await client.get(f"{O311}/services/noise.json")).json() == {"service_code": "noise", "attributes": []}
    root = xml(await client.get(f"{O311}/services/noise.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "noise"
    assert root.find("attributes") is not None and len(root.find("attributes")) == 0
    assert_spec_error(await client.get(f"{O311}/services/pothole.json"), 404, "pothole")
    assert_spec_error(await client.get(f"{O311}/services/pothole.xml"), 404, "pothole")
    assert_spec_error(await client.get(f"{O311}/services/noise.html"), 404)


async def test_unknown_jurisdiction_is_404_in_the_spec_format(client: AsyncClient) -> None:
    assert_spec_error(await client.get("/open311/v2/nowhere/services.json"), 404, "nowhere")
    assert_spec_error(await client.get("/open311/v2/nowhere/requests.xml"), 404, "nowhere")
    assert_spec_error(await post_report(client, "o311_whatever", slug="nowhere"), 404)


async def test_service_discovery(client: AsyncClient) -> None:
    discovery = (await client.get(f"{O311}/discovery.json")).json()
    endpoint = discovery["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2/comm-a") and endpoint["formats"] == ["text/xml", "application/json"]
    assert "yishi open311 keys create comm-a" in discovery["key_service"]
    root = xml(await client.get(f"{O311}/discovery.xml"))
    assert [f.text for f in root.find("endpoints/endpoint/formats")] == ["text/xml", "application/json"]


# --- filing ------------------------------------------------------------------------------------------


async def test_a_report_becomes_one_concern_the_staff_see(app: Litestar, client: AsyncClient, auth: Auth) -> None:
    key = await new_key(app)
    response = await post_report(client, key)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    [created] = response.json()
    assert list(created) == ["service_request_id", "service_notice", "account_id"]
    assert created["service_request_id"].startswith("JSX-") and created["account_id"] is None
    assert created["service_request_id"] in created["service_notice"]

    staff = await auth("cstaff")
    concerns = (await client.get(f"{API}/concerns", headers=staff)).json()
    assert concerns["total"] == 1
    concern = concerns["items"][0]
    assert concern["reference"] == created["service_request_id"] and concern["channel"] == "open311"
    assert concern["category"] == "noise" and concern["status"] == "submitted"
    assert concern["title"] == "夜里两点还在施工" and concern["description"] == REPORT["description"]
    assert concern["place"] == "银巴小区14号楼北侧"
    assert concern["resident_name"] == "柳先生" and concern["resident_phone"] == "13812345678"
    assert concern["filed_by"].startswith("open311-")
    assert concern["tracking_code"] in created["service_notice"]  # the app hands it to the resident
    stats = (await client.get(f"{API}/stats", headers=staff)).json()
    assert stats["own"]["concerns_received"] == 1

    # The XML form of the same call.
    root = xml(await post_report(client, key, "xml", service_code="environment", first_name=None, last_name=None,
                          phone=None))
    assert root.tag == "service_requests" and [e.tag for e in root] == ["request"]
    assert [child.tag for child in root[0]] == ["service_request_id", "service_notice", "account_id"]
    assert root[0].findtext("service_request_id").startswith("JSX-") and root[0].findtext("account_id") == ""
    assert (await client.get(f"{API}/concerns", headers=staff)).json()["total"] == 2


async def test_a_location_alone_is_enough(app: Litestar, client: AsyncClient, auth: Auth) -> None:
    key = await new_key(app)
    bare = {name: None for name in REPORT if name not in ("service_code", "lat", "long")}
    assert (await post_report(client, key, **bare)).status_code == 200
    concerns = (await client.get(f"{API}/concerns", headers=await auth("cstaff"))).json()
    assert concerns["total"] == 1
    concern = concerns["items"][0]
    assert concern["title"] == "噪声扰民" and "38.487200, 106.230900" in concern["place"]
    assert concern["resident_name"] is None
    only_address = await post_report(client, key, lat=None, long=None, **{**bare, "address_string": "阅海苑小区东门"})
    only_id = await post_report(client, key, lat=None, long=None, **{**bare, "address_id": "NX-640105-0007"})
    assert only_address.status_code == only_id.status_code == 200


@pytest.mark.parametrize(("fields", "words"), [
    ({"service_code": None}, ["service_code"]),
    ({"service_code": ""}, ["service_code"]),
    ({"lat": None, "long": None, "address_string": None}, ["location"]),
    ({"long": None, "address_string": None}, ["lat", "long"]),
    ({"lat": "north", "address_string": None}, ["lat"]),
    ({"lat": "95", "address_string": None}, ["lat"]),
    ({"description": "吵" * 4001}, ["4000"]),
    ({"phone": "12345"}, ["phone"]),
    ({"first_name": "名" * 60}, ["first_name"]),
    ({"media_url": "javascript:alert(1)"}, ["media_url"]),
    ({"service_code": None, "lat": None, "long": None, "address_string": None}, ["service_code", "location"]),
])
async def test_missing_or_invalid_fields_are_400_in_the_spec_format(
        app: Litestar, client: AsyncClient, auth: Auth, fields: dict, words: list[str]) -> None:
    key = await new_key(app)
    for fmt in ("json", "xml"):
        assert_spec_error(await post_report(client, key, fmt, **fields), 400, *words)
    assert (await client.get(f"{API}/concerns", headers=await auth("cstaff"))).json()["total"] == 0


async def test_two_problems_are_two_errors(app: Litestar, client: AsyncClient) -> None:
    key = await new_key(app)
    response = await post_report(client, key, service_code=None, lat=None, long=None, address_string=None)
    assert [e["code"] for e in response.json()] == [400, 400]


async def test_an_unknown_service_code_is_404(app: Litestar, client: AsyncClient) -> None:
    key = await new_key(app)
    assert_spec_error(await post_report(client, key, service_code="pothole"), 404, "pothole")


async def test_a_body_that_is_not_a_form_is_400(app: Litestar, client: AsyncClient) -> None:
    key = await new_key(app)
    response = await client.post(f"{O311}/requests.json", json={"api_key": key, "service_code": "noise"})
    assert_spec_error(response, 400, "x-www-form-urlencoded")
    multipart = await client.post(f"{O311}/requests.xml", files={"api_key": (None, key), "service_code": (None, "noise")})
    assert_spec_error(multipart, 400, "x-www-form-urlencoded")
    twice = await client.post(f"{O311}/requests.json", content=f"api_key={key}&service_code=noise&service_code=heating",
                              headers={"content-type": "application/x-www-form-urlencoded"})
    assert_spec_error(twice, 400, "service_code")


async def test_a_missing_bad_revoked_or_foreign_key_is_403(app: Litestar, client: AsyncClient, auth: Auth) -> None:
    own = await new_key(app)
    foreign = await new_key(app, "comm-b", "乙社区的应用")
    assert_spec_error(await post_report(client, None), 403, "api_key")
    assert_spec_error(await post_report(client, ""), 403, "api_key")
    assert_spec_error(await post_report(client, "o311_not-a-key"), 403, "api_key")
    assert_spec_error(await post_report(client, own[:-1]), 403)
    assert_spec_error(await post_report(client, foreign), 403, "api_key")
    assert_spec_error(await post_report(client, foreign, "xml"), 403, "api_key")
    # The foreign key works at home; a key is checked before the form, so a keyless caller learns nothing.
    assert (await post_report(client, foreign, slug="comm-b")).status_code == 200
    assert_spec_error(await post_report(client, "o311_not-a-key", service_code=None), 403)
    staff = await auth("cstaff")
    assert (await client.get(f"{API}/concerns", headers=staff)).json()["total"] == 0
    assert (await post_report(client, own)).status_code == 200


async def test_an_archived_tenant_takes_no_reports_but_can_be_read(app: Litestar, client: AsyncClient) -> None:
    key = await new_key(app)
    reference = await filed(client, key)
    async with app.state.sessionmaker() as session:
        await session.execute(update(Tenant).where(Tenant.slug == "comm-a").values(archived=True))
        await session.commit()
    assert_spec_error(await post_report(client, key), 400, "archived")
    assert (await client.get(f"{O311}/requests/{reference}.json")).status_code == 200


# --- following requests ------------------------------------------------------------------------------


async def test_a_request_in_json_and_xml(app: Litestar, client: AsyncClient) -> None:
    key = await new_key(app)
    reference = await filed(client, key)
    [request] = (await client.get(f"{O311}/requests/{reference}.json")).json()
    assert list(request) == REQUEST_FIELDS
    assert request["service_request_id"] == reference and request["status"] == "open"
    assert request["status_notes"] == "已提交，待受理"
    assert request["service_code"] == "noise" and request["service_name"] == "噪声扰民"
    # The public summary (the first line, redacted), never the text the app sent.
    assert request["description"] == "夜里两点还在施工" and request["address"] == REPORT["address_string"]
    assert request["lat"] == 38.4872 and request["long"] == 106.2309 and request["media_url"] == REPORT["media_url"]
    assert request["agency_responsible"] is None and request["zipcode"] is None
    requested = datetime.datetime.fromisoformat(request["requested_datetime"].replace("Z", "+00:00"))
    assert request["requested_datetime"].endswith("Z") and request["updated_datetime"].endswith("Z")
    assert abs(datetime.datetime.now(datetime.UTC) - requested) < datetime.timedelta(minutes=5)
    # References are matched whatever their case.
    assert (await client.get(f"{O311}/requests/{reference.lower()}.json")).json()[0]["service_request_id"] == reference

    root = xml(await client.get(f"{O311}/requests/{reference}.xml"))
    assert root.tag == "service_requests" and [e.tag for e in root] == ["request"]
    assert [child.tag for child in root[0]] == REQUEST_FIELDS
    assert root[0].findtext("status") == "open" and root[0].findtext("lat") == "38.4872"
    assert root[0].findtext("agency_responsible") == ""  # an empty element, as in the spec's example
    assert_spec_error(await client.get(f"{O311}/requests/JSX-2026-999999.json"), 404, "JSX-2026-999999")
    assert_spec_error(await client.get(f"{O311}/requests/JSX-2026-999999.xml"), 404)
    assert_spec_error(await client.get(f"{O311}/requests/{reference}"), 404)


async def test_status_and_agency_follow_the_topic_the_concern_fed(client: AsyncClient, auth: Auth) -> None:
    _, ids = await topic_at(client, auth, "executing")
    staff = await auth("cstaff")
    reference = (await client.get(f"{API}/concerns/{ids['concern']}", headers=staff)).json()["reference"]
    [request] = (await client.get(f"{O311}/requests/{reference}.json")).json()
    assert request["status"] == "open" and request["status_notes"] == "已纳入议题协商：监督执行中"
    assert request["agency_responsible"] == "宁夏鑫盛物业"
    # Its public summary: the title, as on the public follow page.
    assert request["description"] == "北边再装一台直饮水机" and request["address"] == "小区北侧"
    completed = await client.post(f"{API}/actions/{ids['action']}/complete", headers=await auth("wuye"))
    assert completed.status_code in (200, 201), completed.text
    [request] = (await client.get(f"{O311}/requests/{reference}.json")).json()
    assert request["status"] == "closed" and request["status_notes"] == "已办结"
    closed = (await client.get(f"{O311}/requests.json", params={"status": "closed"})).json()
    assert [r["service_request_id"] for r in closed] == [reference]


async def test_get_requests_filters(app: Litestar, client: AsyncClient, auth: Auth) -> None:
    key = await new_key(app)
    noise = await filed(client, key)
    rubbish = await filed(client, key, service_code="environment", description="楼顶堆了70吨垃圾")
    handled = await filed(client, key, service_code="drainage", description="下水道堵了")
    staff = await auth("cstaff")
    concerns = {c["reference"]: c for c in (await client.get(f"{API}/concerns", headers=staff)).json()["items"]}
    resolved = await client.post(f"{API}/concerns/{concerns[handled]['id']}/triage", headers=staff,
                                 json={"action": "resolve_directly", "note": "已当天疏通"})
    assert resolved.status_code == 200, resolved.text

    async def ids(fmt: str = "json", **params: str) -> list[str]:
        response = await client.get(f"{O311}/requests.{fmt}", params=params)
        assert response.status_code == 200, response.text
        if fmt == "xml":
            root = xml(response)
            assert root.tag == "service_requests" and all(e.tag == "request" for e in root)
            return [e.findtext("service_request_id") for e in root]
        return [r["service_request_id"] for r in response.json()]

    assert await ids() == [handled, rubbish, noise]  # newest first
    assert await ids("xml") == [handled, rubbish, noise]
    assert await ids(status="closed") == [handled]
    assert await ids("xml", status="open") == [rubbish, noise]
    assert await ids(status="open,closed") == [handled, rubbish, noise]
    assert await ids(service_code="noise") == [noise]
    assert await ids(service_code="noise,environment") == [rubbish, noise]
    assert await ids(service_code="noise", status="closed") == []
    # service_request_id overrides every other argument.
    assert await ids(service_request_id=f"{noise},{handled}", status="closed", service_code="heating") == [handled, noise]
    [closed] = (await client.get(f"{O311}/requests.json", params={"status": "closed"})).json()
    assert closed["status_notes"] == "已直接办结。已当天疏通"
    assert closed["updated_datetime"] >= closed["requested_datetime"]

    now = datetime.datetime.now(datetime.UTC)
    hour = datetime.timedelta(hours=1)
    w3c = lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    assert await ids(start_date=w3c(now - hour), end_date=w3c(now + hour)) == [handled, rubbish, noise]
    assert await ids(start_date=w3c(now + hour)) == []
    assert await ids(end_date=w3c(now - hour)) == []
    beijing = (now - hour).astimezone(datetime.timezone(datetime.timedelta(hours=8))).isoformat(timespec="seconds")
    assert await ids(start_date=beijing) == [handled, rubbish, noise]
    assert await ids(start_date=beijing.replace("+", " ")) == [handled, rubbish, noise]  # "+" sent unencoded

    # One concern filed 100 days ago: outside the default window, inside an explicit one.
    async with app.state.sessionmaker() as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == "comm-a"))
        async with within(session, tenant):
            await session.execute(update(Concern).where(Concern.reference == noise)
                                  .values(created_at=now - datetime.timedelta(days=100)))
        await session.commit()
    assert await ids() == [handled, rubbish]
    long_ago = now - datetime.timedelta(days=101)
    assert await ids(start_date=w3c(long_ago), end_date=w3c(long_ago + datetime.timedelta(days=2))) == [noise]
    assert await ids(start_date=w3c(long_ago)) == [noise]
    assert await ids(service_request_id=noise) == [noise]


@pytest.mark.parametrize("params", [
    {"start_date": "2026-01-01"},
    {"start_date": "2026-01-01T00:00:00"},
    {"end_date": "yesterday"},
    {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
    {"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"},
    {"status": "pending"},
])
async def test_bad_request_filters_are_400(client: AsyncClient, params: dict) -> None:
    assert_spec_error(await client.get(f"{O311}/requests.json", params=params), 400)
    assert_spec_error(await client.get(f"{O311}/requests.xml", params=params), 400)


async def test_get_output_never_names_the_resident(app: Litestar, client: AsyncClient, auth: Auth) -> None:
    key = await new_key(app)
    reference = await filed(client, key, description="我是柳先生，电话13812345678，夜里施工太吵")
    # A grid worker files for a resident in Yishi itself, with the resident's name and phone.
    on_behalf = await client.post(f"{API}/concerns", headers=await auth("grid"), json={
        "title": "路灯坏了", "description": "柳先生说路灯坏了，电话13812341234", "category": "public_facilities",
        "channel": "grid_worker", "resident_name": "柳大爷", "resident_phone": "13812341234"})
    assert on_behalf.status_code == 201, on_behalf.text
    outputs = [await client.get(f"{O311}/{path}") for path in (
        "requests.json", "requests.xml", f"requests/{reference}.json", f"requests/{reference}.xml",
        f"requests/{on_behalf.json()['reference']}.json", "services.json", "services.xml")]
    for response in outputs:
        assert response.status_code == 200
        for secret in ("柳先生", "柳大爷", "13812345678", "13812341234", "liu@example.cn", "dev-1", "先生", "open311-"):
            assert secret not in response.text, (secret, response.text)
    [request] = outputs[2].json()
    assert request["description"] == "我是***，电话***，夜里施工太吵"


async def test_tenant_wall(app: Litestar, client: AsyncClient) -> None:
    reference = await filed(client, await new_key(app))
    assert_spec_error(await client.get(f"/open311/v2/comm-b/requests/{reference}.json"), 404)
    assert_spec_error(await client.get(f"/open311/v2/comm-b/requests/{reference}.xml"), 404)
    assert (await client.get("/open311/v2/comm-b/requests.json")).json() == []
    assert (await client.get("/open311/v2/comm-b/requests.json", params={"service_request_id": reference})).json() == []
    # The parent does not see its children's requests either: each jurisdiction is its own.
    assert (await client.get("/open311/v2/street-a/requests.json")).json() == []
    assert len((await client.get(f"{O311}/requests.json")).json()) == 1


async def test_the_routes_are_in_the_openapi_schema_and_need_no_sign_in(client: AsyncClient) -> None:
    paths = set((await client.get("/schema/openapi.json")).json()["paths"])
    for path in ("services.json", "services.xml", "services/{service_file}", "requests.json", "requests.xml",
                 "requests/{request_file}", "discovery.json"):
        assert f"/open311/v2/{{slug}}/{path}" in paths, path
    # A stray or expired token changes nothing: Open311 has its own keys.
    response = await client.get(f"{O311}/services.json", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 200


# --- the operator's commands ---------------------------------------------------------------------------


@pytest.fixture
def yishi(yishi: Callable[..., Result]) -> Callable[..., Awaitable[Result]]:
    """The command line from async tests: it runs its own event loop, so in a thread."""
    return lambda *args: asyncio.to_thread(yishi, *args)


async def test_keys_create_list_and_revoke(yishi, client: AsyncClient) -> None:
    created = await yishi("open311", "keys", "create", "comm-a", "街坊通")
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    assert key.startswith("o311_") and "\n" not in key and "只显示这一次" in created.stderr
    assert (await post_report(client, key)).status_code == 200
    assert_spec_error(await post_report(client, key, slug="comm-b"), 403)

    listed = await yishi("open311", "keys", "list", "comm-a")
    assert listed.exit_code == 0 and "街坊通" in listed.output and "有效" in listed.output
    assert key not in listed.output
    assert "还没有" in (await yishi("open311", "keys", "list", "comm-b")).output
    twice = await yishi("open311", "keys", "create", "comm-a", "街坊通")
    assert twice.exit_code == 2 and "吊销" in twice.output

    revoked = await yishi("open311", "keys", "revoke", "comm-a", "街坊通")
    assert revoked.exit_code == 0, revoked.output
    assert "已吊销" in (await yishi("open311", "keys", "list", "comm-a")).output
    assert_spec_error(await post_report(client, key), 403)
    again = await yishi("open311", "keys", "revoke", "comm-a", "街坊通")
    assert again.exit_code == 2
    # A new key for the same app, revoked by its id this time.
    renewed = await yishi("open311", "keys", "create", "comm-a", "街坊通")
    assert renewed.exit_code == 0 and (await post_report(client, renewed.stdout.strip())).status_code == 200
    client_id = renewed.stderr.split("（", 1)[1].split("）", 1)[0]
    assert (await yishi("open311", "keys", "revoke", "comm-a", client_id)).exit_code == 0
    assert_spec_error(await post_report(client, renewed.stdout.strip()), 403)


async def test_keys_for_an_unknown_tenant_exit_2(yishi) -> None:
    for args in (("create", "nowhere", "街坊通"), ("list", "nowhere"), ("revoke", "nowhere", "街坊通")):
        result = await yishi("open311", "keys", *args)
        assert result.exit_code == 2 and "没有租户 nowhere" in result.output
    blank = await yishi("open311", "keys", "create", "comm-a", "  ")
    assert blank.exit_code == 2 and "应用名称" in blank.output

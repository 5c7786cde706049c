"""Hostile and careless input never gets a 5xx, on either database: each class of input that once did, and a
property test that feeds every JSON route of the served schema with hostile values."""

from __future__ import annotations

import asyncio
import datetime
import io
import re
import sqlite3
import threading
import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from PIL import Image
from sqlalchemy import update

from core import media
from core.db import ALL_TENANTS
from core.errors import OUT_OF_RANGE_TITLE
from core.topics.models import Meeting
from tests.conftest import Auth, DatabaseUnderTest
from tests.helpers import BASE, NEW_COMMUNITY, WATER, file, sign_in, submit, topic_at

pytestmark = pytest.mark.usefixtures("world")
HUGE = 2**70


def _list_routes(app: Litestar) -> list[str]:
    """Every GET route that pages with `offset` (API) or `?p=` (portal), its path parameters filled in."""
    found = []
    for path, item in app.openapi_schema.paths.items():
        operation = item.get
        if operation is None or not operation.parameters:
            continue
        if any(getattr(p, "name", None) == "offset" for p in operation.parameters):
            found.append(path)
    return found


def _filled(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "comm-a" if "slug" in m.group(0) else str(uuid.uuid4()), path)


async def test_paging_beyond_64_bits_is_refused_on_every_list_route(app: Litestar, client: AsyncClient,
                                                                    auth: Auth) -> None:
    routes = _list_routes(app)
    assert len(routes) >= 8, routes  # the API's lists: concerns, topics, actions, members, tenants, results …
    headers = await auth("admin")
    for path in routes:
        response = await client.get(_filled(path), params={"offset": HUGE}, headers=headers)
        assert response.status_code == 400, (path, response.text)
        assert response.json()["errors"][0]["field"] == "offset"
    for page in ("results", "me/concerns", "staff/inbox", "actions", "admin/escalations", "admin/escalations/below",
                 "admin/extensions"):
        response = await client.get(f"/t/comm-a/{page}", params={"p": HUGE})
        assert response.status_code == 400 and "<title>" in response.text, page


def test_every_paging_parameter_is_bounded(app: Litestar) -> None:
    """Pages and offsets turn into SQL integers: every route that takes one bounds it (the portal's POST forms
    come back to their page with ?p= too)."""
    unbounded = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for name, parameter in handler.parsed_fn_signature.parameters.items():
                if name in ("p", "offset", "limit"):
                    bound = getattr(parameter.kwarg_definition, "le", None)
                    if bound is None or bound > 2**62:
                        unbounded.append(f"{route.path} {name}")
    assert not unbounded, unbounded


async def test_json_nested_a_thousand_levels_deep_is_a_400(client: AsyncClient) -> None:
    body = '{"a":' * 1000 + "1" + "}" * 1000
    response = await client.post("/api/v1/auth/token", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400 and "嵌套" in response.json()["detail"]


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31", "2101-01-01"])
async def test_dates_outside_the_platforms_years_are_refused_naming_the_field(client: AsyncClient, auth: Auth,
                                                                              day: str) -> None:
    staff = await auth("cstaff")
    stats = await client.get(f"{BASE}/stats", params={"from": day}, headers=staff)
    assert stats.status_code == 422 and stats.json()["errors"][0]["field"] == "from", stats.text
    listed = await client.get(f"{BASE}/concerns", params={"created_to": day}, headers=staff)
    assert listed.status_code == 422 and listed.json()["errors"][0]["field"] == "created_to", listed.text
    topic_id, _ = await topic_at(client, auth, "researching")
    meeting = await client.post(f"{BASE}/topics/{topic_id}/meetings", headers=staff, json={
        "mechanism": "on_demand", "venue": "议事亭", "starts_at": f"{day}T10:00:00+08:00"})
    assert meeting.status_code == 422 and meeting.json()["errors"][0]["field"] == "starts_at", meeting.text
    assert "2000-01-01" in meeting.json()["errors"][0]["message"]
    dashboard = await client.get("/t/district-a/admin/", params={"from": day})
    assert dashboard.status_code != 500


async def test_a_nul_anywhere_is_a_4xx(client: AsyncClient, auth: Auth) -> None:
    resident = await auth("resident")
    response = await client.post(f"{BASE}/concerns", json={**WATER, "title": "漏水\u0000"}, headers=resident)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "title", response.text
    assert (await client.get("/api/v1/tenants/comm%00a/concerns", headers=resident)).status_code == 400
    assert (await client.get(f"{BASE}/concerns", params={"status": "a\u0000"}, headers=resident)).status_code == 400
    portal = await client.post("/api/v1/tenants", headers=await auth("admin"), json={
        "slug": "comm-z", "name": "新社区", "kind": "community", "parent": "street-a", "portal": {"intro": "\u0000"}})
    assert portal.status_code == 422 and portal.json()["errors"][0]["field"].startswith("portal"), portal.text
    assert portal.json()["errors"][0]["message"] == "门户设置不能包含空字符"
    listed = await client.get(f"{BASE}/concerns", headers=await auth("cstaff"))
    assert listed.json()["total"] == 0  # nothing was filed on the way


async def test_text_beyond_its_column_is_refused_before_the_database(client: AsyncClient, auth: Auth) -> None:
    token = await client.post("/api/v1/auth/token", json={"username": "a" * 196, "password": "x"})
    assert token.status_code == 422 and token.json()["errors"][0]["field"] == "username", token.text
    long = await client.post(f"{BASE}/concerns", headers=await auth("resident"),
                             json={**WATER, "title": "长" * 121, "place": "地" * 201})
    assert long.status_code == 422, long.text
    assert {e["field"] for e in long.json()["errors"]} == {"title", "place"}
    assert long.json()["title"] != OUT_OF_RANGE_TITLE


async def test_every_bad_field_is_named_at_once_in_chinese(client: AsyncClient, auth: Auth) -> None:
    response = await client.post(f"{BASE}/concerns", headers=await auth("resident"),
                                 json={"title": 5, "category": "x" * 41, "colour": "red"})
    assert response.status_code == 400, response.text
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors == {"title": "标题应为文本", "description": "详细描述必填", "category": "类别最多 40 个字",
                      "colour": "不认识的字段 colour"}
    assert "Expected" not in response.text


async def test_health_words_in_a_tenants_path_are_not_exempt_from_sign_in(client: AsyncClient, auth: Auth) -> None:
    created = await client.post("/api/v1/tenants", headers=await auth("admin"), json={
        "slug": "readyville", "name": "瑞迪社区", "kind": "community", "parent": "street-a"})
    assert created.status_code == 201, created.text
    assert (await client.get("/api/v1/tenants/readyville/concerns")).status_code == 401
    assert (await client.get("/api/v1/tenants/healthy/concerns", headers=await auth("admin"))).status_code == 404
    listed = await client.get("/api/v1/tenants/readyville/concerns", headers=await auth("admin"))
    assert listed.status_code == 200, listed.text
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/schema/openapi.json")).status_code == 200


def _photo(seed: int) -> bytes:
    out = io.BytesIO()
    Image.effect_noise((1600, 1200), 40 + seed).convert("RGB").save(out, "JPEG", quality=95)
    return out.getvalue()


async def test_parallel_photo_uploads_all_land(client: AsyncClient, auth: Auth) -> None:
    resident = await auth("resident")
    concern = await file(client, resident)
    photos = [_photo(i) for i in range(6)]
    responses = await asyncio.gather(*(client.post(f"{BASE}/concerns/{concern['id']}/photos", headers=resident,
                                                   files={"file": ("p.jpg", raw, "image/jpeg")}) for raw in photos))
    assert [r.status_code for r in responses] == [201] * 6, [r.text for r in responses if r.status_code != 201]


async def test_photos_are_decoded_in_a_thread_while_no_write_lock_is_held(
        client: AsyncClient, auth: Auth, database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Decoding is slow: it runs off the event loop and, on SQLite, while this request holds no write lock, so
    that other uploads do not wait on it until they fail ("database is locked")."""
    decoded: list[bool] = []
    real = media.clean_image

    def probe(raw: bytes, field: str = "file") -> media.CleanImage:
        decoded.append(threading.current_thread() is not threading.main_thread())
        if not database.is_postgres:  # another writer gets the lock at once, or this raises "database is locked"
            other = sqlite3.connect(database.settings.database_url.split("///", 1)[1], timeout=0)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.rollback()
            finally:
                other.close()
        return real(raw, field)

    monkeypatch.setattr(media, "clean_image", probe)
    resident = await auth("resident")
    concern = await file(client, resident)
    api = await client.post(f"{BASE}/concerns/{concern['id']}/photos", headers=resident,
                            files={"file": ("p.jpg", _photo(1), "image/jpeg")})
    assert api.status_code == 201, api.text
    _topic, ids = await topic_at(client, auth, "executing")
    report = await client.post(f"{BASE}/actions/{ids['action']}/progress", headers=await auth("wuye"),
                               json={"percent": 80, "note": "快好了"})
    progress = await client.post(f"{BASE}/actions/{ids['action']}/progress/{report.json()['id']}/photos",
                                 headers=await auth("wuye"), files={"file": ("p.jpg", _photo(2), "image/jpeg")})
    assert progress.status_code == 201, progress.text
    await sign_in(client, "comm-a", "resident")
    new = "/t/comm-a/concerns/new"
    form = await submit(client, new, new, {**WATER, "title": "漏水"}, files=[("photos", ("p.jpg", _photo(3), "image/jpeg"))])
    assert form.status_code == 303, form.text[:500]
    await sign_in(client, "comm-a", "wuye")
    page = await submit(client, "/t/comm-a/actions", f"/t/comm-a/actions/{ids['action']}/progress",
                        {"percent": "90", "note": "基本完成"}, files=[("photos", ("p.jpg", _photo(4), "image/jpeg"))])
    assert page.status_code == 303, page.text[:500]
    assert decoded == [True] * 4


async def test_a_stored_meeting_in_year_9999_does_not_break_the_portal(app: Litestar, client: AsyncClient,
                                                                         auth: Auth) -> None:
    _topic, ids = await topic_at(client, auth, "scheduled")
    edge = datetime.datetime(9999, 12, 31, 23, 30, tzinfo=datetime.UTC)
    async with app.state.sessionmaker() as session:
        await session.execute(update(Meeting).where(Meeting.id == uuid.UUID(ids["meeting"]))
                              .values(starts_at=edge, ends_at=edge).execution_options(**{ALL_TENANTS: True}))
        await session.commit()
    for path in ("/t/comm-a/", "/t/comm-a/meetings", "/t/comm-a/meetings.ics"):
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text[:300])
    feed = await client.get(f"{BASE}/meetings/{ids['meeting']}.ics", headers=await auth("cstaff"))
    assert feed.status_code in (200, 404), feed.text


# --- the property: any JSON route, any hostile value, never a 5xx ---------------------------------------------

HOSTILE_TEXT = st.sampled_from([
    "\u0000", "标题\u0000", "a" * 6000, "长" * 300, "9999-12-31", "0001-01-01", "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00+08:00", "２０２６-１２-０１", "' OR 1=1 --", "../../etc/passwd", "🏠" * 50, "", " ",
    "{{7*7}}", "<script>alert(1)</script>", "\ud7ff", "NaN", "-1", "1e309",
])
HOSTILE_SCALAR = st.one_of(
    HOSTILE_TEXT, st.sampled_from([HUGE, -HUGE, 2**63, 2**31, -1, 0, 1e308, -1e308, True, False, None]),
    st.integers(), st.text(max_size=30),
)
HOSTILE = st.recursive(HOSTILE_SCALAR, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=8)


def _value_for(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """A hostile value of the right JSON type (so it gets past the decoder, to the rules and the database)."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    if "oneOf" in schema or "anyOf" in schema:
        options = [o for o in schema.get("oneOf", schema.get("anyOf", [])) if o.get("type") != "null"]
        return st.one_of(*(_value_for(o, components, depth) for o in options)) if options else st.none()
    kind = schema.get("type")
    if kind == "string":
        if schema.get("format") == "date":
            return st.sampled_from(["9999-12-31", "0001-01-01", "2000-01-01", "2100-12-31"])
        if schema.get("format") == "date-time":
            return st.sampled_from(["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59+08:00"])
        if schema.get("format") == "uuid":
            return st.uuids().map(str)
        return HOSTILE_TEXT
    if kind == "integer":
        return st.sampled_from([HUGE, -HUGE, 2**63, 2**31, -(2**31) - 1, 0, -1])
    if kind == "number":
        return st.sampled_from([1e308, -1e308, 0.0])
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        item = _value_for(schema.get("items", {}), components, depth + 1) if depth < 3 else HOSTILE_SCALAR
        return st.lists(item, max_size=3) | st.just([None] * 600)
    if kind == "object" and "properties" in schema and depth < 3:
        return _body_for(schema, components, depth + 1)
    return HOSTILE


# Values the services accept, so that one hostile field among sound ones gets as far as the database.
SOUND = {"category": "public_facilities", "kind": "site_visit", "mechanism": "on_demand", "method": "consensus",
         "channel": "portal", "action": "accept", "role": "resident", "user": "resident", "title": "北侧加装直饮水机",
         "description": "西北角居民取水不便", "place": "小区北侧", "slug": "comm-new", "name": "新社区",
         "parent": "street-a", "venue": "议事亭", "text": "协商一致", "minutes": "纪要", "reason": "重复",
         "date": "2026-11-30", "due_date": "2026-12-20", "starts_at": "2026-11-30T10:00:00+08:00"}


def _field(name: str, schema: dict[str, Any], components: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    hostile = _value_for(schema, components, depth)
    return st.one_of(st.just(SOUND[name]), hostile) if name in SOUND else hostile


def _body_for(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    return st.fixed_dictionaries(
        {name: _field(name, p, components, depth) for name, p in properties.items() if name in required},
        optional={name: _field(name, p, components, depth) for name, p in properties.items() if name not in required},
    ) | HOSTILE


def _resolved(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return components[schema["$ref"].rsplit("/", 1)[-1]]
    options = [o for o in schema.get("oneOf", schema.get("anyOf", [])) if o.get("type") != "null"]
    return _resolved(options[0], components) if options else schema


def _sound(name: str, schema: dict[str, Any], components: dict[str, Any]) -> Any:
    schema = _resolved(schema, components)
    if name in SOUND:
        return SOUND[name]
    kind, form = schema.get("type"), schema.get("format")
    if kind == "string":
        return {"date": "2026-11-30", "date-time": "2026-11-30T10:00:00+08:00", "uuid": str(uuid.uuid4())}.get(form, "测试")
    if kind == "object" and "properties" in schema:
        return {k: _sound(k, v, components) for k, v in schema["properties"].items()}
    return {"integer": 1, "number": 1.0, "boolean": False, "array": [], "object": {}}.get(kind)


def _hostile(schema: dict[str, Any], components: dict[str, Any]) -> list[Any]:
    """One value of each kind that once reached the database: of the field's own type."""
    schema = _resolved(schema, components)
    kind, form = schema.get("type"), schema.get("format")
    if kind == "string" and form in ("date", "date-time"):
        return ["9999-12-31" if form == "date" else "9999-12-31T23:59:59+08:00",
                "0001-01-01" if form == "date" else "0001-01-01T00:00:00Z"]
    if kind == "string" and form != "uuid":
        return ["标题\u0000", "长" * 6000]
    if kind == "integer":
        return [2**63, -(2**31) - 1]
    if kind == "array":
        return [["\u0000"], ["a" * 6000], [None] * 600]
    if kind == "object" and "properties" not in schema:
        return [{"k": "\u0000"}]
    return []


def _one_bad_field(schema: dict[str, Any], components: dict[str, Any]) -> list[Any]:
    """Sound bodies with one field made hostile at a time: far enough to reach the services and the database."""
    properties = _resolved(schema, components).get("properties", {})
    base = {name: _sound(name, p, components) for name, p in properties.items()}
    return [{**base, name: bad} for name, p in properties.items() for bad in _hostile(p, components)]


def _drawn(strategy: st.SearchStrategy[Any], count: int = 6) -> list[Any]:
    """Examples Hypothesis draws (it drives a synchronous function; the app runs on the test's own loop, so the
    examples are drawn first and sent after)."""
    examples: list[Any] = []

    @settings(max_examples=count, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(body=strategy)
    def draw(body: Any) -> None:
        examples.append(body)

    draw()
    return examples


def _json_routes(app: Litestar) -> list[tuple[str, str, dict[str, Any]]]:
    schema = app.openapi_schema.to_schema()
    routes = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if method in ("post", "put", "patch") and body:
                routes.append((method, path, body["schema"]))
    return routes


async def test_every_json_route_survives_hostile_values(app: Litestar, client: AsyncClient, auth: Auth,
                                                        database: DatabaseUnderTest) -> None:
    routes = _json_routes(app)
    assert len(routes) >= 30, [path for _m, path, _s in routes]
    components = app.openapi_schema.to_schema().get("components", {}).get("schemas", {})
    headers = await auth("admin")
    concern = (await file(client, await auth("resident")))["id"]
    failures: list[str] = []

    def filled(path: str) -> str:
        return re.sub(r"\{([^}:]+)[^}]*\}", lambda m: "comm-a" if m.group(1) == "slug" else concern, path)

    for method, path, body_schema in routes:
        for body in [*_one_bad_field(body_schema, components), *_drawn(_body_for(body_schema, components))]:
            response = await client.request(method, filled(path), json=body, headers=headers)
            if response.status_code >= 500 or (response.status_code == 422
                                               and response.json().get("title") == OUT_OF_RANGE_TITLE):
                failures.append(f"{method.upper()} {path} {body!r:.200} -> {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures[:20])


async def test_a_concern_form_hears_of_every_bad_field_at_once(client: AsyncClient, auth: Auth) -> None:
    """The service's own rules (not only the schema's) report together: the API and the resident's form."""
    body = {"title": "  ", "description": "", "category": "no_such", "channel": "fax"}
    api = await client.post(f"{BASE}/concerns", json=body, headers=await auth("grid"))
    assert api.status_code == 422, api.text
    assert {e["field"] for e in api.json()["errors"]} == {"title", "description", "category", "channel"}
    await sign_in(client, "comm-a", "resident")
    new = "/t/comm-a/concerns/new"
    page = await submit(client, new, new, {"title": " ", "description": "", "category": "no_such"})
    assert page.status_code == 422
    for field in ("title", "description", "category"):
        assert f'id="{field}-error"' in page.text, field


async def test_the_portals_sign_in_takes_any_username_a_stranger_types(client: AsyncClient) -> None:
    for username in ("a" * 196, "名" * 500, "x\u0000y"):
        answer = await submit(client, "/t/comm-a/login", "/t/comm-a/login", {"username": username, "password": "x"})
        assert answer.status_code == 401 and "<title>" in answer.text, (username[:10], answer.status_code)


async def test_a_nul_in_a_portal_form_is_refused_beside_its_field(client: AsyncClient) -> None:
    """Forms that reach the services without a schema: the services' own text checks refuse a NUL too."""
    await sign_in(client, "street-a", "dadmin")
    for field in ("name", "display_name"):
        answer = await submit(client, "/t/street-a/admin/onboard", "/t/street-a/admin/onboard",
                              {**NEW_COMMUNITY, field: "丙\u0000"})
        assert answer.status_code == 422 and f'id="{field}-error"' in answer.text, field
        assert "过长或超出范围" not in answer.text  # the schemas' refusal, not the database's

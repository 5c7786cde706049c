"""Helpers the test modules share: the API's paths and sample bodies, driving a concern and a topic through the
six steps, plugin and Open311 set-ups, and the portal's forms (sign in, post with the CSRF token, read a page's text).

Fixtures (the database under test, the app, `client`, `auth`) live in `tests/conftest.py`; these are plain functions
and constants a test calls or reads.
"""

from __future__ import annotations

import datetime
import io
import re
from typing import Any

from httpx import AsyncClient, Response
from litestar import Litestar
from PIL import Image

from core import clock
from core.open311.services import create_client
from tests.conftest import PASSWORD, Auth

# --- the API: a concern, and a topic driven through the six steps -----------------------------------------------

BASE = "/api/v1/tenants/comm-a"
TODAY = clock.today()  # the communities' date, as due dates and research dates are
WATER = {"title": "北边再装一台直饮水机", "description": "小区只有一台直饮水机，西北角的居民每天步行7分钟取水。",
         "category": "public_facilities", "place": "小区北侧"}


async def file(client: AsyncClient, headers: dict, body: dict | None = None, **extra: str) -> dict:
    response = await client.post(f"{BASE}/concerns", json={**WATER, **(body or {})}, headers={**headers, **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def accepted_concern(client: AsyncClient, auth: Auth) -> dict:
    concern = await file(client, await auth("resident"))
    triaged = await client.post(f"{BASE}/concerns/{concern['id']}/triage", json={"action": "accept"},
                                headers=await auth("cstaff"))
    assert triaged.status_code == 200, triaged.text
    return concern


async def topic_at(client: AsyncClient, auth: Auth, state: str) -> tuple[str, dict]:
    """A topic from one accepted concern, driven to `state` through the API (dated by the clock as it is, stopped
    or not); returns its id and the ids met."""
    staff, today = await auth("cstaff"), clock.today()
    concern = await accepted_concern(client, auth)
    topic = (await client.post(f"{BASE}/topics", json={"title": "增设直饮水机", "concern_ids": [concern["id"]]},
                               headers=staff)).json()
    ids = {"concern": concern["id"]}
    steps = ["researching", "scheduled", "deliberated", "published", "executing", "completed"]
    for step in steps[: steps.index(state) + 1] if state in steps else []:
        if step == "researching":
            r = await client.post(f"{BASE}/topics/{topic['id']}/research", headers=staff, json={
                "kind": "site_visit", "date": today.isoformat(), "participants": ["党员", "居民代表", "物业"],
                "findings": "北侧无取水点，楼间空地有电源"})
        elif step == "scheduled":
            r = await client.post(f"{BASE}/topics/{topic['id']}/meetings", headers=staff, json={
                "mechanism": "on_demand", "venue": "红色议事亭", "starts_at": "2026-07-28T15:00:00+08:00",
                "invitees": {"roles": ["party_member", "resident_rep", "property_company"], "orgs": ["宁夏鑫盛物业"]}})
            ids["meeting"] = r.json()["id"]
        elif step == "deliberated":
            await client.post(f"{BASE}/meetings/{ids['meeting']}/minutes", headers=staff, json={
                "minutes": "讨论设备选型、位置规划、现场安装", "attendance": {"party_member": 5, "resident_rep": 6},
                "opinions": [{"group": "resident_rep", "text": "装在北门内侧"}]})
            r = await client.post(f"{BASE}/meetings/{ids['meeting']}/decision", headers=staff, json={
                "text": "5天内在小区北侧增设直饮水机一台", "method": "consensus"})
        elif step == "published":
            r = await client.post(f"{BASE}/topics/{topic['id']}/publish", headers=staff)
            action = await client.post(f"{BASE}/topics/{topic['id']}/actions", headers=staff, json={
                "title": "安装直饮水机", "owner_org": "宁夏鑫盛物业", "owner_user": "wuye",
                "due_date": (today + datetime.timedelta(days=5)).isoformat()})
            assert action.status_code == 201, action.text
            ids["action"] = action.json()["id"]
        elif step == "executing":
            r = await client.post(f"{BASE}/actions/{ids['action']}/progress", headers=await auth("wuye"),
                                  json={"percent": 60, "note": "设备到场"})
        else:
            r = await client.post(f"{BASE}/actions/{ids['action']}/complete", headers=await auth("wuye"))
        assert r.status_code in (200, 201), (step, r.text)
    detail = (await client.get(f"{BASE}/topics/{topic['id']}", headers=staff)).json()
    assert detail["topic"]["state"] == state
    return topic["id"], ids


# --- photos ------------------------------------------------------------------------------------------------------

def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (20, 10), (0, 90, 200, 255)).save(out, "PNG")
    return out.getvalue()


async def upload(client: AsyncClient, url: str, headers: dict, data: bytes, name: str = "photo.jpg",
                 content_type: str = "image/jpeg"):
    return await client.post(url, files={"file": (name, data, content_type)}, headers=headers)


# --- Open311 -----------------------------------------------------------------------------------------------------

O311 = "/open311/v2/comm-a"
REPORT = {"service_code": "noise", "lat": "38.4872", "long": "106.2309", "address_string": "银巴小区14号楼北侧",
          "description": "夜里两点还在施工\n电钻声很大", "first_name": "先生", "last_name": "柳",
          "phone": "+86 138-1234-5678", "email": "liu@example.cn", "device_id": "dev-1",
          "media_url": "https://img.example.cn/noise.jpg", "attribute[WHEN]": "night"}


async def new_key(app: Litestar, slug: str = "comm-a", name: str = "街坊通") -> str:
    async with app.state.sessionmaker() as session:
        _, key = await create_client(session, slug, name)
        await session.commit()
    return key


async def post_report(client: AsyncClient, key: str | None, fmt: str = "json", slug: str = "comm-a",
               **fields: str) -> Response:
    form = {**REPORT, **fields}
    if key is not None:
        form["api_key"] = key
    form = {k: v for k, v in form.items() if v is not None}
    return await client.post(f"/open311/v2/{slug}/requests.{fmt}", data=form)


async def filed(client: AsyncClient, key: str, **fields: str) -> str:
    response = await post_report(client, key, **fields)
    assert response.status_code == 200, response.text
    return response.json()[0]["service_request_id"]


# --- plugins: the liaison station and the CPPCC consultation ------------------------------------------------------

LIAISON = f"{BASE}/liaison"


async def station(client: AsyncClient, auth: Auth) -> dict:
    response = await client.post(f"{LIAISON}/stations", headers=await auth("cstaff"), json={
        "name": "甲小区庭院联络站", "kind": "courtyard", "place": "中心庭院",
        "schedule": [{"deputy": "deputy", "weekday": 2, "start": "09:00", "end": "11:00"}]})
    assert response.status_code == 201, response.text
    return response.json()


async def reception(client: AsyncClient, auth: Auth, deputy: str = "deputy", requests: int = 2) -> dict:
    site = await station(client, auth)
    response = await client.post(f"{LIAISON}/receptions", headers=await auth(deputy), json={
        "station": site["id"], "held_at": "2026-07-20T09:30:00+08:00", "residents_received": 5,
        "requests": [{"title": f"诉求{i}", "description": "绿化带里有装修垃圾", "category": "environment",
                      "resident_name": "居民"} for i in range(requests)]})
    assert response.status_code == 201, response.text
    return response.json()


CITY = "/api/v1/tenants/city-a/cppcc"


async def cppcc_topic(client: AsyncClient, auth: Auth) -> str:
    admin = await auth("admin")
    plan = await client.post(f"{CITY}/plans", json={"year": TODAY.year, "title": "年度协商计划"}, headers=admin)
    assert plan.status_code == 201, plan.text
    created = await client.post(f"{CITY}/plans/{plan.json()['id']}/topics",
                                json={"title": "规范和加强小区物业管理", "members": ["member"]}, headers=admin)
    assert created.status_code == 201, created.text
    return created.json()["id"]


# --- tenancy -----------------------------------------------------------------------------------------------------

NEW_COMMUNITY = {"slug": "comm-c", "name": "丙社区", "kind": "community", "plugins": "liaison_station",
                 "username": "cstaff-c", "display_name": "丙社区王主任", "phone": "13900000009",
                 "password": "first-pass-123"}


# --- the portal: sign in through the form, and post forms with the CSRF token as a browser does -------------------

CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def csrf_token(client: AsyncClient, page_url: str) -> str:
    """The token a page's forms carry (the page also sets the matching cookie)."""
    page = await client.get(page_url)
    found = CSRF_FIELD.search(page.text)
    assert found, f"{page_url} has no form with a CSRF token (status {page.status_code})"
    return found.group(1)


async def submit(client: AsyncClient, page_url: str, action: str, data: dict[str, Any],
                 files: Any = None) -> Response:
    """Fill in the form of `page_url` and post it to `action`, as the browser would."""
    token = await csrf_token(client, page_url)
    return await client.post(action, data={**data, "_csrf_token": token}, files=files)


async def sign_in(client: AsyncClient, slug: str, username: str, password: str = PASSWORD) -> Response:
    answer = await submit(client, f"/t/{slug}/login", f"/t/{slug}/login",
                          {"username": username, "password": password, "next": f"/t/{slug}/me"})
    assert answer.status_code == 303, answer.text[:500]
    return answer


def text_of(response: Response) -> str:
    """The page's visible text, roughly: tags dropped, whitespace squeezed (for `in` checks)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))

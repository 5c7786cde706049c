"""The installable portal's server side: the manifest and icon, the service worker under the tenant's path, the
offline notice, the field filing page and its JSON ends (a queued filing filed once per Idempotency-Key, a refusal
said in Chinese, the filer's own recent concerns), within the tenant's wall; signing out clears the device."""

from __future__ import annotations

import io
import json
import re
import uuid

import pytest
from httpx import AsyncClient
from PIL import Image

from tests.conftest import Auth
from tests.helpers import BASE, csrf_token, file, sign_in

pytestmark = pytest.mark.usefixtures("world")
FIELD = "/t/comm-a/field"
SEND = "/t/comm-a/field/concerns"
LEAK = {"title": "三单元楼道漏水", "description": "下雨后三单元楼道顶棚一直滴水，地面湿滑。", "category": "public_facilities",
        "place": "三单元楼道", "channel": "grid_worker", "resident_name": "王阿姨", "resident_phone": "13900001111",
        "urgency": "normal"}


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(out, "JPEG")
    return out.getvalue()


async def send(client: AsyncClient, key: str | None, data: dict[str, str], photos: int = 1,
               token: str | None = None):  # type: ignore[no-untyped-def]
    token = token or await csrf_token(client, FIELD)
    headers = {"X-CSRFToken": token, **({"Idempotency-Key": key} if key else {})}
    files = [("photos", (f"p{i}.jpg", jpeg(), "image/jpeg")) for i in range(photos)]
    return await client.post(SEND, data=data, files=files or None, headers=headers)


async def concerns(client: AsyncClient, auth: Auth) -> list[dict]:
    answer = await client.get(f"{BASE}/concerns", headers=await auth("cstaff"))
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def test_the_manifest_names_the_tenant_and_the_worker_covers_its_pages(client: AsyncClient) -> None:
    manifest = await client.get("/t/comm-a/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["name"].startswith("甲社区") and body["scope"] == "/t/comm-a/" and body["display"] == "standalone"
    icon = await client.get(body["icons"][0]["src"])
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml") and "甲" in icon.text
    worker = await client.get("/t/comm-a/sw.js")
    assert worker.status_code == 200 and "javascript" in worker.headers["content-type"]
    assert 'importScripts("/static/offline-store.js")' in worker.text
    assert "unsafe-inline" not in worker.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    home = await client.get("/t/comm-a/")
    assert 'rel="manifest" href="/t/comm-a/manifest.webmanifest"' in home.text and "/static/pwa.js" in home.text
    assert (await client.get("/t/no-such/manifest.webmanifest")).status_code == 404
    offline = await client.get("/t/comm-a/offline")
    assert offline.status_code == 200 and "这个页面需要网络" in offline.text


async def test_a_theme_colour_that_is_not_a_colour_never_reaches_the_icon(client: AsyncClient, auth: Auth) -> None:
    changed = await client.patch("/api/v1/tenants/comm-a", headers=await auth("admin"),
                                 json={"portal": {"theme_color": '"/><script>x</script>'}})
    assert changed.status_code == 200, changed.text
    icon = await client.get("/t/comm-a/icon.svg")
    assert "<script" not in icon.text and 'fill="#b3261e"' in icon.text


async def test_the_field_page_is_for_those_who_file_on_behalf(client: AsyncClient) -> None:
    assert (await client.get(FIELD)).status_code in (302, 303)  # to sign in
    await sign_in(client, "comm-a", "resident")
    assert (await client.get(FIELD)).status_code == 403
    await sign_in(client, "comm-a", "grid")
    page = await client.get(FIELD)
    assert page.status_code == 200 and "外出填报" in page.text and "待上传" in page.text and "甲小区 1号楼" in page.text
    messages = json.loads(re.search(r'id="field-messages">(.*?)</script>', page.text, re.S).group(1))  # type: ignore[union-attr]
    assert messages["waiting"] == "待上传"
    assert 'href="/t/comm-a/field"' in (await client.get("/t/comm-a/me")).text  # the workspace links it


async def test_a_filing_sent_twice_files_one_concern_with_its_photos(client: AsyncClient, auth: Auth) -> None:
    await sign_in(client, "comm-a", "grid")
    key = str(uuid.uuid4())
    first = await send(client, key, LEAK, photos=2)
    assert first.status_code == 201, first.text
    again = await send(client, key, LEAK, photos=2)
    assert again.status_code == 201 and again.json() == first.json()
    [concern] = await concerns(client, auth)
    assert concern["reference"] == first.json()["reference"] and len(concern["photos"]) == 2
    assert (concern["channel"], concern["resident_name"], concern["filed_by"]) == ("grid_worker", "王阿姨", "grid")
    other = await send(client, key, {**LEAK, "title": "另一件事"})
    assert other.status_code == 409 and other.json()["refused"] is True
    assert len(await concerns(client, auth)) == 1


async def test_a_refused_filing_says_why_in_chinese_and_files_nothing(client: AsyncClient, auth: Auth) -> None:
    await sign_in(client, "comm-a", "grid")
    key = str(uuid.uuid4())
    refused = await send(client, key, {**LEAK, "category": "removed_meanwhile"}, photos=0)
    assert refused.status_code == 422 and refused.json()["refused"] is True
    assert "未知分类" in refused.json()["message"] and "category" in refused.json()["errors"]
    assert await concerns(client, auth) == []
    edited = await send(client, str(uuid.uuid4()), LEAK, photos=0)  # corrected on the phone: a fresh key
    assert edited.status_code == 201
    assert (await send(client, None, LEAK)).json()["message"] == "这条填报缺少 Idempotency-Key，无法上传。"


async def test_the_json_ends_need_a_signed_in_filer_and_the_csrf_token(client: AsyncClient) -> None:
    token = await csrf_token(client, "/t/comm-a/login")
    signed_out = await send(client, str(uuid.uuid4()), LEAK, token=token)
    assert signed_out.status_code == 401 and "请先登录" in signed_out.json()["message"]
    assert (await client.get("/t/comm-a/field/mine")).status_code == 401
    await sign_in(client, "comm-a", "resident")
    resident = await send(client, str(uuid.uuid4()), LEAK, token=token)
    assert resident.status_code == 403 and resident.json()["refused"] is True
    await sign_in(client, "comm-a", "grid")
    no_token = await client.post(SEND, data=LEAK, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert no_token.status_code == 403


async def test_the_recent_concerns_are_the_filers_own_in_this_tenant(client: AsyncClient, auth: Auth) -> None:
    await file(client, await auth("cstaff"), {"title": "工作人员代录的一件", "resident_name": "李", "channel": "phone"})
    await file(client, await auth("grid"), {"title": "网格员代录的一件", "resident_name": "王", "channel": "grid_worker"})
    await sign_in(client, "comm-a", "cstaff")
    staff = (await client.get("/t/comm-a/field/mine")).json()
    assert [c["title"] for c in staff["concerns"]] == ["工作人员代录的一件"]  # staff read all; only their own here
    await sign_in(client, "comm-a", "grid")
    mine = await client.get("/t/comm-a/field/mine")
    assert mine.status_code == 200 and mine.headers["cache-control"] == "no-store"
    [concern] = mine.json()["concerns"]
    assert concern["title"] == "网格员代录的一件" and concern["status"] and re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d", mine.json()["synced_at"])
    assert (await client.get("/t/comm-b/field/mine")).status_code == 403  # not a filer there


async def test_signing_out_clears_what_the_device_kept(client: AsyncClient) -> None:
    await sign_in(client, "comm-a", "grid")
    token = await csrf_token(client, FIELD)
    out = await client.post("/t/comm-a/logout", data={"_csrf_token": token})
    assert out.status_code == 303 and out.headers["clear-site-data"] == '"cache", "storage"'

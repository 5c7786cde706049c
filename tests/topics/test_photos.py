"""Photos: content checked, EXIF and GPS stripped, stored under server keys, served only to those allowed."""

from __future__ import annotations

import io

import pytest
from httpx import AsyncClient
from PIL import Image

from core.media import MAX_BYTES
from tests.conftest import Auth
from tests.helpers import BASE, file, png, topic_at, upload

pytestmark = pytest.mark.usefixtures("world")


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (38.0, 28.0, 12.0)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 30, 30)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


async def test_a_photo_is_stored_without_exif_or_gps(client: AsyncClient, auth: Auth, tmp_path) -> None:
    resident = await auth("resident")
    concern = await file(client, resident)
    raw = jpeg_with_gps()
    assert b"SecretCam" in raw
    response = await upload(client, f"{BASE}/concerns/{concern['id']}/photos", resident, raw, name="../../etc/passwd.jpg")
    assert response.status_code == 201, response.text
    photo = response.json()
    assert (photo["width"], photo["height"], photo["content_type"]) == (64, 48, "image/jpeg")
    served = await client.get(f"{BASE}/concerns/{concern['id']}/photos/{photo['id']}", headers=resident)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert b"SecretCam" not in served.content
    image = Image.open(io.BytesIO(served.content))
    assert dict(image.getexif()) == {} and image.size == (64, 48)
    listed = (await client.get(f"{BASE}/concerns/{concern['id']}", headers=resident)).json()
    assert listed["photos"] == [photo["id"]]


async def test_png_is_accepted_and_stays_png(client: AsyncClient, auth: Auth) -> None:
    resident = await auth("resident")
    concern = await file(client, resident)
    response = await upload(client, f"{BASE}/concerns/{concern['id']}/photos", resident, png(), "a.png", "image/png")
    assert response.status_code == 201 and response.json()["content_type"] == "image/png"


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (b"%PDF-1.4 not an image at all", "photo.jpg", "image/jpeg"),
        (b"GIF89a" + b"\0" * 40, "anim.gif", "image/gif"),
        (b"", "empty.jpg", "image/jpeg"),
        (jpeg_with_gps()[:200], "cut.jpg", "image/jpeg"),
    ],
)
async def test_what_is_not_a_photo_is_refused(client: AsyncClient, auth: Auth, data: bytes, name: str,
                                             content_type: str) -> None:
    resident = await auth("resident")
    concern = await file(client, resident)
    response = await upload(client, f"{BASE}/concerns/{concern['id']}/photos", resident, data, name, content_type)
    assert response.status_code == 422, response.text
    assert (await client.get(f"{BASE}/concerns/{concern['id']}", headers=resident)).json()["photos"] == []


async def test_a_photo_over_10_mb_is_refused(client: AsyncClient, auth: Auth) -> None:
    resident = await auth("resident")
    concern = await file(client, resident)
    big = jpeg_with_gps() + b"\0" * (MAX_BYTES + 10)
    response = await upload(client, f"{BASE}/concerns/{concern['id']}/photos", resident, big)
    assert response.status_code in (413, 422)
    assert (await client.get(f"{BASE}/concerns/{concern['id']}", headers=resident)).json()["photos"] == []


async def test_photos_are_served_only_to_readers_of_the_concern(client: AsyncClient, auth: Auth) -> None:
    resident = await auth("resident")
    concern = await file(client, resident)
    photo = (await upload(client, f"{BASE}/concerns/{concern['id']}/photos", resident, png(), "a.png",
                          "image/png")).json()
    url = f"{BASE}/concerns/{concern['id']}/photos/{photo['id']}"
    assert (await client.get(url, headers=await auth("cstaff"))).status_code == 200
    assert (await client.get(url, headers=await auth("neighbour"))).status_code == 404
    assert (await client.get(url, headers=await auth("bstaff"))).status_code == 403
    assert (await client.get(url.replace("comm-a", "comm-b"), headers=await auth("dadmin"))).status_code == 404
    assert (await client.get(url)).status_code == 401
    assert (await client.get(f"{BASE}/public/photos/{photo['id']}")).status_code == 404
    neighbour_upload = await upload(client, f"{BASE}/concerns/{concern['id']}/photos", await auth("neighbour"), png())
    assert neighbour_upload.status_code == 404


async def test_progress_photos_of_published_results_are_public(client: AsyncClient, auth: Auth) -> None:
    topic_id, ids = await topic_at(client, auth, "published")
    wuye = await auth("wuye")
    report = (await client.post(f"{BASE}/actions/{ids['action']}/progress", json={"percent": 50},
                                headers=wuye)).json()
    photo = await upload(client, f"{BASE}/actions/{ids['action']}/progress/{report['id']}/photos", wuye, png(),
                         "done.png", "image/png")
    assert photo.status_code == 201, photo.text
    public = await client.get(f"{BASE}/public/photos/{photo.json()['id']}")
    assert public.status_code == 200 and public.headers["content-type"] == "image/png"
    results = (await client.get(f"{BASE}/public/results")).json()
    assert results["items"][0]["actions"][0]["photos"] == [photo.json()["id"]]
    other = await client.get(f"/api/v1/tenants/comm-b/public/photos/{photo.json()['id']}")
    assert other.status_code == 404

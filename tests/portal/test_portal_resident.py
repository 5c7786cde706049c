"""Residents' and grid workers' pages: raising a concern (photos, place, on a resident's behalf, once only),
following one's own concerns, the walls between residents and between tenants, and rating an outcome."""

from __future__ import annotations

import io
import re

import pytest
from httpx import AsyncClient
from PIL import Image

from tests.conftest import Auth
from tests.helpers import BASE, file, sign_in, submit, text_of, topic_at

pytestmark = pytest.mark.usefixtures("world")
NEW = "/t/comm-a/concerns/new"
LEAK = {"title": "三单元楼道漏水", "description": "下雨后三单元楼道顶棚一直滴水，地面湿滑。", "category": "public_facilities",
        "place": "三单元楼道"}


def jpeg(color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(out, "JPEG")
    return out.getvalue()


def form_key(page_text: str) -> str:
    found = re.search(r'name="form_key" value="([^"]+)"', page_text)
    assert found, "the form has no key"
    return found.group(1)


async def concern_count(client: AsyncClient, auth: Auth) -> int:
    answer = await client.get(f"{BASE}/concerns", headers=await auth("cstaff"))
    assert answer.status_code == 200, answer.text
    return answer.json()["total"]


async def compound_and_building(client: AsyncClient, auth: Auth, slug: str = "comm-a") -> tuple[str, str]:
    compounds = (await client.get(f"/api/v1/tenants/{slug}/compounds", headers=await auth("admin"))).json()
    compound = compounds[0] if isinstance(compounds, list) else compounds["items"][0]
    return compound["id"], compound["buildings"][0]["id"]


async def test_a_resident_files_with_a_photo_and_follows_the_concern(client: AsyncClient, auth: Auth) -> None:
    compound, building = await compound_and_building(client, auth)
    await sign_in(client, "comm-a", "resident")
    form = await client.get(NEW)
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    assert 'accept="image/jpeg,image/png,image/webp"' in form.text and "甲小区" in form.text and "1号楼" in form.text
    assert 'name="resident_name"' not in form.text and 'name="channel"' not in form.text  # only on behalf
    answer = await submit(client, NEW, NEW, {**LEAK, "compound": compound, "building": building},
                          files=[("photos", ("leak.jpg", jpeg(), "image/jpeg"))])
    assert answer.status_code == 303, answer.text[:2000]
    detail_url = answer.headers["location"]
    assert re.fullmatch(r"/t/comm-a/me/concerns/[0-9a-f-]{36}\?filed=1", detail_url)
    detail = await client.get(detail_url)
    assert detail.status_code == 200
    reference = re.search(r"JSX-\d{4}-\d{6}", text_of(detail)).group(0)
    code = re.search(rf"{reference}-[2-9A-HJ-NP-Z]{{4}}", text_of(detail)).group(0)  # shown to the filer
    assert f'href="/t/comm-a/track/{code}"' in detail.text and "三单元楼道漏水" in detail.text
    assert "已提交，待受理" in text_of(detail)
    photo = re.search(r'src="(/t/comm-a/me/concerns/[^"]+/photos/[^"]+)"', detail.text).group(1)
    image = await client.get(photo)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(image.content)).size == (32, 24)
    listing = await client.get("/t/comm-a/me/concerns")
    assert listing.status_code == 200 and reference in listing.text and "已提交，待受理" in listing.text
    tracked = await client.get(f"/t/comm-a/track/{code}")
    assert tracked.status_code == 200 and "三单元楼道漏水" in tracked.text
    # Filed through the portal, by the resident, for the resident, in the compound and building chosen.
    api = (await client.get(f"{BASE}/concerns", headers=await auth("cstaff"))).json()["items"][0]
    assert (api["channel"], api["filed_by"], api["compound"], api["building"]) == ("portal", "resident", compound,
                                                                                  building)
    assert len(api["photos"]) == 1


async def test_a_text_file_as_photo_files_nothing(client: AsyncClient, auth: Auth) -> None:
    await sign_in(client, "comm-a", "resident")
    answer = await submit(client, NEW, NEW, LEAK, files=[("photos", ("notes.jpg", b"just some text", "image/jpeg"))])
    assert answer.status_code == 422
    assert 'id="photos-error"' in answer.text and "照片" in text_of(answer)
    assert re.search(r'id="photos"[^>]*aria-invalid="true"', answer.text)
    assert 'value="三单元楼道漏水"' in answer.text  # what was typed is kept
    assert await concern_count(client, auth) == 0


async def test_too_many_photos_are_refused(client: AsyncClient, auth: Auth) -> None:
    await sign_in(client, "comm-a", "resident")
    photos = [("photos", (f"{n}.jpg", jpeg(), "image/jpeg")) for n in range(4)]
    answer = await submit(client, NEW, NEW, LEAK, files=photos)
    assert answer.status_code == 422 and 'id="photos-error"' in answer.text
    assert await concern_count(client, auth) == 0


async def test_a_missing_title_is_said_next_to_the_title(client: AsyncClient, auth: Auth) -> None:
    await sign_in(client, "comm-a", "resident")
    answer = await submit(client, NEW, NEW, {**LEAK, "title": "  "})
    assert answer.status_code == 422
    assert re.search(r'id="title"[^>]*aria-invalid="true"[^>]*aria-describedby="title-error"', answer.text)
    assert re.search(r'<p class="error" id="title-error">\s*标题不能为空', answer.text)
    assert "三单元楼道顶棚" in answer.text  # the description is kept
    unknown = await submit(client, NEW, NEW, {**LEAK, "category": "no_such"})
    assert unknown.status_code == 422 and 'id="category-error"' in unknown.text
    foreign = await submit(client, NEW, NEW, {**LEAK, "compound": "not-a-uuid"})
    assert foreign.status_code == 422 and 'id="compound-error"' in foreign.text
    assert await concern_count(client, auth) == 0


async def test_a_building_of_another_community_is_refused(client: AsyncClient, auth: Auth) -> None:
    _compound, building_b = await compound_and_building(client, auth, "comm-b")
    await sign_in(client, "comm-a", "resident")
    answer = await submit(client, NEW, NEW, {**LEAK, "building": building_b})
    assert answer.status_code == 422 and 'id="building-error"' in answer.text
    assert await concern_count(client, auth) == 0


async def test_the_building_list_follows_the_compound(client: AsyncClient, auth: Auth) -> None:
    compound, _building = await compound_and_building(client, auth)
    await sign_in(client, "comm-a", "resident")
    partial = await client.get("/t/comm-a/concerns/buildings", params={"compound": compound},
                               headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<select" in partial.text and "2号楼" in partial.text
    assert "<html" not in partial.text and "9号楼" not in partial.text


async def test_a_grid_worker_files_on_a_residents_behalf(client: AsyncClient, auth: Auth) -> None:
    await sign_in(client, "comm-a", "grid")
    form = await client.get(NEW)
    assert 'name="resident_name"' in form.text and 'name="resident_phone"' in form.text
    assert re.search(r'<option value="grid_worker" selected', form.text)  # the default for a grid worker
    bad = await submit(client, NEW, NEW, {**LEAK, "resident_name": "王阿姨", "resident_phone": "12345",
                                          "channel": "grid_worker"})
    assert bad.status_code == 422 and 'id="resident_phone-error"' in bad.text and 'value="王阿姨"' in bad.text
    assert await concern_count(client, auth) == 0
    answer = await submit(client, NEW, NEW, {**LEAK, "resident_name": "王阿姨", "resident_phone": "13900001111",
                                             "channel": "grid_worker"})
    assert answer.status_code == 303, answer.text[:2000]
    listing = await client.get("/t/comm-a/me/concerns")
    assert "三单元楼道漏水" in listing.text and "王阿姨" in listing.text
    api = (await client.get(f"{BASE}/concerns", headers=await auth("cstaff"))).json()["items"][0]
    assert (api["channel"], api["resident_name"], api["filed_by"]) == ("grid_worker", "王阿姨", "grid")


async def test_a_resident_cannot_file_on_someone_elses_behalf(client: AsyncClient, auth: Auth) -> None:
    await sign_in(client, "comm-a", "resident")
    answer = await submit(client, NEW, NEW, {**LEAK, "resident_name": "王阿姨", "resident_phone": "13900001111",
                                             "channel": "phone"})
    assert answer.status_code == 303  # the extra fields are not the resident's to give: ignored
    api = (await client.get(f"{BASE}/concerns", headers=await auth("cstaff"))).json()["items"][0]
    assert (api["channel"], api["resident_name"], api["resident_phone"]) == ("portal", None, None)


async def test_signed_out_is_sent_to_sign_in_and_other_roles_are_refused(client: AsyncClient) -> None:
    for path in (NEW, "/t/comm-a/me/concerns"):
        answer = await client.get(path)
        assert answer.status_code == 302 and answer.headers["location"] == f"/t/comm-a/login?next={path}"
    await sign_in(client, "comm-a", "wuye")  # a property company raises no concerns here
    assert (await client.get(NEW)).status_code == 403
    assert (await client.get("/t/comm-a/me/concerns")).status_code == 403


async def test_the_walls_between_residents_and_between_communities(client: AsyncClient, auth: Auth) -> None:
    await sign_in(client, "comm-a", "resident")
    answer = await submit(client, NEW, NEW, LEAK, files=[("photos", ("leak.jpg", jpeg(), "image/jpeg"))])
    detail_url = answer.headers["location"].split("?")[0]
    photo = re.search(r'src="(/t/comm-a/me/concerns/[^"]+/photos/[^"]+)"', (await client.get(detail_url)).text).group(1)
    assert (await client.get(detail_url.replace("comm-a", "comm-b"))).status_code == 403  # no role there
    assert (await client.get("/t/comm-a/me/concerns/not-a-uuid")).status_code == 404
    await sign_in(client, "comm-a", "neighbour")
    assert (await client.get(detail_url)).status_code == 404
    assert (await client.get(photo)).status_code == 404
    assert "三单元楼道漏水" not in (await client.get("/t/comm-a/me/concerns")).text
    await sign_in(client, "comm-b", "bstaff")
    assert (await client.get(detail_url.replace("comm-a", "comm-b"))).status_code == 404
    assert (await client.get(photo.replace("comm-a", "comm-b"))).status_code == 404


async def test_a_double_submit_files_once(client: AsyncClient, auth: Auth) -> None:
    await sign_in(client, "comm-a", "resident")
    key = form_key((await client.get(NEW)).text)
    data = {**LEAK, "form_key": key}
    photo = [("photos", ("leak.jpg", jpeg(), "image/jpeg"))]
    first = await submit(client, NEW, NEW, data, files=photo)
    second = await submit(client, NEW, NEW, data, files=photo)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert await concern_count(client, auth) == 1
    api = (await client.get(f"{BASE}/concerns", headers=await auth("cstaff"))).json()["items"][0]
    assert len(api["photos"]) == 1
    # The same key with other content is not a double submit: a message and a fresh form, nothing filed.
    changed = await submit(client, NEW, NEW, {**data, "title": "另一件事"})
    assert changed.status_code == 409 and 'id="form-error"' in changed.text and form_key(changed.text) != key
    assert await concern_count(client, auth) == 1
    # A new form gets a new key and files again.
    assert (await submit(client, NEW, NEW, LEAK)).status_code == 303
    assert await concern_count(client, auth) == 2


async def test_the_resident_rates_the_outcome_and_the_neighbour_cannot(client: AsyncClient, auth: Auth) -> None:
    topic_id, ids = await topic_at(client, auth, "published")
    detail_url = f"/t/comm-a/me/concerns/{ids['concern']}"
    await sign_in(client, "comm-a", "resident")
    published = await client.get(detail_url)
    assert published.status_code == 200 and f"/t/comm-a/results/{topic_id}" in published.text
    assert 'name="score"' not in published.text  # not before execution begins
    await client.post(f"{BASE}/actions/{ids['action']}/progress", headers=await auth("wuye"),
                      json={"percent": 60, "note": "设备到场"})
    executing = await client.get(detail_url)
    assert 'name="score"' in executing.text
    rating_url = f"{detail_url}/rating"
    bad = await submit(client, detail_url, rating_url, {"score": "9", "comment": "很好"})
    assert bad.status_code == 422 and 'id="score-error"' in bad.text and "评分须为 1–5" in bad.text
    none = await submit(client, detail_url, rating_url, {"comment": "很好"})
    assert none.status_code == 422 and 'id="score-error"' in none.text
    answer = await submit(client, detail_url, rating_url, {"score": "5", "comment": "很快就装好了"})
    assert answer.status_code == 303 and answer.headers["location"] == f"{detail_url}?rated=1"
    shown = await client.get(answer.headers["location"])
    assert "5 / 5" in shown.text and "很快就装好了" in shown.text
    # The neighbour's concern did not feed the topic: nothing to rate, and the resident's concern is not theirs.
    neighbour_concern = await file(client, await auth("neighbour"))
    await sign_in(client, "comm-a", "neighbour")
    own = await client.get(f"/t/comm-a/me/concerns/{neighbour_concern['id']}")
    assert own.status_code == 200 and 'name="score"' not in own.text
    refused = await submit(client, f"/t/comm-a/me/concerns/{neighbour_concern['id']}", rating_url,
                           {"score": "1", "comment": "差"})
    assert refused.status_code == 404
    refused = await submit(client, f"/t/comm-a/me/concerns/{neighbour_concern['id']}",
                           f"/t/comm-a/me/concerns/{neighbour_concern['id']}/rating", {"score": "1"})
    assert refused.status_code == 404
    # A grid worker may not rate at all.
    await sign_in(client, "comm-a", "grid")
    assert (await submit(client, NEW, rating_url, {"score": "1"})).status_code == 403
    await sign_in(client, "comm-a", "resident")
    assert "5 / 5" in (await client.get(detail_url)).text  # only the resident's own rating stands


async def _resolved_directly(client: AsyncClient, auth: Auth) -> str:
    concern = await file(client, await auth("resident"))
    done = await client.post(f"{BASE}/concerns/{concern['id']}/triage", headers=await auth("cstaff"),
                             json={"action": "resolve_directly", "note": "已疏通"})
    assert done.status_code == 200, done.text
    return concern["id"]


async def test_the_resident_answers_the_revisit_on_the_concern_page_once(client: AsyncClient, auth: Auth) -> None:
    concern_id = await _resolved_directly(client, auth)
    detail_url = f"/t/comm-a/me/concerns/{concern_id}"
    revisit_url = f"{detail_url}/revisit"
    await sign_in(client, "comm-a", "neighbour")  # not theirs: no page, no answer
    assert (await client.get(detail_url)).status_code == 404
    assert (await submit(client, "/t/comm-a/me/concerns", revisit_url,
                         {"solved": "yes", "satisfaction": "satisfied"})).status_code == 404
    await sign_in(client, "comm-a", "resident")
    page = await client.get(detail_url)
    assert page.status_code == 200 and 'name="satisfaction"' in page.text and "是否解决" in text_of(page)
    unsaid = await submit(client, detail_url, revisit_url, {"satisfaction": "satisfied"})
    assert unsaid.status_code == 422 and 'id="solved-error"' in unsaid.text and "请选择是否解决" in unsaid.text
    bad = await submit(client, detail_url, revisit_url, {"solved": "yes", "satisfaction": "great"})
    assert bad.status_code == 422 and 'id="satisfaction-error"' in bad.text and "满意度须为" in bad.text
    answer = await submit(client, detail_url, revisit_url, {"solved": "no", "satisfaction": "unsatisfied",
                                                            "note": "还是堵"})
    assert answer.status_code == 303 and answer.headers["location"] == f"{detail_url}?revisited=1#revisit"
    shown = text_of(await client.get(answer.headers["location"]))
    assert "回访结果已记录" in shown and "未解决" in shown and "不满意" in shown and "还是堵" in shown
    assert "已受理" in shown and "重办" in shown  # reopened
    after = await client.get(detail_url)
    assert 'name="satisfaction"' not in after.text  # the round is answered; the next comes once resolved again
    again = await submit(client, "/t/comm-a/me/concerns", revisit_url, {"solved": "yes", "satisfaction": "basic"})
    assert again.status_code == 409 and "没有待回答的回访" in again.text
    fresh = await file(client, await auth("resident"))  # not resolved yet: nothing to answer, said so
    early = await submit(client, "/t/comm-a/me/concerns", f"/t/comm-a/me/concerns/{fresh['id']}/revisit",
                         {"solved": "yes", "satisfaction": "basic"})
    assert early.status_code == 409 and "没有待回答的回访" in early.text
    english = text_of(await client.get(detail_url, params={"lang": "en"}))
    assert "Round 1" in english and "Not solved" in english and "Not satisfied" in english


async def test_staff_record_a_phone_revisit_from_the_concern_page(client: AsyncClient, auth: Auth) -> None:
    concern_id = await _resolved_directly(client, auth)
    detail_url = f"/t/comm-a/me/concerns/{concern_id}"
    await sign_in(client, "comm-a", "cstaff")
    staff_page = await client.get(f"/t/comm-a/staff/concerns/{concern_id}")  # where staff find it from the inbox
    assert staff_page.status_code == 200 and f'href="{detail_url}"' in staff_page.text
    page = await client.get(detail_url)
    assert page.status_code == 200 and 'name="channel" value="phone"' in page.text and "记录电话回访" in text_of(page)
    answer = await submit(client, detail_url, f"{detail_url}/revisit", {
        "channel": "phone", "solved": "yes", "satisfaction": "basic", "note": "电话回访，基本满意"})
    assert answer.status_code == 303, answer.text
    shown = text_of(await client.get(detail_url))
    assert "电话回访，基本满意" in shown and "基本满意" in shown and "已解决" in shown
    rounds = (await client.get(f"{BASE}/concerns/{concern_id}/revisits", headers=await auth("cstaff"))).json()
    assert [(r["channel"], r["solved"], r["satisfaction"]) for r in rounds] == [("phone", True, "basic")]
    # A resident cannot pass their answer off as a phone revisit.
    other = await _resolved_directly(client, auth)
    await sign_in(client, "comm-a", "resident")
    pretending = await submit(client, f"/t/comm-a/me/concerns/{other}", f"/t/comm-a/me/concerns/{other}/revisit",
                              {"channel": "phone", "solved": "yes", "satisfaction": "satisfied"})
    assert pretending.status_code == 403

"""Topic suggestions (拟定议题): the accepted concerns not yet in a topic, in groups of one matter with their labels
and places, offered by the API and on the new-topic form — never a concern already in a topic, one not accepted,
or one of another community."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from httpx import AsyncClient

from core.related import clusters
from core.related.similarity import Text
from tests.conftest import Auth
from tests.helpers import BASE, sign_in, text_of

pytestmark = pytest.mark.usefixtures("world")
SUGGESTIONS = f"{BASE}/topics/suggestions"
# Three ways of writing one matter (EV charging) and two of another (a dark stairwell), then two matters told once.
CHARGING = [("电动车充电难", "小区充电桩太少，晚上下班回来充电桩全被占满", "1号楼"),
            ("电动车没地方充电", "充电桩太少了，晚上回来全被占满，只能把电瓶拿回家充", None),
            ("充电桩太少，电动车充电难", "希望在车棚增设充电桩，晚上充电桩全被占满", "2号楼")]
LIGHT = [("楼道灯坏了", "晚上楼道一片漆黑，老人上下楼很危险", "1号楼"),
         ("1号楼楼道声控灯坏了", "楼道灯不亮，晚上一片漆黑，上下楼很危险", "1号楼")]
SINGLES = [("遛狗不拴绳", "有人遛狗不牵绳，小孩被吓到", None), ("增设直饮水机", "小区只有一台直饮水机，北边居民取水要走很远", None)]


async def places(client: AsyncClient, headers: dict, slug: str = "comm-a") -> tuple[str, dict[str, str]]:
    compound = (await client.get(f"/api/v1/tenants/{slug}/compounds", headers=headers)).json()[0]
    return compound["id"], {b["name"]: b["id"] for b in compound["buildings"]}


async def filed(client: AsyncClient, auth: Auth, text: tuple[str, str, str | None], *, slug: str = "comm-a",
                filer: str = "resident", staff: str = "cstaff", accept: bool = True) -> str:
    """A concern filed in 甲小区 (or the community's first compound), accepted by its staff unless told not to."""
    title, description, building = text
    compound, buildings = await places(client, await auth(staff), slug)
    body: dict[str, Any] = {"title": title, "description": description, "category": "ev_charging", "compound": compound}
    if building:
        body["building"] = buildings[building]
    base = f"/api/v1/tenants/{slug}"
    answer = await client.post(f"{base}/concerns", json=body, headers=await auth(filer))
    assert answer.status_code == 201, answer.text
    concern = answer.json()["id"]
    if accept:
        triaged = await client.post(f"{base}/concerns/{concern}/triage", json={"action": "accept"},
                                    headers=await auth(staff))
        assert triaged.status_code == 200, triaged.text
    return concern


async def test_clusters_of_accepted_concerns_become_labelled_suggestions(client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    charging = [await filed(client, auth, text) for text in CHARGING]
    light = [await filed(client, auth, text) for text in LIGHT]
    singles = [await filed(client, auth, text) for text in SINGLES]
    # The same matter, but not waiting for a topic: one still to triage, one drafted into a topic already …
    submitted = await filed(client, auth, CHARGING[0], accept=False)
    in_topic = await filed(client, auth, CHARGING[1])
    topic = await client.post(f"{BASE}/topics", json={"title": "充电桩", "concern_ids": [in_topic]}, headers=staff)
    assert topic.status_code == 201, topic.text
    # … and three of another community.
    elsewhere = [await filed(client, auth, (title, description, None), slug="comm-b", filer="bstaff", staff="bstaff")
                 for title, description, _ in CHARGING]

    answer = await client.get(SUGGESTIONS, headers=staff)
    assert answer.status_code == 200, answer.text
    suggestions = answer.json()
    assert [sorted(s["concern_ids"]) for s in suggestions] == [sorted(charging), sorted(light)]
    first, second = suggestions
    assert first["count"] == 3 and ("充电" in first["label"] or "电桩" in first["label"]), first
    assert first["places"] == [{"compound": "甲小区", "buildings": ["1号楼", "2号楼"]}]
    assert first["where"] == "甲小区 1、2号楼"
    assert first["summary"] == f"{first['label']}: 3 条, 甲小区 1、2号楼"
    assert second["count"] == 2 and second["where"] == "甲小区 1号楼", second
    assert "楼道" in second["label"] or "漆黑" in second["label"], second
    everything = {i for s in suggestions for i in s["concern_ids"]}
    assert not everything & {submitted, in_topic, *singles, *elsewhere}
    # The other community sees its own group, and only that.
    theirs = (await client.get("/api/v1/tenants/comm-b/topics/suggestions", headers=await auth("bstaff"))).json()
    assert [sorted(s["concern_ids"]) for s in theirs] == [sorted(elsewhere)]


async def test_only_those_who_draft_topics_read_suggestions(client: AsyncClient, auth: Auth) -> None:
    for user, status in (("resident", 403), ("grid", 403), ("bstaff", 403), ("cstaff", 200), ("sstaff", 200)):
        answer = await client.get(SUGGESTIONS, headers=await auth(user))
        assert answer.status_code == status, (user, answer.text)


async def test_the_new_topic_form_offers_suggestions_that_pick_their_concerns(client: AsyncClient, auth: Auth) -> None:
    charging = [await filed(client, auth, text) for text in CHARGING]
    lonely = await filed(client, auth, SINGLES[0])
    await sign_in(client, "comm-a", "cstaff")
    inbox = await client.get("/t/comm-a/staff/inbox")
    assert inbox.status_code == 200
    assert "议题建议" in text_of(inbox) and "3 条, 甲小区 1、2号楼" in text_of(inbox)
    links = re.findall(r'href="(/t/comm-a/staff/inbox\?pick=[^"]+)"', inbox.text)
    assert len(links) == 1
    for concern in [*charging, lonely]:  # nothing is picked before a suggestion is chosen
        assert re.search(rf'value="{concern}" checked', inbox.text) is None
    picked = await client.get(links[0].replace("&amp;", "&"))
    assert picked.status_code == 200
    for concern in charging:
        assert re.search(rf'name="concern_ids" value="{concern}" checked', picked.text), concern
    assert re.search(rf'name="concern_ids" value="{lonely}" checked', picked.text) is None
    label = (await client.get(SUGGESTIONS, headers=await auth("cstaff"))).json()[0]["label"]
    assert f'name="title" value="{label}"' in picked.text
    # A forged pick of a concern that is not waiting picks nothing and breaks nothing.
    forged = await client.get(f"/t/comm-a/staff/inbox?pick={uuid.uuid4()}&pick=not-an-id")
    assert forged.status_code == 200


def test_a_label_names_the_object_and_fault_most_members_name() -> None:
    members = [Text.of("11号楼电动车充电难", "车棚的充电桩太少，晚上下班回来充电桩都被占满了", building="11号楼"),
               Text.of("电动车充电难", "小区充电桩太少，晚上回来充电桩都被占满，充不上电"),
               Text.of("14号楼电动车充电难", "楼下没有充电桩，晚上充电桩都被占满，有人拉线充电", building="14号楼")]
    others = [Text.of(*text[:2]) for text in LIGHT + SINGLES]
    assert clusters.label(members, members + others) == "充电桩不足"
    # Broken and dangerous, told as often: the fault named is that it is broken.
    assert clusters.label([Text.of(*text[:2]) for text in LIGHT], members + others) == "楼道灯损坏"


def test_a_label_of_words_no_lexicon_knows_is_the_words_they_share_joined_as_written() -> None:
    # 鸽子 is no object of the lexicon (core.related.concepts): the bigrams all three wrote, joined as written.
    pigeons = [Text.of("邻居养鸽子", "天天早上放飞"), Text.of("有人养鸽子", "鸽子满天飞"), Text.of("养鸽子的那户", "")]
    assert clusters.label(pigeons, pigeons).split("、")[0] == "养鸽子"
    # 充电 and 电动 overlap, but nobody wrote 充电动: each joins the words it was written with.
    written = [Text.of("电动车充上电", ""), Text.of("上电的电动车", "")]
    assert "充电动" not in clusters.label(written, written)


async def test_suggestions_are_made_again_when_what_they_are_made_of_changes(
        client: AsyncClient, auth: Auth, monkeypatch: pytest.MonkeyPatch) -> None:
    """An inbox is read far more often than its concerns change, so a tenant's groups are kept between reads
    (core.related.groups) — and made again the moment a concern joins, leaves or is written otherwise."""
    staff = await auth("cstaff")
    made = []
    group = clusters.group
    monkeypatch.setattr(clusters, "group", lambda texts, *args, **kwargs: made.append(1) or group(texts, *args, **kwargs))
    first, second = [await filed(client, auth, text) for text in CHARGING[:2]]

    async def suggested() -> list[list[str]]:
        answer = await client.get(SUGGESTIONS, headers=staff)
        assert answer.status_code == 200, answer.text
        return [sorted(s["concern_ids"]) for s in answer.json()]

    assert await suggested() == [sorted([first, second])] and len(made) == 1
    assert await suggested() == [sorted([first, second])] and len(made) == 1  # nothing changed: kept
    third = await filed(client, auth, CHARGING[2])
    assert await suggested() == [sorted([first, second, third])] and len(made) == 2  # one more accepted
    topic = await client.post(f"{BASE}/topics", json={"title": "充电桩", "concern_ids": [third]}, headers=staff)
    assert topic.status_code == 201, topic.text
    # One drafted into a topic: the concerns are those of the first read again, whose groups are still kept.
    assert await suggested() == [sorted([first, second])] and len(made) == 2
    await filed(client, auth, LIGHT[0])
    assert await suggested() == [sorted([first, second])] and len(made) == 3  # another matter: grouped again

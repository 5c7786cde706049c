"""The red pavilion's demo: 建设巷社区's 红色议事亭 and 党群温馨庭院, where the article's three cases were
deliberated — the drinking-water machine on demand ("有事来商量"), the roof and the chargers at the monthly
session ("每月一议事") — with the Party members who took part; the next monthly session is already planned."""

from __future__ import annotations

from typing import Any

from tenants.demo_cases import Api, _at


async def replay(client: Any) -> dict[str, str]:
    api, staff = Api(client, "jianshexiang"), "jsx_staff"
    tenant = await api.client.get("/api/v1/tenants/jianshexiang", headers=await api.as_("admin"))
    if "red_pavilion" not in tenant.json()["plugins"]:
        return {"jianshexiang_pavilion": "plugin not enabled"}
    if any(v["name"] == "红色议事亭" for v in await api.call(staff, "GET", "/pavilion/venues")):
        return {"jianshexiang_pavilion": "skipped"}
    topics = {t["title"]: t["id"] for t in (await api.call(staff, "GET", "/topics?limit=200"))["items"]}
    pavilion = await api.call(staff, "POST", "/pavilion/venues", {
        "name": "红色议事亭", "party_committee": "建设巷社区党委", "place": "银巴小区中心广场"})
    courtyard = await api.call(staff, "POST", "/pavilion/venues", {
        "name": "党群温馨庭院", "party_committee": "建设巷社区党委", "place": "银巴小区"})
    water = await api.call(staff, "POST", "/pavilion/sessions", {"venue": pavilion["id"], "scheduled_for": _at(-10, 15)})
    await api.call(staff, "POST", f"/pavilion/sessions/{water['id']}/held", {
        "party_members": ["li_party"], "topics": [topics["小区北边增设直饮水机"]], "notes": "有事来商量：直饮水机"})
    monthly = await api.call(staff, "POST", f"/pavilion/venues/{courtyard['id']}/monthly", {"day": 15, "time": "19:30"})
    await api.call(staff, "POST", f"/pavilion/sessions/{monthly['id']}/held", {
        "party_members": ["li_party"], "topics": [topics["14号楼楼顶建筑垃圾清运"], topics["增设充电桩和监控摄像头"]],
        "notes": "每月一议事：楼顶垃圾、充电桩和摄像头"})
    tally = await api.call(staff, "GET", "/pavilion/tally")
    return {"jianshexiang_pavilion": f"{tally['sessions_held']} sessions held, next monthly planned"}

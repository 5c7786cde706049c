"""The liaison station's demo, replayed through the API: 阅海苑小区 (no property company) residents tell the
deputy at his courtyard station about renovation rubbish in the green belt; the request becomes a concern and
a duty-list item, goes through the six steps, and the item follows it to the end; a broken door the deputy takes
on alone is on the list too, researched. The deputy (yuehai_deputy) records further receptions at the station in
the portal."""

from __future__ import annotations

import datetime
from typing import Any

from core import clock
from tenants.demo_cases import Api, _at, _day, _deliberate


async def replay(client: Any) -> dict[str, str]:
    api, staff = Api(client, "yuehai"), "yuehai_staff"
    tenant = await api.client.get("/api/v1/tenants/yuehai", headers=await api.as_("admin"))
    if "liaison_station" not in tenant.json()["plugins"]:
        return {"yuehai_rubbish": "plugin not enabled"}
    stations = await api.call(staff, "GET", "/liaison/stations")
    if any(s["name"] == "阅海苑庭院联络站" for s in stations):
        return {"yuehai_rubbish": "skipped"}
    station = await api.call(staff, "POST", "/liaison/stations", {
        "name": "阅海苑庭院联络站", "kind": "courtyard", "place": "阅海苑小区中心庭院",
        "schedule": [{"deputy": "yuehai_deputy", "weekday": 2, "start": "09:00", "end": "11:00"}]})
    await api.call(staff, "POST", "/liaison/stations", {"name": "7号楼楼头议事会", "kind": "building_head",
                                                        "place": "阅海苑小区7号楼单元门口"})
    held = clock.now() - datetime.timedelta(days=2)
    compound = await api.compound(staff, "阅海苑小区")
    reception = await api.call("yuehai_deputy", "POST", "/liaison/receptions", {
        "station": station["id"], "held_at": held.isoformat(), "residents_received": 12,
        "notes": "接待选民群众，收集小区治理意见",
        "requests": [
            {"title": "绿化带成堆装修垃圾无人处理", "category": "environment", "compound": compound["id"],
             "description": "小区没有物业，绿化带里成堆的装修垃圾无人处理，其他业主又往里倒生活垃圾，夏天味道难闻。"},
            {"title": "小区无物业，停车无序", "category": "parking_roads", "compound": compound["id"],
             "description": "小区建于2004年，长期无物业，车辆乱停乱放。"},
            # One the deputy takes on alone: no concern for the staff, the visitor kept on the item.
            {"title": "3号楼单元门禁损坏", "category": "public_facilities", "route": "duty_list",
             "resident_name": "王阿姨", "resident_phone": "13600001111",
             "description": "3号楼单元门禁坏了半个月，外来人员随意进出。"}]})
    rubbish, parking, door = reception["items"]
    deputy = "yuehai_deputy"
    await api.call(deputy, "POST", f"/liaison/duty-list/{parking['id']}/notes",
                   {"kind": "collected_opinions", "text": "走访12户，征集停车管理意见"})
    await api.call(staff, "POST", f"/concerns/{rubbish['concern']}/triage", {"action": "accept"})
    topic = (await api.call(staff, "POST", "/topics", {"title": "阅海苑小区绿化带垃圾清运",
                                                        "concern_ids": [rubbish["concern"]]}))["id"]
    await api.call(staff, "POST", f"/topics/{topic}/research", {
        "kind": "site_visit", "date": _day(-1), "participants": ["金凤区人大代表", "社区工作人员"],
        "findings": "人大代表现场调研：小区建于2004年，长期无物业，环境卫生、停车、设施维护成治理难题。"})
    await _deliberate(api, staff, topic, {
        "mechanism": "liaison_station", "venue": "阅海苑庭院联络站", "starts_at": _at(-1, 19),
        "invitees": {"roles": ["deputy", "resident_rep"], "users": [deputy]}}, {
        "minutes": "居民代表向人大代表诉说急难愁盼，代表逐一回应，并就垃圾清运再次征求意见。",
        "attendance": {"resident_rep": 10, "deputy": 1}}, "垃圾堆放顽疾由社区、居民志愿者共同参与清运。")
    await api.call(deputy, "POST", f"/liaison/duty-list/{rubbish['id']}/notes",
                   {"kind": "coordinated_departments", "text": "协调街道环卫车辆清运"})
    await api.call(staff, "POST", f"/topics/{topic}/publish")
    action = await api.call(staff, "POST", f"/topics/{topic}/actions", {
        "title": "社区与居民志愿者清运绿化带垃圾", "owner_org": "阅海社区", "due_date": _day(7)})
    await api.call(staff, "POST", f"/actions/{action['id']}/progress", {"percent": 50, "note": "清运过半"})
    await api.call(deputy, "POST", f"/liaison/duty-list/{rubbish['id']}/notes",
                   {"kind": "supervised_works", "text": "现场监督清运过程"})
    await api.call(staff, "POST", f"/actions/{action['id']}/complete")
    await api.call(deputy, "POST", f"/liaison/duty-list/{rubbish['id']}/feedback",
                   {"score": 5, "text": "多年的垃圾顽疾终于解决了"})
    await api.call(deputy, "POST", f"/liaison/duty-list/{door['id']}/notes",
                   {"kind": "research", "text": "现场查看门禁，电源模块损坏"})
    items = {i["id"]: i["state"] for i in await api.call(deputy, "GET", "/liaison/duty-list")}
    return {"yuehai_rubbish": items[rubbish["id"]], "yuehai_parking": items[parking["id"]],
            "yuehai_door": items[door["id"]]}

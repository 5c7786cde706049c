"""The article's cases, replayed through the public API on the demo tenants, each at the step it has reached.

(阅海苑小区's case comes in through the deputy's liaison station: the liaison_station plugin replays it.)

Every case goes through the same routes a client would use, as the demo user who would act, so the demo
also proves each flow of the article is possible. A case already present (by topic title) is skipped.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from core import clock

DEMO_PASSWORD = "yishi-demo"  # noqa: S105 (the demo's published password)


class CaseFailed(RuntimeError):
    """A demo step was refused: the API and the demo disagree, which a test must catch."""


class Api:
    """A thin client of one tenant's routes, signing in demo users as needed."""

    def __init__(self, client: httpx.AsyncClient, slug: str) -> None:
        self.client = client
        self.base = f"/api/v1/tenants/{slug}"
        self._tokens: dict[str, str] = {}

    async def as_(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            response = await self.client.post("/api/v1/auth/token",
                                              json={"username": username, "password": DEMO_PASSWORD})
            if response.status_code != 200:
                raise CaseFailed(f"demo user {username} cannot sign in: {response.text}")
            self._tokens[username] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[username]}"}

    async def call(self, user: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.client.request(method, self.base + path, json=body, headers=await self.as_(user))
        if response.status_code >= 300:
            raise CaseFailed(f"{method} {self.base}{path} as {user}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    async def has_topic(self, user: str, title: str) -> bool:
        page = await self.call(user, "GET", "/topics?limit=200")
        return any(t["title"] == title for t in page["items"])

    async def compound(self, user: str, name: str) -> dict[str, Any]:
        return next(c for c in await self.call(user, "GET", "/compounds") if c["name"] == name)


def _day(offset: int) -> str:
    return (clock.today() + datetime.timedelta(days=offset)).isoformat()


def _at(offset_days: int, hour: int) -> str:
    day = clock.today() + datetime.timedelta(days=offset_days)
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=clock.LOCAL_TZ).isoformat()


async def _accepted(api: Api, filer: str, staff: str, concern: dict[str, Any]) -> str:
    filed = await api.call(filer, "POST", "/concerns", concern)
    await api.call(staff, "POST", f"/concerns/{filed['id']}/triage", {"action": "accept"})
    return filed["id"]


async def _deliberate(api: Api, staff: str, topic: str, meeting: dict[str, Any], minutes: dict[str, Any],
                      decision: str) -> None:
    held = await api.call(staff, "POST", f"/topics/{topic}/meetings", meeting)
    await api.call(staff, "POST", f"/meetings/{held['id']}/minutes", minutes)
    await api.call(staff, "POST", f"/meetings/{held['id']}/decision", {"text": decision, "method": "consensus"})


async def drinking_water(client: httpx.AsyncClient) -> str:
    """银巴小区: a second drinking-water machine for the north side, installed within 5 days."""
    api, staff, title = Api(client, "jianshexiang"), "jsx_staff", "小区北边增设直饮水机"
    if await api.has_topic(staff, title):
        return "skipped"
    yinba = await api.compound(staff, "银巴小区")
    concern = await _accepted(api, "jsx_grid", staff, {
        "title": "小区北边再装一台直饮水机", "category": "public_facilities", "channel": "grid_worker",
        "description": "小区只有一台直饮水机，住在西北角的居民每天步行7分钟左右到南边取水，很不方便。",
        "compound": yinba["id"], "place": "银巴小区西北角", "resident_name": "柳先生", "resident_phone": "13812341234"})
    topic = (await api.call(staff, "POST", "/topics", {"title": title, "concern_ids": [concern],
                                                        "description": "解决小区北边居民用水问题"}))["id"]
    await api.call(staff, "POST", f"/topics/{topic}/research", {
        "kind": "site_visit", "date": _day(-12), "participants": ["辖区党员", "居民代表", "宁夏鑫盛物业"],
        "findings": "小区北侧没有取水点；与会人员实地考察后对位置、电源和排水有了直观认识。"})
    await _deliberate(api, staff, topic, {
        "mechanism": "on_demand", "venue": "红色议事亭", "starts_at": _at(-10, 15),
        "invitees": {"roles": ["party_member", "resident_rep", "property_company"], "orgs": ["宁夏鑫盛物业服务有限公司"]},
        "agenda": "设备选型、位置规划、现场安装"}, {
        "minutes": "多方沟通协调，从设备选型、位置规划、现场安装等环节深入讨论、互动交流。",
        "attendance": {"party_member": 6, "resident_rep": 8, "property_company": 2},
        "opinions": [{"group": "resident_rep", "text": "装在北门内侧，方便西北角几栋楼"},
                     {"group": "property_company", "text": "北门内侧有电源，可在5天内安装"}]},
        "利用5天时间在小区北边安装一台直饮水机。")
    await api.call(staff, "POST", f"/topics/{topic}/publish")
    action = await api.call(staff, "POST", f"/topics/{topic}/actions", {
        "title": "在小区北边安装直饮水机", "owner_org": "宁夏鑫盛物业服务有限公司", "owner_user": "xinsheng_property",
        "due_date": _day(5)})
    await api.call("xinsheng_property", "POST", f"/actions/{action['id']}/progress",
                   {"percent": 60, "note": "设备已到场，正在接水接电"})
    await api.call("xinsheng_property", "POST", f"/actions/{action['id']}/complete")
    return "completed"


async def roof_rubbish(client: httpx.AsyncClient) -> str:
    """银巴小区14号楼: 70 tonnes of rubbish on the roof leaking into 51 top-floor homes, cleared by crane."""
    api, staff, title = Api(client, "jianshexiang"), "jsx_staff", "14号楼楼顶建筑垃圾清运"
    if await api.has_topic(staff, title):
        return "skipped"
    yinba = await api.compound(staff, "银巴小区")
    building = next(b for b in yinba["buildings"] if b["name"] == "14号楼")
    concern = await _accepted(api, "li_party", staff, {
        "title": "楼顶建筑垃圾长期堆放，下雨天漏水", "category": "environment", "building": building["id"],
        "description": "楼顶上的建筑垃圾未及时清运，破坏了防水层，一到下雨天就\u201c外面下大雨，里面下小雨\u201d。"})
    topic = (await api.call(staff, "POST", "/topics", {"title": title, "concern_ids": [concern]}))["id"]
    await api.call(staff, "POST", f"/topics/{topic}/research", {
        "kind": "site_visit", "date": _day(-20), "participants": ["社区工作人员", "宁夏鑫盛物业"],
        "findings": "14号楼楼顶堆放大量杂物，包括前期施工遗留的建筑垃圾、废旧家具，刮风下雨时存在安全隐患。"})
    await _deliberate(api, staff, topic, {
        "mechanism": "monthly", "venue": "党群温馨庭院", "starts_at": _at(-18, 9),
        "invitees": {"roles": ["property_company", "party_member", "resident_rep"]}}, {
        "minutes": "物业公司、直管党员、居民代表共同商议清理方案。", "attendance": {"party_member": 5, "resident_rep": 7}},
        "由物业公司调用大吊车集中清运14号楼楼顶垃圾，修复防水层。")
    await api.call(staff, "POST", f"/topics/{topic}/publish")
    action = await api.call(staff, "POST", f"/topics/{topic}/actions", {
        "title": "吊车清运楼顶垃圾", "owner_org": "宁夏鑫盛物业服务有限公司", "owner_user": "xinsheng_property",
        "due_date": _day(3)})
    await api.call("xinsheng_property", "POST", f"/actions/{action['id']}/progress",
                   {"percent": 100, "note": "共清理出70吨垃圾，51户顶楼住户受益"})
    await api.call("xinsheng_property", "POST", f"/actions/{action['id']}/complete")
    return "completed"


async def chargers_and_cameras(client: httpx.AsyncClient) -> str:
    """银巴小区: 3 groups of EV chargers against flying-lead charging, and 4 cameras."""
    api, staff, title = Api(client, "jianshexiang"), "jsx_staff", "增设充电桩和监控摄像头"
    if await api.has_topic(staff, title):
        return "skipped"
    concern = await _accepted(api, "zhang_rep", staff, {
        "title": "电动车飞线充电，监控有盲区", "category": "ev_charging",
        "description": "楼栋间电动车飞线充电有安全隐患，小区部分区域没有监控。"})
    topic = (await api.call(staff, "POST", "/topics", {"title": title, "concern_ids": [concern]}))["id"]
    await _deliberate(api, staff, topic, {
        "mechanism": "monthly", "venue": "红色议事亭", "starts_at": _at(-30, 15),
        "invitees": {"roles": ["property_company", "resident_rep", "party_member"]}}, {
        "minutes": "民主协商议事会讨论充电桩选址与监控点位。", "attendance": {"resident_rep": 9}},
        "在楼栋集中、宽敞处增设3组充电桩；安装4处摄像头，监控全覆盖。")
    await api.call(staff, "POST", f"/topics/{topic}/publish")
    actions = [await api.call(staff, "POST", f"/topics/{topic}/actions", {
        "title": item, "owner_org": "宁夏鑫盛物业服务有限公司", "owner_user": "xinsheng_property", "due_date": _day(10)})
        for item in ("增设3组充电桩", "安装4处摄像头")]
    for action in actions:
        await api.call("xinsheng_property", "POST", f"/actions/{action['id']}/complete")
    await api.call("zhang_rep", "POST", f"/topics/{topic}/ratings", {"score": 5, "comment": "安全指数提高了"})
    return "completed"


async def poplar_tree(client: httpx.AsyncClient) -> str:
    """老干部楼小区: a poplar blocking the only way out; 住建局 and 自然资源局 invited; felled, road widened."""
    api, staff, title = Api(client, "shangqiao"), "shangqiao_staff", "老干部楼小区道路拥挤"
    if await api.has_topic(staff, title):
        return "skipped"
    compound = await api.compound(staff, "老干部楼小区")
    concern = await _accepted(api, staff, staff, {
        "title": "小区唯一出口被白杨树挡住", "category": "parking_roads", "channel": "phone",
        "compound": compound["id"], "resident_name": "老干部楼居民",
        "description": "小区只留有一条出行通道，大门口的白杨树给居民出行带来极大不便。"})
    topic = (await api.call(staff, "POST", "/topics", {"title": title, "concern_ids": [concern]}))["id"]
    await _deliberate(api, staff, topic, {
        "mechanism": "on_demand", "venue": "八宝茶睦邻议事厅", "starts_at": _at(-6, 10),
        "invitees": {"roles": ["department", "grid_worker", "resident_rep"], "orgs": ["利通区住建局", "利通区自然资源局"],
                     "users": ["litong_zhujian", "litong_ziranziyuan"]}}, {
        "minutes": "就老干部楼小区道路拥挤问题协商。", "attendance": {"department": 2, "resident_rep": 6, "grid_worker": 2}},
        "伐掉大门口白杨树，并对北侧绿化带进行硬化，缩小绿化带以拓宽道路。")
    await api.call(staff, "POST", f"/topics/{topic}/publish")
    fell = await api.call(staff, "POST", f"/topics/{topic}/actions", {
        "title": "伐除大门口白杨树", "owner_org": "利通区自然资源局", "owner_user": "litong_ziranziyuan", "due_date": _day(7)})
    pave = await api.call(staff, "POST", f"/topics/{topic}/actions", {
        "title": "硬化北侧绿化带、拓宽道路", "owner_org": "利通区住建局", "owner_user": "litong_zhujian", "due_date": _day(20)})
    await api.call("litong_ziranziyuan", "POST", f"/actions/{fell['id']}/complete")
    await api.call("litong_zhujian", "POST", f"/actions/{pave['id']}/complete")
    return "completed"


async def basketball_court(client: httpx.AsyncClient) -> str:
    """梦园东小区: a cracked basketball court, surveyed with the residents, being repaired."""
    api, staff, title = Api(client, "mengyuan"), "mengyuan_staff", "梦园东小区篮球场修缮"
    if await api.has_topic(staff, title):
        return "skipped"
    compound = await api.compound(staff, "梦园东小区")
    concern = await _accepted(api, staff, staff, {
        "title": "篮球场开裂、翘边", "category": "public_facilities", "compound": compound["id"],
        "resident_name": "巡逻队", "description": "篮球场年久失修，场地破损影响居民休闲与健身。"})
    topic = (await api.call(staff, "POST", "/topics", {"title": title, "concern_ids": [concern]}))["id"]
    await api.call(staff, "POST", f"/topics/{topic}/research", {
        "kind": "site_visit", "date": _day(-15), "participants": ["社区党委副书记", "委员", "巡逻队成员"],
        "findings": "全面勘测评估：场地开裂、翘边、破损，记录安全隐患，为修缮提供数据。"})
    await api.call(staff, "POST", f"/topics/{topic}/research", {
        "kind": "survey", "date": _day(-13), "question": "篮球场如何修缮？", "options": ["整体翻新", "局部修补"],
        "counts": {"整体翻新": 34, "局部修补": 9}})
    await _deliberate(api, staff, topic, {
        "mechanism": "on_demand", "venue": "梦园社区议事厅", "starts_at": _at(-10, 19),
        "invitees": {"roles": ["resident_rep", "party_member"]}}, {
        "minutes": "根据勘测与入户走访结果协商修缮方案。", "attendance": {"resident_rep": 7, "party_member": 4}},
        "对篮球场整体翻新，修复开裂与翘边，并增设休息座椅。")
    await api.call(staff, "POST", f"/topics/{topic}/publish")
    action = await api.call(staff, "POST", f"/topics/{topic}/actions", {
        "title": "篮球场整体翻新", "owner_org": "梦园社区", "due_date": _day(30)})
    await api.call(staff, "POST", f"/actions/{action['id']}/progress", {"percent": 60, "note": "面层已铺设"})
    return "executing"


async def reopened_concern(client: httpx.AsyncClient) -> str:
    """建设巷社区: a blocked drain resolved directly, which its resident says is not solved: reopened (重办)."""
    api, staff, resident, title = Api(client, "jianshexiang"), "jsx_staff", "liu_resident", "14号楼下水道返味"
    if any(c["title"] == title for c in (await api.call(resident, "GET", "/concerns"))["items"]):
        return "skipped"
    filed = await api.call(resident, "POST", "/concerns", {
        "title": title, "category": "drainage", "place": "银巴小区14号楼一单元",
        "description": "一单元楼道下水道返味，夏天尤其明显，已经持续一个多月。"})
    await api.call(staff, "POST", f"/concerns/{filed['id']}/triage",
                   {"action": "resolve_directly", "note": "已联系物业疏通一单元下水管道"})
    await api.call(resident, "POST", f"/concerns/{filed['id']}/revisit",
                   {"solved": False, "satisfaction": "unsatisfied", "note": "疏通后第二天又返味了"})
    return "reopened"


# One matter written three ways by residents of 银巴小区, each accepted and none drafted into a topic yet: staff
# are offered it as a topic on the inbox's new-topic form ("…: 3 条, 银巴小区 11、14号楼"), and see it as a hot
# topic of the month on the dashboard.
CHARGING = [
    ("zhang_rep", "11号楼", {"title": "11号楼电动车充电难", "category": "ev_charging",
                             "description": "车棚的充电桩太少，晚上下班回来充电桩都被占满了。"}),
    ("liu_resident", None, {"title": "电动车充电难", "category": "ev_charging",
                            "description": "小区充电桩太少，晚上回来充电桩都被占满，充不上电。"}),
    ("li_party", "14号楼", {"title": "14号楼电动车充电难", "category": "ev_charging",
                            "description": "楼下没有充电桩，晚上充电桩都被占满，有人从楼上拉线充电。"}),
]


async def charging_suggestion(client: httpx.AsyncClient) -> str:
    """建设巷社区: three accepted concerns about charging e-bikes, waiting to be drafted into one topic."""
    api, staff = Api(client, "jianshexiang"), "jsx_staff"
    if any(c["title"] == CHARGING[0][2]["title"] for c in (await api.call(staff, "GET", "/concerns?limit=200"))["items"]):
        return "skipped"
    yinba = await api.compound(staff, "银巴小区")
    buildings = {b["name"]: b["id"] for b in yinba["buildings"]}
    for filer, building, concern in CHARGING:
        await _accepted(api, filer, staff, {**concern, "compound": yinba["id"],
                                            **({"building": buildings[building]} if building else {})})
    return "3 accepted, offered as one topic"


# 接诉即办's common limits, set by 西夏区 for everything below it (the platform's defaults are the same: here they
# are the district's own, so its communities' pages show where their limits came from).
XIXIA_LIMITS = [
    {"urgency": "urgent", "respond": "PT2H", "resolve": "P1D"},
    {"urgency": "normal", "respond": "PT24H", "resolve": "P7D", "resolve_working": True},
    {"urgency": "complex", "respond": "PT24H", "resolve": "P15D", "resolve_working": True},
]


async def time_limits(client: httpx.AsyncClient) -> str:
    api = Api(client, "xixia")
    if (await api.call("xixia_admin", "GET", "/time-limits"))["own"]["limits"]:
        return "skipped"
    await api.call("xixia_admin", "PUT", "/time-limits", {"limits": XIXIA_LIMITS, "escalate_ceiling": "street",
                                                          "escalate_after_hours": 24})
    return "set by 西夏区"


# Filed earlier and not yet answered: the time-limit sweep that `yishi demo` runs next reminds staff of the one
# due soon and escalates the one long overdue to 北京西路街道 (after 24 hours red, never above the street).
LATE_CONCERNS = [
    (datetime.timedelta(days=3), {"title": "3号楼电梯停运", "category": "public_facilities", "urgency": "urgent",
                                  "place": "银巴小区3号楼", "channel": "grid_worker", "resident_name": "住户",
                                  "description": "3号楼电梯从早上起停运，楼上有行动不便的老人。"}),
    (datetime.timedelta(hours=20), {"title": "小区东门路灯不亮", "category": "public_facilities",
                                    "place": "银巴小区东门", "channel": "grid_worker", "resident_name": "住户",
                                    "description": "东门两盏路灯不亮，晚上进出很黑。"}),
]


async def late_concerns(client: httpx.AsyncClient) -> str:
    """建设巷社区: two concerns a grid worker filed earlier, which nobody has answered yet."""
    if any(c["title"] == LATE_CONCERNS[0][1]["title"]
           for c in (await Api(client, "jianshexiang").call("jsx_staff", "GET", "/concerns"))["items"]):
        return "skipped"
    for ago, concern in LATE_CONCERNS:
        with clock.frozen(clock.now() - ago):
            await Api(client, "jianshexiang").call("jsx_grid", "POST", "/concerns", concern)  # signed in back then
    return "filed 3 days and 20 hours ago, unanswered"


CASES: list[Callable[[httpx.AsyncClient], Awaitable[str]]] = [
    drinking_water, roof_rubbish, chargers_and_cameras, poplar_tree, basketball_court, time_limits, late_concerns,
    reopened_concern, charging_suggestion,
]


async def replay(client: httpx.AsyncClient) -> dict[str, str]:
    """Run every case not yet present; returns case name → the step it ended at (or "skipped")."""
    return {case.__name__: await case(client) for case in CASES}

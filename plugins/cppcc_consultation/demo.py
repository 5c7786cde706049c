"""The CPPCC demo, replayed through the API: 吴忠市政协's "规范和加强小区物业管理" (a shorter list with the article's
shape: training, visits to 6 then 16 compounds, symposia with each stakeholder group, common problems in 3
aspects and individual ones referred to 住建局, 4 recommendations), and 望都县's shoe-industry IP symposium."""

from __future__ import annotations

from typing import Any

from tenants.demo_cases import Api, _day

ASPECTS = {
    "体制机制": ["物业法律制度保障不够完善", "管理机制不够健全，前期物业招投标和督查考核制度缺失"],
    "物业企业服务质量": ["多数物业管理企业呈现\u201c低散乱\u201d", "物业服务标准不统一，收费与服务不对等"],
    "配套设施不完善": ["老旧小区配套设施不全、建设遗留问题多"],
}
RECOMMENDATIONS = [("完善法规制度机制：尽快制定加强物业管理工作的意见，启动物业立法", ["体制机制"]),
                   ("加强物业企业管理：规范物业服务标准，加强行业自律", ["物业企业服务质量"]),
                   ("发挥党建引领作用：推动社区党组织、业委会、物业公司协同", ["体制机制", "物业企业服务质量"]),
                   ("解决建设遗留问题：对老旧破小、兜底托管小区分类施策", ["配套设施不完善"])]


async def _plan(api: Api, admin: str, year: int, title: str) -> str:
    plans = await api.call(admin, "GET", "/cppcc/plans")
    found = next((p for p in plans if p["year"] == year), None)
    return found["id"] if found else (await api.call(admin, "POST", "/cppcc/plans", {"year": year, "title": title}))["id"]


async def wuzhong(client: Any) -> str:
    api, admin, member = Api(client, "wuzhong"), "wuzhong_admin", "wuzhong_cppcc"
    plans = await api.call(admin, "GET", "/cppcc/plans")
    if any(t["title"] == "规范和加强小区物业管理" for p in plans for t in p["topics"]):
        return "skipped"
    plan = await _plan(api, admin, 2024, "吴忠市政协2024年度协商计划")
    topic = (await api.call(admin, "POST", f"/cppcc/plans/{plan}/topics",
                            {"title": "规范和加强小区物业管理", "members": [member]}))["id"]
    await api.call(member, "POST", f"/cppcc/topics/{topic}/trainings", {
        "date": _day(-40), "title": "物业管理法律法规政策专题培训（吴忠市住建局分管领导授课）", "attendees": [member]})
    await api.call(member, "POST", f"/cppcc/topics/{topic}/visits", {
        "community": "shangqiao", "date": _day(-35), "compounds": [f"利通区、青铜峡市代表性小区{i}" for i in range(1, 7)],
        "findings": "详细了解居民小区物业管理实际情况和存在问题。"})
    for group, who, text in [("departments", "吴忠市住建局", "物业管理督查考核制度有待完善"),
                             ("owners_committees", "业委会代表", "业委会成立难、运转难"),
                             ("property_companies", "物业公司", "收费率低，服务难以为继"),
                             ("owner_representatives", "业主代表", "希望服务标准公开透明")]:
        await api.call(member, "POST", f"/cppcc/topics/{topic}/symposia",
                       {"group": group, "date": _day(-30), "participants": 8, "statements": [{"who": who, "text": text}]})
    await api.call(member, "POST", f"/cppcc/topics/{topic}/visits", {
        "community": "shangqiao", "date": _day(-25), "compounds": [f"胜利镇、古城镇、金积镇老旧小区{i}" for i in range(1, 17)],
        "findings": "走访老旧破小、兜底托管等问题多、难度大的小区，与业主、物业、物管会面对面协商交流。"})
    ids: dict[str, list[str]] = {}
    for aspect, texts in ASPECTS.items():
        for text in texts:
            problem = await api.call(member, "POST", f"/cppcc/topics/{topic}/problems",
                                     {"text": text, "kind": "common", "aspect": aspect})
            ids.setdefault(aspect, []).append(problem["id"])
    individual = await api.call(member, "POST", f"/cppcc/topics/{topic}/problems", {
        "text": "老干部楼小区物业服务合同到期未续签", "kind": "individual", "department": "wuzhong_zhujian"})
    await api.call("wuzhong_zhujian", "POST", f"/cppcc/problems/{individual['id']}/answer",
                   {"answer": "已督促街道指导小区重新选聘物业"})
    for text, aspects in RECOMMENDATIONS:
        recommendation = await api.call(member, "POST", f"/cppcc/topics/{topic}/recommendations",
                                        {"text": text, "problem_ids": [i for a in aspects for i in ids[a]]})
        await api.call(admin, "POST", f"/cppcc/recommendations/{recommendation['id']}/follow-up",
                       {"adopted": True, "note": "已转市政府研究办理"})
    counts = (await api.call(member, "GET", f"/cppcc/topics/{topic}"))["counts"]
    return f"{counts['compounds_visited']} compounds, {counts['problems']} problems, {counts['aspects']} aspects, " \
           f"{counts['recommendations']} recommendations"


async def wangdu(client: Any) -> str:
    api, admin, member = Api(client, "wangdu"), "wangdu_admin", "wangdu_cppcc"
    plans = await api.call(admin, "GET", "/cppcc/plans")
    if any(t["title"] == "鞋业知识产权保护" for p in plans for t in p["topics"]):
        return "skipped"
    plan = await _plan(api, admin, 2024, "望都县政协2024年度协商计划")
    topic = (await api.call(admin, "POST", f"/cppcc/plans/{plan}/topics",
                            {"title": "鞋业知识产权保护", "members": [member]}))["id"]
    await api.call(member, "POST", f"/cppcc/topics/{topic}/symposia", {
        "group": "enterprises", "date": _day(-60), "participants": 15, "statements": [
            {"who": "县鞋业协会负责人", "text": "部分鞋企和电商遇到知识产权纠纷，面临巨额赔偿"},
            {"who": "市场监管局", "text": "将研究制定鞋业质量标准"}]})
    problem = await api.call(member, "POST", f"/cppcc/topics/{topic}/problems", {
        "text": "鞋业企业知识产权保护意识较弱", "kind": "common", "aspect": "知识产权保护"})
    for text in ("市场监管部门研究制定鞋业质量标准和加强鞋业知识产权保护的意见", "协调鞋业协会及鞋企聘请专业律师介入案件"):
        recommendation = await api.call(member, "POST", f"/cppcc/topics/{topic}/recommendations",
                                        {"text": text, "problem_ids": [problem["id"]]})
        await api.call(admin, "POST", f"/cppcc/recommendations/{recommendation['id']}/follow-up",
                       {"adopted": True, "note": "跟踪案件办理情况"})
    return "symposium held, 2 recommendations adopted"


async def replay(client: Any) -> dict[str, str]:
    return {"wuzhong_property_management": await wuzhong(client), "wangdu_shoe_ip": await wangdu(client)}

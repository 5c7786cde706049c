"""The CPPCC demo, replayed through the API: 吴忠市政协's "规范和加强小区物业管理" of its 2024 plan, as the article
tells it — a training first, visits to 6 compounds of 利通区 and 青铜峡市, symposia with each stakeholder group,
visits to 16 more compounds of 胜利镇, 古城镇 and 金积镇, 68 problems (individual ones referred to 住建局, common
ones in 3 aspects), 4 recommendations followed up — and 望都县's shoe-industry IP symposium."""

from __future__ import annotations

from typing import Any

from tenants.demo_cases import Api, _day

# The article gives the places, not the compounds' names: these are plausible ones (老干部楼小区 is the article's).
FIRST_VISITS = [  # May 2024: "深入具有代表性的利通区、青铜峡市6个小区进行实地调研"
    ("shangqiao", "2024-05-09", ["朝阳小区", "富荣花园", "金星花园"],
     "利通区代表性小区：物业服务合同履行、收费与服务对等、业委会运转情况。"),
    ("yuxi", "2024-05-10", ["裕西小区", "青铜峡市供电局家属院", "金水湾小区"],
     "青铜峡市代表性小区：前期物业招投标、建管衔接、配套设施情况。"),
]
LATER_VISITS = [  # "赴胜利镇、古城镇、金积镇走访老旧破小、兜底托管等……16个小区"
    ("shangqiao", "2024-05-22", ["老干部楼小区", "上桥新村", "胜利家园", "粮食局家属院", "供销社家属楼", "水利局家属院"],
     "老旧破小小区无物业或兜底托管，楼顶漏水、管网老化、停车难问题集中。"),
    ("gucheng-shequ", "2024-05-23", ["古城花园", "古城新村", "电厂家属院", "农机站家属楼", "东塔寺小区"],
     "兜底托管小区物业费收缴率低，水电费亏损，服务难以为继。"),
    ("jinji-shequ", "2024-05-24", ["金积新村", "金积花园", "汉渠小区", "农场家属院", "金积中学家属楼"],
     "建管衔接不配套遗留问题多，引发的矛盾纠纷调解处理难度大。"),
]
SYMPOSIA = [  # "听取行业主管部门和配合部门、业委会、物业公司、业主代表等各方意见建议"
    ("departments", "2024-05-14", 9, [("吴忠市住建局", "住宅小区前期物业招投标、物业管理督查考核等制度有待修订完善"),
                                      ("吴忠市市场监管局", "物业服务收费公示和价格监管需要加强")]),
    ("owners_committees", "2024-05-15", 7, [("业委会代表", "业委会成立难、运转难，缺少专业指导"),
                                           ("物管会代表", "兜底托管小区选聘物业难")]),
    ("property_companies", "2024-05-15", 11, [("物业服务企业负责人", "建管衔接不配套遗留问题引发的矛盾纠纷隐患多，调解处理难度大"),
                                              ("物业服务企业负责人", "停车难问题比较突出"),
                                              ("物业服务企业负责人", "物业费收缴不及时，水电费有亏损")]),
    ("owner_representatives", "2024-05-16", 12, [("业主代表", "希望物业服务标准公开透明，收费与服务对等"),
                                                 ("业主代表", "老旧小区楼顶漏水、管网老化，盼早日解决")]),
]
# The article's common problems, then the variations found compound by compound: 56 in 3 aspects.
ASPECTS = {
    "体制机制": ["物业法律制度保障不够完善", "管理机制不够健全，前期物业招投标和督查考核制度缺失",
                 "物业管理工作协调机制不健全，部门职责边界不清", "业委会成立难、运转难，缺少指导和监督",
                 "兜底托管小区缺少长效管理机制", "物业服务收费标准多年未调整，缺少动态调整机制"],
    "物业企业服务质量": ["多数物业管理企业呈现\u201c低散乱\u201d", "物业服务标准不统一，收费与服务不对等",
                         "物业从业人员专业素质不高、流动性大", "物业服务行业自律不足，信用评价未建立"],
    "配套设施不完善": ["老旧小区配套设施不全、建设遗留问题多", "建管衔接不配套遗留问题引发的矛盾纠纷隐患多",
                       "停车难问题比较突出", "物业费收缴不及时，水电费有亏损"],
}
FOUND = {  # what was found in the compounds visited, by aspect
    "体制机制": ["未成立业委会，由社区兜底托管", "物业服务合同到期后未按程序续聘", "物业管理用房未移交",
                 "公共收益未公示", "维修资金使用程序繁琐、启动难", "业委会换届逾期"],
    "物业企业服务质量": ["保洁不及时，楼道杂物堆放", "安保巡查不到位，门禁长期损坏", "绿化养护缺失",
                         "报修响应慢", "物业服务事项和收费未公示", "电梯维保记录不全"],
    "配套设施不完善": ["停车位不足，车辆占用消防通道", "雨污管网老化，雨季积水", "楼顶防水层老化漏水",
                       "缺少电动车集中充电设施", "路灯损坏多年未修", "二次供水设施老化"],
}
INDIVIDUAL = [  # 个性问题, "交由物业管理部门处理": referred to 吴忠市住建局
    ("老干部楼小区物业服务合同到期未续签", "已督促街道指导小区重新选聘物业"),
    ("上桥新村3号楼楼顶漏水，维修资金无法启动", "已指导社区按应急程序使用维修资金，6月底前完成维修"),
    ("粮食局家属院化粪池堵塞外溢", "已协调利通区住建局组织疏通"),
    ("古城新村开发商遗留的地下车库产权不清", "已会同自然资源部门核查产权资料"),
    ("电厂家属院二次供水泵房设备损坏", "已纳入2024年老旧小区改造计划"),
    ("金积新村物业公司擅自提高停车收费", "已责成物业公司按备案标准收费并退还多收费用"),
    ("汉渠小区消防通道被私搭乱建占用", "已联合执法部门拆除"),
    ("富荣花园前期物业未经招投标", None),
    ("金水湾小区公共收益去向不明", None),
    ("农场家属院无物业管理用房", "已协调社区提供临时物业用房"),
    ("裕西小区电梯年检逾期", None),
    ("古城花园业委会与物业公司合同纠纷", None),
]
RECOMMENDATIONS = [
    ("完善法规制度机制：尽快制定吴忠市进一步加强物业管理工作的相关意见，修订完善住宅小区前期物业招投标、"
     "物业管理督查考核等制度，尽快启动物业立法工作，为物业管理提供法治保障", ["体制机制"],
     "市政府已研究制定加强物业管理工作的意见，物业立法列入立法计划"),
    ("加强物业企业管理：规范物业服务标准，提升物业服务档次，加强物业服务行业自律，力求\u201c业主满意、"
     "企业受益、行业顺意\u201d", ["物业企业服务质量"], "住建局已出台物业服务标准，开展物业企业信用评价"),
    ("发挥党建引领作用：推动社区党组织、业委会、物业服务企业协调运行，把物业管理纳入基层治理",
     ["体制机制", "物业企业服务质量"], "已在利通区、青铜峡市推行红色物业试点"),
    ("解决建设遗留问题：对老旧破小、兜底托管小区分类施策，补齐停车、管网等配套设施短板", ["配套设施不完善"],
     "已将16个老旧小区纳入改造计划"),
]
COMPOUNDS = [c for _s, _d, names, _f in FIRST_VISITS + LATER_VISITS for c in names]


def common_problems() -> dict[str, list[str]]:
    """The 56 common problems by aspect: the article's own, then each aspect's findings at the compounds."""
    found: dict[str, list[str]] = {aspect: list(texts) for aspect, texts in ASPECTS.items()}
    targets = {"体制机制": 19, "物业企业服务质量": 20, "配套设施不完善": 17}
    for aspect, issues in FOUND.items():
        i = 0
        while len(found[aspect]) < targets[aspect]:
            compound = COMPOUNDS[(i * 7 + len(aspect)) % len(COMPOUNDS)]
            text = compound + issues[i % len(issues)]
            if text not in found[aspect]:
                found[aspect].append(text)
            i += 1
    return found


async def _plan(api: Api, admin: str, year: int, title: str) -> str:
    plans = await api.call(admin, "GET", "/cppcc/plans")
    found = next((p for p in plans if p["year"] == year), None)
    return found["id"] if found else (await api.call(admin, "POST", "/cppcc/plans", {"year": year, "title": title}))["id"]


async def wuzhong(client: Any) -> str:
    api, admin, member, department = Api(client, "wuzhong"), "wuzhong_admin", "wuzhong_cppcc", "wuzhong_zhujian"
    plans = await api.call(admin, "GET", "/cppcc/plans")
    if any(t["title"] == "规范和加强小区物业管理" for p in plans for t in p["topics"]):
        return "skipped"
    plan = await _plan(api, admin, 2024, "吴忠市政协2024年度协商计划")
    topic = (await api.call(admin, "POST", f"/cppcc/plans/{plan}/topics",
                            {"title": "规范和加强小区物业管理", "members": [member]}))["id"]
    at = f"/cppcc/topics/{topic}"
    await api.call(member, "POST", f"{at}/trainings", {
        "date": "2024-05-06", "title": "\u201c规范和加强小区物业管理\u201d调研培训会（吴忠市住建局分管领导授课）",
        "attendees": ["吴忠市政协委员"]})
    for community, date, compounds, findings in FIRST_VISITS:
        await api.call(member, "POST", f"{at}/visits",
                       {"community": community, "date": date, "compounds": compounds, "findings": findings})
    for group, date, participants, said in SYMPOSIA:
        await api.call(member, "POST", f"{at}/symposia", {"group": group, "date": date, "participants": participants,
                                                         "statements": [{"who": w, "text": t} for w, t in said]})
    for community, date, compounds, findings in LATER_VISITS:
        await api.call(member, "POST", f"{at}/visits",
                       {"community": community, "date": date, "compounds": compounds, "findings": findings})
    ids: dict[str, list[str]] = {}
    for aspect, texts in common_problems().items():
        for text in texts:
            problem = await api.call(member, "POST", f"{at}/problems", {"text": text, "kind": "common", "aspect": aspect})
            ids.setdefault(aspect, []).append(problem["id"])
    for text, answer in INDIVIDUAL:
        referred = await api.call(member, "POST", f"{at}/problems",
                                  {"text": text, "kind": "individual", "department": department})
        if answer:
            await api.call(department, "POST", f"/cppcc/problems/{referred['id']}/answer", {"answer": answer})
    for text, aspects, note in RECOMMENDATIONS:
        recommendation = await api.call(member, "POST", f"{at}/recommendations",
                                        {"text": text, "problem_ids": [i for a in aspects for i in ids[a]]})
        await api.call(admin, "POST", f"/cppcc/recommendations/{recommendation['id']}/follow-up",
                       {"adopted": True, "note": note})
    counts = (await api.call(member, "GET", at))["counts"]
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

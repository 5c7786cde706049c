"""The roles, the actions, and the role → action rules of the core, declared once for every tenant."""

from __future__ import annotations

from dataclasses import dataclass

# 角色: code name → Chinese name, as the UI shows them.
ROLES: dict[str, str] = {
    "platform_admin": "平台管理员",
    "district_admin": "区/街道管理员",
    "street_staff": "街道工作人员",
    "community_staff": "社区工作人员",
    "grid_worker": "网格员",
    "resident": "居民",
    "resident_rep": "居民代表",
    "party_member": "党员",
    "deputy": "人大代表",
    "cppcc_member": "政协委员",
    "property_company": "物业公司",
    "department": "职能部门",
}
TENANT_ROLES = tuple(r for r in ROLES if r != "platform_admin")
STAFF_ROLES = ("district_admin", "street_staff", "community_staff")


@dataclass(frozen=True)
class Action:
    """Something a role may be allowed to do, named `object.verb` (casbin's obj and act)."""

    name: str
    description: str

    @property
    def obj(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def act(self) -> str:
        return self.name.split(".", 1)[1]


def grant_action(role: str) -> str:
    """The action of granting `role` to someone: who may hand out which role is a rule like any other."""
    return f"role.{role}"


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in [
        Action("tenant.read", "查看租户信息"),
        Action("tenant.update", "修改租户名称、门户设置与插件"),
        Action("tenant.archive", "归档或恢复租户"),
        Action("tenant.create_child", "在下级开设租户（社区入驻）"),
        Action("member.read", "查看成员与角色"),
        Action("member.manage", "授予或撤销成员角色"),
        Action("person.phone", "查看完整手机号"),
        Action("person.phone_log", "查看手机号查看记录"),
        Action("compound.read", "查看小区与楼栋"),
        Action("compound.manage", "维护小区与楼栋"),
        Action("residence.confirm", "确认或更正居民的小区与楼栋"),
        Action("concern.file", "反映诉求"),
        Action("concern.file_on_behalf", "代居民反映诉求"),
        Action("concern.support", "附议他人反映的诉求"),
        Action("concern.read", "查看自己反映或代办的诉求"),
        Action("concern.read_all", "查看本辖区全部诉求"),
        Action("concern.triage", "受理、驳回、直接办结或上报诉求，改写其公开摘要"),
        Action("concern.escalation", "接办或退回下级上报的诉求"),
        Action("concern.extension_decide", "审批下级诉求的延期申请"),
        Action("concern.merge", "合并重复诉求或撤销合并"),
        Action("category.manage", "增加诉求分类"),
        Action("topic.read", "查看议题全过程"),
        Action("topic.manage", "拟定议题、调研、组织协商、公开结果、布置执行"),
        Action("action.read", "查看执行事项（责任单位看自己的）"),
        Action("action.progress", "报告执行进度"),
        Action("topic.rate", "评价协商结果的落实"),
        Action("stats.read", "查看统计"),
        Action("rates.read", "查看响应率、按时办结率、满意率等与所辖社区的红黑榜"),
        Action("webhook.manage", "登记或删除本租户接收通知的 Webhook"),
        Action("timelimit.read", "查看时限（响应、办结时限与工作时间）"),
        Action("timelimit.manage", "设置本级时限与工作时间（只能收紧上级的时限）"),
        *[Action(grant_action(r), f"授予角色：{ROLES[r]}") for r in TENANT_ROLES],
    ]
}

_COMMUNITY_GRANTS = ["grid_worker", "resident", "resident_rep", "party_member", "property_company"]
_STREET_GRANTS = ["street_staff", "community_staff", *_COMMUNITY_GRANTS, "deputy", "cppcc_member", "department"]

# (role, action) pairs; "*" stands for every object or verb.
RULES: list[tuple[str, str]] = [
    ("platform_admin", "*.*"),
    *[(role, "tenant.read") for role in TENANT_ROLES],
    *[(role, "compound.read") for role in TENANT_ROLES],
    *[(role, "tenant.update") for role in STAFF_ROLES],
    ("district_admin", "tenant.archive"),
    ("district_admin", "tenant.create_child"),
    *[(role, "member.read") for role in STAFF_ROLES],
    *[(role, "member.manage") for role in STAFF_ROLES],
    *[(role, "compound.manage") for role in STAFF_ROLES],
    *[(role, "residence.confirm") for role in STAFF_ROLES],  # a community's staff, and those above them
    # Those who contact residents see their numbers; administrators above the community see them masked.
    ("community_staff", "person.phone"),
    ("grid_worker", "person.phone"),
    ("district_admin", "person.phone_log"),  # who read residents' numbers in every community below
    *[(role, action) for role in (*STAFF_ROLES, "grid_worker", "resident", "resident_rep", "party_member", "deputy")
      for action in ("concern.file", "concern.support")],  # whoever may raise a matter may join another's
    *[(role, "concern.file_on_behalf") for role in (*STAFF_ROLES, "grid_worker", "deputy")],
    *[(role, "concern.read") for role in (*STAFF_ROLES, "grid_worker", "resident", "resident_rep",
                                          "party_member", "deputy")],
    *[(role, action) for role in STAFF_ROLES
      for action in ("concern.read_all", "concern.triage", "category.manage", "topic.read", "topic.manage",
                     "action.read", "action.progress", "stats.read")],
    *[(role, "rates.read") for role in STAFF_ROLES],
    *[(role, "concern.merge") for role in STAFF_ROLES],
    *[(role, "webhook.manage") for role in STAFF_ROLES],
    *[(role, action) for role in STAFF_ROLES for action in ("timelimit.read", "timelimit.manage")],
    ("district_admin", "concern.escalation"),
    ("street_staff", "concern.escalation"),
    ("district_admin", "concern.extension_decide"),
    ("street_staff", "concern.extension_decide"),
    *[(role, action) for role in ("property_company", "department") for action in ("action.read", "action.progress")],
    *[(role, "topic.rate") for role in ("resident", "resident_rep", "party_member")],
    ("district_admin", "role.*"),
    *[("street_staff", grant_action(r)) for r in _STREET_GRANTS],
    *[("community_staff", grant_action(r)) for r in _COMMUNITY_GRANTS],
]

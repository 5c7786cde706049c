"""政协专题协商: a city or district's annual consultation plan, and for each topic a research group that trains
first, visits communities, holds symposia, lists problems, writes recommendations and reports the outcome."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.hookspecs import hookimpl

NAME = "cppcc_consultation"
VERSION = "1.0.0"
TITLE = "政协专题协商"

ADMINS = ["district_admin", "street_staff"]


@hookimpl
def yishi_register_rules(register: Any) -> None:
    register(action="cppcc.read", description="查看协商计划与专题调研", roles=["cppcc_member", "department", *ADMINS,
                                                                              "community_staff"])
    register(action="cppcc.manage", description="制定年度协商计划、组建调研组", roles=ADMINS)
    register(action="cppcc.research", description="记录学习、调研、座谈、问题清单与意见建议（调研组成员）",
             roles=["cppcc_member", *ADMINS])
    register(action="cppcc.answer", description="答复交办的个性问题", roles=["department"])


@hookimpl
def yishi_register_routes(register: Any) -> None:
    from plugins.cppcc_consultation.controllers import CppccController

    register(CppccController)


@hookimpl
def yishi_notification_rules() -> list[Any]:
    from plugins.cppcc_consultation.notifications import RULES

    return RULES


@hookimpl
def yishi_portal_pages() -> list[Any]:
    from plugins.cppcc_consultation.portal import CppccPortalController

    return [CppccPortalController]


@hookimpl
def yishi_migrations() -> Path:
    return Path(__file__).with_name("migrations")


@hookimpl
async def yishi_demo(client: Any) -> dict[str, str]:
    from plugins.cppcc_consultation.demo import replay

    return await replay(client)

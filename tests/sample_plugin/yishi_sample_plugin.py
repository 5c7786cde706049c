"""A third-party plugin, outside this repository's packages: it is found only through its entry point."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.di import Provide

from core.hookspecs import hookimpl
from core.http import Scope, provide_tenant_scope

NAME = "sample"
VERSION = "0.0.1"
TITLE = "示例插件"
HEARD: list[str] = []


class SampleController(Controller):
    path = "/api/v1/tenants/{slug:str}/sample"
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/hello", opt={"action": "sample.hello"})
    async def hello(self, tenant_scope: Scope) -> dict[str, str]:
        return {"hello": tenant_scope.tenant.name}


@hookimpl
def yishi_register_rules(register: Any) -> None:
    register(action="sample.hello", description="示例", roles=["resident", "community_staff"])


@hookimpl
def yishi_register_routes(register: Any) -> None:
    register(SampleController)


@hookimpl
def yishi_register_mechanisms(register: Any) -> None:
    register("sample_circle", "示例议事圈")


@hookimpl
async def yishi_on_event(session: Any, tenant: Any, event: Any) -> None:
    HEARD.append(f"{tenant.slug}:{event.action}")

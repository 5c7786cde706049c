"""HTTP routes of related concerns while filing: the open concerns like what a resident is typing, and joining
one (附议, "我也遇到了") or withdrawing from it."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, post
from litestar.di import Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from core.http import DbSession, Scope, provide_tenant_scope
from core.related.schemas import PublicView, SimilarConcern, SimilarIn
from core.related.services import RelatedService


class RelatedController(Controller):
    path = "/api/v1/tenants/{slug:str}/concerns"
    tags = ["诉求 Concerns"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @post("/similar", opt={"action": "concern.file"}, status_code=HTTP_200_OK,
          summary="反映前查相似：本社区最相似的未办结诉求（公开摘要、状态、附议人数），标题与描述可只写了一部分")
    async def similar(self, db_session: DbSession, tenant_scope: Scope,
                      data: JSONBody[SimilarIn]) -> list[SimilarConcern]:
        service = RelatedService(db_session, tenant_scope)
        return await service.similar_views(await service.similar_to(data))

    @post("/{concern_id:uuid}/support", opt={"action": "concern.support"}, status_code=HTTP_200_OK,
          summary="附议（我也遇到了）：关注这条诉求，像反映人一样收到办理进展；重复附议不重复计数")
    async def support(self, db_session: DbSession, tenant_scope: Scope,
                      concern_id: FromPath[uuid.UUID]) -> PublicView:
        service = RelatedService(db_session, tenant_scope)
        return (await service.views([await service.support(concern_id)]))[0]

    @delete("/{concern_id:uuid}/support", opt={"action": "concern.support"}, status_code=HTTP_200_OK,
            summary="撤回附议")
    async def withdraw_support(self, db_session: DbSession, tenant_scope: Scope,
                               concern_id: FromPath[uuid.UUID]) -> PublicView:
        service = RelatedService(db_session, tenant_scope)
        return (await service.views([await service.withdraw_support(concern_id)]))[0]

"""HTTP routes of duplicates, for staff: a concern's likely duplicates and related concerns with their scores,
merging duplicates into it, and undoing a merge within the day."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post
from litestar.di import Provide
from litestar.params import FromPath, JSONBody

from core.concerns.schemas import ConcernOut
from core.concerns.services import ConcernService
from core.http import DbSession, Scope, provide_tenant_scope
from core.related.merge_schemas import MergedOut, MergeIn, RelatedOut
from core.related.merging import MergeService


class MergeController(Controller):
    path = "/api/v1/tenants/{slug:str}/concerns/{concern_id:uuid}"
    tags = ["相关诉求 Related concerns"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/related", opt={"action": "concern.read_all"},
         summary="疑似重复与相关诉求：相似度（0–1）不低于展示给居民的阈值为 likely_duplicate，否则为 related")
    async def related(self, db_session: DbSession, tenant_scope: Scope,
                      concern_id: FromPath[uuid.UUID]) -> list[RelatedOut]:
        concern = await ConcernService(db_session, tenant_scope).get(concern_id)
        return [RelatedOut(id=r.similar.concern.id, reference=r.similar.concern.reference,
                           title=r.similar.concern.title, public_summary=r.similar.summary,
                           status=r.similar.concern.status, status_name=r.similar.status_name,
                           supporters=r.similar.concern.supporters, score=round(r.similar.score, 3), label=r.label,
                           label_name=r.label_name, mergeable=r.mergeable)
                for r in await MergeService(db_session, tenant_scope).related(concern)]

    @post("/merge", opt={"action": "concern.merge"}, status_code=200,
          summary="合并办理：把重复诉求并入这条诉求；重复诉求的反映人与附议人转为它的附议人，并收到通知")
    async def merge(self, db_session: DbSession, tenant_scope: Scope, concern_id: FromPath[uuid.UUID],
                    data: JSONBody[MergeIn]) -> MergedOut:
        merged = await MergeService(db_session, tenant_scope).merge(concern_id, data.duplicates, data.reason)
        survivor, *duplicates = await ConcernService(db_session, tenant_scope).to_out(
            [merged.survivor, *merged.duplicates])
        return MergedOut(survivor=survivor, duplicates=duplicates, supporters=merged.survivor.supporters,
                         carried=merged.carried)

    @post("/unmerge", opt={"action": "concern.merge"}, status_code=200,
          summary="撤销合并（合并后一天内）：这条重复诉求恢复原状态与时限，它带去的附议人撤回")
    async def unmerge(self, db_session: DbSession, tenant_scope: Scope,
                      concern_id: FromPath[uuid.UUID]) -> ConcernOut:
        concern = await MergeService(db_session, tenant_scope).unmerge(concern_id)
        return (await ConcernService(db_session, tenant_scope).to_out([concern]))[0]

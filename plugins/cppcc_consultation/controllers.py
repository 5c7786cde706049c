"""HTTP routes of the CPPCC research consultation under /api/v1/tenants/{slug}/cppcc (404 where not enabled)."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath, JSONBody

from core.http import DbSession, Scope, provide_tenant_scope
from plugins.cppcc_consultation import services as s
from plugins.cppcc_consultation.report_pdf import report_pdf


class CppccController(Controller):
    path = "/api/v1/tenants/{slug:str}/cppcc"
    tags = ["政协专题协商 CPPCC consultation"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/plans", opt={"action": "cppcc.read"}, summary="年度协商计划")
    async def list_plans(self, db_session: DbSession, tenant_scope: Scope) -> list[s.PlanOut]:
        return await s.CppccService(db_session, tenant_scope).plans()

    @post("/plans", opt={"action": "cppcc.manage"}, summary="制定年度协商计划")
    async def create_plan(self, db_session: DbSession, tenant_scope: Scope, data: JSONBody[s.PlanIn]) -> dict[str, str]:
        plan = await s.CppccService(db_session, tenant_scope).create_plan(data)
        return {"id": str(plan.id), "year": str(plan.year), "title": plan.title}

    @post("/plans/{plan_id:uuid}/topics", opt={"action": "cppcc.manage"}, summary="确定专题并组建调研组")
    async def add_topic(self, db_session: DbSession, tenant_scope: Scope, plan_id: FromPath[uuid.UUID],
                        data: JSONBody[s.TopicIn]) -> s.TopicOut:
        service = s.CppccService(db_session, tenant_scope)
        return await service.detail((await service.add_topic(plan_id, data)).id)

    @get("/topics/{topic_id:uuid}", opt={"action": "cppcc.read"}, summary="专题全过程与统计")
    async def get_topic(self, db_session: DbSession, tenant_scope: Scope, topic_id: FromPath[uuid.UUID]) -> s.TopicOut:
        return await s.CppccService(db_session, tenant_scope).detail(topic_id)

    @post("/topics/{topic_id:uuid}/trainings", opt={"action": "cppcc.research"}, summary="学习培训（调研之前）")
    async def add_training(self, db_session: DbSession, tenant_scope: Scope, topic_id: FromPath[uuid.UUID],
                           data: JSONBody[s.TrainingIn]) -> s.TopicOut:
        service = s.CppccService(db_session, tenant_scope)
        await service.add_training(topic_id, data)
        return await service.detail(topic_id)

    @post("/topics/{topic_id:uuid}/visits", opt={"action": "cppcc.research"}, summary="实地调研（辖区社区）")
    async def add_visit(self, db_session: DbSession, tenant_scope: Scope, topic_id: FromPath[uuid.UUID],
                        data: JSONBody[s.VisitIn]) -> s.TopicOut:
        service = s.CppccService(db_session, tenant_scope)
        await service.add_visit(topic_id, data)
        return await service.detail(topic_id)

    @post("/topics/{topic_id:uuid}/symposia", opt={"action": "cppcc.research"}, summary="分类座谈会")
    async def add_symposium(self, db_session: DbSession, tenant_scope: Scope, topic_id: FromPath[uuid.UUID],
                            data: JSONBody[s.SymposiumIn]) -> s.TopicOut:
        service = s.CppccService(db_session, tenant_scope)
        await service.add_symposium(topic_id, data)
        return await service.detail(topic_id)

    @post("/topics/{topic_id:uuid}/problems", opt={"action": "cppcc.research"},
          summary="问题清单：个性问题交办部门，共性问题归类")
    async def add_problem(self, db_session: DbSession, tenant_scope: Scope, topic_id: FromPath[uuid.UUID],
                          data: JSONBody[s.ProblemIn]) -> s.ProblemOut:
        return s.problem_out(await s.CppccService(db_session, tenant_scope).add_problem(topic_id, data))

    @post("/problems/{problem_id:uuid}/answer", opt={"action": "cppcc.answer"}, status_code=200,
          summary="部门答复交办问题")
    async def answer(self, db_session: DbSession, tenant_scope: Scope, problem_id: FromPath[uuid.UUID],
                     data: JSONBody[s.AnswerIn]) -> s.ProblemOut:
        return s.problem_out(await s.CppccService(db_session, tenant_scope).answer(problem_id, data))

    @get("/problems/{problem_id:uuid}/answers", opt={"action": "cppcc.read"}, summary="交办问题的答复及其修正记录")
    async def answers(self, db_session: DbSession, tenant_scope: Scope,
                      problem_id: FromPath[uuid.UUID]) -> list[s.AnswerRecord]:
        return await s.CppccService(db_session, tenant_scope).answers(problem_id)

    @post("/topics/{topic_id:uuid}/recommendations", opt={"action": "cppcc.research"}, summary="意见建议")
    async def add_recommendation(self, db_session: DbSession, tenant_scope: Scope, topic_id: FromPath[uuid.UUID],
                                 data: JSONBody[s.RecommendationIn]) -> dict[str, str]:
        recommendation = await s.CppccService(db_session, tenant_scope).add_recommendation(topic_id, data)
        return {"id": str(recommendation.id), "text": recommendation.text}

    @post("/recommendations/{recommendation_id:uuid}/follow-up", opt={"action": "cppcc.manage"}, status_code=200,
          summary="跟踪意见建议的采纳情况")
    async def follow_up(self, db_session: DbSession, tenant_scope: Scope, recommendation_id: FromPath[uuid.UUID],
                        data: JSONBody[s.FollowUpIn]) -> dict[str, str | bool | None]:
        r = await s.CppccService(db_session, tenant_scope).follow_up(recommendation_id, data)
        return {"id": str(r.id), "adopted": r.adopted, "follow_up": r.follow_up}

    @get("/topics/{topic_id:uuid}/report.md", opt={"action": "cppcc.read"}, media_type="text/markdown",
         summary="协商成果报告（Markdown）")
    async def report_md(self, db_session: DbSession, tenant_scope: Scope, topic_id: FromPath[uuid.UUID]) -> Response[str]:
        detail = await s.CppccService(db_session, tenant_scope).detail(topic_id)
        return Response(s.report_markdown(tenant_scope.tenant.name, detail), media_type="text/markdown; charset=utf-8")

    @get("/topics/{topic_id:uuid}/report.docx", opt={"action": "cppcc.read"},
         media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         summary="协商成果报告（Word）")
    async def report_docx(self, db_session: DbSession, tenant_scope: Scope,
                          topic_id: FromPath[uuid.UUID]) -> Response[bytes]:
        detail = await s.CppccService(db_session, tenant_scope).detail(topic_id)
        body = s.report_docx(s.report_markdown(tenant_scope.tenant.name, detail))
        return Response(body, media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                        headers={"Content-Disposition": f'attachment; filename="report-{topic_id}.docx"'})

    @get("/topics/{topic_id:uuid}/report.pdf", opt={"action": "cppcc.read"}, media_type="application/pdf",
         summary="协商成果报告（PDF）")
    async def report_as_pdf(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                         topic_id: FromPath[uuid.UUID]) -> Response[bytes]:
        detail = await s.CppccService(db_session, tenant_scope).detail(topic_id)
        return await report_pdf(request, tenant_scope.tenant.name, detail)

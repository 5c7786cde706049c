"""HTTP routes of steps 2–6: topics, research, meetings (with iCalendar), decisions, publication, action items,
and the follow-ups (回访) that low ratings open."""

from __future__ import annotations

import uuid
from typing import Annotated

from advanced_alchemy.service import OffsetPagination
from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from core.concerns.controllers import PhotoForm
from core.concerns.schemas import PhotoOut
from core.errors import NotFound
from core.http import DbSession, Limit, Offset, Scope, provide_tenant_scope
from core.media import clean_upload
from core.topics import schemas as s
from core.topics.calendar import meeting_calendar
from core.topics.photos import add_workflow_photo
from core.topics.services import (
    TopicService,
    actions_out,
    decision_out,
    follow_ups_out,
    research_out,
    topic_out,
)


class TopicController(Controller):
    path = "/api/v1/tenants/{slug:str}/topics"
    tags = ["议题 Topics"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @post("/", opt={"action": "topic.manage"}, summary="拟定议题（由一条或多条已受理的诉求，或直接拟定）")
    async def create_topic(self, db_session: DbSession, tenant_scope: Scope, data: JSONBody[s.TopicCreate]) -> s.TopicOut:
        return topic_out(await TopicService(db_session, tenant_scope).create(data))

    @get("/", opt={"action": "topic.read"}, summary="议题列表")
    async def list_topics(self, db_session: DbSession, tenant_scope: Scope,
                          topic_state: Annotated[str | None, QueryParameter(name="state")] = None,
                          limit: Limit = 50, offset: Offset = 0) -> OffsetPagination[s.TopicOut]:
        items, total = await TopicService(db_session, tenant_scope).page(topic_state, limit, offset)
        return OffsetPagination(items=items, limit=limit, offset=offset, total=total)

    @get("/{topic_id:uuid}", opt={"action": "topic.read"}, summary="议题全过程：诉求、调研、协商、结果、执行")
    async def get_topic(self, db_session: DbSession, tenant_scope: Scope, topic_id: FromPath[uuid.UUID]) -> s.TopicDetail:
        return await TopicService(db_session, tenant_scope).detail(topic_id)

    @get("/{topic_id:uuid}/events", opt={"action": "topic.read"}, summary="议题的事件记录（不可修改，哈希链）")
    async def list_events(self, db_session: DbSession, tenant_scope: Scope,
                          topic_id: FromPath[uuid.UUID]) -> list[s.EventOut]:
        return await TopicService(db_session, tenant_scope).events(topic_id)

    @post("/{topic_id:uuid}/research", opt={"action": "topic.manage"}, summary="议前调研：实地考察或居民征询")
    async def record_research(self, db_session: DbSession, tenant_scope: Scope, topic_id: FromPath[uuid.UUID],
                              data: JSONBody[s.ResearchIn]) -> s.ResearchOut:
        return research_out(await TopicService(db_session, tenant_scope).research(topic_id, data), [])

    @post("/{topic_id:uuid}/research/{research_id:uuid}/photos", opt={"action": "topic.manage"},
          summary="调研照片")
    async def add_research_photo(self, request: Request, db_session: DbSession, slug: FromPath[str],
                                 topic_id: FromPath[uuid.UUID], research_id: FromPath[uuid.UUID],
                                 data: PhotoForm) -> PhotoOut:
        image = await clean_upload(await data.file.read())  # before the first query: see clean_upload
        tenant_scope = await provide_tenant_scope(request, db_session, slug)
        return await add_workflow_photo(request, db_session, tenant_scope, "research", research_id, topic_id, image)

    @post("/{topic_id:uuid}/meetings", opt={"action": "topic.manage"}, summary="安排协商会")
    async def schedule_meeting(self, db_session: DbSession, tenant_scope: Scope, topic_id: FromPath[uuid.UUID],
                               data: JSONBody[s.MeetingIn]) -> s.MeetingOut:
        service = TopicService(db_session, tenant_scope)
        return service.meeting_out(await service.schedule(topic_id, data))

    @post("/{topic_id:uuid}/publish", opt={"action": "topic.manage"}, status_code=200, summary="公开协商结果")
    async def publish_topic(self, db_session: DbSession, tenant_scope: Scope, topic_id: FromPath[uuid.UUID]) -> s.TopicOut:
        return topic_out(await TopicService(db_session, tenant_scope).publish(topic_id))

    @post("/{topic_id:uuid}/withdraw", opt={"action": "topic.manage"}, status_code=200, summary="撤回议题（公开前）")
    async def withdraw_topic(self, db_session: DbSession, tenant_scope: Scope, topic_id: FromPath[uuid.UUID],
                             data: JSONBody[s.Reason]) -> s.TopicOut:
        return topic_out(await TopicService(db_session, tenant_scope).withdraw(topic_id, data.reason))

    @post("/{topic_id:uuid}/actions", opt={"action": "topic.manage"}, summary="布置执行事项")
    async def add_action(self, db_session: DbSession, tenant_scope: Scope, topic_id: FromPath[uuid.UUID],
                         data: JSONBody[s.ActionIn]) -> s.ActionOut:
        service = TopicService(db_session, tenant_scope)
        return (await actions_out(db_session, [await service.add_action(topic_id, data)]))[0]

    @get("/action-owners", opt={"action": "topic.manage"},
         summary="可担任执行事项责任人的成员（物业公司、职能部门、工作人员），按显示名")
    async def action_owners(self, db_session: DbSession, tenant_scope: Scope) -> list[s.OwnerOut]:
        return await TopicService(db_session, tenant_scope).owners()

    @post("/{topic_id:uuid}/ratings", opt={"action": "topic.rate"}, summary="居民评价落实情况（1–5 分）")
    async def rate_topic(self, db_session: DbSession, tenant_scope: Scope, topic_id: FromPath[uuid.UUID],
                         data: JSONBody[s.RatingIn]) -> s.RatingSummary:
        return await TopicService(db_session, tenant_scope).rate(topic_id, data)


class MeetingController(Controller):
    path = "/api/v1/tenants/{slug:str}/meetings"
    tags = ["议题 Topics"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/{meeting_file:str}", opt={"action": "topic.read"}, media_type="text/calendar",
         summary="协商会日程（iCalendar：/meetings/{id}.ics）")
    async def meeting_ics(self, db_session: DbSession, tenant_scope: Scope, meeting_file: FromPath[str]) -> Response[bytes]:
        stem, dot, extension = meeting_file.rpartition(".")
        try:
            meeting_id = uuid.UUID(stem)
        except ValueError:
            meeting_id = None
        if not dot or extension != "ics" or meeting_id is None:
            raise NotFound("日程地址应为 /meetings/{id}.ics")
        service = TopicService(db_session, tenant_scope)
        meeting = await service.meeting(meeting_id)
        topic = await service.topic(meeting.topic_id)
        body = meeting_calendar(tenant_scope.tenant, [(meeting, topic)], service.plugins.mechanism_names())
        return Response(body, media_type="text/calendar; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{meeting_id}.ics"'})

    @post("/{meeting_id:uuid}/reschedule", opt={"action": "topic.manage"}, status_code=200,
          summary="协商会改期（开始前，须说明理由）")
    async def reschedule_meeting(self, db_session: DbSession, tenant_scope: Scope, meeting_id: FromPath[uuid.UUID],
                                 data: JSONBody[s.RescheduleIn]) -> s.MeetingOut:
        service = TopicService(db_session, tenant_scope)
        return service.meeting_out(await service.reschedule(meeting_id, data))

    @post("/{meeting_id:uuid}/cancel", opt={"action": "topic.manage"}, status_code=200,
          summary="取消协商会（开始前，须说明理由；议题可另行安排）")
    async def cancel_meeting(self, db_session: DbSession, tenant_scope: Scope, meeting_id: FromPath[uuid.UUID],
                             data: JSONBody[s.Reason]) -> s.MeetingOut:
        service = TopicService(db_session, tenant_scope)
        return service.meeting_out(await service.cancel_meeting(meeting_id, data.reason))

    @post("/{meeting_id:uuid}/minutes", opt={"action": "topic.manage"}, status_code=200,
          summary="会议纪要：出席、议程、纪要、各方意见")
    async def record_minutes(self, db_session: DbSession, tenant_scope: Scope, meeting_id: FromPath[uuid.UUID],
                             data: JSONBody[s.MinutesIn]) -> s.MeetingOut:
        service = TopicService(db_session, tenant_scope)
        return service.meeting_out(await service.minutes(meeting_id, data))

    @post("/{meeting_id:uuid}/decision", opt={"action": "topic.manage"}, summary="协商结果：协商一致或表决")
    async def record_decision(self, db_session: DbSession, tenant_scope: Scope, meeting_id: FromPath[uuid.UUID],
                              data: JSONBody[s.DecisionIn]) -> s.DecisionOut:
        return decision_out(await TopicService(db_session, tenant_scope).decide(meeting_id, data))


class ActionController(Controller):
    path = "/api/v1/tenants/{slug:str}/actions"
    tags = ["执行 Actions"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/", opt={"action": "action.read"}, summary="执行事项（责任单位只看自己的；overdue=true 只看逾期）")
    async def list_actions(self, db_session: DbSession, tenant_scope: Scope, mine: FromQuery[bool] = False,
                           overdue: FromQuery[bool | None] = None, limit: Limit = 50,
                           offset: Offset = 0) -> OffsetPagination[s.ActionOut]:
        items, total = await TopicService(db_session, tenant_scope).actions(mine, overdue, limit, offset)
        return OffsetPagination(items=items, limit=limit, offset=offset, total=total)

    @get("/{action_id:uuid}", opt={"action": "action.read"}, summary="查看执行事项")
    async def get_action(self, db_session: DbSession, tenant_scope: Scope, action_id: FromPath[uuid.UUID]) -> s.ActionOut:
        action = await TopicService(db_session, tenant_scope).action(action_id)
        return (await actions_out(db_session, [action]))[0]

    @post("/{action_id:uuid}/progress", opt={"action": "action.progress"}, summary="报告执行进度")
    async def report_progress(self, db_session: DbSession, tenant_scope: Scope, action_id: FromPath[uuid.UUID],
                              data: JSONBody[s.ProgressIn]) -> s.ProgressOut:
        report = await TopicService(db_session, tenant_scope).progress(action_id, data)
        return s.ProgressOut(id=report.id, percent=report.percent, note=report.note, reported_at=report.created_at,
                             photos=[])

    @post("/{action_id:uuid}/progress/{progress_id:uuid}/photos", opt={"action": "action.progress"},
          summary="进度照片（作为落实的凭证）")
    async def add_progress_photo(self, request: Request, db_session: DbSession, slug: FromPath[str],
                                 action_id: FromPath[uuid.UUID], progress_id: FromPath[uuid.UUID],
                                 data: PhotoForm) -> PhotoOut:
        image = await clean_upload(await data.file.read())  # before the first query: see clean_upload
        tenant_scope = await provide_tenant_scope(request, db_session, slug)
        return await add_workflow_photo(request, db_session, tenant_scope, "progress", progress_id, action_id, image)

    @post("/{action_id:uuid}/reassign", opt={"action": "topic.manage"}, status_code=200,
          summary="改派执行事项（换责任单位或责任人，须说明理由；新旧责任人都会收到通知）")
    async def reassign_action(self, db_session: DbSession, tenant_scope: Scope, action_id: FromPath[uuid.UUID],
                              data: JSONBody[s.ReassignIn]) -> s.ActionOut:
        action = await TopicService(db_session, tenant_scope).reassign_action(action_id, data)
        return (await actions_out(db_session, [action]))[0]

    @post("/{action_id:uuid}/cancel", opt={"action": "topic.manage"}, status_code=200,
          summary="取消执行事项（须说明理由）")
    async def cancel_action(self, db_session: DbSession, tenant_scope: Scope, action_id: FromPath[uuid.UUID],
                            data: JSONBody[s.Reason]) -> s.ActionOut:
        action = await TopicService(db_session, tenant_scope).cancel_action(action_id, data.reason)
        return (await actions_out(db_session, [action]))[0]

    @post("/{action_id:uuid}/complete", opt={"action": "action.progress"}, status_code=200, summary="办结执行事项")
    async def complete_action(self, db_session: DbSession, tenant_scope: Scope,
                              action_id: FromPath[uuid.UUID]) -> s.ActionOut:
        action = await TopicService(db_session, tenant_scope).complete(action_id)
        return (await actions_out(db_session, [action]))[0]


class FollowUpController(Controller):
    path = "/api/v1/tenants/{slug:str}/follow-ups"
    tags = ["执行 Actions"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/", opt={"action": "topic.read"}, summary="回访：居民评价偏低的议题（status=open 只看待回访）")
    async def list_follow_ups(self, db_session: DbSession, tenant_scope: Scope,
                              follow_up_status: Annotated[str | None, QueryParameter(name="status")] = None,
                              limit: Limit = 50, offset: Offset = 0) -> OffsetPagination[s.FollowUpOut]:
        items, total = await TopicService(db_session, tenant_scope).follow_ups(follow_up_status, limit, offset)
        return OffsetPagination(items=items, limit=limit, offset=offset, total=total)

    @post("/{follow_up_id:uuid}/close", opt={"action": "topic.manage"}, status_code=200,
          summary="结束回访（写明回访情况）")
    async def close_follow_up(self, db_session: DbSession, tenant_scope: Scope, follow_up_id: FromPath[uuid.UUID],
                              data: JSONBody[s.FollowUpClose]) -> s.FollowUpOut:
        follow_up = await TopicService(db_session, tenant_scope).close_follow_up(follow_up_id, data.note)
        return (await follow_ups_out(db_session, [follow_up]))[0]

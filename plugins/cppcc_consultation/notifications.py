"""Who a research consultation's events tell: the research group of a training scheduled and of a department's
answer, the department of a problem referred to it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import User
from core.db import TenantContext
from core.events import WorkflowEvent
from core.notifications.rules import Rule
from core.tenancy.models import Tenant
from plugins.cppcc_consultation.models import ConsultationTopic, Problem, Training

TRAINING_EVENT = "cppcc.training"
REFERRED_EVENT = "cppcc.referred"
ANSWERED_EVENTS = ("cppcc.answered", "cppcc.answer_amended")


async def _topic_of(session: AsyncSession, event: WorkflowEvent) -> ConsultationTopic | None:
    row: Training | Problem | None = await session.get(
        Training if event.action == TRAINING_EVENT else Problem, (event.tenant_id, event.subject_id))
    return await session.get(ConsultationTopic, (event.tenant_id, row.topic_id)) if row is not None else None


async def research_group(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent) -> list[uuid.UUID]:
    topic = await _topic_of(session, event)
    if topic is None or not topic.members:
        return []
    return list((await session.scalars(select(User.id).where(User.username.in_(topic.members)))).all())


async def department(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent) -> list[uuid.UUID]:
    problem = await session.get(Problem, (event.tenant_id, event.subject_id))
    return [problem.department_user_id] if problem is not None and problem.department_user_id else []


async def facts(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent) -> dict[str, Any]:
    tenant = await session.get(Tenant, ctx.tenant_id)
    topic = await _topic_of(session, event)
    payload = event.payload or {}
    return {"tenant": tenant.name if tenant else "", "topic": topic.title if topic else "",
            "title": payload.get("title", ""), "date": payload.get("date", ""),
            "link": f"/t/{tenant.slug}/cppcc/topics/{topic.id}" if tenant and topic else None}


RULES = [
    Rule(TRAINING_EVENT, "cppcc.training", research_group, facts, texts={
        "zh-CN": ("调研培训安排", "{tenant}专题「{topic}」将于 {date} 进行学习培训：{title}。不学习就不调研。"),
        "en": ("Training scheduled", "The research topic “{topic}” at {tenant} has a training on {date}: {title}."),
    }),
    Rule(REFERRED_EVENT, "cppcc.referred", department, facts, texts={
        "zh-CN": ("政协交办问题", "{tenant}专题「{topic}」调研发现的问题已交办贵部门，请在工作台答复。"),
        "en": ("Problem referred", "A problem found by the research topic “{topic}” at {tenant} was referred to you."),
    }),
    *(Rule(action, "cppcc.answered", research_group, facts, texts={
        "zh-CN": ("部门已答复", "专题「{topic}」交办的问题，责任部门已答复。"),
        "en": ("Answered", "A department answered a problem of the research topic “{topic}”."),
    }) for action in ANSWERED_EVENTS),
]

"""Tables of the CPPCC research consultation: plans, topics and everything the research group records."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Boolean, Date, ForeignKey, ForeignKeyConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JsonB, TenantOwned

STAKEHOLDER_GROUPS = {"departments": "职能部门", "owners_committees": "业主委员会", "property_companies": "物业公司",
                      "owner_representatives": "业主代表", "enterprises": "企业"}
PROBLEM_KINDS = {"individual": "个性问题", "common": "共性问题"}


def _topic_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", "topic_id"], ["cppcc_topic.tenant_id", "cppcc_topic.id"])


class ConsultationPlan(TenantOwned, Base):
    """年度协商计划."""

    __tablename__ = "cppcc_plan"
    __table_args__ = (UniqueConstraint("tenant_id", "year"),)

    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))


class ConsultationTopic(TenantOwned, Base):
    """专题: one topic of the plan, with its research group (usernames of CPPCC members)."""

    __tablename__ = "cppcc_topic"

    plan_id: Mapped[uuid.UUID] = mapped_column(GUID)
    title: Mapped[str] = mapped_column(String(200))
    members: Mapped[list[str]] = mapped_column(JsonB, default=list)


class Training(TenantOwned, Base):
    """学习培训, which must come before any research visit."""

    __tablename__ = "cppcc_training"
    __table_args__ = (_topic_fk(),)

    topic_id: Mapped[uuid.UUID] = mapped_column(GUID)
    date: Mapped[datetime.date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[list[str]] = mapped_column(JsonB, default=list)


class SiteVisit(TenantOwned, Base):
    """实地调研 in a community below the plan's tenant."""

    __tablename__ = "cppcc_visit"
    __table_args__ = (_topic_fk(),)

    topic_id: Mapped[uuid.UUID] = mapped_column(GUID)
    community: Mapped[str] = mapped_column(String(63))
    date: Mapped[datetime.date] = mapped_column(Date)
    compounds: Mapped[list[str]] = mapped_column(JsonB, default=list)
    findings: Mapped[str] = mapped_column(Text, default="")


class Symposium(TenantOwned, Base):
    """座谈会 with one stakeholder group, and what each said."""

    __tablename__ = "cppcc_symposium"
    __table_args__ = (_topic_fk(),)

    topic_id: Mapped[uuid.UUID] = mapped_column(GUID)
    group: Mapped[str] = mapped_column(String(30))
    date: Mapped[datetime.date] = mapped_column(Date)
    participants: Mapped[int] = mapped_column(Integer, default=0)
    statements: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, default=list)


class Problem(TenantOwned, Base):
    """问题清单 entry: individual (referred to a department, which answers) or common (grouped in an aspect).

    `department_user_id` is the department's account the problem was referred to, the only one that may
    answer; `department` its name as the report prints it. `answer` is the answer in force: each answer and
    each amendment of it is an event of the tenant's chain (who, when, the text, what it amends)."""

    __tablename__ = "cppcc_problem"
    __table_args__ = (_topic_fk(),)

    topic_id: Mapped[uuid.UUID] = mapped_column(GUID)
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(12))
    aspect: Mapped[str | None] = mapped_column(String(100))
    department: Mapped[str | None] = mapped_column(String(100))
    department_user_id: Mapped[uuid.UUID | None] = mapped_column(GUID, ForeignKey("user_account.id"))
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)


class Recommendation(TenantOwned, Base):
    """意见建议, linked to the problems it answers, with its follow-up."""

    __tablename__ = "cppcc_recommendation"
    __table_args__ = (_topic_fk(),)

    topic_id: Mapped[uuid.UUID] = mapped_column(GUID)
    text: Mapped[str] = mapped_column(Text)
    problem_ids: Mapped[list[str]] = mapped_column(JsonB, default=list)
    adopted: Mapped[bool | None] = mapped_column(Boolean)
    follow_up: Mapped[str | None] = mapped_column(Text)

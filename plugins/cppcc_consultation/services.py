"""Rules of the CPPCC research consultation, "不学习就不调研、不调研就不协商": training before any research visit;
problems classified; recommendations tied to the problems they answer; the outcome report."""

from __future__ import annotations

import datetime
import io
import uuid
from typing import Annotated, Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.accounts.models import RoleAssignment, User
from core.accounts.services import users_seen_from
from core.concerns.services import clean_text
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, Problems
from core.events import WorkflowEvent, append_event
from core.i18n import Label
from core.inputs import Input, cap, label, not_one_of
from core.tenancy.models import Tenant
from core.tenancy.scope import TenantScope
from plugins.cppcc_consultation.models import (
    PROBLEM_KINDS,
    STAKEHOLDER_GROUPS,
    ConsultationPlan,
    ConsultationTopic,
    Problem,
    Recommendation,
    SiteVisit,
    Symposium,
    Training,
)
from plugins.cppcc_consultation.notifications import REFERRED_EVENT, TRAINING_EVENT

# The events of answers to referred problems name the problem as their subject.
ANSWER_SUBJECT = "cppcc_problem"
# The guard of the method, "不学习就不调研、不调研就不协商": which steps wait for which.
GUARD = "不学习就不调研、不调研就不协商"


class PlanIn(Input):
    year: int
    title: Annotated[str, cap(200)]


class TopicIn(Input):
    title: Annotated[str, cap(200)]
    members: list[Annotated[str, cap(64)]]


class TrainingIn(Input):
    date: datetime.date
    title: Annotated[str, cap(200)]
    attendees: list[Annotated[str, cap(100)]] = msgspec.field(default_factory=list)


class VisitIn(Input):
    community: Annotated[str, cap(63)]
    date: datetime.date
    compounds: list[Annotated[str, cap(100)]]
    findings: str


class Statement(Input):
    who: Annotated[str, cap(100)]
    text: str


class SymposiumIn(Input):
    group: Annotated[str, cap(30)]
    date: datetime.date
    participants: int
    statements: list[Statement]


class ProblemIn(Input):
    text: str
    kind: Annotated[str, cap(12)]
    aspect: Annotated[str, cap(100)] | None = None
    # An individual problem's department: the username of a department account of this tenant.
    department: Annotated[str, cap(64)] | None = None


class AnswerIn(Input):
    answer: str


class RecommendationIn(Input):
    text: str
    problem_ids: list[uuid.UUID]


class FollowUpIn(Input):
    adopted: bool
    note: str = ""


class PlanOut(msgspec.Struct):
    id: uuid.UUID
    year: int
    title: str
    topics: list[dict[str, Any]]


class ProblemOut(msgspec.Struct):
    id: uuid.UUID
    text: str
    kind: str
    kind_name: str
    aspect: str | None
    department: str | None
    answer: str | None
    answered_at: datetime.datetime | None


class AnswerRecord(msgspec.Struct):
    """One answer to a referred problem, or an amendment of it, as the event log keeps it."""

    answer: str
    answered_by: str
    answered_at: datetime.datetime
    amends: str | None


class Counts(msgspec.Struct):
    communities_visited: int
    compounds_visited: int
    symposia: int
    problems: int
    individual_problems: int
    aspects: int
    recommendations: int
    adopted: int


class TopicOut(msgspec.Struct):
    id: uuid.UUID
    plan_year: int
    title: str
    members: list[str]
    trainings: list[dict[str, Any]]
    visits: list[dict[str, Any]]
    symposia: list[dict[str, Any]]
    problems: list[ProblemOut]
    aspects: dict[str, list[uuid.UUID]]
    recommendations: list[dict[str, Any]]
    counts: Counts
    member_names: list[str] = msgspec.field(default_factory=list)  # the research group as people read it


def problem_out(p: Problem) -> ProblemOut:
    return ProblemOut(id=p.id, text=p.text, kind=p.kind, kind_name=PROBLEM_KINDS[p.kind], aspect=p.aspect,
                      department=p.department, answer=p.answer, answered_at=p.answered_at)


class CppccService:
    def __init__(self, session: AsyncSession, scope: TenantScope) -> None:
        self.session = session
        self.scope = scope

    async def create_plan(self, data: PlanIn) -> ConsultationPlan:
        if self.scope.tenant.kind not in ("city", "district"):
            raise Conflict("年度协商计划由市、区（县）政协制定")
        problems = Problems()
        if not 2000 <= data.year <= clock.today().year + 1:
            problems.add(InvalidInput("年度须在 2000 至明年之间", field="year"))
        title = problems.take(clean_text, data.title, "title", Label("计划名称"), 200)
        problems.raise_any()
        if await self.session.scalar(select(ConsultationPlan.id).where(ConsultationPlan.year == data.year)):
            raise Conflict("{year} 年的协商计划已存在", field="year", year=data.year)
        plan = ConsultationPlan(year=data.year, title=title)
        self.session.add(plan)
        await self.session.flush()
        await self._event("cppcc_plan", plan.id, "cppcc.plan_created", {"year": plan.year, "title": plan.title})
        return plan

    async def _event(self, kind: str, subject: uuid.UUID, action: str, payload: dict[str, Any]) -> None:
        """The one event of a change, so the tenant's timeline and audit trail show it."""
        await append_event(self.session, self.scope.ctx, subject_kind=kind, subject_id=subject, action=action,
                           from_state=None, to_state=None, actor_id=self.scope.user_id, payload=payload)

    async def plans(self) -> list[PlanOut]:
        plans = (await self.session.scalars(select(ConsultationPlan).order_by(ConsultationPlan.year.desc()))).all()
        topics = (await self.session.scalars(select(ConsultationTopic).order_by(ConsultationTopic.created_at))).all()
        return [PlanOut(id=p.id, year=p.year, title=p.title,
                        topics=[{"id": str(t.id), "title": t.title, "members": t.members}
                                for t in topics if t.plan_id == p.id]) for p in plans]

    async def add_topic(self, plan_id: uuid.UUID, data: TopicIn) -> ConsultationTopic:
        if not await self.session.scalar(select(ConsultationPlan.id).where(ConsultationPlan.id == plan_id)):
            raise NotFound("没有这个协商计划")
        problems = Problems()
        title = problems.take(clean_text, data.title, "title", Label("专题名称"), 200)
        members = list(dict.fromkeys(m.strip() for m in data.members if m.strip()))
        if not members:
            problems.add(InvalidInput("调研组至少要有一名政协委员", field="members"))
        else:
            try:
                await users_seen_from(self.session, self.scope.tenant, members, "members")
            except InvalidInput as refused:
                problems.add(refused)
        problems.raise_any()
        topic = ConsultationTopic(plan_id=plan_id, title=title, members=members)
        self.session.add(topic)
        await self.session.flush()
        await self._event("cppcc_topic", topic.id, "cppcc.topic_created", {"title": topic.title, "members": members})
        return topic

    async def member_choices(self) -> list[tuple[str, str]]:
        """The CPPCC members a research group is picked from: (username, display name), by name."""
        return await self._holders("cppcc_member")

    async def department_choices(self) -> list[tuple[str, str]]:
        """The department accounts an individual problem may be referred to: (username, display name)."""
        return await self._holders("department")

    async def _holders(self, role: str) -> list[tuple[str, str]]:
        """The active accounts holding `role` here: (username, display name), by name."""
        rows = await self.session.execute(
            select(User.username, User.display_name).join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.role == role, User.active.is_(True)).distinct())
        return sorted(((u, n or u) for u, n in rows.all()), key=lambda row: row[1])

    async def community_choices(self) -> list[tuple[str, str]]:
        """The communities below this tenant a research visit may go to: (slug, name, with the places above)."""
        below = (await self.session.scalars(select(Tenant).where(
            Tenant.path.startswith(self.scope.tenant.path), Tenant.archived.is_(False)))).all()
        names = {t.id: t.name for t in below}
        shown = []
        for t in below:
            if t.kind == "community":
                upper = [names[i] for i in t.ancestor_ids[:-1] if i in names and i != self.scope.tenant.id]
                shown.append((t.slug, " · ".join([*upper, t.name])))
        return sorted(shown, key=lambda row: row[1])

    async def names(self, usernames: list[str]) -> dict[str, str]:
        """Display names of accounts, by username (a username without one shows as it is)."""
        if not usernames:
            return {}
        rows = await self.session.execute(select(User.username, User.display_name).where(User.username.in_(usernames)))
        return {u: n or u for u, n in rows.all()}

    async def topic(self, topic_id: uuid.UUID, *, researching: bool = False) -> ConsultationTopic:
        topic = await self.session.scalar(select(ConsultationTopic).where(ConsultationTopic.id == topic_id))
        if topic is None:
            raise NotFound("没有这个协商专题")
        if researching and not self.scope.can("cppcc.manage"):
            username = await self.session.scalar(select(User.username).where(User.id == self.scope.user_id))
            if username not in topic.members:
                raise Forbidden("只有本专题调研组成员可以记录调研")
        return topic

    async def add_training(self, topic_id: uuid.UUID, data: TrainingIn) -> Training:
        topic = await self.topic(topic_id, researching=True)
        training = Training(topic_id=topic.id, date=data.date, title=clean_text(data.title, "title", Label("学习内容"), 200),
                            attendees=list(dict.fromkeys(a.strip() for a in data.attendees if a.strip())))
        self.session.add(training)
        await self.session.flush()
        await append_event(self.session, self.scope.ctx, subject_kind="cppcc_training", subject_id=training.id,
                           action=TRAINING_EVENT, from_state=None, to_state=None, actor_id=self.scope.user_id,
                           payload={"title": training.title, "date": training.date.isoformat()})
        return training

    async def add_visit(self, topic_id: uuid.UUID, data: VisitIn) -> SiteVisit:
        topic = await self.topic(topic_id, researching=True)
        problems = Problems()
        community = await self.session.scalar(select(Tenant).where(Tenant.slug == data.community))
        if community is None or not community.path.startswith(self.scope.tenant.path) or community.kind != "community":
            problems.add(InvalidInput("调研的社区须在本级辖区之内", field="community"))
        compounds = list(dict.fromkeys(c.strip() for c in data.compounds if c.strip()))
        if not compounds:
            problems.add(InvalidInput("至少记录一个走访的小区", field="compounds"))
        findings = problems.take(clean_text, data.findings, "findings", Label("调研发现"), 5000)
        problems.raise_any()
        trained = await self.session.scalar(select(Training.id).where(Training.topic_id == topic.id,
                                                                      Training.date <= data.date))
        if not trained:
            raise Conflict("不学习就不调研：请先记录本专题的学习培训（日期不晚于调研）", field="date")
        assert community is not None  # refused above otherwise
        visit = SiteVisit(topic_id=topic.id, community=community.slug, date=data.date, compounds=compounds,
                          findings=findings)
        self.session.add(visit)
        await self.session.flush()
        await self._event("cppcc_visit", visit.id, "cppcc.visited",
                          {"community": community.name, "date": visit.date.isoformat(), "compounds": len(compounds)})
        return visit

    async def guard(self, topic_id: uuid.UUID) -> dict[str, Any]:
        """不学习就不调研、不调研就不协商: whether the topic has trained (so visits are open, from the first
        training's date) and has researched (so symposia, problems and recommendations are open)."""
        first = await self.session.scalar(select(Training.date).where(Training.topic_id == topic_id)
                                          .order_by(Training.date).limit(1))
        visited = await self.session.scalar(select(SiteVisit.id).where(SiteVisit.topic_id == topic_id).limit(1))
        return {"trained": first is not None, "trained_from": first, "researched": visited is not None}

    async def add_symposium(self, topic_id: uuid.UUID, data: SymposiumIn) -> Symposium:
        topic = await self.topic(topic_id, researching=True)
        problems = Problems()
        if data.group not in STAKEHOLDER_GROUPS:
            problems.add(not_one_of("group", STAKEHOLDER_GROUPS))
        if data.participants < 1:
            problems.add(InvalidInput("参会人数须至少 1 人", field="participants"))
        statements = [{"who": s.who.strip(), "text": s.text.strip()} for s in data.statements
                      if s.who.strip() or s.text.strip()]
        if not statements:
            problems.add(InvalidInput("须记录参会人数和各方发言", field="statements"))
        elif any(not s["who"] or not s["text"] for s in statements):
            problems.add(InvalidInput("每条发言须写明发言方和发言内容", field="statements"))
        problems.raise_any()
        symposium = Symposium(topic_id=topic.id, group=data.group, date=data.date, participants=data.participants,
                              statements=statements)
        self.session.add(symposium)
        await self.session.flush()
        await self._event("cppcc_symposium", symposium.id, "cppcc.symposium",
                          {"group": data.group, "date": symposium.date.isoformat(), "statements": len(statements)})
        return symposium

    async def add_problem(self, topic_id: uuid.UUID, data: ProblemIn) -> Problem:
        topic = await self.topic(topic_id, researching=True)
        problems = Problems()
        text = problems.take(clean_text, data.text, "text", Label("问题"), 2000)
        if data.kind not in PROBLEM_KINDS:
            problems.add(InvalidInput("{name}须为 individual（个性）或 common（共性）", field="kind", name=label("kind")))
        aspect = problems.take(clean_text, data.aspect, "aspect", Label("问题方面"), 100, required=data.kind == "common")
        department = None
        if data.kind == "individual":
            username = problems.take(clean_text, data.department, "department", Label("责任部门"), 64)
            if username is not None:
                try:
                    department = await self._department(username)
                except InvalidInput as refused:
                    problems.add(refused)
        problems.raise_any()
        problem = Problem(topic_id=topic.id, text=text, kind=data.kind,
                          aspect=aspect if data.kind == "common" else None,
                          department=department.display_name if department else None,
                          department_user_id=department.id if department else None)
        self.session.add(problem)
        await self.session.flush()
        if department is not None:  # the department hears of it, and answers in its own workspace
            await append_event(self.session, self.scope.ctx, subject_kind="cppcc_referral", subject_id=problem.id,
                               action=REFERRED_EVENT, from_state=None, to_state=None, actor_id=self.scope.user_id,
                               payload={"department": department.display_name})
        else:  # a common problem is listed under its aspect
            await self._event("cppcc_listed", problem.id, "cppcc.problem_listed", {"aspect": problem.aspect})
        return problem

    async def referred_to_me(self) -> list[tuple[Problem, str]]:
        """The individual problems referred to the signed-in department, each with its topic's title, those
        awaiting an answer first."""
        rows = await self.session.execute(
            select(Problem, ConsultationTopic.title).join(ConsultationTopic, ConsultationTopic.id == Problem.topic_id)
            .where(Problem.department_user_id == self.scope.user_id).order_by(Problem.created_at))
        found = [(p, title) for p, title in rows.all()]
        return sorted(found, key=lambda row: row[0].answer is not None)

    async def _department(self, username: str) -> User:
        """The department account a problem is referred to: one holding the department role in this tenant."""
        department = await self.session.scalar(
            select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(User.username == username, User.active.is_(True), RoleAssignment.role == "department"))
        if department is None:
            raise InvalidInput("{department} 不是本级职能部门的账号", field="department", department=username)
        return department

    async def referred(self, problem_id: uuid.UUID) -> Problem:
        problem = await self.session.scalar(select(Problem).where(Problem.id == problem_id))
        if problem is None or problem.kind != "individual":
            raise NotFound("没有交办给部门的这个问题")
        return problem

    async def answer(self, problem_id: uuid.UUID, data: AnswerIn) -> Problem:
        """The referred department answers; answering again amends the answer, and both stay on record."""
        problem = await self.referred(problem_id)
        if problem.department_user_id != self.scope.user_id:
            raise Forbidden("只有交办的部门（{department}）可以答复这个问题", department=problem.department or "")
        text = clean_text(data.answer, "answer", Label("答复"), 5000)
        amends = problem.answer
        problem.answer, problem.answered_at = text, clock.now()
        await self.session.flush()
        await append_event(self.session, self.scope.ctx,
                           subject_kind=ANSWER_SUBJECT, subject_id=problem.id,
                           action="cppcc.answer_amended" if amends is not None else "cppcc.answered",
                           from_state=None, to_state=None, actor_id=self.scope.user_id,
                           payload={"answer": text, "amends": amends})
        return problem

    async def answers(self, problem_id: uuid.UUID) -> list[AnswerRecord]:
        """A referred problem's answer and every amendment of it, oldest first, from the event log."""
        problem = await self.referred(problem_id)
        rows = await self.session.execute(
            select(WorkflowEvent, User.display_name).outerjoin(User, User.id == WorkflowEvent.actor_id)
            .where(WorkflowEvent.subject_kind == ANSWER_SUBJECT, WorkflowEvent.subject_id == problem.id)
            .order_by(WorkflowEvent.seq))
        return [AnswerRecord(answer=event.payload["answer"], answered_by=name or "", answered_at=event.at,
                             amends=event.payload.get("amends")) for event, name in rows]

    async def add_recommendation(self, topic_id: uuid.UUID, data: RecommendationIn) -> Recommendation:
        topic = await self.topic(topic_id, researching=True)
        ids = list(dict.fromkeys(data.problem_ids))
        found = (await self.session.scalars(select(Problem.id).where(Problem.topic_id == topic.id,
                                                                     Problem.id.in_(ids)))).all() if ids else []
        problems = Problems()
        text = problems.take(clean_text, data.text, "text", Label("意见建议"), 5000)
        if not ids or len(found) != len(ids):
            problems.add(InvalidInput("意见建议须对应本专题问题清单中的问题", field="problem_ids"))
        problems.raise_any()
        recommendation = Recommendation(topic_id=topic.id, text=text, problem_ids=[str(i) for i in ids])
        self.session.add(recommendation)
        await self.session.flush()
        await self._event("cppcc_rec", recommendation.id, "cppcc.recommended", {"problems": len(ids)})
        return recommendation

    async def follow_up(self, recommendation_id: uuid.UUID, data: FollowUpIn) -> Recommendation:
        recommendation = await self.session.scalar(select(Recommendation).where(Recommendation.id == recommendation_id))
        if recommendation is None:
            raise NotFound("没有这条意见建议")
        note = clean_text(data.note, "note", Label("跟踪情况"), 5000, required=False)
        recommendation.adopted, recommendation.follow_up = data.adopted, note
        await self.session.flush()
        await self._event("cppcc_rec", recommendation.id, "cppcc.followed_up", {"adopted": data.adopted, "note": note})
        return recommendation

    async def detail(self, topic_id: uuid.UUID) -> TopicOut:
        topic = await self.topic(topic_id)
        plan = await self.session.scalar(select(ConsultationPlan).where(ConsultationPlan.id == topic.plan_id))

        async def rows(model):
            return (await self.session.scalars(select(model).where(model.topic_id == topic.id)
                                               .order_by(model.created_at))).all()

        trainings, visits, symposia = await rows(Training), await rows(SiteVisit), await rows(Symposium)
        problems, recommendations = await rows(Problem), await rows(Recommendation)
        aspects: dict[str, list[uuid.UUID]] = {}
        for p in problems:
            if p.kind == "common":
                aspects.setdefault(p.aspect or "", []).append(p.id)
        names = await self.names(topic.members)
        communities = dict((await self.session.execute(select(Tenant.slug, Tenant.name).where(
            Tenant.slug.in_({v.community for v in visits})))).all()) if visits else {}
        return TopicOut(
            id=topic.id, plan_year=plan.year if plan else 0, title=topic.title, members=topic.members,
            member_names=[names.get(m, m) for m in topic.members],
            trainings=[{"date": t.date.isoformat(), "title": t.title, "attendees": t.attendees} for t in trainings],
            visits=[{"community": v.community, "community_name": communities.get(v.community, v.community),
                     "date": v.date.isoformat(), "compounds": v.compounds, "findings": v.findings} for v in visits],
            symposia=[{"group": s.group, "group_name": STAKEHOLDER_GROUPS[s.group], "date": s.date.isoformat(),
                       "participants": s.participants, "statements": s.statements} for s in symposia],
            problems=[problem_out(p) for p in problems], aspects=aspects,
            recommendations=[{"id": str(r.id), "text": r.text, "problem_ids": r.problem_ids, "adopted": r.adopted,
                              "follow_up": r.follow_up} for r in recommendations],
            counts=Counts(
                communities_visited=len({v.community for v in visits}),
                compounds_visited=sum(len(v.compounds) for v in visits), symposia=len(symposia),
                problems=len(problems), individual_problems=sum(1 for p in problems if p.kind == "individual"),
                aspects=len(aspects), recommendations=len(recommendations),
                adopted=sum(1 for r in recommendations if r.adopted)),
        )


def report_markdown(tenant_name: str, topic: TopicOut) -> str:
    """协商成果报告, from everything the research group recorded."""
    c = topic.counts
    lines = [f"# {tenant_name}政协 {topic.plan_year} 年专题协商成果报告：{topic.title}", "",
             f"调研组：{'、'.join(topic.member_names or topic.members)}", "",
             f"走访社区 {c.communities_visited} 个、小区 {c.compounds_visited} 个；召开座谈会 {c.symposia} 场；"
             f"梳理问题 {c.problems} 个（个性问题 {c.individual_problems} 个，共性问题归为 {c.aspects} 个方面）；"
             f"提出意见建议 {c.recommendations} 条，已采纳 {c.adopted} 条。", "", "## 学习培训", ""]
    lines += [f"- {t['date']} {t['title']}" for t in topic.trainings] + ["", "## 实地调研", ""]
    lines += [f"- {v['date']} {v['community_name']}：{'、'.join(v['compounds'])}。{v['findings']}" for v in topic.visits]
    lines += ["", "## 座谈会", ""]
    for s in topic.symposia:
        lines.append(f"- {s['date']} 与{s['group_name']}座谈（{s['participants']} 人）")
        lines += [f"  - {st['who']}：{st['text']}" for st in s["statements"]]
    lines += ["", "## 问题清单", "", "### 共性问题", ""]
    by_id = {p.id: p for p in topic.problems}
    for aspect, ids in topic.aspects.items():
        lines += [f"#### {aspect}", ""] + [f"- {by_id[i].text}" for i in ids] + [""]
    lines += ["", "### 个性问题（交办部门）", ""]
    lines += [f"- {p.text}（交 {p.department}；{'答复：' + p.answer if p.answer else '待答复'}）"
              for p in topic.problems if p.kind == "individual"]
    lines += ["", "## 意见建议", ""]
    for i, r in enumerate(topic.recommendations, 1):
        state = {True: "已采纳", False: "未采纳", None: "待反馈"}[r["adopted"]]
        lines.append(f"{i}. {r['text']}（{state}{'：' + r['follow_up'] if r['follow_up'] else ''}）")
    return "\n".join(lines) + "\n"


# The report's faces in Word: 仿宋 for the text, 宋体 for headings (a reader without them gets Word's or
# LibreOffice's substitute; the Latin text is set in Times New Roman beside them).
DOCX_BODY_FONT, DOCX_HEADING_FONT, DOCX_LATIN_FONT = "仿宋", "宋体", "Times New Roman"


def _set_font(style: Any, east_asian: str) -> None:
    """A style's font for Chinese (w:eastAsia) as well as Latin text; the theme's fonts, which would win, go."""
    from docx.oxml.ns import qn

    style.font.name = DOCX_LATIN_FONT
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asian)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)


def report_docx(markdown: str) -> bytes:
    """The same report as a Word document, for the paper file a CPPCC office keeps: A4, in Chinese faces,
    sections as headings (level 1), problems' kinds (level 2) and the aspects of common problems (level 3)."""
    from docx import Document
    from docx.shared import Mm

    document = Document()
    for section in document.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
    _set_font(document.styles["Normal"], DOCX_BODY_FONT)
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3"):
        _set_font(document.styles[name], DOCX_HEADING_FONT)
    for line in markdown.splitlines():
        if line.startswith("# "):
            document.add_heading(line[2:], level=0)
        elif line.startswith("## "):
            document.add_heading(line[3:], level=1)
        elif line.startswith("### "):
            document.add_heading(line[4:], level=2)
        elif line.startswith("#### "):
            document.add_heading(line[5:], level=3)
        elif line.strip().startswith("- "):
            document.add_paragraph(line.strip()[2:].replace("**", ""), style="List Bullet")
        elif line.strip():
            document.add_paragraph(line.strip())
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()

"""Rules of steps 2–6: each command checks the state machine first, does its work, then moves the topic and
writes exactly one event, all in the caller's transaction."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.accounts.models import RoleAssignment, User
from core.accounts.services import users_seen_from
from core.authz.rules import ROLES
from core.concerns.models import Concern, Photo
from core.concerns.services import clean_text
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.events import PLUGINS_KEY, WorkflowEvent, append_event
from core.i18n import Label
from core.inputs import label, not_one_of
from core.plugins import Plugins
from core.tenancy.scope import TenantScope
from core.timelimits import clock as timelimits
from core.timelimits import revisits
from core.topics import schemas as s
from core.topics.machine import COMMANDS, STATE_NAMES, STATES, STEP_NAMES, STEPS
from core.topics.models import ActionItem, ActionProgress, Decision, FollowUp, Meeting, Rating, Research, Topic

RESEARCH_KINDS = ("site_visit", "survey")
LOW_RATING = 3.0  # an average below this opens a follow-up (回访): staff must answer the residents
FOLLOW_UP_STATES = ("open", "closed")
FOLLOW_UP_REASONS = {"low_rating": "居民评价偏低"}


def local_minute(at: datetime.datetime) -> str:
    """A meeting's start as a refusal names it: on the communities' clock."""
    return at.astimezone(clock.LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


class TopicService:
    """Topics of the scope's tenant. Authorization by role happened in the route; object rules live here."""

    def __init__(self, session: AsyncSession, scope: TenantScope) -> None:
        self.session = session
        self.scope = scope
        self.ctx = scope.ctx
        # The app's plugins, which every request's session carries (core/http.py): guards and mechanisms.
        self.plugins: Plugins = session.info[PLUGINS_KEY]

    # --- reading ---------------------------------------------------------------------------------------

    async def topic(self, topic_id: uuid.UUID, *, for_update: bool = False) -> Topic:
        statement = select(Topic).where(Topic.id == topic_id)
        topic = await self.session.scalar(statement.with_for_update() if for_update else statement)
        if topic is None:
            raise NotFound("没有这个议题")
        return topic

    async def page(self, state: str | None, limit: int, offset: int) -> tuple[list[s.TopicOut], int]:
        if state is not None and state not in STATES:
            raise not_one_of("state", STATES)
        statement = select(Topic)
        if state:
            statement = statement.where(Topic.state == state)
        total = await self.session.scalar(select(func.count()).select_from(statement.subquery()))
        rows = await self.session.scalars(statement.order_by(Topic.created_at.desc(), Topic.id).limit(limit).offset(offset))
        return [topic_out(t) for t in rows], int(total or 0)

    async def in_states(self, states: Sequence[str], limit: int) -> tuple[list[s.TopicOut], int]:
        """The newest `limit` topics in any of `states`, and how many there are (the staff board's columns)."""
        statement = select(Topic).where(Topic.state.in_(states))
        total = await self.session.scalar(select(func.count()).select_from(statement.subquery()))
        rows = await self.session.scalars(statement.order_by(Topic.updated_at.desc(), Topic.id).limit(limit))
        return [topic_out(t) for t in rows], int(total or 0)

    async def detail(self, topic_id: uuid.UUID) -> s.TopicDetail:
        topic = await self.topic(topic_id)
        concerns = (await self.session.scalars(select(Concern).where(Concern.topic_id == topic.id)
                                               .order_by(Concern.created_at))).all()
        research = (await self.session.scalars(select(Research).where(Research.topic_id == topic.id)
                                               .order_by(Research.date, Research.created_at))).all()
        meetings = (await self.session.scalars(select(Meeting).where(Meeting.topic_id == topic.id)
                                               .order_by(Meeting.starts_at))).all()
        decision = await self.session.scalar(select(Decision).where(Decision.topic_id == topic.id))
        actions = (await self.session.scalars(select(ActionItem).where(ActionItem.topic_id == topic.id)
                                              .order_by(ActionItem.due_date, ActionItem.created_at))).all()
        photos = await photo_ids(self.session, "research", [r.id for r in research])
        follow_ups = (await self.session.scalars(select(FollowUp).where(FollowUp.topic_id == topic.id)
                                                 .order_by(FollowUp.created_at))).all()
        return s.TopicDetail(
            topic=topic_out(topic),
            concerns=[s.ConcernBrief(id=c.id, reference=c.reference, title=c.title, category=c.category,
                                     status=c.status) for c in concerns],
            research=[research_out(r, photos.get(r.id, [])) for r in research],
            meetings=[self.meeting_out(m) for m in meetings],
            decision=decision_out(decision) if decision else None,
            actions=await actions_out(self.session, actions),
            rating=await rating_summary(self.session, topic.id),
            follow_ups=await follow_ups_out(self.session, follow_ups),
        )

    def meeting_out(self, m: Meeting) -> s.MeetingOut:
        """A meeting as the API shows it, its mechanism named as the app's plugins (or the core) registered it."""
        return s.MeetingOut(
            id=m.id, topic=m.topic_id, mechanism=m.mechanism,
            mechanism_name=self.plugins.mechanism_names().get(m.mechanism, m.mechanism),
            venue=m.venue, starts_at=m.starts_at, ends_at=m.ends_at, invitees=m.invitees, attendance=m.attendance,
            agenda=m.agenda, minutes=m.minutes, opinions=m.opinions, held=m.minutes_recorded_at is not None,
            cancelled_at=m.cancelled_at, cancel_reason=m.cancel_reason,
        )

    async def events(self, topic_id: uuid.UUID) -> list[s.EventOut]:
        topic = await self.topic(topic_id)
        events = (await self.session.scalars(select(WorkflowEvent).where(WorkflowEvent.topic_id == topic.id)
                                             .order_by(WorkflowEvent.seq))).all()
        actors = {e.actor_id for e in events if e.actor_id}
        people = {row.id: row for row in (await self.session.execute(
            select(User.id, User.username, User.display_name).where(User.id.in_(actors)))).all()} if actors else {}
        return [s.EventOut(seq=e.seq, action=e.action, from_state=e.from_state, to_state=e.to_state,
                           actor=people[e.actor_id].username if e.actor_id in people else None, at=e.at,
                           payload=e.payload, hash=e.hash,
                           actor_name=(people[e.actor_id].display_name or people[e.actor_id].username)
                           if e.actor_id in people else None) for e in events]

    # --- the commands ----------------------------------------------------------------------------------

    async def _allowed(self, topic: Topic, command: str) -> str:
        """Where `command` would take the topic, if the state machine and the tenant's plugins allow it."""
        target = COMMANDS[command].target(topic.state)
        await self.plugins.guard(self.session, self.scope.tenant, topic, command, target)
        return target

    async def _move(self, topic: Topic, command: str, payload: dict[str, Any] | None = None,
                    to_state: str | None = None) -> None:
        from_state = topic.state
        topic.state = to_state or COMMANDS[command].target(from_state)
        await self.session.flush()
        await append_event(self.session, self.ctx, subject_kind="topic", subject_id=topic.id, topic_id=topic.id,
                           action=f"topic.{command}", from_state=from_state, to_state=topic.state,
                           actor_id=self.scope.user_id, payload=payload)

    async def _concern_moves(self, concerns: Sequence[Concern], action: str, to_state: str,
                             topic_id: uuid.UUID | None) -> None:
        for concern in concerns:
            from_state = concern.status
            concern.status, concern.topic_id = to_state, topic_id
            if to_state == "completed":
                concern.closed_at = clock.now()
                timelimits.closed(concern)
            await self.session.flush()
            await append_event(self.session, self.ctx, subject_kind="concern", subject_id=concern.id,
                               topic_id=topic_id, action=action, from_state=from_state, to_state=to_state,
                               actor_id=self.scope.user_id)
            if to_state == "completed":
                await revisits.open_round(self.session, self.ctx, concern, self.scope.user_id)

    async def create(self, data: s.TopicCreate) -> Topic:
        title = clean_text(data.title, "title", Label("议题标题"), 120)
        description = clean_text(data.description, "description", Label("议题说明"), 5000, required=False) or ""
        ids = list(dict.fromkeys(data.concern_ids))
        concerns = (await self.session.scalars(select(Concern).where(Concern.id.in_(ids)))).all() if ids else []
        if len(concerns) != len(ids):
            raise InvalidInput("有的诉求在本社区不存在", field="concern_ids")
        not_ready = [c.reference for c in concerns if c.status != "accepted"]
        if not_ready:
            raise Conflict("只有已受理的诉求才能拟定议题：{references}", field="concern_ids",
                           references=", ".join(not_ready))
        topic = Topic(title=title, description=description, state="drafted", created_by_id=self.scope.user_id)
        self.session.add(topic)
        await self.session.flush()
        await append_event(self.session, self.ctx, subject_kind="topic", subject_id=topic.id, topic_id=topic.id,
                           action="topic.draft", from_state=None, to_state="drafted", actor_id=self.scope.user_id,
                           payload={"concerns": [c.reference for c in concerns]})
        await self._concern_moves(concerns, "concern.topic", "in_topic", topic.id)
        return topic

    async def research(self, topic_id: uuid.UUID, data: s.ResearchIn) -> Research:
        topic = await self.topic(topic_id, for_update=True)
        await self._allowed(topic, "research")
        if data.kind not in RESEARCH_KINDS:
            raise InvalidInput("{name}须为 site_visit（实地考察）或 survey（征询）", field="kind", name=label("kind"))
        if data.date > clock.today() + datetime.timedelta(days=1):
            raise InvalidInput("调研日期不能在将来", field="date")
        if data.kind == "survey":
            clean_text(data.question, "question", Label("征询问题"), 500)
            if len(data.options) < 2:
                raise InvalidInput("征询至少要有两个选项", field="options")
            counts = dict(data.counts)
            for response in data.responses:
                if response.option not in data.options:
                    raise InvalidInput("回答的选项 {option} 不在选项中", field="responses", option=response.option)
                counts[response.option] = counts.get(response.option, 0) + 1
            if set(counts) - set(data.options) or any(v < 0 for v in counts.values()):
                raise InvalidInput("票数须对应选项且不能为负", field="counts")
        else:
            clean_text(data.findings, "findings", Label("调研发现"), 5000)
            counts = {}
        research = Research(
            topic_id=topic.id, kind=data.kind, date=data.date, participants=[p.strip() for p in data.participants if p.strip()],
            findings=data.findings.strip(), question=data.question, options=data.options, counts=counts,
            responses=[{"option": r.option, "comment": r.comment, "building": r.building} for r in data.responses],
            recorded_by_id=self.scope.user_id,
        )
        self.session.add(research)
        await self.session.flush()
        await self._move(topic, "research", {"research": str(research.id), "kind": data.kind})
        return research

    async def schedule(self, topic_id: uuid.UUID, data: s.MeetingIn) -> Meeting:
        topic = await self.topic(topic_id, for_update=True)
        await self._allowed(topic, "schedule")
        usable = self.plugins.mechanisms_for(self.scope.tenant)
        if data.mechanism not in usable:
            raise not_one_of("mechanism", usable)
        venue = clean_text(data.venue, "venue", Label("议事场所"), 100)
        if data.starts_at.tzinfo is None:
            raise InvalidInput("{name}须带时区，如 2026-07-28T15:00:00+08:00", field="starts_at", name=label("starts_at"))
        if data.ends_at is not None and data.ends_at <= data.starts_at:
            raise InvalidInput("结束时间须晚于开始时间", field="ends_at")
        unknown_roles = sorted(set(data.invitees.roles) - set(ROLES))
        if unknown_roles:
            raise InvalidInput("未知角色：{roles}", field="invitees.roles", roles=", ".join(unknown_roles))
        if data.invitees.users:
            await users_seen_from(self.session, self.scope.tenant, data.invitees.users, "invitees.users")
        meeting = Meeting(
            topic_id=topic.id, mechanism=data.mechanism, venue=venue, starts_at=data.starts_at, ends_at=data.ends_at,
            invitees={"roles": data.invitees.roles, "orgs": data.invitees.orgs, "users": data.invitees.users},
            agenda=data.agenda, attendance={}, opinions=[],
        )
        self.session.add(meeting)
        await self.session.flush()
        await self._move(topic, "schedule", {"meeting": str(meeting.id), "mechanism": data.mechanism, "venue": venue})
        return meeting

    async def meeting(self, meeting_id: uuid.UUID) -> Meeting:
        meeting = await self.session.scalar(select(Meeting).where(Meeting.id == meeting_id))
        if meeting is None:
            raise NotFound("没有这个协商会")
        return meeting

    @staticmethod
    def _refuse_if_cancelled(meeting: Meeting) -> None:
        if meeting.cancelled_at is not None:
            raise Conflict("这次协商会已取消")

    async def _not_started(self, meeting_id: uuid.UUID, command: str) -> tuple[Meeting, Topic]:
        """A meeting that has not started, and its topic (locked): only such a meeting is moved or called off."""
        meeting = await self.meeting(meeting_id)
        topic = await self.topic(meeting.topic_id, for_update=True)
        await self._allowed(topic, command)
        self._refuse_if_cancelled(meeting)
        if meeting.minutes_recorded_at is not None or meeting.starts_at <= clock.now():
            raise Conflict("协商会已于 {starts_at} 开始，不能再改期或取消", starts_at=local_minute(meeting.starts_at))
        return meeting, topic

    async def reschedule(self, meeting_id: uuid.UUID, data: s.RescheduleIn) -> Meeting:
        reason = clean_text(data.reason, "reason", Label("改期理由"), 2000)
        meeting, topic = await self._not_started(meeting_id, "reschedule")
        if data.starts_at.tzinfo is None:
            raise InvalidInput("{name}须带时区，如 2026-07-28T15:00:00+08:00", field="starts_at", name=label("starts_at"))
        if data.starts_at <= clock.now():
            raise InvalidInput("改期后的开始时间须晚于现在", field="starts_at")
        if data.starts_at == meeting.starts_at:
            raise InvalidInput("改期后的开始时间与原定时间相同", field="starts_at")
        previous = meeting.starts_at
        if meeting.ends_at is not None:
            meeting.ends_at += data.starts_at - previous  # the meeting keeps its length
        meeting.starts_at = data.starts_at
        await self.session.flush()
        await self._move(topic, "reschedule", {"meeting": str(meeting.id), "from": previous.isoformat(),
                                               "to": data.starts_at.isoformat(), "reason": reason})
        return meeting

    async def cancel_meeting(self, meeting_id: uuid.UUID, reason: str) -> Meeting:
        reason = clean_text(reason, "reason", Label("取消理由"), 2000)
        meeting, topic = await self._not_started(meeting_id, "cancel_meeting")
        meeting.cancelled_at, meeting.cancel_reason = clock.now(), reason
        await self.session.flush()
        target = None
        if topic.state == "scheduled" and not await self.session.scalar(
                select(Meeting.id).where(Meeting.topic_id == topic.id, Meeting.cancelled_at.is_(None)).limit(1)):
            # No meeting left: the topic is back where it was before scheduling, and may schedule another.
            researched = await self.session.scalar(select(Research.id).where(Research.topic_id == topic.id).limit(1))
            target = "researching" if researched else "drafted"
        await self._move(topic, "cancel_meeting", {"meeting": str(meeting.id), "reason": reason}, to_state=target)
        return meeting

    def _require_started(self, meeting: Meeting) -> None:
        """A meeting's record is written once it has started, and never for a meeting called off."""
        self._refuse_if_cancelled(meeting)
        if meeting.starts_at > clock.now():
            raise Conflict("协商会将于 {starts_at} 开始，开始后才能记录纪要和协商结果",
                           starts_at=local_minute(meeting.starts_at))

    async def minutes(self, meeting_id: uuid.UUID, data: s.MinutesIn) -> Meeting:
        meeting = await self.meeting(meeting_id)
        topic = await self.topic(meeting.topic_id, for_update=True)
        await self._allowed(topic, "minutes")
        self._require_started(meeting)
        meeting.minutes = clean_text(data.minutes, "minutes", Label("会议纪要"), 20000)
        if any(v < 0 for v in data.attendance.values()):
            raise InvalidInput("出席人数不能为负", field="attendance")
        for opinion in data.opinions:
            clean_text(opinion.text, "opinions", Label("意见"), 2000)
        meeting.attendance = dict(data.attendance)
        meeting.opinions = [{"group": o.group, "text": o.text.strip()} for o in data.opinions]
        if data.agenda is not None:
            meeting.agenda = data.agenda
        meeting.minutes_recorded_at = clock.now()
        await self.session.flush()
        await self._move(topic, "minutes", {"meeting": str(meeting.id), "opinions": len(meeting.opinions)})
        return meeting

    async def decide(self, meeting_id: uuid.UUID, data: s.DecisionIn) -> Decision:
        meeting = await self.meeting(meeting_id)
        topic = await self.topic(meeting.topic_id, for_update=True)
        await self._allowed(topic, "decide")
        self._require_started(meeting)
        if meeting.minutes_recorded_at is None:
            raise Conflict("请先记录这次协商会的纪要，再记录协商结果")
        text = clean_text(data.text, "text", Label("协商结果"), 5000)
        if data.method == "consensus":
            if data.votes:
                raise InvalidInput("协商一致（consensus）不填 votes", field="votes")
        elif data.method == "vote":
            if not data.votes or any(v < 0 for v in data.votes.values()):
                raise InvalidInput("表决（vote）须给出每个选项的票数", field="votes")
            if data.eligible_voters is not None and data.eligible_voters < sum(data.votes.values()):
                raise InvalidInput("有表决权人数不能少于投票总数", field="eligible_voters")
        else:
            raise InvalidInput("{name}须为 consensus（协商一致）或 vote（表决）", field="method", name=label("method"))
        decision = Decision(topic_id=topic.id, meeting_id=meeting.id, text=text, method=data.method,
                            votes=dict(data.votes), eligible_voters=data.eligible_voters)
        self.session.add(decision)
        await self.session.flush()
        await self._move(topic, "decide", {"meeting": str(meeting.id), "method": data.method})
        return decision

    async def publish(self, topic_id: uuid.UUID) -> Topic:
        topic = await self.topic(topic_id, for_update=True)
        await self._allowed(topic, "publish")
        if not await self.session.scalar(select(Decision.id).where(Decision.topic_id == topic.id)):
            raise Conflict("没有协商结果，不能公开")
        topic.published_at = clock.now()
        await self._move(topic, "publish")
        return topic

    async def withdraw(self, topic_id: uuid.UUID, reason: str) -> Topic:
        reason = clean_text(reason, "reason", Label("撤回理由"), 2000)
        topic = await self.topic(topic_id, for_update=True)
        await self._allowed(topic, "withdraw")
        topic.withdrawn_reason = reason
        await self._move(topic, "withdraw", {"reason": reason})
        # The concerns go back to the queue: they were accepted, and still are.
        concerns = (await self.session.scalars(select(Concern).where(Concern.topic_id == topic.id))).all()
        await self._concern_moves(concerns, "concern.released", "accepted", None)
        return topic

    async def add_action(self, topic_id: uuid.UUID, data: s.ActionIn) -> ActionItem:
        topic = await self.topic(topic_id, for_update=True)
        await self._allowed(topic, "add_action")
        title = clean_text(data.title, "title", Label("执行事项"), 200)
        owner_org = clean_text(data.owner_org, "owner_org", Label("责任单位"), 100, required=False)
        owner_user_id = await self._owner(data.owner_user)
        if not owner_org and not owner_user_id:
            raise InvalidInput("须指定责任单位（owner_org）或责任人（owner_user）", field="owner_org")
        if data.due_date < topic.created_at.date():
            raise InvalidInput("完成期限不能早于议题拟定日期", field="due_date")
        action = ActionItem(topic_id=topic.id, title=title, owner_org=owner_org, owner_user_id=owner_user_id,
                            due_date=data.due_date, percent=0, status="open")
        self.session.add(action)
        await self.session.flush()
        await self._move(topic, "add_action", {"action": str(action.id), "title": title})
        return action

    async def _owner(self, username: str | None) -> uuid.UUID | None:
        """The id of the user named to own an action item, who must be able to report its progress here."""
        if not username:
            return None
        owner_id = (await users_seen_from(self.session, self.scope.tenant, [username], "owner_user"))[username].id
        # The owner reports progress on the item: someone who may not would be handed a 403 of their own.
        if not await self.scope.user_may(owner_id, "action.progress"):
            raise InvalidInput("{username} 不能办理这里的执行事项：责任人须是本辖区的物业公司、职能部门或工作人员",
                               field="owner_user", username=username)
        return owner_id

    async def owners(self) -> list[s.OwnerOut]:
        """Who may own an action item here, to pick from: the tenant's members holding a role that reports
        progress (property companies, departments, staff), by display name."""
        roles = self.scope.authorizer.allowed["action.progress"]
        rows = (await self.session.execute(
            select(User.username, User.display_name, RoleAssignment.role)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.tenant_id == self.scope.tenant.id, RoleAssignment.role.in_(sorted(roles)),
                   User.active.is_(True))
            .order_by(User.display_name, User.username, RoleAssignment.role))).all()
        found: dict[str, s.OwnerOut] = {}
        for username, display_name, role in rows:
            owner = found.setdefault(username, s.OwnerOut(username=username, display_name=display_name or username,
                                                          roles=[]))
            owner.roles.append(role)
        return list(found.values())

    async def _open_action(self, action_id: uuid.UUID, command: str) -> tuple[ActionItem, Topic]:
        """An open action item and its topic (both locked), where the state machine allows `command`."""
        action = await self.action(action_id, for_update=True)
        topic = await self.topic(action.topic_id, for_update=True)
        await self._allowed(topic, command)
        if action.status != "open":
            raise Conflict("执行事项已{status}，不能再改派或取消",
                           status=Label("办结" if action.status == "completed" else "取消"))
        return action, topic

    async def reassign_action(self, action_id: uuid.UUID, data: s.ReassignIn) -> ActionItem:
        """Hand an open item to another unit or person, saying why; the new owner is told, the old one too."""
        reason = clean_text(data.reason, "reason", Label("改派理由"), 2000)
        owner_org = clean_text(data.owner_org, "owner_org", Label("责任单位"), 100, required=False)
        owner_user_id = await self._owner(data.owner_user)
        if not owner_org and not owner_user_id:
            raise InvalidInput("须指定责任单位（owner_org）或责任人（owner_user）", field="owner_user")
        action, topic = await self._open_action(action_id, "reassign_action")
        if (owner_org, owner_user_id) == (action.owner_org, action.owner_user_id):
            raise InvalidInput("改派后的责任单位与责任人与现在相同", field="owner_user")
        previous = {"owner_org": action.owner_org,
                    "owner_user": str(action.owner_user_id) if action.owner_user_id else None}
        action.owner_org, action.owner_user_id = owner_org, owner_user_id
        await self.session.flush()
        await self._move(topic, "reassign_action", {
            "action": str(action.id), "title": action.title, "reason": reason, "from": previous,
            "to": {"owner_org": owner_org, "owner_user": str(owner_user_id) if owner_user_id else None}})
        return action

    async def cancel_action(self, action_id: uuid.UUID, reason: str) -> ActionItem:
        """Call off an open item, saying why. Once nothing is left open and something was done, the topic is
        complete, as when its last item is completed."""
        reason = clean_text(reason, "reason", Label("取消理由"), 2000)
        action, topic = await self._open_action(action_id, "cancel_action")
        action.status = "cancelled"
        await self.session.flush()
        statuses = set((await self.session.scalars(select(ActionItem.status).where(
            ActionItem.topic_id == topic.id))).all())
        target = None
        if topic.state == "executing" and "open" not in statuses and "completed" in statuses:
            target = "completed"
            topic.completed_at = clock.now()
        await self._move(topic, "cancel_action", {"action": str(action.id), "title": action.title,
                                                  "reason": reason}, to_state=target)
        if target == "completed":
            concerns = (await self.session.scalars(select(Concern).where(Concern.topic_id == topic.id,
                                                                         Concern.status == "in_topic"))).all()
            await self._concern_moves(concerns, "concern.completed", "completed", topic.id)
        return action

    async def action(self, action_id: uuid.UUID, *, for_update: bool = False) -> ActionItem:
        statement = select(ActionItem).where(ActionItem.id == action_id)
        action = await self.session.scalar(statement.with_for_update() if for_update else statement)
        if action is None or not self._may_see_action(action):
            raise NotFound("没有这个执行事项")
        return action

    def _may_see_action(self, action: ActionItem) -> bool:
        return self.scope.can("topic.read") or action.owner_user_id == self.scope.user_id

    async def actions(self, mine_only: bool, overdue: bool | None, limit: int, offset: int) -> tuple[list[s.ActionOut], int]:
        statement = select(ActionItem)
        if mine_only or not self.scope.can("topic.read"):
            statement = statement.where(ActionItem.owner_user_id == self.scope.user_id)
        if overdue is True:
            statement = statement.where(ActionItem.status == "open", ActionItem.due_date < clock.today())
        total = await self.session.scalar(select(func.count()).select_from(statement.subquery()))
        # Open items first, the soonest due (so the overdue) at the top.
        rows = (await self.session.scalars(statement.order_by(ActionItem.status != "open", ActionItem.due_date,
                                                              ActionItem.id).limit(limit).offset(offset))).all()
        return await actions_out(self.session, rows), int(total or 0)

    async def progress(self, action_id: uuid.UUID, data: s.ProgressIn) -> ActionProgress:
        action = await self.action(action_id, for_update=True)
        topic = await self.topic(action.topic_id, for_update=True)
        self.require_owner_or_staff(action)
        await self._allowed(topic, "progress")
        if action.status != "open":
            raise Conflict("执行事项已办结")
        if not 0 <= data.percent <= 100:
            raise InvalidInput("进度须在 0–100 之间", field="percent")
        if data.percent < action.percent:
            raise InvalidInput("进度不能倒退（当前 {percent}%）", field="percent", percent=action.percent)
        report = ActionProgress(action_id=action.id, percent=data.percent, note=data.note.strip()[:5000],
                                reported_by_id=self.scope.user_id)
        action.percent = data.percent
        self.session.add(report)
        await self.session.flush()
        await self._move(topic, "progress", {"action": str(action.id), "percent": data.percent})
        return report

    async def complete(self, action_id: uuid.UUID) -> ActionItem:
        action = await self.action(action_id, for_update=True)
        topic = await self.topic(action.topic_id, for_update=True)
        self.require_owner_or_staff(action)
        target = await self._allowed(topic, "complete_action")
        if action.status != "open":
            raise Conflict("执行事项已办结")
        action.status, action.percent, action.completed_at = "completed", 100, clock.now()
        await self.session.flush()
        still_open = await self.session.scalar(select(func.count()).select_from(ActionItem).where(
            ActionItem.topic_id == topic.id, ActionItem.status == "open"))
        if not still_open:
            target = "completed"
            topic.completed_at = clock.now()
        await self._move(topic, "complete_action", {"action": str(action.id)}, to_state=target)
        if target == "completed":  # the concerns it took up are settled with it
            concerns = (await self.session.scalars(select(Concern).where(Concern.topic_id == topic.id,
                                                                         Concern.status == "in_topic"))).all()
            await self._concern_moves(concerns, "concern.completed", "completed", topic.id)
        return action

    def require_owner_or_staff(self, action: ActionItem) -> None:
        if action.owner_user_id != self.scope.user_id and not self.scope.can("topic.manage"):
            raise Forbidden("只有责任人或社区工作人员可以报告这个事项的进度")

    async def rate(self, topic_id: uuid.UUID, data: s.RatingIn) -> s.RatingSummary:
        topic = await self.session.scalar(select(Topic).where(Topic.id == topic_id).with_for_update())
        fed = await self.session.scalar(select(func.count()).select_from(Concern).where(
            Concern.topic_id == topic_id, Concern.resident_id == self.scope.user_id)) if topic else 0
        if topic is None or not fed:
            raise NotFound("没有您可以评价的这个议题")
        await self._allowed(topic, "rate")
        if not 1 <= data.score <= 5:
            raise InvalidInput("评分须为 1–5", field="score")
        rating = await self.session.scalar(select(Rating).where(Rating.topic_id == topic.id,
                                                                Rating.user_id == self.scope.user_id))
        if rating is None:
            rating = Rating(topic_id=topic.id, user_id=self.scope.user_id, score=data.score,
                            comment=data.comment.strip()[:2000])
            self.session.add(rating)
        else:
            rating.score, rating.comment = data.score, data.comment.strip()[:2000]
        await self.session.flush()
        summary = await rating_summary(self.session, topic.id)
        await self._move(topic, "rate", {"score": data.score, "average": summary.average})
        # Residents unhappy with what was done are called back; what was done stays done.
        if summary.average is not None and summary.average < LOW_RATING:
            await self._open_follow_up(topic, rating, summary.average)
        return summary

    # --- follow-ups (回访) --------------------------------------------------------------------------------

    async def _open_follow_up(self, topic: Topic, rating: Rating, average: float) -> None:
        """Open a follow-up on the topic, unless one is open already (the topic's row lock keeps it to one)."""
        if await self.session.scalar(select(FollowUp.id).where(FollowUp.topic_id == topic.id,
                                                               FollowUp.status == "open")):
            return
        follow_up = FollowUp(topic_id=topic.id, status="open", reason="low_rating", rating_id=rating.id,
                             score=rating.score, average=average)
        self.session.add(follow_up)
        await self.session.flush()
        await append_event(self.session, self.ctx, subject_kind="follow_up", subject_id=follow_up.id,
                           topic_id=topic.id, action="follow_up.open", from_state=None, to_state="open",
                           actor_id=self.scope.user_id,
                           payload={"reason": "low_rating", "score": rating.score, "average": average})

    async def follow_ups(self, status: str | None, limit: int, offset: int) -> tuple[list[s.FollowUpOut], int]:
        """Follow-ups, the open ones first, oldest first (the longest waiting at the top)."""
        if status is not None and status not in FOLLOW_UP_STATES:
            raise not_one_of("status", FOLLOW_UP_STATES)
        statement = select(FollowUp)
        if status:
            statement = statement.where(FollowUp.status == status)
        total = await self.session.scalar(select(func.count()).select_from(statement.subquery()))
        rows = (await self.session.scalars(statement.order_by(FollowUp.status != "open", FollowUp.created_at,
                                                              FollowUp.id).limit(limit).offset(offset))).all()
        return await follow_ups_out(self.session, rows), int(total or 0)

    async def follow_up(self, follow_up_id: uuid.UUID, *, for_update: bool = False) -> FollowUp:
        statement = select(FollowUp).where(FollowUp.id == follow_up_id)
        follow_up = await self.session.scalar(statement.with_for_update() if for_update else statement)
        if follow_up is None:
            raise NotFound("没有这个回访")
        return follow_up

    async def close_follow_up(self, follow_up_id: uuid.UUID, note: str) -> FollowUp:
        note = clean_text(note, "note", Label("回访情况"), 2000)
        follow_up = await self.follow_up(follow_up_id, for_update=True)
        if follow_up.status != "open":
            raise Conflict("这个回访已经结束")
        follow_up.status, follow_up.note = "closed", note
        follow_up.closed_by_id, follow_up.closed_at = self.scope.user_id, clock.now()
        await self.session.flush()
        await append_event(self.session, self.ctx, subject_kind="follow_up", subject_id=follow_up.id,
                           topic_id=follow_up.topic_id, action="follow_up.close", from_state="open",
                           to_state="closed", actor_id=self.scope.user_id, payload={"note": note})
        return follow_up


# --- shaping -------------------------------------------------------------------------------------------

def topic_out(topic: Topic) -> s.TopicOut:
    step = STEPS[topic.state]
    return s.TopicOut(
        id=topic.id, title=topic.title, description=topic.description, state=topic.state,
        state_name=STATE_NAMES[topic.state], step=step, step_name=STEP_NAMES[step],
        withdrawn_reason=topic.withdrawn_reason, published_at=topic.published_at, completed_at=topic.completed_at,
        created_at=topic.created_at, updated_at=topic.updated_at,
    )


def research_out(r: Research, photos: list[uuid.UUID]) -> s.ResearchOut:
    return s.ResearchOut(id=r.id, kind=r.kind, date=r.date, participants=r.participants, findings=r.findings,
                         question=r.question, options=r.options, counts=r.counts, photos=photos)


def decision_out(d: Decision) -> s.DecisionOut:
    return s.DecisionOut(meeting=d.meeting_id, text=d.text, method=d.method, votes=d.votes,
                         eligible_voters=d.eligible_voters, decided_at=d.created_at)


async def photo_ids(session: AsyncSession, kind: str, owners: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    if owners:
        rows = await session.execute(select(Photo.owner_id, Photo.id).where(
            Photo.owner_kind == kind, Photo.owner_id.in_(owners)).order_by(Photo.created_at))
        for owner_id, photo_id in rows:
            found.setdefault(owner_id, []).append(photo_id)
    return found


async def actions_out(session: AsyncSession, actions: Sequence[ActionItem]) -> list[s.ActionOut]:
    """A page of action items with their progress, in a fixed number of queries."""
    ids = [a.id for a in actions]
    reports: dict[uuid.UUID, list[ActionProgress]] = {}
    if ids:
        for report in (await session.scalars(select(ActionProgress).where(ActionProgress.action_id.in_(ids))
                                             .order_by(ActionProgress.created_at))).all():
            reports.setdefault(report.action_id, []).append(report)
    photos = await photo_ids(session, "progress", [r.id for rs in reports.values() for r in rs])
    owners = {a.owner_user_id for a in actions if a.owner_user_id}
    people = {row.id: row for row in (await session.execute(
        select(User.id, User.username, User.display_name).where(User.id.in_(owners)))).all()} if owners else {}
    names = {user_id: row.username for user_id, row in people.items()}
    shown = {user_id: row.display_name or row.username for user_id, row in people.items()}
    day, now = clock.today(), clock.now()
    return [
        s.ActionOut(
            id=a.id, topic=a.topic_id, title=a.title, owner_org=a.owner_org, owner_user=names.get(a.owner_user_id),
            owner_name=shown.get(a.owner_user_id) if a.owner_user_id else None,
            due_date=a.due_date, percent=a.percent, status=a.status,
            overdue=a.status == "open" and a.due_date < day, completed_at=a.completed_at,
            light=timelimits.action_light(a.created_at, a.due_date, now) if a.status == "open" else None,
            progress=[s.ProgressOut(id=r.id, percent=r.percent, note=r.note, reported_at=r.created_at,
                                    photos=photos.get(r.id, [])) for r in reports.get(a.id, [])],
        )
        for a in actions
    ]


async def rating_summary(session: AsyncSession, topic_id: uuid.UUID) -> s.RatingSummary:
    return (await rating_summaries(session, [topic_id]))[topic_id]


async def rating_summaries(session: AsyncSession, topic_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, s.RatingSummary]:
    """The ratings of several topics in one query."""
    found = {topic_id: s.RatingSummary(count=0, average=None) for topic_id in topic_ids}
    if topic_ids:
        rows = await session.execute(select(Rating.topic_id, func.count(Rating.id), func.avg(Rating.score))
                                     .where(Rating.topic_id.in_(topic_ids)).group_by(Rating.topic_id))
        for topic_id, count, average in rows:
            found[topic_id] = s.RatingSummary(count=int(count), average=round(float(average), 2))
    return found


async def follow_ups_out(session: AsyncSession, follow_ups: Sequence[FollowUp]) -> list[s.FollowUpOut]:
    """Follow-ups with their topic's title, the comment of the rating that opened each, and who closed it."""
    topic_ids = {f.topic_id for f in follow_ups}
    titles = dict((await session.execute(select(Topic.id, Topic.title).where(Topic.id.in_(topic_ids)))).all()) \
        if topic_ids else {}
    rating_ids = {f.rating_id for f in follow_ups if f.rating_id}
    comments: dict[uuid.UUID | None, str | None] = dict((await session.execute(select(Rating.id, Rating.comment).where(Rating.id.in_(rating_ids)))).all()) \
        if rating_ids else {}
    closers = {f.closed_by_id for f in follow_ups if f.closed_by_id}
    names: dict[uuid.UUID | None, str] = dict((await session.execute(select(User.id, User.username).where(User.id.in_(closers)))).all()) \
        if closers else {}
    return [
        s.FollowUpOut(
            id=f.id, topic=f.topic_id, topic_title=titles.get(f.topic_id, ""), status=f.status, reason=f.reason,
            reason_name=FOLLOW_UP_REASONS.get(f.reason, f.reason), score=f.score, average=f.average,
            comment=comments.get(f.rating_id) or None, opened_at=f.created_at, closed_by=names.get(f.closed_by_id),
            closed_at=f.closed_at, note=f.note,
        )
        for f in follow_ups
    ]

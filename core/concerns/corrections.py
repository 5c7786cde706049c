"""Correcting mistakes on a concern: its filer edits or withdraws it until staff triage it, and staff correct its
category or place with a reason, each change one event."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from core import clock
from core.concerns.models import EDITABLE_STATES, STATE_NAMES, Concern
from core.concerns.schemas import ConcernCreate, ConcernEdit, ConcernFix
from core.concerns.services import ConcernService, category_names, checked_filing, clean_text
from core.errors import Conflict, Forbidden, InvalidInput, Problems
from core.events import WorkflowEvent
from core.i18n import Label
from core.related import index as related_index
from core.tenancy.services import resolve_place
from core.timelimits import clock as timelimits
from core.timelimits.sweep import escalate_after

# The fields a filer may change, in the order an event lists them.
EDITED = ("title", "description", "category", "compound_id", "building_id", "place")
FIXED = ("category", "compound_id", "building_id")


class CorrectionService:
    """Corrections of the scope's tenant's concerns, by their filer or by staff."""

    def __init__(self, concerns: ConcernService) -> None:
        self.concerns = concerns
        self.session = concerns.session
        self.scope = concerns.scope

    async def _own_untriaged(self, concern_id: uuid.UUID, doing: Label) -> Concern:
        """The user's own concern (filed by them or about them), locked, while no one on staff has triaged it."""
        concern = await self.concerns.get(concern_id, for_update=True)
        if self.scope.user_id not in (concern.filed_by_id, concern.resident_id):
            raise Forbidden("只有反映人本人可以修改或撤回这条诉求")
        if concern.status not in EDITABLE_STATES:
            raise Conflict("诉求当前为「{state}」，工作人员已处理，不能再{doing}；如需更正请联系社区工作人员",
                           state=Label(STATE_NAMES[concern.status]), doing=doing)
        return concern

    async def edit(self, concern_id: uuid.UUID, data: ConcernEdit) -> Concern:
        """The filer's new text, category and place, checked as filing checks them. A changed text is indexed
        again (the related concerns read it), and a changed title drops a public summary written for the old one:
        the public reads the new title with personal data taken out, as for a new filing."""
        concern = await self._own_untriaged(concern_id, Label("修改"))
        problems = Problems()
        fields = await checked_filing(self.session, ConcernCreate(
            title=data.title, description=data.description, category=data.category, compound=data.compound,
            building=data.building, place=data.place, urgency=concern.urgency), problems)
        problems.raise_any()
        changed = [name for name in EDITED if getattr(concern, name) != fields[name]]
        if not changed:
            raise InvalidInput("没有修改任何内容", field="title")
        old_keys = related_index.keys_of(concern.title, concern.description)
        old_category = concern.category
        for name in changed:
            setattr(concern, name, fields[name])
        if "category" in changed:
            await self._retime(concern, old_category)
        summary_dropped = "title" in changed and concern.public_summary is not None
        if "title" in changed:
            concern.public_summary = None
        await self.session.flush()
        if "title" in changed or "description" in changed:
            new_keys = related_index.keys_of(concern.title, concern.description)
            if new_keys != old_keys:
                await related_index.forget(self.session, self.concerns.ctx, concern.id, old_keys)
                await related_index.write(self.session, self.concerns.ctx, [(concern.id, concern.created_at, new_keys)])
        payload: dict[str, Any] = {"changed": changed}
        if summary_dropped:
            payload["public_summary_reset"] = True
        await self.concerns._event(concern, "concern.edited", concern.status, concern.status, payload)
        return concern

    async def withdraw(self, concern_id: uuid.UUID, reason: str | None) -> Concern:
        """The filer takes the concern back: closed, its clock stopped, out of the similarity index."""
        reason = clean_text(reason, "reason", Label("撤回原因"), 2000, required=False)
        concern = await self._own_untriaged(concern_id, Label("撤回"))
        from_state = concern.status
        concern.status, concern.closed_at = "withdrawn", clock.now()
        timelimits.closed(concern)
        await self.session.flush()
        await related_index.forget(self.session, self.concerns.ctx, concern.id,
                                   related_index.keys_of(concern.title, concern.description))
        await self.concerns._event(concern, "concern.withdrawn", from_state, "withdrawn", {"reason": reason})
        return concern

    async def fix(self, concern_id: uuid.UUID, data: ConcernFix) -> Concern:
        """Staff put a concern in its right category or place, saying why; what it was is kept in the event."""
        problems = Problems()
        reason = problems.take(clean_text, data.reason, "reason", Label("更正理由"), 2000)
        categories = await category_names(self.session)
        if data.category not in categories:
            problems.add(InvalidInput("未知分类 {category}；可用：{choices}", field="category",
                                      category=data.category, choices=", ".join(categories)))
        compound_id = building_id = None
        try:
            compound_id, building_id = await resolve_place(self.session, data.compound, data.building)
        except InvalidInput as refused:
            problems.add(refused)
        problems.raise_any()
        concern = await self.concerns.get(concern_id, for_update=True)
        if concern.status == "merged":
            raise Conflict("诉求已合并办理，请更正它合并进的那条诉求")
        wanted = {"category": data.category, "compound_id": compound_id,
                  "building_id": building_id}
        changed = {name: [_text(getattr(concern, name)), _text(wanted[name])] for name in FIXED
                   if getattr(concern, name) != wanted[name]}
        if not changed:
            raise InvalidInput("分类与地点都没有变化，无需更正", field="category")
        old_category = concern.category
        for name in changed:
            setattr(concern, name, wanted[name])
        payload: dict[str, Any] = {"reason": reason, "changed": changed,
                                   "category_name": categories.get(concern.category, concern.category)}
        if "category" in changed and concern.closed_at is None:
            await self._retime(concern, old_category)
            payload.update(respond_by=_text(concern.respond_by), resolve_by=_text(concern.resolve_by))
        await self.session.flush()
        await self.concerns._event(concern, "concern.corrected", concern.status, concern.status, payload)
        return concern

    async def _retime(self, concern: Concern, old_category: str) -> None:
        """The concern's clock under its new category's time limits (`core.timelimits.clock.recategorised`)."""
        if concern.respond_by is None:  # filed before time limits: no clock to move
            return
        start = concern.created_at
        if concern.reopened:  # 重办 started the clock again
            start = await self.session.scalar(select(func.max(WorkflowEvent.at)).where(
                WorkflowEvent.subject_kind == "concern", WorkflowEvent.subject_id == concern.id,
                WorkflowEvent.action == "concern.reopened")) or start
        policy = await timelimits.policy_for(self.session, self.scope.tenant)
        timelimits.recategorised(concern, policy, old_category, start, clock.now(), escalate_after(policy))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)

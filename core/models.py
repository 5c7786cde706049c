"""Imports every model of the core, so that the metadata (and Alembic) knows all tables."""

from core.accounts.models import LoginThrottle, RoleAssignment, User
from core.concerns.models import Concern, ConcernCategory, Photo, ReferenceCounter
from core.events import EventChainHead, WorkflowEvent
from core.idempotency import IdempotencyRecord
from core.notifications.models import Notification, NotificationCursor, NotificationPreference
from core.open311.models import Open311Client, Open311Request
from core.related.models import ConcernBand, Supporter
from core.reporting.models import DayTally
from core.tenancy.models import Building, Compound, Tenant
from core.timelimits.models import TimeLimit, TimeLimitSetting
from core.topics.models import ActionItem, ActionProgress, Decision, Meeting, Rating, Research, Topic

__all__ = [
    "ActionItem", "ActionProgress", "Building", "Compound", "Concern", "ConcernCategory", "DayTally", "Decision",
    "EventChainHead", "IdempotencyRecord", "LoginThrottle", "Meeting", "Notification", "NotificationCursor",
    "NotificationPreference", "Open311Client", "Open311Request", "Photo", "Rating", "ReferenceCounter", "ConcernBand",
    "Supporter", "Research", "RoleAssignment", "Tenant", "TimeLimit", "TimeLimitSetting", "Topic", "User",
    "WorkflowEvent",
]

"""Meetings as iCalendar (RFC 5545), for calendar apps."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from icalendar import Calendar, Event

from core.tenancy.models import Tenant
from core.topics.models import Meeting, Topic
from core.topics.services import MECHANISMS


def meeting_calendar(tenant: Tenant, meetings: Iterable[tuple[Meeting, Topic]]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Yishi 议事//yishi//ZH")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{tenant.name} 协商议事")
    for meeting, topic in meetings:
        event = Event()
        event.add("uid", f"{meeting.id}@yishi")
        event.add("dtstamp", datetime.datetime.now(datetime.UTC))
        event.add("dtstart", meeting.starts_at)
        event.add("dtend", meeting.ends_at or meeting.starts_at + datetime.timedelta(hours=2))
        event.add("summary", f"{MECHANISMS.get(meeting.mechanism, meeting.mechanism)}：{topic.title}")
        event.add("location", meeting.venue)
        if meeting.agenda:
            event.add("description", meeting.agenda)
        calendar.add_component(event)
    return calendar.to_ical()

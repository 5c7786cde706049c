"""iCalendar (RFC 5545) for calendar apps: the six steps' meetings, and the public feeds of plugin mechanisms."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from icalendar import Calendar, Event
from litestar import Request, Response
from litestar.params import FromPath

from core.clock import LOCAL_TZ, local
from core.http import DbSession, provide_public_tenant, require_plugin
from core.publishing.schemas import PublicMeeting, PublicTopic
from core.tenancy.models import Tenant
from core.topics.models import Meeting, Topic

PRODID = "-//Yishi 议事//yishi//ZH"


@dataclass(frozen=True)
class CalendarEntry:
    """One VEVENT. `uid` must stay the same for the same happening, feed after feed (RFC 5545 §3.8.4.7)."""

    uid: str
    start: datetime.datetime
    end: datetime.datetime
    summary: str
    stamp: datetime.datetime  # when its information last changed, so re-fetching a feed does not churn
    location: str | None = None
    description: str | None = None
    weekly: bool = False  # repeats every week on the weekday of `start`
    status: str | None = None  # TENTATIVE, CONFIRMED or CANCELLED


def build_calendar(name: str, entries: Iterable[CalendarEntry]) -> bytes:
    """A VCALENDAR of `entries`, times in Asia/Shanghai, with the VTIMEZONE they reference."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", LOCAL_TZ.key)
    for entry in entries:
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", entry.stamp.astimezone(datetime.UTC))
        event.add("dtstart", local(entry.start))
        event.add("dtend", local(entry.end))
        if entry.weekly:
            event.add("rrule", {"freq": "weekly"})
        event.add("summary", entry.summary)
        if entry.location:
            event.add("location", entry.location)
        if entry.description:
            event.add("description", entry.description)
        if entry.status:
            event.add("status", entry.status)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def ics_response(body: bytes, filename: str) -> Response[bytes]:
    return Response(body, media_type="text/calendar",  # Litestar adds "; charset=utf-8"
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


async def provide_feed_tenant(request: Request, db_session: DbSession, slug: FromPath[str]) -> Tenant:
    """The tenant of a public feed: 404 where it is unknown or archived, or has not switched on the feed's plugin."""
    tenant = await provide_public_tenant(db_session, slug)
    require_plugin(tenant, request.route_handler.opt.get("plugin"))
    return tenant


def meeting_calendar(tenant: Tenant, meetings: Iterable[tuple[Meeting | PublicMeeting, Topic | PublicTopic]],
                     mechanisms: Mapping[str, str]) -> bytes:
    """Meetings as iCalendar: the staff's own (a meeting they may read), or the public feed's, already redacted;
    `mechanisms` names their mechanisms by code (`Plugins.mechanism_names`)."""
    return build_calendar(f"{tenant.name} 协商议事", (
        CalendarEntry(
            uid=f"{meeting.id}@yishi", start=meeting.starts_at,
            end=meeting.ends_at or meeting.starts_at + datetime.timedelta(hours=2),
            summary=f"{mechanisms.get(meeting.mechanism, meeting.mechanism)}：{topic.title}",
            stamp=meeting.updated_at, location=meeting.venue, description=meeting.agenda,
            # Kept, so a calendar that has the event takes it off (the same UID, now cancelled).
            status="CANCELLED" if meeting.cancelled_at else None,
        ) for meeting, topic in meetings))

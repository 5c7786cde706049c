"""The communities' clock: Beijing time, and moments shown on it without failing at the calendar's edges."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local(moment: datetime.datetime) -> datetime.datetime:
    """`moment` on Beijing time. A stored moment too close to year 1 or 9999 to shift (a legacy row, a typo that
    got in before inputs were bounded) is shown at the calendar's edge rather than breaking the page."""
    try:
        return moment.astimezone(LOCAL_TZ)
    except OverflowError:
        edge = datetime.datetime.max if moment.year > 1 else datetime.datetime.min
        return edge.replace(tzinfo=LOCAL_TZ)

"""Failures counted per key in a window, in the database (the `login_throttle` table), so every process agrees."""

from __future__ import annotations

import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import LoginThrottle


class Throttle:
    """At most `max_failures` failures per key in `window`; keys carry their own prefix (`track:` + client)."""

    def __init__(self, session: AsyncSession, max_failures: int, window: datetime.timedelta) -> None:
        self.session = session
        self.max_failures = max_failures
        self.window = window

    async def wait(self, key: str, now: datetime.datetime) -> int | None:
        """Seconds until `key` may try again, or None while it is under its limit."""
        row = await self.session.scalar(select(LoginThrottle).where(LoginThrottle.key == key))
        if row is None:
            return None
        ends = row.window_started_at + self.window
        if row.failures >= self.max_failures and ends > now:
            return int((ends - now).total_seconds()) + 1
        return None

    async def count_failure(self, key: str, now: datetime.datetime) -> None:
        """One more failure of `key`; the caller commits it, since the request that failed is rolled back."""
        row = await self.session.scalar(select(LoginThrottle).where(LoginThrottle.key == key))
        if row is None:
            self.session.add(LoginThrottle(key=key, failures=1, window_started_at=now))
        elif row.window_started_at + self.window <= now:
            row.failures, row.window_started_at = 1, now
        else:
            row.failures += 1
        await self.session.flush()

"""Failed attempts counted per key in the database (`login_throttle` rows), so every process agrees: sign-ins
and public lookups by tracking code are slowed with a growing delay, never locked out."""

from __future__ import annotations

import datetime
import math

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import LoginThrottle
from core.errors import TooManyRequests


class Throttle:
    """Failed attempts counted per key in `LoginThrottle` rows, answered with a growing delay, never a lockout.

    A key may fail `allowance` times freely; after its n-th failure (n ≥ allowance) the next attempt must wait
    2^(n − allowance) seconds (1 s, 2 s, 4 s …, never more than `window`), and one made sooner is refused with
    429 and Retry-After, without being counted. A key forgets its failures once `window` has passed since it
    could last try again. Keys name what is counted ("user:<name>", "ip:<address>", …), so other kinds of
    attempt can share the table under a prefix of their own.
    """

    def __init__(self, session: AsyncSession, window_seconds: int) -> None:
        self.session = session
        self.window = datetime.timedelta(seconds=window_seconds)

    async def check(self, keys: list[str], now: datetime.datetime) -> None:
        """Refuse (429) while any of `keys` must still wait."""
        rows = (await self.session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))).all()
        waits = [row.retry_at - now for row in rows if row.retry_at is not None and row.retry_at > now]
        if waits:
            seconds = math.ceil(max(waits).total_seconds())
            raise TooManyRequests("尝试次数过多，请 {seconds} 秒后再试", headers={"Retry-After": str(seconds)},
                                  seconds=seconds)

    async def fail(self, allowances: dict[str, int], now: datetime.datetime) -> None:
        """Count one failure on each key, with the allowance of free failures that key has."""
        rows = {row.key: row for row in (await self.session.scalars(
            select(LoginThrottle).where(LoginThrottle.key.in_(list(allowances))))).all()}
        for key, allowance in allowances.items():
            row = rows.get(key)
            if row is None:
                row = LoginThrottle(key=key, failures=0, window_started_at=now)
                self.session.add(row)
            elif (row.retry_at or row.window_started_at) + self.window <= now:
                row.failures, row.window_started_at = 0, now
            row.failures += 1
            over = row.failures - allowance
            row.retry_at = now + min(datetime.timedelta(seconds=2 ** min(over, 30)), self.window) if over >= 0 else now
        await self.session.flush()

    async def clear(self, key: str) -> None:
        await self.session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))

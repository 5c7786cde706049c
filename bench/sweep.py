"""The time-limit sweep on the bench databases: one full sweep's time on 1,000 tenants and 1,000,000 concerns
(the 100,000 submitted ones open, each with its clock and an alert to come), against the same on 10 tenants.

Both databases get the same work due: `DUE_PER_TENANT` concerns turning yellow in each of `DUE_TENANTS`
communities (a reminder each: one event, one message per staff member). So the two figures differ by what the
sweep must not pay for — the closed concerns, and the open ones not yet due — and `sla_sweep_large_over_small`
says whether it does. `make bench` (bench/run.py) records them; `python -m bench.sweep` seeds, measures and
drops databases of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import statistics
import time
from typing import Any

import asyncpg

from bench import seed
from core.settings import Settings

DUE_TENANTS = 5
DUE_PER_TENANT = 10
ROUNDS = 5
SWEEP_MS_TARGET = 1000.0
LARGE_OVER_SMALL_TARGET = 2.0

# Every submitted concern open with its clock; its alert from a day to a month ahead (spread by its id's hash).
_CLOCKS_SQL = """
UPDATE concern SET
    respond_by = $1::timestamptz + interval '1 day' + (abs(hashtext(id::text)) % 2592000) * interval '1 second',
    respond_warn_at = $1::timestamptz + interval '1 day' + (abs(hashtext(id::text)) % 2592000) * interval '1 second'
                      - interval '6 hours',
    resolve_by = $1::timestamptz + interval '40 days', resolve_warn_at = $1::timestamptz + interval '35 days',
    responded_at = NULL, paused_at = NULL, alert_stage = NULL, closed_at = NULL
WHERE status = 'submitted'
"""
_ALERTS_SQL = "UPDATE concern SET alert_at = respond_warn_at WHERE status = 'submitted'"
# The due ones: the newest submitted concerns of the first communities, turned yellow a minute ago.
_DUE_SQL = """
WITH chosen AS (
    SELECT tenant_id FROM concern WHERE status = 'submitted' GROUP BY tenant_id ORDER BY tenant_id LIMIT $2
), due AS (
    SELECT c.tenant_id, c.id FROM chosen, LATERAL (
        SELECT tenant_id, id FROM concern WHERE concern.tenant_id = chosen.tenant_id AND status = 'submitted'
        ORDER BY created_at DESC LIMIT $3) AS c
)
UPDATE concern SET respond_warn_at = $1::timestamptz - interval '1 minute', alert_at = $1::timestamptz - interval '1 minute',
    respond_by = $1::timestamptz + interval '1 hour', alert_stage = NULL
FROM due WHERE concern.tenant_id = due.tenant_id AND concern.id = due.id
"""


async def _prepare(settings: Settings, at: datetime.datetime, clocks: bool) -> int:
    """The clocks (once), then the due concerns (before every round); the number made due."""
    conn = await asyncpg.connect(seed._dsn(settings.owner_database_url))
    try:
        if clocks:
            await conn.execute("SET synchronous_commit = off")
            await conn.execute(_CLOCKS_SQL, at)
            await conn.execute(_ALERTS_SQL)
            await conn.execute("VACUUM ANALYZE concern")
        status = await conn.execute(_DUE_SQL, at, DUE_TENANTS, DUE_PER_TENANT)
        return int(status.split()[-1])
    finally:
        await conn.close()


async def _time_sweeps(settings: Settings) -> tuple[list[float], int, Any]:
    from core.app import create_app
    from core.timelimits.sweep import sweep

    state = create_app(settings).state
    at = datetime.datetime.now(datetime.UTC)
    await _prepare(settings, at, clocks=True)
    timings, due, result = [], 0, None
    try:
        for _ in range(ROUNDS + 1):  # the first warms the pool and the caches: not counted
            due = await _prepare(settings, at, clocks=False)
            started = time.perf_counter()
            result = await sweep(state, at)
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        await state.engine.dispose()
    return timings[1:], due, result


def measure(large: Settings, small: Settings) -> dict[str, float]:
    """The sweep's median time on each database, and their ratio."""
    figures: dict[str, float] = {}
    for name, settings in (("large", large), ("small", small)):
        timings, due, result = asyncio.run(_time_sweeps(settings))
        if result is None or result.acted != due:
            raise RuntimeError(f"the sweep did {result} of {due} due on the {name} database")
        figures[f"sla_sweep_ms_{name}"] = statistics.median(timings)
        print(f"  sweep, {name}: {due} due in {DUE_TENANTS} tenants; rounds "
              f"{' / '.join(f'{t:.0f}' for t in timings)} ms", flush=True)
    figures["sla_sweep_large_over_small"] = figures["sla_sweep_ms_large"] / figures["sla_sweep_ms_small"]
    return figures


OWN_LARGE = Settings(database_url="postgresql+asyncpg://yishi_app@127.0.0.1:5432/yishi_bench_sweep",
                     migrations_database_url="postgresql+asyncpg://postgres@127.0.0.1:5432/yishi_bench_sweep")
OWN_SMALL = Settings(database_url="postgresql+asyncpg://yishi_app@127.0.0.1:5432/yishi_bench_sweep_small",
                     migrations_database_url="postgresql+asyncpg://postgres@127.0.0.1:5432/yishi_bench_sweep_small")


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m bench.sweep", description=(
        "The time-limit sweep alone, on databases of its own (1,000 tenants and 1,000,000 concerns, and 10 tenants)."
    )).parse_args(argv)
    try:
        seed.create_database(OWN_LARGE)
        seed.seed(OWN_LARGE)
        seed.create_database(OWN_SMALL)
        seed.seed(OWN_SMALL, 10, 100, seed.concerns_for(10))
        figures = measure(OWN_LARGE, OWN_SMALL)
    finally:
        for settings in (OWN_LARGE, OWN_SMALL):
            seed.drop_database(settings)
    print(f"  one full sweep, large: {figures['sla_sweep_ms_large']:.1f} ms (target < {SWEEP_MS_TARGET:.0f} ms); "
          f"large ÷ small {figures['sla_sweep_large_over_small']:.2f} × (target < {LARGE_OVER_SMALL_TARGET:.0f} ×)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

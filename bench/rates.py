"""The rates' bench data: gives the seeded concerns their clocks (where the seed left them without) and a
revisit per resolved concern, so that a district's /rates counts what a live one would; `python -m bench.rates`
seeds a large and a small database and times the rates of a district in process (no HTTP), for a quick look.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import statistics
import sys
import time

import asyncpg
from sqlalchemy.engine import make_url

from core.settings import Settings

# Every concern answers within 0–47 hours of a 24-hour limit and, once accepted, has 7 days to be resolved; a
# resolved one was asked at its closing whether it was solved and how satisfied, and four in five answered.
_CLOCKS_SQL = """
UPDATE concern SET
    respond_by = created_at + interval '24 hours',
    responded_at = CASE WHEN status = 'submitted' THEN NULL
                        ELSE created_at + (abs(hashtext(id::text)) % 48) * interval '1 hour' END,
    resolve_by = created_at + interval '7 days'
WHERE respond_by IS NULL
"""
_REVISITS_SQL = """
INSERT INTO revisit (tenant_id, tenant_path, id, concern_id, round, asked_at, solved, satisfaction, answered_at, channel,
                     created_at, updated_at)
SELECT tenant_id, tenant_path, gen_random_uuid(), id, 1, closed_at,
       CASE WHEN h % 10 < 8 THEN h % 10 < 7 END,
       CASE WHEN h % 10 >= 8 THEN NULL WHEN h % 5 < 3 THEN 'satisfied' WHEN h % 5 < 4 THEN 'basic'
            ELSE 'unsatisfied' END,
       CASE WHEN h % 10 < 8 THEN closed_at + interval '1 day' END,
       CASE WHEN h % 10 < 8 THEN 'self' END, closed_at, closed_at
FROM (SELECT tenant_id, tenant_path, id, closed_at, abs(hashtext(id::text)) AS h FROM concern
      WHERE status = 'resolved' AND closed_at IS NOT NULL) resolved
ON CONFLICT DO NOTHING
"""


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _seed(settings: Settings) -> None:
    conn = await asyncpg.connect(_dsn(settings.owner_database_url), timeout=10)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")  # valid by construction
            await conn.execute("SET LOCAL synchronous_commit = off")
            await conn.execute(_CLOCKS_SQL)
            await conn.execute(_REVISITS_SQL)
        await conn.execute("VACUUM (ANALYZE) concern")
        await conn.execute("VACUUM (ANALYZE) revisit")
    finally:
        await conn.close()


def seed_rates(settings: Settings) -> None:
    asyncio.run(_seed(settings))


def last_month(today: datetime.date) -> str:
    """The month before `today`'s: a whole month of the seeded year, whatever the date of the run."""
    return (today.replace(day=1) - datetime.timedelta(days=1)).strftime("%Y-%m")


async def _time_rates(settings: Settings, district: str, username: str, runs: int) -> list[float]:
    from core.app import create_app
    from core.reporting.rates import report_month, tenant_rates
    from core.tenancy.scope import tenant_session

    app = create_app(settings)
    month = report_month(last_month(datetime.datetime.now(datetime.UTC).date()))
    timings = []
    try:
        for _ in range(runs):
            started = time.perf_counter()
            async with tenant_session(app, district, username) as scope:
                rates = await tenant_rates(scope, month)
            timings.append((time.perf_counter() - started) * 1000)
        if not rates.rollup.concerns_received:
            raise RuntimeError(f"{district} rolled up no concerns in {month}")
    finally:
        await app.state.engine.dispose()
    return timings


def main(argv: list[str] | None = None) -> int:
    from bench import seed
    from bench.run import APP_URL, OWNER_URL, SMALL_TENANTS, SMALL_USERS

    parser = argparse.ArgumentParser(prog="python -m bench.rates", description=__doc__)
    parser.add_argument("--concerns", type=int, default=seed.CONCERNS, help="in the large database (1,000 tenants)")
    parser.add_argument("--keep", action="store_true", help="keep the two databases (to EXPLAIN)")
    parser.add_argument("--reuse", action="store_true", help="time databases kept by an earlier --keep")
    args = parser.parse_args(argv)
    concerns = args.concerns

    # Databases of their own: `make bench` may be running beside this one.
    def own(url: str, name: str) -> str:
        return make_url(url).set(database=name).render_as_string(hide_password=False)

    large = Settings(database_url=own(APP_URL, "yishi_bench_rates"),
                     migrations_database_url=own(OWNER_URL, "yishi_bench_rates"))
    small = Settings(database_url=own(APP_URL, "yishi_bench_rates_small"),
                     migrations_database_url=own(OWNER_URL, "yishi_bench_rates_small"))
    try:
        if args.reuse:
            districts = [asyncio.run(_first_district(settings)) for settings in (large, small)]
        else:
            seed.create_database(large)
            seeded = seed.seed(large, concerns=concerns)
            seed_rates(large)
            seed.create_database(small)
            seeded_small = seed.seed(small, SMALL_TENANTS, SMALL_USERS,
                                     round(seed.concerns_for(SMALL_TENANTS) * concerns / seed.CONCERNS))
            seed_rates(small)
            districts = [(s.district_slug, s.district_username) for s in (seeded, seeded_small)]
        p99 = {}
        for name, settings, (district, username) in zip(("large", "small"), (large, small), districts, strict=True):
            timings = asyncio.run(_time_rates(settings, district, username, 200))
            p99[name] = statistics.quantiles(timings, n=100)[98]
            print(f"  {name}: p50 {statistics.median(timings):.1f} ms, p99 {p99[name]:.1f} ms")
        print(f"  rates p99 large / small: {p99['large'] / p99['small']:.2f} ×")
    finally:
        if not args.keep:
            for settings in (large, small):
                seed.drop_database(settings)
    return 0


async def _first_district(settings: Settings) -> tuple[str, str]:
    """The district the seed measures (its measured community's) and its administrator, in a kept database."""
    conn = await asyncpg.connect(_dsn(settings.owner_database_url), timeout=10)
    try:
        row = await conn.fetchrow(
            "SELECT t.slug, u.username FROM role_assignment g JOIN tenant t ON t.id = g.tenant_id"
            " JOIN user_account u ON u.id = g.user_id WHERE g.role = 'district_admin' ORDER BY t.path LIMIT 1")
    finally:
        await conn.close()
    return row["slug"], row["username"]


if __name__ == "__main__":
    sys.exit(main())

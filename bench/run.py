"""`make bench`: authorization cost in process, then the real app against a bare Litestar app under load on loopback.

Prints the figures next to their targets (a MISS is reported, not fatal) and writes bench/results/latest.json.
Everything it starts — Granian servers, the bench database — it stops or drops, however the run ends.
"""

from __future__ import annotations

import json
import signal
import statistics
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench import authz, load, seed
from bench.servers import LOG_DIR, WORKERS, GranianServer
from core.settings import Settings

APP_URL = "postgresql+asyncpg://yishi_app@127.0.0.1:5432/yishi_bench"  # the non-owner role: RLS is in force
OWNER_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/yishi_bench"
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
# This machine is noisy: several short rounds, interleaved across endpoints, and the median of each.
ROUNDS = 5
SECONDS = 4
WARMUP_SECONDS = 2
# At most the pool's 10 steady connections per worker: beyond them SQLAlchemy opens overflow connections and
# closes them again on return, and that reconnection churn (a new PostgreSQL backend each time) would be measured.
CONNECTIONS = 8
READ_RATIO_TARGET = 0.40
DECISION_US_TARGET = 20.0
DECISION_GROWTH_TARGET = 2.0
MEMORY_MB_TARGET = 100.0


@dataclass(frozen=True)
class Endpoint:
    name: str
    label: str
    url: str
    headers: dict[str, str]


def main() -> int:
    # `kill` (SIGTERM) unwinds like Ctrl-C does, so the finally blocks stop servers and drop the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    figures: list[dict[str, object]] = []

    def record(name: str, value: float, unit: str) -> None:
        figures.append({"name": name, "value": round(value, 4), "unit": unit})

    print("== Authorization decision, in process (casbin's table + the tenant's ancestry) ==", flush=True)
    decided = authz.run()
    for size in authz.SIZES:
        us = decided[f"casbin_decision_us_{size}"]
        met = us < DECISION_US_TARGET if size == authz.SIZES[-1] else None
        _show(f"{size:,} tenants, {authz.USERS:,} users", us, "µs/decision", met, f"< {DECISION_US_TARGET:.0f} µs")
        record(f"casbin_decision_us_{size}", us, "us")
    growth = decided["casbin_decision_us_10000"] / decided["casbin_decision_us_100"]
    _show("growth 100 → 10,000 tenants", growth, "×", growth < DECISION_GROWTH_TARGET, f"< {DECISION_GROWTH_TARGET:.0f} ×")
    record("casbin_decision_growth_100_to_10000", growth, "x")
    crowded = decided["casbin_decision_us_10000_100000_users"]
    _show("10,000 tenants, 100,000 users", crowded, "µs/decision", None, "")
    print(f"  {'':<34} (10 users per tenant: more users, more CPU cache misses; no target)")
    record("casbin_decision_us_10000_100000_users", crowded, "us")
    memory = decided["authz_memory_mb_10000"]
    _show("memory, 100,000 cached grants", memory, "MiB", memory < MEMORY_MB_TARGET, f"< {MEMORY_MB_TARGET:.0f} MiB")
    record("authz_memory_mb_10000", memory, "MiB")

    print("\n== HTTP on loopback: the real app (PostgreSQL, RLS) against a bare Litestar app ==", flush=True)
    wrk = load.ensure_wrk()
    print(f"  load: {'wrk' if wrk else 'Python asyncio client (wrk unavailable)'}, {CONNECTIONS} connections; "
          f"Granian {WORKERS} worker(s) per server; {ROUNDS} rounds × {SECONDS} s per endpoint")
    settings = Settings(database_url=APP_URL, migrations_database_url=OWNER_URL)
    try:
        seed.create_database(settings)
        seeded = seed.seed(settings)
        print(f"  seeded {seed.TENANTS:,} tenants and {seed.USERS:,} users; measuring {seeded.username} "
              f"on {seeded.tenant_slug}", flush=True)
        medians = _measure(seeded, wrk)
    finally:
        try:
            seed.drop_database(settings)
        except Exception as exc:  # best effort: a leftover database is dropped by the next run anyway
            print(f"  (could not drop the bench database: {exc})")

    bare = medians["select_by_pk"]["rps"]
    print(f"\n  {'endpoint':<30} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'÷SELECT':>8}")
    for name, m in medians.items():
        ratio = m["rps"] / bare
        target = _target(ratio >= READ_RATIO_TARGET, f"≥ {READ_RATIO_TARGET:.2f}") if name.startswith("read_") else ""
        print(f"  {m['label']:<30} {m['rps']:8.0f} {m['p50_ms']:8.2f} {m['p99_ms']:8.2f} {ratio:8.2f}  {target}".rstrip())
        print(f"  {'':<30} rounds: {' / '.join(f'{r:.0f}' for r in m['rounds'])} req/s"
              + (f"; {m['errors']} errors" if m["errors"] else ""))
        record(f"{name}_rps", m["rps"], "req/s")
        record(f"{name}_p50_ms", m["p50_ms"], "ms")
        record(f"{name}_p99_ms", m["p99_ms"], "ms")
        record(f"{name}_ratio", ratio, "x")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nwrote {RESULTS} in {time.monotonic() - started:.0f} s")
    return 0


def _target(met: bool, text: str) -> str:
    return f"target {text}: {'PASS' if met else 'MISS'}"


def _show(label: str, value: float, unit: str, met: bool | None, target: str) -> None:
    print(f"  {label:<34} {value:8.2f} {unit:<12} {'' if met is None else _target(met, target)}".rstrip())


def _measure(seeded: seed.Seeded, wrk: str | None) -> dict[str, dict]:
    env = {"YISHI_DATABASE_URL": APP_URL, "YISHI_ENV": "development", "YISHI_DB_POOL_SIZE": "10"}
    with (
        GranianServer("app", "core.app:create_app", env, "/ready") as app,
        GranianServer("reference", "bench.reference_app:create_app", env, "/const") as ref,
    ):
        token = _login(app.base_url, seeded)
        auth = {"Authorization": f"Bearer {token}"}
        endpoints = [
            Endpoint("const", "const (bare app)", f"{ref.base_url}/const", {}),
            Endpoint("select_by_pk", "select_by_pk (bare app)", f"{ref.base_url}/tenants/{seeded.tenant_id}", {}),
            Endpoint("read_me", "GET /api/v1/me", f"{app.base_url}/api/v1/me", auth),
            Endpoint("read_tenant", "GET /api/v1/tenants/{slug}", f"{app.base_url}/api/v1/tenants/{seeded.tenant_slug}",
                     auth),
        ]
        for endpoint in endpoints:
            _check(endpoint, seeded)

        def hit(endpoint: Endpoint, seconds: float) -> load.Result:
            if wrk:
                return load.run_wrk(wrk, endpoint.url, seconds, CONNECTIONS, endpoint.headers)
            return load.run_python(endpoint.url, seconds, CONNECTIONS, endpoint.headers)

        for endpoint in endpoints:
            hit(endpoint, WARMUP_SECONDS)  # connection pools filled, code paths warm
        runs: dict[str, list[load.Result]] = {e.name: [] for e in endpoints}
        for round_ in range(ROUNDS):
            # Each round starts with a different endpoint, so none is always measured first or last.
            for endpoint in endpoints[round_:] + endpoints[:round_]:
                runs[endpoint.name].append(hit(endpoint, SECONDS))
                print(".", end="", flush=True)
        print()
    for name, results in runs.items():
        errors, requests = sum(r.errors for r in results), sum(r.requests for r in results)
        if errors > 0.01 * requests:  # a load of 401s or 500s measures nothing: a broken run, not a MISS
            raise RuntimeError(f"{name}: {errors} of {requests} requests failed (server logs: {LOG_DIR})")
    return {
        e.name: {
            "label": e.label,
            "rps": statistics.median(r.rps for r in runs[e.name]),
            "p50_ms": statistics.median(r.p50_ms for r in runs[e.name]),
            "p99_ms": statistics.median(r.p99_ms for r in runs[e.name]),
            "rounds": [r.rps for r in runs[e.name]],
            "errors": sum(r.errors for r in runs[e.name]),
        }
        for e in endpoints
    }


def _login(base_url: str, seeded: seed.Seeded) -> str:
    body = json.dumps({"username": seeded.username, "password": seeded.password}).encode()
    request = urllib.request.Request(f"{base_url}/api/v1/auth/token", data=body,
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["access_token"]


def _check(endpoint: Endpoint, seeded: seed.Seeded) -> None:
    """One request before the load: a 403 or 500 measured at full speed would be a meaningless figure."""
    request = urllib.request.Request(endpoint.url, headers=endpoint.headers)
    with urllib.request.urlopen(request, timeout=10) as response:  # raises on any 4xx/5xx
        answer = json.load(response)
    if endpoint.name in ("select_by_pk", "read_tenant") and answer.get("slug") != seeded.tenant_slug:
        raise RuntimeError(f"{endpoint.url} answered another tenant: {answer}")


if __name__ == "__main__":
    sys.exit(main())

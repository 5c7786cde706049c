"""Probes: `/health` says the process is up, `/ready` that it can reach its database."""

from __future__ import annotations

from litestar import get
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from sqlalchemy import text


@get("/health", exclude_from_auth=True, tags=["运维 Operations"], summary="进程存活")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/ready", exclude_from_auth=True, tags=["运维 Operations"], summary="数据库可达")
async def ready(state: State) -> dict[str, str]:
    try:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means "not ready", whatever its type
        raise HTTPException(status_code=503, detail=f"数据库不可达：{type(exc).__name__}") from None
    return {"status": "ready"}

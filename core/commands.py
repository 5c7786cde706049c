"""What every operator command shares: its work runs in one committed transaction on the app's database, and a
refusal ends it with exit code 2."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import create_engine, create_sessionmaker
from core.errors import DomainError
from core.settings import get_settings

T = TypeVar("T")


def run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction on the app's database; domain errors become exit code 2."""

    async def main() -> T:
        settings = get_settings()
        engine = create_engine(settings.database_url)
        try:
            async with create_sessionmaker(engine, settings.audit_key, set_local=settings.database_citus)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        click.echo(f"错误：{exc.message}", err=True)
        sys.exit(2)

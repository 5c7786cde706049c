"""(being built) Portal pages: see core/portal/setup.py for where they are mounted."""

from __future__ import annotations

from litestar import Controller

CONTROLLERS: list[type[Controller]] = []

"""The core's own contributions, made through the same hooks as a plugin's and registered before any plugin."""

from __future__ import annotations

from typing import Any

from core.hookspecs import hookimpl


@hookimpl
def yishi_register_mechanisms(register: Any) -> None:
    register("monthly", "每月一议事")
    register("on_demand", "有事来商量")

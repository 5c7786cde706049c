"""Importing the code builds nothing: no settings read, no plugins loaded, no password hasher made; the app
and each `yishi` command build their own, from their settings."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

# Run in a fresh interpreter (this one imported everything long ago): spy on what must not happen at import,
# then import every module of the core and the built-in plugins.
PROBE = """
import importlib, json, pkgutil

import argon2

import core.plugins
import core.settings

made = []


def spy(name, function):
    def wrapper(*args, **kwargs):
        made.append(name)
        return function(*args, **kwargs)
    return wrapper


core.settings.get_settings = spy("get_settings", core.settings.get_settings)
core.plugins.Plugins.__init__ = spy("Plugins", core.plugins.Plugins.__init__)
argon2.PasswordHasher.__init__ = spy("PasswordHasher", argon2.PasswordHasher.__init__)
import core, plugins

modules = [info.name for package in (core, plugins)
           for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
for name in modules:
    importlib.import_module(name)
print(json.dumps({"modules": modules, "made": made}))
"""


def test_importing_every_module_builds_nothing() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.splitlines()[-1])
    assert {"core.app", "core.cli", "core.topics.services", "plugins.liaison_station.services"} <= set(found["modules"])
    assert found["made"] == []

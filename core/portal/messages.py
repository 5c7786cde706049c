"""The portal's message catalogue: which strings the templates and portal code ask to translate, and which
of them a catalogue lacks. `python -m core.portal.messages` lists the gaps (the test suite fails on any).

UI text is written in English in the code and translated to Chinese in `zh_CN`; domain labels (statuses,
steps, categories, mechanisms) are Chinese in the core and translated to English in `en`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from core.portal.i18n import po_files

HERE = Path(__file__).parent
PLUGINS = HERE.parent.parent / "plugins"
SOURCES = [
    (HERE, [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]),
    # The built-in plugins' portal pages (third-party plugins ship their own catalogues).
    (PLUGINS, [("*/templates/**.html", "jinja2.ext:babel_extract"), ("*/portal.py", "python")]),
]


def ui_messages() -> set[str]:
    """Every literal passed to `_()` in the portal's and the built-in plugins' templates and page code."""
    found = set()
    for directory, methods in SOURCES:
        for _file, _line, message, _comments, _context in extract_from_dir(directory, methods, keywords={"_": None}):
            found.add(message if isinstance(message, str) else message[0])
    return found


def domain_labels() -> set[str]:
    """The Chinese names the core gives codes, which the portal shows through `_()` too."""
    from core.concerns.models import DEFAULT_CATEGORIES, STATE_NAMES as CONCERN_STATES
    from core.topics.machine import STATE_NAMES as TOPIC_STATES, STEP_NAMES
    from core.plugins import Plugins
    from core.topics.services import CORE_MECHANISMS

    # Built-in plugins only: installed third-party ones ship their own catalogues.
    plugin_mechanisms = {name for name, _plugin in Plugins(entry_point_group=None).contributions.mechanisms.values()}
    return {*DEFAULT_CATEGORIES.values(), *CONCERN_STATES.values(), *TOPIC_STATES.values(), *STEP_NAMES.values(),
            *CORE_MECHANISMS.values(), *plugin_mechanisms}


def catalogue(locale: str) -> dict[str, str]:
    found = {}
    for path in po_files(locale):
        with open(path, "rb") as po:
            found.update({m.id: m.string for m in read_po(po, locale=locale) if m.id and m.string})
    return found


def missing() -> dict[str, set[str]]:
    """Per locale, the strings it has no translation for (English UI text needs none in `en`)."""
    return {
        "zh_CN": ui_messages() - set(catalogue("zh_CN")),
        "en": domain_labels() - set(catalogue("en")),
    }


if __name__ == "__main__":
    gaps = missing()
    for locale, messages in gaps.items():
        for message in sorted(messages):
            print(f"{locale}\t{message}")
    sys.exit(1 if any(gaps.values()) else 0)

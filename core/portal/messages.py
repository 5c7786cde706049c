"""The portal's message catalogue: which strings the templates and portal code ask to translate, and which
of them a catalogue lacks. `python -m core.portal.messages` lists the gaps (the test suite fails on any).

UI text is written in English in the code and translated to Chinese in `zh_CN`; domain labels (statuses,
steps, categories, mechanisms) and the services' refusals are Chinese in the core and translated to English
in `en`.
"""

from __future__ import annotations

import ast
import string
import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from core.portal.i18n import po_files

HERE = Path(__file__).parent
CORE = HERE.parent
PLUGINS = CORE.parent / "plugins"
SOURCES = [
    (HERE, [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]),
    # The built-in plugins' portal pages (third-party plugins ship their own catalogues).
    (PLUGINS, [("*/templates/**.html", "jinja2.ext:babel_extract"), ("*/portal.py", "python")]),
]


def ui_messages() -> set[str]:
    """Every literal passed to `_()` or `N_()` in the portal's and the built-in plugins' templates and page code."""
    found = set()
    for directory, methods in SOURCES:
        for _file, _line, message, _comments, _context in extract_from_dir(directory, methods, keywords={"_": None, "N_": None}):
            found.add(message if isinstance(message, str) else message[0])
    return found


def domain_labels() -> set[str]:
    """The Chinese names the core gives codes, which the portal shows through `_()` too."""
    from core.authz.rules import ROLES
    from core.concerns.models import DEFAULT_CATEGORIES
    from core.concerns.models import STATE_NAMES as CONCERN_STATES
    from core.concerns.services import TRIAGE_NAMES
    from core.i18n import LIST_SEPARATOR
    from core.plugins import Plugins
    from core.tenancy.models import KIND_NAMES
    from core.topics.machine import STATE_NAMES as TOPIC_STATES
    from core.topics.machine import STEP_NAMES
    from core.topics.services import FOLLOW_UP_REASONS

    # The core's and the built-in plugins' only: installed third-party ones ship their own catalogues.
    mechanisms = Plugins(entry_point_group=None).mechanism_names()
    return {*DEFAULT_CATEGORIES.values(), *CONCERN_STATES.values(), *TOPIC_STATES.values(), *STEP_NAMES.values(),
            *mechanisms.values(), *KIND_NAMES.values(), *TRIAGE_NAMES.values(), *FOLLOW_UP_REASONS.values(),
            *ROLES.values(), LIST_SEPARATOR}


def _service_modules() -> list[Path]:
    """The core's and the built-in plugins' code outside the portal (whose refusals are translated already)."""
    return [path for path in sorted([*CORE.rglob("*.py"), *PLUGINS.rglob("*.py")])
            if HERE not in path.parents and path.name != "portal.py"]


def _refusal_names() -> set[str]:
    from core.errors import DomainError

    def below(cls: type) -> set[type]:  # every subclass, however deep
        found = {cls}
        sub: type
        for sub in cls.__subclasses__():
            found |= below(sub)
        return found

    return {cls.__name__ for cls in below(DomainError)}


def refusals(modules: list[Path] | None = None) -> tuple[dict[str, str], list[str]]:
    """The services' refusal messages and `Label("…")` names, each with where it is first used, and where a
    refusal cannot be translated because its message is not a literal (an f-string, or a variable)."""
    names, found, untranslatable = _refusal_names(), dict[str, str](), list[str]()
    for path in modules or _service_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            callee = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if callee == "InvalidInputs":  # gathers refusals made (and checked) where they arose
                continue
            first = node.args[0]
            if callee in names or callee == "Label" and isinstance(first, ast.Constant):
                where = f"{path.relative_to(CORE.parent) if CORE.parent in path.parents else path}:{node.lineno}"
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.setdefault(first.value, where)
                else:
                    untranslatable.append(f"{where}: {ast.unparse(first)}")
    return found, untranslatable


def placeholders(message: str) -> set[str]:
    return {name for _text, name, _spec, _conv in string.Formatter().parse(message) if name}


def catalogue(locale: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in po_files(locale):
        with open(path, "rb") as po:
            found.update({str(m.id): str(m.string) for m in read_po(po, locale=locale) if m.id and m.string})
    return found


def missing() -> dict[str, set[str]]:
    """Per locale, the strings it has no translation for (English UI text needs none in `en`)."""
    return {
        "zh_CN": ui_messages() - set(catalogue("zh_CN")),
        "en": (domain_labels() | set(refusals()[0])) - set(catalogue("en")),
    }


def mismatched() -> list[str]:
    """Translations whose `{placeholders}` differ from their message's: they would fail or lose a value."""
    return [f"{locale}\t{message}" for locale in ("zh_CN", "en") for message, text in catalogue(locale).items()
            if placeholders(message) != placeholders(text)]


if __name__ == "__main__":
    gaps, used_at = missing(), refusals()[0]
    for locale, messages in gaps.items():
        for message in sorted(messages, key=lambda m: used_at.get(m, "")):
            print(f"{locale}\t{message}\t{used_at.get(message, '')}")
    for where in refusals()[1]:
        print(f"not a literal\t{where}")
    for entry in mismatched():
        print(f"placeholders differ\t{entry}")
    sys.exit(1 if any(gaps.values()) or refusals()[1] or mismatched() else 0)

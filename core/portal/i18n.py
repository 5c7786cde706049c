"""The portal's languages: gettext catalogues read from the .po files at start-up, and each request's choice."""

from __future__ import annotations

import functools
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from litestar import Request

LOCALES = ("zh_CN", "en")  # Chinese first; the first is the default
DEFAULT_LOCALE = LOCALES[0]
LANG_COOKIE = "yishi_lang"
LOCALE_DIR = Path(__file__).parent / "locales"


def po_files(locale: str) -> list[Path]:
    """A locale's .po files: one per part of the portal (messages.po, staff.po, …), merged when loaded."""
    return sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po"))


@functools.cache
def translations(locale: str) -> Translations:
    """The catalogue of `locale`, compiled in memory from its .po files (no build step, no binary in the repo)."""
    merged: Translations | None = None
    for path in po_files(locale):
        with open(path, "rb") as po:
            catalog = read_po(po, locale=locale)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        part = Translations(compiled)
        merged = part if merged is None else merged.merge(part)
    return merged or Translations()


def N_(message: str) -> str:  # noqa: N802 (gettext's name for it)
    """Marks an English message for the catalogue where it is defined; `_()` translates it where it is shown."""
    return message


def chosen_locale(request: Request) -> str | None:
    """The language the reader picked on this device: `?lang=` (remembered in a cookie by the page), the cookie."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LOCALES:
            return candidate
    return None


def request_locale(request: Request) -> str:
    """The reader's pick on this device, then Chinese (a signed-in page: then the account's, `page_locale`)."""
    return chosen_locale(request) or DEFAULT_LOCALE


def locale_of(language: str) -> str:
    """The portal's locale for an account's language of messages ("zh-CN" → "zh_CN")."""
    locale = language.replace("-", "_")
    return locale if locale in LOCALES else DEFAULT_LOCALE


def page_locale(request: Request, language: str | None) -> str:
    """A page's language: the reader's pick on this device, then their account's (`language`, signed in), then
    Chinese."""
    return chosen_locale(request) or (locale_of(language) if language else DEFAULT_LOCALE)


def gettext_for(locale: str):
    return translations(locale).gettext

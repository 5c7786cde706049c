"""Chinese text the portal shows in the reader's language: a message is a catalogue id (the Chinese text itself)
with named parameters, formatted per language at the edge; the API and the CLI show the Chinese."""

from __future__ import annotations

from collections.abc import Callable


class Label(str):
    """Chinese text the portal shows in the reader's language: a domain name inside a message (a status, a kind,
    a field), a plugin block's title, a message template. Any other parameter (a slug, a number, what a person
    wrote) is shown as it is. `python -m core.portal.messages` finds every `Label("…")` literal and fails on one
    the English catalogue lacks."""

    __slots__ = ()


LIST_SEPARATOR = "、"  # between the items of a list parameter; the catalogue gives each language its own


def _shown(value: object, gettext: Callable[[str], str]) -> object:
    if isinstance(value, Label):
        return gettext(value)
    if isinstance(value, (list, tuple)):
        return gettext(LIST_SEPARATOR).join(str(_shown(item, gettext)) for item in value)
    return value


def as_is(text: str) -> str:
    """The identity "translation": the Chinese text itself."""
    return text


def in_language(template: str, params: dict[str, object], gettext: Callable[[str], str]) -> str:
    """`template` (Chinese, a catalogue id) with its named `params`, in the language `gettext` translates into:
    its `Label` parameters translated too, its list parameters joined with that language's separator."""
    text = gettext(template)
    if not params:
        return text
    return text.format(**{name: _shown(value, gettext) for name, value in params.items()})


def phrase(template: Label, **params: object) -> dict[str, object]:
    """Generated text for a page or a plugin block: the Chinese `text` for the API, and its `template` with
    `params` for the portal to show in the reader's language (`Page.phrase`)."""
    return {"text": in_language(template, params, as_is), "template": template, "params": params}

"""Every portal form, posted with hostile and careless values, answers a person's error (4xx, or the page again
with a message) and never a 5xx, on either database: the forms' class of the hostile-input tests."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from httpx import AsyncClient
from litestar import Litestar

from tests.conftest import Auth
from tests.helpers import csrf_token, reception, sign_in, topic_at

pytestmark = pytest.mark.usefixtures("world")
REPO = Path(__file__).resolve().parents[2]
HOSTILE = ("x" * 100_000, "-1", "9" * 40, "1e400", "NaN", "2026-02-30", "9999-12-31T25:61", "０１", "[]", "{}",
           "'; DROP TABLE concern; --", "<script>alert(1)</script>", " ", "\u202e\u200b", "13800000000" * 3)
# Routes that end the session or whose tokens are one-time secrets: posted to, they change nothing hostile values
# could break, and they would sign the test out.
LEFT_OUT = ("/logout", "/me/data/erase", "/me/account/sign-out-others")


def _form_fields() -> list[str]:
    """Every field name any portal template (the core's and the plugins') posts."""
    names: set[str] = set()
    for template in [*REPO.glob("core/portal/templates/**/*.html"), *REPO.glob("plugins/*/templates/**/*.html")]:
        names.update(re.findall(r'name="([a-z_][a-z0-9_]*)"', template.read_text(encoding="utf-8")))
    names.discard("_csrf_token")
    return sorted(names)


def _portal_posts(app: Litestar) -> list[str]:
    return sorted({route.path for route in app.routes if route.path.startswith("/t/")
                   and any("POST" in h.http_methods for h in getattr(route, "route_handlers", []))
                   and not route.path.endswith(LEFT_OUT)})


def _filled(path: str, slug: str, ids: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "slug":
            return slug
        return ids.get(name.removesuffix("_id"), str(uuid.uuid4()) if name.endswith("_id") else "rename")
    return re.sub(r"\{([a-z_]+)(?::[a-z]+)?\}", value, path)


@pytest.mark.parametrize(("username", "slug"), [("cstaff", "comm-a"), ("dadmin", "district-a"),
                                                ("resident", "comm-a"), ("member", "city-a")])
async def test_every_portal_form_survives_hostile_values(app: Litestar, client: AsyncClient, auth: Auth,
                                                         username: str, slug: str) -> None:
    topic_id, ids = await topic_at(client, auth, "executing")
    ids["topic"] = topic_id
    ids["item"] = (await reception(client, auth))["items"][0]["id"] if slug == "comm-a" else str(uuid.uuid4())
    fields = _form_fields()
    assert len(fields) > 40, fields  # the templates were found
    await sign_in(client, slug, username)
    token = await csrf_token(client, f"/t/{slug}/me/account")
    failures = []
    for route in _portal_posts(app):
        url = _filled(route, slug, ids)
        payloads = [{}, *({name: value for name in fields} for value in HOSTILE),
                    {name: ["a", "b"] for name in fields}]
        for payload in payloads:
            answer = await client.post(url, data={**payload, "_csrf_token": token})
            if answer.status_code >= 500:
                failures.append((url, {k: str(v)[:20] for k, v in list(payload.items())[:1]}, answer.status_code,
                                 answer.text[:200]))
                break
    assert not failures, "\n".join(map(str, failures))

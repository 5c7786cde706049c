"""The one-click unsubscribe token reads back whatever bytes its MAC happens to hold, and nothing forged reads."""

from __future__ import annotations

import uuid

from core.notifications.delivery import read_unsubscribe_token, unsubscribe_token


def test_every_token_reads_back_what_it_was_made_from() -> None:
    # 2,000 people: about one MAC in sixteen holds a b"." byte, which a separator-based reader split wrongly
    for _ in range(2000):
        user = uuid.uuid4()
        token = unsubscribe_token("secret", user, "action.assigned", "email")
        assert read_unsubscribe_token("secret", token) == (user, "action.assigned", "email")


def test_a_token_made_with_another_secret_or_altered_does_not_read() -> None:
    user = uuid.uuid4()
    token = unsubscribe_token("secret", user, "concern.accepted", "sms")
    assert read_unsubscribe_token("other", token) is None
    altered = ("A" if token[0] != "A" else "B") + token[1:]
    assert read_unsubscribe_token("secret", altered) is None
    for junk in ("", "x", "====", "é", token[:10]):
        assert read_unsubscribe_token("secret", junk) is None

"""The busiest write's objects are made without the ORM's attribute events and still behave as the ORM's own."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.orm import Session

from core.concerns.models import Concern
from core.concerns.services import TRACKING_ALPHABET, new_tracking_secret
from core.db import make_persistent, unsaved


def test_an_unsaved_row_refuses_what_its_model_lacks_and_joins_the_session_as_written() -> None:
    with pytest.raises(TypeError, match="titel"):
        unsaved(Concern, titel="错字")
    tenant_id, concern_id = uuid.uuid4(), uuid.uuid4()
    concern = unsaved(Concern, tenant_id=tenant_id, id=concern_id, title="楼道灯坏了")
    session = Session()
    make_persistent(session, concern)
    # Columns left out were written as NULL: loaded as None, nothing left to flush.
    assert concern.title == "楼道灯坏了" and concern.place is None
    assert concern in session and not session.dirty and not session.new
    assert session.get(Concern, (tenant_id, concern_id)) is concern  # found without a query


def test_tracking_secrets_are_drawn_from_the_whole_alphabet() -> None:
    drawn = {new_tracking_secret() for _ in range(2000)}
    assert all(len(secret) == 4 and set(secret) <= set(TRACKING_ALPHABET) for secret in drawn)
    assert len(drawn) > 1900 and set("".join(drawn)) == set(TRACKING_ALPHABET)

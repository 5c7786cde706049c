"""Request and response shapes of merging duplicates, and of a concern's related concerns (for staff)."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

from core.concerns.schemas import ConcernOut
from core.inputs import Input, cap
from core.related.merging import MAX_DUPLICATES


class MergeIn(Input):
    """The duplicates to merge into the concern of the path (its survivor), and why (optional)."""

    duplicates: Annotated[list[uuid.UUID], msgspec.Meta(max_length=MAX_DUPLICATES)]
    reason: Annotated[str, cap(500)] | None = None


class MergedOut(msgspec.Struct):
    survivor: ConcernOut
    duplicates: list[ConcernOut]
    supporters: int  # the survivor's, now
    carried: int  # of them, those this merge brought (the duplicates' reporters and supporters)


class RelatedOut(msgspec.Struct):
    """A concern like the one asked about: `likely_duplicate` from the score residents are shown the same matter
    at, else `related`; `mergeable` when it may be merged into the one asked about."""

    id: uuid.UUID
    reference: str
    title: str
    public_summary: str
    status: str
    status_name: str
    supporters: int
    score: float
    label: str
    label_name: str
    mergeable: bool

"""Request and response shapes of related concerns: the text being typed, and what anyone who may file reads of
another resident's concern (its public summary, status and how many joined; never its description or its people)."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated

import msgspec

from core.inputs import Input, cap


class SimilarIn(Input):
    """What a resident has typed so far: the title and description may be partial, even empty (nothing comparable
    yet answers no concern); the place and category, when given, must be the community's, as filing wants."""

    title: Annotated[str, cap(120)]
    description: Annotated[str, cap(5000)]
    compound_id: uuid.UUID | None = None
    building_id: uuid.UUID | None = None
    category: Annotated[str, cap(40)] | None = None


class PublicView(msgspec.Struct):
    """Another resident's concern as someone who may join it reads it."""

    id: uuid.UUID
    reference: str
    summary: str  # core.redaction.public_summary: staff's summary, or the title with personal data taken out
    status: str
    status_name: str
    supporters: int  # 附议: how many joined it
    created_at: datetime.datetime
    joined: bool  # whether the reader joined it
    mine: bool  # whether the reader raised it (or filed it for someone): nothing to join
    joinable: bool  # still open: it may be joined (a handled one is shown so the reader sees what was done)


class SimilarConcern(PublicView):
    score: float  # 0..1, core.related.similarity

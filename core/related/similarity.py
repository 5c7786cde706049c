"""How alike two concerns are, from 0 to 1: the matter's words, then where it is and what kind it is.

The words decide; the place and the category only confirm or contradict. Two concerns naming different buildings
(or entrances, or compounds) are different matters however alike their words ("11号楼电梯坏" / "3号楼电梯坏"), and
two concerns about one building are not alike for that alone ("14号楼楼顶垃圾" / "14号楼楼道灯坏"): the building's
number is taken out of the words before they are compared (core.related.text).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

from rapidfuzz.distance import Indel

from core.related.text import Words, normalise, words

# Weights found on the development set (tests/data/related_concerns.jsonl, `python -m core.related.evaluation`);
# the held-out set checks that they generalise.
GRAMS, CHARS, ORDER = 0.55, 0.25, 0.20
DIFFERENT_PLACE = 0.35  # a different building, entrance or compound: another matter, unless the words are one
SAME_BUILDING = 0.08
OTHER_CATEGORY = 0.85
SHOWN = 0.34  # the least score shown to a resident or to staff as "likely the same"
RELATED = 0.22  # the least score listed as related (shown to staff, lower down)


@dataclass(frozen=True)
class Text:
    """What is compared of a concern: its words, where it is, its category."""

    words: Words
    matter: str  # the normalised text, places and all, for the order-aware comparison
    compound_id: uuid.UUID | None
    category: str | None

    @classmethod
    def of(cls, title: str, description: str, *, building: str | None = None, compound_id: uuid.UUID | None = None,
           category: str | None = None) -> Text:
        text = f"{title} {description}"
        return cls(words(text, building), normalise(text), compound_id, category)


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Cosine of two sets: shared items over the geometric mean of their sizes (a short text inside a long one
    still scores high, where Jaccard would punish the detail a second resident added)."""
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def _conflict(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a) and bool(b) and not (a & b)


def score(a: Text, b: Text) -> float:
    """The similarity of two concerns, 0 to 1 (symmetric)."""
    text = (GRAMS * _overlap(a.words.grams, b.words.grams) + CHARS * _overlap(a.words.chars, b.words.chars)
            + ORDER * Indel.normalized_similarity(a.matter, b.matter))
    if (_conflict(a.words.buildings, b.words.buildings) or _conflict(a.words.entrances, b.words.entrances)
            or (a.compound_id is not None and b.compound_id is not None and a.compound_id != b.compound_id)):
        text *= DIFFERENT_PLACE
    elif a.words.buildings & b.words.buildings:
        text += SAME_BUILDING * text
    if a.category and b.category and a.category != b.category:
        text *= OTHER_CATEGORY
    return min(text, 1.0)

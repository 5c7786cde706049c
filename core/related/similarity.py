"""How alike two concerns are, from 0 to 1: the matter's words, then where it is and what kind it is.

The words decide; the place and the category only confirm or contradict. Two concerns naming different buildings
(or entrances, or compounds) are different matters however alike their words ("11号楼电梯坏" / "3号楼电梯坏"), and
two concerns about one building are not alike for that alone ("14号楼楼顶垃圾" / "14号楼楼道灯坏"): the building's
number is taken out of the words before they are compared (core.related.text).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rapidfuzz.distance import Indel

from core.related import concepts
from core.related.text import Words, normalise, words

# Weights found on the development set (tests/data/related_concerns.jsonl, `python -m core.related.evaluation`);
# the held-out set checks that they generalise.
GRAMS, CHARS, ORDER = 0.55, 0.25, 0.20  # the text's parts
CONCEPTS = 0.4  # of the whole: the objects the two name (core.related.concepts); the text the rest
OTHER_OBJECTS = 0.45  # both name objects of community life, none the same: another matter, unless the words agree
OTHER_FAULT = 0.9  # the same object, but one is broken and the other missing (坏了 / 太少)
OTHER_COMPOUND = 0.3  # a different compound: another matter
OTHER_BUILDING = 0.45  # a different building or entrance: usually another matter (some span a compound)
SAME_BUILDING = 0.08
OTHER_CATEGORY = 0.9
SHOWN = 0.38  # the least score shown to a resident or to staff as "likely the same"
RELATED = 0.28  # the least score listed as related (shown to staff, lower down)


@dataclass(frozen=True)
class Text:
    """What is compared of a concern: its words and the matters they name, where it is, its category."""

    words: Words
    matter: str  # the normalised text, places and all, for the order-aware comparison
    objects: frozenset[str]
    faults: frozenset[str]
    compound: str | None  # its compound: the one picked, or else the one its text names
    category: str | None

    @classmethod
    def of(cls, title: str, description: str, *, building: str | None = None, compound: str | None = None,
           category: str | None = None, compounds: tuple[str, ...] = ()) -> Text:
        """`compounds`: the community's compound names, to find the one a resident named only in words."""
        text = normalise(f"{title} {description}")
        if compound is None:
            compound = next((name for name in compounds if normalise(name) in text), None)
        return cls(words(text, building, normalised=True), text, concepts.objects(text), concepts.faults(text), compound, category)


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Cosine of two sets: shared items over the geometric mean of their sizes (a short text inside a long one
    still scores high, where Jaccard would punish the detail a second resident added)."""
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def _conflict(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a) and bool(b) and not (a & b)


def score(a: Text, b: Text, *, buildings: bool = True) -> float:
    """The similarity of two concerns, 0 to 1 (symmetric). Without `buildings`, two buildings of one compound do
    not make two matters: a topic (充电难) gathers a compound's concerns, where a duplicate is one building's."""
    text = (GRAMS * _overlap(a.words.grams, b.words.grams) + CHARS * _overlap(a.words.chars, b.words.chars)
            + ORDER * Indel.normalized_similarity(a.matter, b.matter))
    if a.objects and b.objects:
        value = CONCEPTS * _overlap(a.objects, b.objects) + (1 - CONCEPTS) * text
        if not a.objects & b.objects:
            value *= OTHER_OBJECTS
    else:
        value = text
    if _conflict(a.faults, b.faults):  # one says it is broken, the other that there is none: two matters
        value *= OTHER_FAULT
    if a.compound is not None and b.compound is not None and a.compound != b.compound:
        value *= OTHER_COMPOUND
    elif buildings and (_conflict(a.words.buildings, b.words.buildings) or _conflict(a.words.gates, b.words.gates)
                        or _conflict(a.words.entrances, b.words.entrances)):
        value *= OTHER_BUILDING
    elif a.words.buildings & b.words.buildings:
        value += SAME_BUILDING * value
    if a.category and b.category and a.category != b.category:
        value *= OTHER_CATEGORY
    return min(value, 1.0)

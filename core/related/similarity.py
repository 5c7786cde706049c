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

from core.related import concepts, terms
from core.related.text import Words, normalise, words

# The features' weights and the bias of a logistic regression fitted on the development set
# (tests/data/related_concerns.jsonl) by `python -m core.related.train`; the held-out sets check that they
# generalise (`python -m core.related.evaluation`). In the order of `features`.
WEIGHTS: tuple[float, ...] = (-2.936, 9.885, 1.415, 4.779, -2.205, 1.389, -0.446, -6.823, -3.859, 1.467, -0.746, -4.512,
                             1.662, -2.146, 0.873)
BIAS = -6.017
SHOWN = 0.5  # the least score shown to a resident or to staff as "likely the same" (precision@3 ≥ 0.85 on the set)
RELATED = 0.4  # the least score listed as related (shown to staff, lower down)
FEATURES = (
    "grams",  # the matter's bigrams in common (cosine)
    "chars",  # its characters in common
    "order",  # the normalised texts' edit similarity (rapidfuzz Indel)
    "objects",  # the objects of community life they name in common (core.related.concepts)
    "other_objects",  # both name objects, none the same
    "no_objects",  # one of them names none
    "other_fault",  # the same object, one broken and the other missing (坏了 / 太少)
    "other_compound",  # different compounds
    "other_place",  # different buildings, gates or entrances
    "same_building",
    "other_category",
    "grams_and_objects",  # the words and the objects agreeing together
    "terms",  # the words in common, weighed by their rarity (TF-IDF cosine, core.related.terms)
    "other_side",  # different sides of the compound (北侧 / 南边)
    "same_fault",  # the same kind of fault (both broken, both missing …)
)


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


def features(a: Text, b: Text, *, buildings: bool = True) -> list[float]:
    """What the score weighs of a pair, in the order of `FEATURES`."""
    grams = _overlap(a.words.grams, b.words.grams)
    both = bool(a.objects and b.objects)
    objects = _overlap(a.objects, b.objects) if both else 0.0
    other_place = buildings and (_conflict(a.words.buildings, b.words.buildings) or _conflict(a.words.gates, b.words.gates)
                                 or _conflict(a.words.entrances, b.words.entrances))
    return [grams, _overlap(a.words.chars, b.words.chars), Indel.normalized_similarity(a.matter, b.matter), objects,
            float(both and not a.objects & b.objects), float(not both), float(_conflict(a.faults, b.faults)),
            float(a.compound is not None and b.compound is not None and a.compound != b.compound), float(other_place),
            float(bool(a.words.buildings & b.words.buildings)),
            float(bool(a.category and b.category and a.category != b.category)), grams * objects,
            terms.cosine(a.words.terms, b.words.terms), float(buildings and _conflict(a.words.sides, b.words.sides)),
            float(bool(a.faults & b.faults))]


def score(a: Text, b: Text, *, buildings: bool = True) -> float:
    """The likelihood that two concerns are one matter, 0 to 1 (symmetric). Without `buildings`, two buildings of
    one compound do not make two matters: a topic (充电难) gathers a compound's concerns, where a duplicate is one
    building's."""
    value = BIAS + sum(w * x for w, x in zip(WEIGHTS, features(a, b, buildings=buildings), strict=True))
    return 1 / (1 + math.exp(-value))

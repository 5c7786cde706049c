"""From index keys to a ranked list: the candidates sharing most keys, each scored against the query, the best kept.

The same steps serve a lookup in the database (core.related.services) and the evaluation in memory
(core.related.evaluation), so what is measured is what runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

from core.related import similarity
from core.related.similarity import Text

CANDIDATES = 60  # re-ranked per lookup: the concerns sharing the most keys with the query
PER_KEY = 64  # of each key, only its newest concerns are read (a key as common as 漏水 is capped, not scanned)

Id = TypeVar("Id", bound=Hashable)


def candidates(shared: Iterable[Id], limit: int = CANDIDATES) -> list[Id]:
    """The ids that appear most often among the keys' concerns (one appearance per shared key)."""
    return [concern for concern, _ in Counter(shared).most_common(limit)]


def rank(query: Text, texts: Mapping[Id, Text], least: float | None = None, limit: int = 3) -> list[tuple[Id, float]]:
    """`texts` scored against `query`, the best first, those of at least `least` (default `similarity.SHOWN`), at
    most `limit`."""
    least = similarity.SHOWN if least is None else least
    scored = [(concern, similarity.score(query, text)) for concern, text in texts.items()]
    scored = [pair for pair in scored if pair[1] >= least]
    scored.sort(key=lambda pair: pair[1], reverse=True)
    return scored[:limit]

"""A concern's words as jieba cuts them, each weighed by how rare it is in Chinese: what two texts share counts for
more when it is 围墙 or 倒塌 than when it is 晚上 or 小区.

Character n-grams (core.related.text) treat every pair of characters alike, so two residents writing 小区 … 晚上 …
物业 about different matters look alike, and "围墙倒了" / "院墙倒塌" share little. Words cut by a dictionary
(rjieba: jieba's dictionary and algorithm, in Rust) and weighed by their inverse document frequency in a large
general corpus (the IDF table jieba ships for its keyword extraction) give a TF-IDF cosine that knows which shared
words tell — a weight no one fitted on our sets, so it holds for text we have not seen."""

from __future__ import annotations

import functools
import importlib.util
import math
import re
from pathlib import Path

import rjieba

# Of jieba's IDF table (270,000 words) only the words commoner than this are kept in memory (44,000: a sixth of
# the table's memory); any other word is rare and weighs `RARE`, about the table's median. Measured on the sets
# (core.related.evaluation): no worse than the whole table.
COMMON = 10.0
RARE = 12.0
Vector = dict[str, float]
_NOT_WORD = re.compile(r"[^a-z\u3400-\u9fff]+|[的了着过吗呢吧啊呀哦嘛么]")  # spaces, punctuation, numbers, particles


@functools.cache
def _idf() -> dict[str, float]:
    """jieba's IDF table, its common words only. Read from the package's files without importing jieba (whose
    import builds its tokenizer's state; rjieba cuts)."""
    spec = importlib.util.find_spec("jieba")
    assert spec is not None and spec.submodule_search_locations, "jieba is a dependency: its IDF table is read"
    table = Path(spec.submodule_search_locations[0]) / "analyse" / "idf.txt"
    weights: dict[str, float] = {}
    for line in table.read_text(encoding="utf-8").splitlines():
        word, _, value = line.partition(" ")
        if value and (weight := float(value)) < COMMON:
            weights[word] = weight
    return weights


@functools.lru_cache(maxsize=8192)
def vector(matter: str) -> Vector:
    """The TF-IDF vector of `matter` (text already normalised, places and fillers taken out, pieces separated by
    spaces), of length 1. Cached: a lookup compares the same candidates again as a resident types. Read only."""
    idf = _idf()
    weights: Vector = {}
    for word in rjieba.cut(matter):
        if not _NOT_WORD.fullmatch(word):
            weights[word] = weights.get(word, 0.0) + idf.get(word, RARE)
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {word: w / norm for word, w in weights.items()} if norm else {}


def cosine(a: Vector, b: Vector) -> float:
    """How alike two texts' words are, 0 to 1."""
    if len(b) < len(a):
        a, b = b, a
    return sum(w * b.get(word, 0.0) for word, w in a.items())

"""Concerns grouped by matter, each group named by its most telling words: the topics staff are offered (拟定议题)
and the month's hot topics (每月一题).

Grouping is average-link: two groups join while their members are, on average, as alike as two duplicates
(`similarity.SHOWN`), so one loose pair cannot chain two matters into one; the buildings they name do not part
them (a compound's 充电难 is one topic, whichever building each resident lives in). Only pairs that share index keys are
scored, never every pair of a community's concerns."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Hashable, Mapping
from typing import TypeVar

from core.related import concepts, similarity, sketch
from core.related.similarity import Text

Id = TypeVar("Id", bound=Hashable)


def group(texts: Mapping[Id, Text], least: float | None = None) -> list[list[Id]]:
    """`texts` in groups of one matter each, the largest first (singletons included); `least` defaults to
    `similarity.SHOWN`."""
    least = similarity.SHOWN if least is None else least
    ids = list(texts)
    by_key: dict[int, list[Id]] = {}
    for concern in ids:
        for key in sketch.keys(texts[concern].words.grams, texts[concern].objects):
            by_key.setdefault(key, []).append(concern)
    scores: dict[frozenset[Id], float] = {}
    for members in by_key.values():
        for a, b in itertools.combinations(members, 2):
            pair = frozenset((a, b))
            if pair not in scores:
                scores[pair] = similarity.score(texts[a], texts[b], buildings=False)
    groups: dict[Id, list[Id]] = {concern: [concern] for concern in ids}
    leader: dict[Id, Id] = {concern: concern for concern in ids}
    for pair, _ in sorted(((p, s) for p, s in scores.items() if s >= least), key=lambda item: item[1], reverse=True):
        left, right = (leader[member] for member in pair)
        if left == right:
            continue
        links = [scores.get(frozenset((x, y)), 0.0) for x in groups[left] for y in groups[right]]
        if sum(links) / len(links) >= least:
            for member in groups[right]:
                leader[member] = left
            groups[left].extend(groups.pop(right))
    return sorted(groups.values(), key=len, reverse=True)


def _position(gram: str, members: list[Text]) -> float:
    """How early `gram` comes in the members' texts, on average (a text is its title, then its description: the
    title names the matter). A member without it counts as its end."""
    return sum(text.matter.find(gram) % (len(text.matter) + 1) for text in members) / len(members)


def _joined(a: str, b: str, written: list[str]) -> str | None:
    """`a` and `b` as one word where they overlap by a character as a member wrote it (充电 + 电难 → 充电难; not
    充电 + 电动 → 充电动 where they wrote 电动车充电); None where they do not."""
    if len(a) < 2 or len(b) < 2:
        return None
    for joined in (a + b[1:] if a[-1] == b[0] else None, b + a[1:] if b[-1] == a[0] else None):
        if joined and any(joined in text for text in written):
            return joined
    return None


def label(members: list[Text], pool: list[Text], length: int = 2) -> str:
    """The group's name: the word for the object most of its members name, with the fault most of them report
    (充电桩不足); for a group naming no object of the lexicon, the bigrams most of its members use and few others
    do, joined where they overlap (充电 + 电难 → 充电难)."""
    half = max(2, (len(members) + 1) // 2)
    named = Counter(word for text in members for word in concepts.object_words(text.matter))
    words: list[str] = []  # the two commonest objects, each a concept of its own (楼顶 + 垃圾, not 充电 + 充电桩)
    for word in sorted(named, key=lambda w: (-named[w], -len(w), w)):
        if named[word] >= half and len(words) < 2 and not any(word in w or w in word for w in words) \
                and concepts.objects(word).isdisjoint(concepts.objects("".join(words))):
            words.append(word)
    if words:
        faults = Counter(fault for text in members for fault in text.faults)
        order = list(concepts.FAULT_NAMES)  # of faults told as often, the first named: broken before dangerous
        fault = max(faults, key=lambda f: (faults[f], -order.index(f)), default=None)
        return "".join(words) + (concepts.FAULT_NAMES[fault] if fault is not None and faults[fault] >= half else "")
    inside = Counter(gram for text in members for gram in text.words.grams)
    everywhere = Counter(gram for text in pool for gram in text.words.grams)
    common = [gram for gram in inside if inside[gram] * 2 >= len(members)] or list(inside)
    ranked = sorted(common, key=lambda gram: (-inside[gram] ** 2 / everywhere[gram], _position(gram, members),
                                              gram))[:8]
    written = [text.matter for text in members]
    terms: list[str] = []
    for gram in ranked:
        for i, term in enumerate(terms):
            if joined := _joined(term, gram, written):
                terms[i] = joined
                break
        else:
            if len(terms) < length:
                terms.append(gram)
    merged = True
    while merged:  # terms that grew into each other: 楼道灯 + 灯坏 → 楼道灯坏
        merged = False
        for a, b in itertools.permutations(terms, 2):
            if joined := _joined(a, b, written):
                terms = [joined if term == a else term for term in terms if term != b]
                merged = True
                break
    return "、".join(terms)

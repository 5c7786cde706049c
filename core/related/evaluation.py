"""How well duplicates are found, on a labelled set: precision and recall of the top 3 suggestions, and the purity
of the groups, through the same steps a lookup runs (index keys → candidates → scores).

The sets are `tests/data/related_concerns.jsonl` (the development set the weights were fitted on),
`tests/data/related_concerns_holdout.jsonl` (other matters, other writers; read while the lexicon grew, so no
longer unseen) and `tests/data/related_concerns_holdout2.jsonl`, "blind": written by someone who saw neither the
method nor the other sets, and never used to change the method — the honest figure. Each
line is a concern with its `community`, `compound`, `building`, `category`, `title`, `description` and `group`:
concerns of one group are one matter. `python -m core.related.evaluation [path …]` prints the figures."""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from core.related import clusters, ranking, sketch
from core.related.similarity import Text

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
SETS = {"development": DATA / "related_concerns.jsonl", "holdout": DATA / "related_concerns_holdout.jsonl",
        "blind": DATA / "related_concerns_holdout2.jsonl"}
TOP = 3


@dataclass(frozen=True)
class Figures:
    concerns: int
    precision_at3: float  # of the suggestions shown, the share that are the same matter
    recall_at3: float  # of the duplicates there were to show (at most 3 per concern), the share shown
    cluster_purity: float  # of the concerns, the share in a group whose most common matter is theirs
    cluster_completeness: float  # of the concerns, the share grouped with their matter's largest part
    shown: int
    wrong: list[tuple[str, str, float]]  # (concern, suggested, score): the false suggestions, to read


def load(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _text(row: dict[str, str], compounds: tuple[str, ...] = ()) -> Text:
    return Text.of(row["title"], row["description"], building=row.get("building"), compound=row.get("compound"),
                   category=row.get("category"), compounds=compounds)


def texts_of(rows: list[dict[str, str]]) -> dict[str, Text]:
    """Each row's `Text`, knowing its community's compounds (the names the set uses), as a tenant knows its own."""
    compounds: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row.get("compound"):
            compounds[row["community"]].add(row["compound"])
    return {row["id"]: _text(row, tuple(sorted(compounds[row["community"]]))) for row in rows}


@dataclass(frozen=True)
class Lookups:
    """A set as lookups see it: each concern's `Text`, its matter, its community's concerns, and the candidates
    its index keys give among them (the steps a lookup runs, in memory)."""

    texts: dict[str, Text]
    matter: dict[str, str]
    communities: dict[str, list[str]]
    candidates: dict[str, list[str]]


def lookups(rows: list[dict[str, str]]) -> Lookups:
    texts = texts_of(rows)
    communities: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        communities[row["community"]].append(row["id"])
    candidates: dict[str, list[str]] = {}
    for members in communities.values():
        index: dict[int, list[str]] = defaultdict(list)
        keys = {concern: sketch.keys(texts[concern].words.grams, texts[concern].objects) for concern in members}
        for concern in members:
            for key in keys[concern]:
                index[key].append(concern)
        for concern in members:
            candidates[concern] = ranking.candidates(other for key in keys[concern] for other in index[key]
                                                     if other != concern)
    return Lookups(texts, {row["id"]: row["group"] for row in rows}, communities, candidates)


def evaluate(rows: list[dict[str, str]]) -> Figures:
    """Each concern looked up among the others of its community, as if it were being filed."""
    sets = lookups(rows)
    texts, matter = sets.texts, sets.matter
    shown = right = expected = found = 0
    wrong: list[tuple[str, str, float]] = []
    purity = completeness = 0
    for members in sets.communities.values():
        for concern in members:
            pool = {other: texts[other] for other in sets.candidates[concern]}
            suggestions = ranking.rank(texts[concern], pool, limit=TOP)
            duplicates = sum(1 for other in members if other != concern and matter[other] == matter[concern])
            hits = [other for other, _ in suggestions if matter[other] == matter[concern]]
            shown += len(suggestions)
            right += len(hits)
            expected += min(TOP, duplicates)
            found += len(hits)
            wrong += [(concern, other, s) for other, s in suggestions if matter[other] != matter[concern]]
        groups = clusters.group({concern: texts[concern] for concern in members})
        for members_of in groups:
            purity += Counter(matter[m] for m in members_of).most_common(1)[0][1]
        largest: dict[str, int] = defaultdict(int)
        for members_of in groups:
            for name, count in Counter(matter[m] for m in members_of).items():
                largest[name] = max(largest[name], count)
        completeness += sum(largest.values())
    total = len(rows)
    return Figures(total, right / shown if shown else 0.0, found / expected if expected else 0.0,
                   purity / total, completeness / total, shown, wrong)


def main(paths: list[str]) -> None:
    for name, path in ([(p, Path(p)) for p in paths] or list(SETS.items())):
        figures = evaluate(load(path))
        print(f"{name}: {figures.concerns} concerns, {figures.shown} suggestions shown; precision@3"
              f" {figures.precision_at3:.3f}, recall@3 {figures.recall_at3:.3f}, cluster purity"
              f" {figures.cluster_purity:.3f}, completeness {figures.cluster_completeness:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])

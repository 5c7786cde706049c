"""A median read from the kept histogram of minutes to completion is the median of the matters' days, as the
figure rounds it, for any number of matters, ties and all."""

from __future__ import annotations

import random
import statistics

from core.reporting.tallies import Part


def test_the_histograms_median_is_the_matters_median() -> None:
    chance = random.Random(18)
    for _ in range(500):
        minutes = [chance.choice((0, 30, 60 * 26, 1440 * 3 + 7)) + chance.randrange(0, 1440 * 20)
                   for _ in range(chance.randrange(1, 40))]
        part, other = Part(), Part()
        for value in minutes:
            counted = part.histograms["minutes_to_completion"]
            counted[value] = counted.get(value, 0) + 1
        other.add(part)  # what adds up over days and tenants: the same histogram, the same median
        assert part.median_days() == other.median_days() == round(statistics.median(m / 1440 for m in minutes), 1)
    assert Part().median_days() is None


def test_a_change_taken_back_leaves_nothing() -> None:
    part = Part({**Part().counts, "ratings": 2, "rating_total": 7},
                {**Part().histograms, "minutes_to_completion": {90: 2, 30: 1}, "minutes_to_respond": {5: 1}})
    assert not (part - part) and not any((part - part).histograms.values())
    assert part.figures(0, 0).average_rating == 3.5 and part.figures(0, 0).median_days_to_completion == 0.1

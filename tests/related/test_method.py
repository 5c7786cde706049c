"""The method on its own: Chinese text written one way, the score's rules, and the figures on the labelled sets
(tests/data/related_concerns*.jsonl) held at what they reached, so a change that makes them worse fails."""

from __future__ import annotations

import pytest

from core.related import clusters, evaluation, sketch, terms
from core.related.similarity import SHOWN, Text, score
from core.related.text import chinese_number, normalise, words


@pytest.mark.parametrize(("written", "normalised"), [
    ("電梯壞了", "电梯坏了"),                  # traditional characters
    ("１４号楼ＡＢ", "14号楼ab"),              # full-width digits and letters
    ("十四号楼", "14号楼"), ("二十栋", "20号楼"), ("一百零三号楼", "103号楼"), ("三单元", "3单元"),
    ("14栋楼顶", "14号楼楼顶"), ("14幢", "14号楼"), ("14#楼", "14号楼"),
    ("一直没人管", "一直没人管"),              # a numeral not before a place stays a word
])
def test_one_matter_is_written_one_way(written: str, normalised: str) -> None:
    assert normalise(written) == normalised


def test_numerals() -> None:
    assert [chinese_number(n) for n in ("三", "十", "十四", "二十", "二十五", "一〇三", "两")] == [3, 10, 14, 20, 25, 103, 2]


def test_places_and_fillers_are_not_the_matter() -> None:
    found = words("我家14号楼2单元的楼道灯一直不亮了，希望尽快处理", building=None)
    assert found.buildings == {"14"} and found.entrances == {"2"}
    assert "号楼" not in found.grams and "希望" not in found.grams and {"楼道", "不亮"} <= found.grams


def test_a_rare_shared_word_tells_more_than_a_common_one() -> None:
    wall = terms.vector("围墙 晚上")  # jieba's IDF: 围墙 is rarer in Chinese than 晚上
    assert wall["围墙"] > wall["晚上"] > 0
    assert sum(w * w for w in wall.values()) == pytest.approx(1.0)
    assert terms.cosine(wall, wall) == pytest.approx(1.0) and terms.cosine(wall, terms.vector("电梯 故障")) == 0.0
    assert terms.vector("的 了 14 ，") == {}  # particles, numbers and punctuation are no words
    # Texts sharing a rare word are more alike than texts sharing a common one.
    assert terms.cosine(terms.vector("围墙 倒 白天"), terms.vector("围墙 歪 早上")) > terms.cosine(
        terms.vector("围墙 倒 晚上"), terms.vector("电梯 停 晚上"))


def test_a_compounds_sides_are_places() -> None:
    assert words("金花园小区北侧围墙倒了，南边也歪了").sides == {"北", "南"}
    north = Text.of("北侧围墙倒了", "金花园小区北侧围墙倒了一段")
    assert score(north, Text.of("南侧围墙倒了", "金花园小区南侧围墙倒了一段")) < score(
        north, Text.of("北边围墙倒了", "金花园小区北边围墙倒了一段"))


def test_the_same_matter_in_other_words_scores_high_and_another_matter_low() -> None:
    roof = Text.of("楼顶建筑垃圾长期堆放，下雨天漏水", "楼顶上的建筑垃圾未及时清运，一到下雨天就外面下大雨，里面下小雨。",
                   building="14号楼", compound="银巴小区")
    assert score(Text.of("14号楼楼顶垃圾漏水", ""), roof) >= SHOWN
    assert score(Text.of("十四號樓頂上堆滿垃圾", "下雨往家里渗水"), roof) >= SHOWN
    assert score(Text.of("14号楼楼道灯坏了", "二单元楼道灯不亮", building="14号楼"), roof) < SHOWN  # same building
    assert score(Text.of("11号楼楼顶垃圾漏水", "", building="11号楼"), roof) < SHOWN  # another building
    assert score(Text.of("楼顶垃圾漏水", "", compound="民乐小区"), roof) < SHOWN  # another compound


def test_a_compound_named_only_in_words_is_its_compound() -> None:
    text = Text.of("路灯不亮", "民乐小区西门的路灯坏了", compounds=("银巴小区", "民乐小区"))
    assert text.compound == "民乐小区"


def test_keys_are_the_same_in_every_process() -> None:
    # MinHash from a fixed seed: the index written by one release is read by the next (a datasketch that computed
    # other values would leave every stored key unfindable: this fails first).
    keys = sketch.keys(frozenset({"楼顶", "垃圾"}), frozenset({"roof"}))
    assert len(keys) == sketch.BANDS + 1 and keys[:2] == [203333267, (1 << 32) | 184812113]
    assert keys[-1] == (255 << 32) | 0xE54D8813  # crc32("roof")


def test_a_cluster_is_labelled_by_its_telling_words() -> None:
    texts = {i: Text.of(t, d, compound="银巴小区") for i, (t, d) in enumerate([
        ("电动车充电难", "11号楼附近没有充电桩，电动车只能推回家充电"),
        ("充电桩太少", "小区充电桩数量太少，晚上根本排不上，只好飞线充电"),
        ("增设电动车充电桩", "14号楼附近的电动车越来越多，充电桩不够用，建议增设"),
        ("楼道灯坏了", "3号楼楼道灯不亮，晚上看不见"),
    ])}
    groups = clusters.group(texts)
    assert sorted(groups[0]) == [0, 1, 2] and [3] in groups
    assert "充电" in clusters.label([texts[i] for i in groups[0]], list(texts.values()))


@pytest.mark.parametrize(("name", "precision", "recall", "purity"), [
    # Reached on 2026-12-03 (docs/related.md): the development set the weights were fitted on, the held-out set
    # (read while the lexicon grew), and the blind set, which nothing was ever changed for. The development set's
    # floor is the target: precision ≥ 0.85 at recall ≥ 0.75.
    ("development", 0.85, 0.75, 0.91),
    ("holdout", 0.82, 0.74, 0.90),
    ("blind", 0.78, 0.66, 0.88),
])
def test_the_labelled_sets_figures_hold(name: str, precision: float, recall: float, purity: float) -> None:
    figures = evaluation.evaluate(evaluation.load(evaluation.SETS[name]))
    assert figures.concerns >= (300 if name == "development" else 120)
    assert figures.precision_at3 >= precision and figures.recall_at3 >= recall
    assert figures.cluster_purity >= purity

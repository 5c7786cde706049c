"""What two residents' words have in common once written the same way: Chinese text normalised, the places it
names taken out, and the rest cut into character n-grams.

Chinese has no spaces between words, so the units compared are overlapping characters (二元/三元组), which need no
dictionary and survive the synonyms and typos residents write. Before cutting, the forms that differ only in
writing are made one: full-width letters and digits (ＮＦＫＣ), traditional characters (OpenCC's character
table), Chinese numerals before a unit of place (十四号楼 → 14号楼), and the several words for a building
(14栋, 14幢, 14#楼 → 14号楼).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources

from core.related import terms

# Characters that carry no matter of their own in a resident's sentence: particles, pronouns, the words of
# asking and complaining. Removing them keeps "我家楼道的灯坏了" and "楼道灯坏" one matter, not two.
_PARTICLES = set("的了着过吗呢吧啊呀哦嘛么")
_FILLERS = sorted((
    "我们", "你们", "他们", "我家", "我", "你", "他", "她", "请问", "麻烦", "希望", "能够", "可以", "一下", "一直", "已经", "现在", "目前",
    "总是", "经常", "老是", "好几天", "多次", "反映", "问题", "情况", "帮忙", "尽快", "处理", "解决", "谢谢", "您", "这个", "那个", "这些",
    "那些", "非常", "特别", "真的", "实在",
), key=len, reverse=True)
_FILLER_WORDS = re.compile("|".join(_FILLERS))
# A unit after a number that makes the number a place: a building, an entrance, a floor, a flat.
_PLACE_UNITS = "号楼|号院|栋|幢|单元|层|楼|号|户|室|期|区|排|巷"
_NUMERAL = "零〇一二两三四五六七八九十百"
_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_CHINESE_NUMBER = re.compile(f"([{_NUMERAL}]+)(?=(?:{_PLACE_UNITS}))")
_BUILDING = re.compile(r"(\d+)\s*(?:号楼|栋|幢|#楼|#|号(?=楼))")
_ENTRANCE = re.compile(r"(\d+)\s*(?:单元|门洞)")
_GATE = re.compile(r"([东西南北])(?:大)?门")  # a compound's east, west, south or north gate: a place, like a building
_SIDE = re.compile(r"([东西南北])(?:边|侧|面|头)")  # its north side (北侧围墙): a place too, if a vaguer one
_NOT_TEXT = re.compile(r"[^0-9a-z\u3400-\u9fff]+")


@functools.cache
def _simplified() -> dict[int, str]:
    """OpenCC's traditional → simplified character table, as a `str.translate` map (the first reading of each)."""
    table = resources.files("opencc").joinpath("dictionary/TSCharacters.txt").read_text(encoding="utf-8")
    mapping: dict[int, str] = {}
    for line in table.splitlines():
        traditional, _, simplified = line.partition("\t")
        if len(traditional) == 1 and simplified:
            mapping[ord(traditional)] = simplified.split(" ")[0]
    return mapping


def chinese_number(numeral: str) -> int | None:
    """十四 → 14, 二十 → 20, 一百零三 → 103, 三 → 3; `None` for what is not a whole number below 1,000."""
    if all(c in _DIGITS for c in numeral):  # read digit by digit: 一〇三 → 103
        return int("".join(str(_DIGITS[c]) for c in numeral))
    total, digit = 0, None
    for c in numeral:
        if c in _DIGITS:
            digit = _DIGITS[c]
        elif c == "十":
            total += (1 if digit is None else digit) * 10
            digit = None
        elif c == "百":
            if digit is None:
                return None
            total += digit * 100
            digit = None
    return total + (digit or 0)


def _arabic(match: re.Match[str]) -> str:
    number = chinese_number(match.group(1))
    return match.group(1) if number is None else str(number)


def normalise(text: str) -> str:
    """One writing of `text`: half-width, lower case, simplified, numerals as digits, buildings as 号楼."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_simplified())
    text = _CHINESE_NUMBER.sub(_arabic, text)
    return _BUILDING.sub(r"\1号楼", text)


@dataclass(frozen=True)
class Words:
    """A concern's text as compared: the buildings and entrances it names, and the grams of the rest."""

    buildings: frozenset[str]
    entrances: frozenset[str]
    gates: frozenset[str]  # 东门 / 西门 …
    sides: frozenset[str]  # 北侧 / 南边 …
    grams: frozenset[str]  # character bigrams of the matter, fillers and places removed
    chars: frozenset[str]  # its single characters: the last resort of a paraphrase (漏水 / 渗水 share 水)
    matter: str = field(compare=False)  # the text as its words are cut: places and fillers out

    @cached_property
    def terms(self) -> terms.Vector:
        """Its words weighed by their rarity (core.related.terms): cut only when a score needs them, never for the
        index keys the fan-out writes."""
        return terms.vector(self.matter)


def words(text: str, building: str | None = None, *, normalised: bool = False) -> Words:
    """`text` (a title and description) taken apart; `building` is the one the resident picked, if any;
    `normalised`: `text` is `normalise`'s already."""
    if not normalised:
        text = normalise(text)
    buildings = set(_BUILDING.findall(text)) if "号楼" in text else set()
    if building:
        buildings.update(re.findall(r"\d+", normalise(building))[:1])
    entrances = set(_ENTRANCE.findall(text))
    gates = set(_GATE.findall(text))
    sides = set(_SIDE.findall(text))
    matter = _ENTRANCE.sub(" ", re.sub(r"\d+号楼", " ", text))
    matter = _FILLER_WORDS.sub(" ", matter)
    pieces = [p for p in _NOT_TEXT.split("".join(" " if c in _PARTICLES else c for c in matter)) if p]
    grams = {p[i:i + 2] for p in pieces for i in range(len(p) - 1)} | {p for p in pieces if len(p) == 1}
    return Words(frozenset(buildings), frozenset(entrances), frozenset(gates), frozenset(sides), frozenset(grams),
                 frozenset(c for p in pieces for c in p if not c.isdigit()), matter)



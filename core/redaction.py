"""What the public may read of residents' text: phone numbers, ID numbers, e-mail and chat ids, surnames and
flat numbers taken out, by the one function every public page, feed and export uses."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Protocol

import phonenumbers

MASK = "***"
# Matched on the NFKC form (full-width digits and letters become ASCII); the text keeps the form it was typed in.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{6}\s?\d{8}\s?\d{3}[\dXx](?![0-9A-Za-z])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_CHAT_ID = re.compile(r"(?:微信号?|QQ号?|WeChat|VX|WX)\s*[:：]?\s*([A-Za-z0-9_-]{5,20})", re.IGNORECASE)
# A mainland mobile in any spacing, with or without +86/0086/86; libphonenumber finds the rest (landlines,
# other countries) but wants digit groups it recognises, and a resident's typing is not always that tidy.
_SEPARATOR = r"[ \t]{0,2}[.\-–—]?[ \t]{0,2}"  # 138 1234 1234, 138-1234-1234, 138 - 1234 - 1234
_MOBILE = re.compile(rf"(?<![0-9])(?:\(?(?:\+|00)?86\)?{_SEPARATOR})?1[3-9](?:{_SEPARATOR}\d){{9}}(?![0-9])")
# A concern's reference (JSX-2026-000123) looks like a landline to libphonenumber; it is public by design.
_REFERENCE = re.compile(r"[A-Za-z]{1,10}-\d{4}-\d{6}")
# A surname before a form of address: 柳先生 → 某先生. A list of surnames, so that 楼下阿姨 stays as it is.
_SURNAMES = (
    "欧阳|司马|上官|诸葛|东方|皇甫|令狐|慕容|尉迟|长孙|公孙|夏侯|司徒|端木|"
    "[王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤柳常"
    "牛葛施乔温鲁康安齐易伍庞申焦祝左柴耿凌岳宁邢聂詹骆关纪费喻尚]"
)
_NAME = re.compile(rf"({_SURNAMES})(?=先生|女士|小姐|阿姨|大爷|大妈|大娘|大姐|奶奶|爷爷|老师|师傅|同志)")
# Where a flat is named in a place, everything from the unit on goes: 14号楼2单元301 → 14号楼.
_FLAT = re.compile(
    r"[0-9一二三四五六七八九十]+\s*(?:单元|门洞)"  # 3单元, 三单元
    r"|\d+\s*(?:室|户|号房|房间?)"  # 502室
    r"|\d+(?:\s*[-－—–]\s*\d+)+"  # 2-3-502, 3-502
    r"|(?<=[楼栋幢座])\s*\d{3,4}(?!\d)"  # 14号楼502
)
_TRIM = " \t,，、;；.。:：-－—–·"


def _normalised(text: str) -> tuple[str, list[int]]:
    """The NFKC form of `text`, and for each of its characters the index of the character it came from."""
    parts, origin = [], []
    for index, char in enumerate(text):
        form = unicodedata.normalize("NFKC", char)
        parts.append(form)
        origin.extend([index] * len(form))
    return "".join(parts), origin


def _spans(norm: str, known: Iterable[str | None]) -> list[tuple[int, int, str]]:
    """(start, end, replacement) of each piece of personal data in the normalised text."""
    references = [m.span() for m in _REFERENCE.finditer(norm)]
    names = {unicodedata.normalize("NFKC", name).strip() for name in known if name}
    found = [(m.start(), m.end(), MASK) for name in names if len(name) >= 2 for m in re.finditer(re.escape(name), norm)]
    found += [(m.start(), m.end(), MASK) for pattern in (_ID_NUMBER, _EMAIL, _MOBILE) for m in pattern.finditer(norm)]
    found += [(m.start(1), m.end(1), MASK) for m in _CHAT_ID.finditer(norm)]
    found += [(m.start(), m.end(), "某") for m in _NAME.finditer(norm)]
    for match in phonenumbers.PhoneNumberMatcher(norm, "CN", leniency=phonenumbers.Leniency.VALID):
        if not any(s <= match.start and match.end <= e for s, e in references):
            found.append((match.start, match.end, MASK))
    return sorted(found, key=lambda span: (span[0], -span[1]))  # the longest first where two start together


def redact(text: str, known: Iterable[str | None] = ()) -> str:
    """`text` with every phone number, ID number, e-mail address and chat id masked and surnames replaced;
    `known` are the concern's own resident's name and phone, masked wherever they appear."""
    if not text:
        return text
    return _redacted(text, tuple(known))


# Finding phone numbers (libphonenumber's matcher) is a third of a millisecond a title: a list of fifty concerns,
# read again and again by the staff of a community, would spend most of its time on it. The answer depends on
# the text and the names alone, so each process keeps the last ones it gave.
@lru_cache(maxsize=8192)
def _redacted(text: str, known: tuple[str | None, ...]) -> str:
    norm, origin = _normalised(text)
    out, at = [], 0
    for start, end, replacement in _spans(norm, known):
        first, last = origin[start], origin[end - 1] + 1
        if first < at:  # overlaps a piece already taken out
            if last > at:
                at = last
            continue
        out.append(text[at:first])
        out.append(replacement)
        at = last
    out.append(text[at:])
    return "".join(out)


def public_place(place: str | None, known: Iterable[str | None] = ()) -> str | None:
    """A place as the public sees it: the compound and building, never the unit or flat, nor anyone's name."""
    if not place:
        return None
    norm, origin = _normalised(place)
    flat = _FLAT.search(norm)
    kept = place[:origin[flat.start()]] if flat else place
    return redact(kept.strip(_TRIM), known).strip(_TRIM) or None


class Summarised(Protocol):
    title: str
    public_summary: str | None
    resident_name: str | None
    resident_phone: str | None


def public_summary(concern: Summarised) -> str:
    """What the public reads of a concern: the summary staff wrote, or else its title with personal data taken out."""
    return concern.public_summary or redact(concern.title, (concern.resident_name, concern.resident_phone))

"""Keyset paging: an opaque cursor naming the last row a client was given, so the next page starts after it.

A page read by offset makes the database walk past every row before it; a page read after a cursor starts where
the last one ended, at the same cost on page 1 and on page 10,000, and a row filed meanwhile does not shift the
rows after it onto the next page twice. The cursor carries the sort it was made for and the sort key of the last
row (its sort column's value, then its id, which breaks ties): the next page is the rows past that key in that order.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, literal, tuple_

from core.errors import InvalidInput

FIELD = "cursor"
MAX_LENGTH = 400  # a key of two values is far shorter; anything longer is not one of ours


def encode(sort: str, values: Sequence[Any]) -> str:
    """The cursor after a row whose sort key is `values` (a datetime, text, or a UUID each)."""
    raw = json.dumps([sort, *(_plain(v) for v in values)], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str, sort: str, kinds: Sequence[type]) -> list[Any]:
    """The sort key a cursor carries, each value of the kind given; a 400 for a cursor that is not one of ours,
    or that was made for another sort (the client changed the order between pages)."""
    invalid = InvalidInput("翻页游标无效：请从第一页重新开始（用上一页返回的 next_cursor）", field=FIELD)
    made_for, values = _read(cursor)
    if made_for is None:
        raise invalid
    if made_for != sort:
        raise InvalidInput("翻页游标属于另一种排序：改变排序后请从第一页重新开始", field=FIELD)
    try:
        if len(values) != len(kinds):
            raise ValueError(cursor)
        return [_parsed(value, kind) for value, kind in zip(values, kinds, strict=True)]
    except (ValueError, TypeError):
        raise invalid from None


def _read(cursor: str) -> tuple[str | None, list[Any]]:
    """The sort a cursor was made for and the values it carries; (None, []) for what is not a cursor of ours."""
    try:
        if len(cursor) > MAX_LENGTH:
            return None, []
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None, []
    if not isinstance(decoded, list) or not decoded or not isinstance(decoded[0], str):
        return None, []
    return decoded[0], decoded[1:]


def after(columns: Sequence[Any], key: Sequence[Any], descending: bool) -> ColumnElement[bool]:
    """Rows past `key` in the order of `columns` (mapped columns, all ascending or all descending): one row
    comparison, which an index on those columns answers by starting its scan at the key."""
    row, bound = tuple_(*columns), tuple_(*(literal(v, c.type) for v, c in zip(key, columns, strict=True)))
    return row < bound if descending else row > bound


def _plain(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, str | uuid.UUID):
        return str(value)
    raise TypeError(f"a cursor cannot carry {type(value).__name__}")


def _parsed(value: Any, kind: type) -> Any:
    if not isinstance(value, str):
        raise ValueError(value)
    if kind is datetime.datetime:
        parsed = datetime.datetime.fromisoformat(value)
        if parsed.tzinfo is None:  # ours always carry their offset
            raise ValueError(value)
        return parsed
    if kind is uuid.UUID:
        return uuid.UUID(value)
    return value

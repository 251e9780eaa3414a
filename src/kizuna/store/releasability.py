"""Releasability: which partner nations may see a stored record.

A record's releasability is kept as one short text value so that it can be
stored in any column and filtered in SQL without a join:

* ``"ALL"`` — releasable to every partner (public catalog data);
* otherwise the sorted, de-duplicated ISO 3166 alpha-3 codes of the nations
  allowed to see it, joined with commas: ``"JPN,USA"``.

A *viewer* is one nation code (``"JPN"``), or ``"ALL"`` for an audience made of
every partner at once, which sees only ``"ALL"`` records.

>>> normalize_releasability("usa, jpn")
'JPN,USA'
>>> releasable("JPN,USA", "JPN"), releasable("USA", "JPN"), releasable("ALL", "JPN")
(True, False, True)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import ColumnElement, literal, or_

from kizuna.errors import KizunaError

ALL = "ALL"
_CODE_RE = re.compile(r"^[A-Z]{3}$")


class ReleasabilityError(KizunaError, ValueError):
    """A releasability value or nation code is malformed."""


def _code(text: str) -> str:
    code = text.strip().upper()
    if not _CODE_RE.match(code):
        raise ReleasabilityError(
            f"{text!r} is not an ISO 3166 alpha-3 nation code; write e.g. 'JPN' or 'USA' "
            f"(or 'ALL' for every partner)"
        )
    return code


def normalize_releasability(value: str | Iterable[str]) -> str:
    """Canonical text form of a releasability: ``"ALL"`` or sorted codes ``"JPN,USA"``.

    Parameters
    ----------
    value : str or iterable of str
        ``"ALL"``, one code, a comma-separated list, or an iterable of codes.
        Case and spaces do not matter; ``ALL`` anywhere makes the whole value ``ALL``.

    Raises
    ------
    ReleasabilityError
        On an empty value or a code that is not three letters.
    """
    parts = value.split(",") if isinstance(value, str) else list(value)
    parts = [p for p in (p.strip() for p in parts) if p]
    if not parts:
        raise ReleasabilityError(
            "empty releasability: give 'ALL' or nation codes such as 'JPN,USA'"
        )
    if any(p.upper() == ALL for p in parts):
        return ALL
    return ",".join(sorted({_code(p) for p in parts}))


def normalize_viewer(nation: str) -> str:
    """Canonical viewer code: ``"ALL"`` or one alpha-3 code."""
    return ALL if nation.strip().upper() == ALL else _code(nation)


def _codes(value: str) -> frozenset[str]:
    return frozenset(value.split(","))


def releasable(record_value: str, nation: str) -> bool:
    """Whether a record with releasability ``record_value`` may be shown to ``nation``.

    ``record_value`` is a stored (canonical) value; ``nation`` a viewer code.
    """
    viewer = normalize_viewer(nation)
    if record_value == ALL:
        return True
    if viewer == ALL:
        return False
    return viewer in _codes(record_value)


def covers(outer: str, inner: str) -> bool:
    """Whether every nation allowed by ``inner`` is also allowed by ``outer``."""
    if outer == ALL:
        return True
    if inner == ALL:
        return False
    return _codes(inner) <= _codes(outer)


def releasable_clause(column: ColumnElement[str], nation: str) -> ColumnElement[bool]:
    """SQL condition: rows of ``column`` releasable to ``nation``.

    Wrapping the stored value in commas lets one ``LIKE '%,JPN,%'`` find the
    code anywhere in the list; the code is validated first, so it never holds
    a LIKE wildcard.
    """
    viewer = normalize_viewer(nation)
    if viewer == ALL:
        return column == ALL
    wrapped = literal(",").concat(column).concat(",")
    return or_(column == ALL, wrapped.like(f"%,{viewer},%"))

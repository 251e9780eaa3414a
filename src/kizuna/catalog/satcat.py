"""Object metadata catalogs: CelesTrak SATCAT CSV and the UCS Satellite Database.

Neither carries orbits; both give :class:`~kizuna.catalog.elements.SpaceObject`
records (name, international designator, type, owner, dates) keyed by NORAD
catalog number, which the threat assessment uses for attribution.

A catalog number seen twice in one file is a conflict the file cannot settle
(the UCS 2021 edition gives 45123 to both MakerSat-1 and Starlink-1239): the
first row is kept and each later one is rejected, naming the first line, so
that one file never yields two records for one object.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Sequence
from datetime import date

from kizuna.catalog.elements import ParseResult, SpaceObject
from kizuna.errors import Rejection, UnusableInputError

__all__ = ["normalize_object_type", "parse_satcat_csv", "parse_ucs_csv"]

# SATCAT codes and words -> the four CelesTrak object types. Space-Track
# writes "TBA" (to be assigned) for objects not yet identified.
_OBJECT_TYPES = {
    "PAY": "PAYLOAD", "PAYLOAD": "PAYLOAD",
    "R/B": "ROCKET BODY", "RB": "ROCKET BODY", "ROCKET BODY": "ROCKET BODY",
    "DEB": "DEBRIS", "DEBRIS": "DEBRIS",
    "UNK": "UNKNOWN", "UNKNOWN": "UNKNOWN", "TBA": "UNKNOWN",
}

_SATCAT_COLUMNS = ("OBJECT_NAME", "OBJECT_ID", "NORAD_CAT_ID", "OBJECT_TYPE", "OPS_STATUS_CODE",
                   "OWNER", "LAUNCH_DATE", "LAUNCH_SITE", "DECAY_DATE", "PERIOD", "INCLINATION",
                   "APOGEE", "PERIGEE", "RCS", "DATA_STATUS_CODE", "ORBIT_CENTER", "ORBIT_TYPE")
# Kept verbatim in SpaceObject.extra (units as CelesTrak documents them:
# PERIOD min, INCLINATION deg, APOGEE/PERIGEE km, RCS m^2).
_SATCAT_EXTRA = ("OPS_STATUS_CODE", "LAUNCH_SITE", "PERIOD", "INCLINATION", "APOGEE", "PERIGEE",
                 "RCS", "DATA_STATUS_CODE", "ORBIT_CENTER", "ORBIT_TYPE")

# UCS columns, by header text (the first one is written with literal quotes).
_UCS_NORAD = "NORAD Number"
_UCS_OWNER = "Country of Operator/Owner"
_UCS_EXTRA = ("Name of Satellite, Alternate Names", "Users", "Detailed Purpose",
              "Class of Orbit", "Type of Orbit", "Country/Org of UN Registry",
              "Longitude of GEO (degrees)", "Launch Mass (kg.)", "Expected Lifetime (yrs.)",
              "Contractor", "Country of Contractor", "Launch Site", "Launch Vehicle")


def normalize_object_type(text: str | None) -> str | None:
    """SATCAT object type in CelesTrak's words (``PAY`` -> ``PAYLOAD``); None if unknown.

    >>> normalize_object_type("R/B")
    'ROCKET BODY'
    """
    if not text:
        return None
    return _OBJECT_TYPES.get(text.strip().upper())


def _rcs_size(rcs: str) -> str | None:
    """Space-Track's RCS size class from an RCS in m^2 (CelesTrak gives the number).

    SMALL below 0.1 m^2, MEDIUM 0.1 to 1 m^2, LARGE above 1 m^2; a class name
    given directly is kept.
    """
    text = rcs.strip().upper()
    if text in ("SMALL", "MEDIUM", "LARGE"):
        return text
    try:
        value_m2 = float(text)
    except ValueError:
        return None
    if not (math.isfinite(value_m2) and value_m2 >= 0):
        return None
    return "SMALL" if value_m2 < 0.1 else ("MEDIUM" if value_m2 <= 1.0 else "LARGE")


def _is_intl_designator(text: str) -> bool:
    """``YYYY-NNN`` plus a piece of up to three capital letters."""
    piece = text[8:]
    return (len(text) <= 11 and text[4:5] == "-" and text[:4].isdigit() and text[5:8].isdigit()
            and text.isascii() and (not piece or (piece.isalpha() and piece.isupper())))


def _norad(text: str) -> int:
    value = text.strip()
    if not (value.isdigit() and value.isascii()) or not 0 < int(value) <= 999_999_999:
        raise ValueError(f"{text.strip()!r} is not a catalog number (1 to 9 digits)")
    return int(value)


def _rows(text: str, file: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """CSV rows with their 1-based line numbers; a broken CSV stops with InputError."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise UnusableInputError(f"CSV structure broken: {exc}", file=file,
                                 line=reader.line_num + 1, field="csv") from None


class _Objects:
    """One SpaceObject per catalog number, later duplicates rejected."""

    def __init__(self, file: str, fmt: str) -> None:
        self.result = ParseResult(file=file, format=fmt)
        self.first_line: dict[int, int] = {}

    def reject(self, line: int, record: int, field: str, reason: str) -> None:
        self.result.rejected.append(Rejection(self.result.file, line, record, field, reason))

    def add(self, obj: SpaceObject, line: int, record: int, field: str) -> None:
        first = self.first_line.get(obj.norad_id)
        if first is not None:
            self.reject(line, record, field,
                        f"catalog number {obj.norad_id} already given on line {first}; "
                        "the first row is kept")
            return
        self.first_line[obj.norad_id] = line
        self.result.objects.append(obj)


def parse_satcat_csv(text: str, *, file: str = "<input>") -> ParseResult:
    """Parse a CelesTrak ``satcat.csv`` into :class:`SpaceObject` records.

    Parameters
    ----------
    text : str
        CSV with CelesTrak's header (``OBJECT_NAME, OBJECT_ID, NORAD_CAT_ID,
        OBJECT_TYPE, OPS_STATUS_CODE, OWNER, LAUNCH_DATE, ...``); only
        ``NORAD_CAT_ID`` is required, missing columns are blank.
    file : str
        Name used in rejections.

    Returns
    -------
    ParseResult
        ``format="satcat-csv"``, ``objects`` only. ``OBJECT_TYPE`` codes
        (``PAY``, ``R/B``, ``DEB``, ``UNK``) become ``PAYLOAD``, ``ROCKET BODY``,
        ``DEBRIS``, ``UNKNOWN``; ``owner`` is the SATCAT owner code (``US``,
        ``PRC``, ``CIS``, ``JPN`` ...); ``rcs_size`` the Space-Track class of the
        RCS; the other columns are kept verbatim in ``extra``. A row with a bad
        catalog number, object type, designator or date is rejected with its
        line and column name.

    Raises
    ------
    UnusableInputError
        If there is no ``NORAD_CAT_ID`` column.
    """
    out = _Objects(file, "satcat-csv")
    rows = _rows(text, file)
    header_line, header = next(rows, (1, []))
    header = [h.strip().lstrip("\ufeff").upper() for h in header]
    if "NORAD_CAT_ID" not in header:
        raise UnusableInputError("CSV header lacks NORAD_CAT_ID: not a SATCAT CSV", file=file,
                                 line=header_line, field="NORAD_CAT_ID")
    index = {name: i for i, name in enumerate(header)}
    n_columns = len(header)
    record = -1
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        record += 1
        out.result.n_records += 1
        if len(row) != n_columns:
            out.reject(line, record, "-", f"row has {len(row)} fields, the header {n_columns}")
            continue

        def cell(name: str, row: Sequence[str] = row) -> str:
            i = index.get(name)
            return row[i].strip() if i is not None else ""

        field = "NORAD_CAT_ID"
        try:
            norad_id = _norad(cell(field))
            field = "OBJECT_TYPE"
            type_text = cell(field)
            object_type = normalize_object_type(type_text)
            if type_text and object_type is None:
                raise ValueError(f"{type_text!r} is not PAY, R/B, DEB or UNK")
            field = "OBJECT_ID"
            intl = cell(field) or None
            if intl is not None and not _is_intl_designator(intl):
                raise ValueError(f"{intl!r} is not an international designator (YYYY-NNNP)")
            field = "LAUNCH_DATE"
            launch = cell(field)
            launch_date = date.fromisoformat(launch) if launch else None
            field = "DECAY_DATE"
            decay = cell(field)
            decay_date = date.fromisoformat(decay) if decay else None
        except ValueError as exc:
            out.reject(line, record, field, str(exc))
            continue
        rcs = cell("RCS")
        out.add(SpaceObject(
            norad_id=norad_id,
            name=cell("OBJECT_NAME") or None,
            intl_designator=intl,
            object_type=object_type,
            owner=cell("OWNER") or None,
            launch_date=launch_date,
            decay_date=decay_date,
            rcs_size=_rcs_size(rcs) if rcs else None,
            extra={name: cell(name) for name in _SATCAT_EXTRA if cell(name)},
        ), line, record, "NORAD_CAT_ID")
    return out.result


def _ucs_date(text: str) -> date:
    """UCS launch dates are US style ``M/D/YYYY``."""
    parts = text.split("/")
    if len(parts) != 3 or not all(p.isdigit() and p.isascii() for p in parts) \
            or len(parts[2]) != 4:
        raise ValueError(f"{text!r} is not a date written M/D/YYYY")
    month, day, year = (int(p) for p in parts)
    return date(year, month, day)


def parse_ucs_csv(text: str, *, file: str = "<input>") -> ParseResult:
    """Parse the UCS Satellite Database (CSV) into payload :class:`SpaceObject` records.

    Parameters
    ----------
    text : str
        CSV (or UCS's tab-separated text) whose header row holds ``NORAD Number``
        and ``Country of Operator/Owner``. A pandas export is accepted as is: its first row of
        column numbers (0..66) is skipped and its first column (the row index)
        ignored, because columns are found by header name.
    file : str
        Name used in rejections.

    Returns
    -------
    ParseResult
        ``format="ucs-csv"``, ``objects`` only, all ``object_type="PAYLOAD"``
        (the database lists active satellites). ``owner`` is the country of
        operator/owner as UCS writes it (``USA``, ``China``, ``Japan``...),
        ``operator`` the operator, ``purpose`` the purpose, ``launch_date`` from
        ``M/D/YYYY``; users, orbit class, contractor... go to ``extra``. Rows
        with no content at all (the export ends with four) are skipped; a row
        without a usable NORAD number or launch date is rejected with its line
        and column name. A malformed COSPAR number (the 2021 edition has
        ``2020--019BK``) does not cost the row: ``intl_designator`` is None and
        the text is kept in ``extra["COSPAR Number"]``.

    Raises
    ------
    UnusableInputError
        If no header row with ``NORAD Number`` is found in the first three rows.
    """
    out = _Objects(file, "ucs-csv")
    # UCS publishes tab-separated text as well as CSV; the header row tells which.
    head = text[:4096]
    header_text = next((line for line in head.split("\n") if _UCS_NORAD in line), "")
    delimiter = "\t" if header_text.count("\t") > header_text.count(",") else ","
    rows = _rows(text, file, delimiter)
    index: dict[str, int] = {}
    for _ in range(3):
        line, row = next(rows, (0, []))
        names = [c.strip().strip('"').strip() for c in row]
        if _UCS_NORAD in names and _UCS_OWNER in names:
            # First occurrence wins: the export repeats "Source" in later columns.
            for i, name in enumerate(names):
                index.setdefault(name, i)
            break
    if not index:
        raise UnusableInputError(f"no header row with {_UCS_NORAD!r} and {_UCS_OWNER!r}: not a "
                                 "UCS Satellite Database CSV", file=file, line=1, field=_UCS_NORAD)
    i_norad = index[_UCS_NORAD]
    # A pandas export puts the row index in column 0 (blank or a number in the
    # header row): it is not content when deciding whether a row is empty.
    first_content = 1 if (names[0] == "" or names[0].isdigit()) else 0
    record = -1
    for line, row in rows:
        if not any(cell.strip() for cell in row[first_content:]):
            continue  # padding rows at the end of the export
        record += 1
        out.result.n_records += 1
        if len(row) <= i_norad:
            out.reject(line, record, _UCS_NORAD,
                       f"row has {len(row)} fields, too few to hold {_UCS_NORAD!r}")
            continue

        def cell(name: str, row: Sequence[str] = row) -> str:
            i = index.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        field = _UCS_NORAD
        try:
            if not cell(field):
                raise ValueError("the row has no NORAD number, so it cannot be attributed")
            norad_id = _norad(cell(field))
            field = "Date of Launch"
            launch = cell(field)
            launch_date = _ucs_date(launch) if launch else None
        except ValueError as exc:
            out.reject(line, record, field, str(exc))
            continue
        extra = {name: cell(name) for name in _UCS_EXTRA if cell(name)}
        cospar = cell("COSPAR Number")
        intl = cospar if cospar and _is_intl_designator(cospar) else None
        if cospar and intl is None:
            extra["COSPAR Number"] = cospar
        out.add(SpaceObject(
            norad_id=norad_id,
            name=cell("Current Official Name of Satellite")
            or cell("Name of Satellite, Alternate Names") or None,
            intl_designator=intl,
            object_type="PAYLOAD",
            owner=cell(_UCS_OWNER) or None,
            operator=cell("Operator/Owner") or None,
            purpose=cell("Purpose") or None,
            launch_date=launch_date,
            extra=extra,
        ), line, record, _UCS_NORAD)
    return out.result

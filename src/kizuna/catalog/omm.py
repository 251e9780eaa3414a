"""CCSDS Orbit Mean-Elements Messages (OMM) in KVN, XML, JSON and CSV.

The OMM (CCSDS 502.0-B-2/-3) carries the same SGP4 mean elements as a TLE,
with more digits and without the fixed columns. Four encodings are read:

* **KVN** (``KEY = value [units]``), one or more messages per file, each
  starting with ``CCSDS_OMM_VERS``; ``COMMENT`` lines are skipped.
* **XML** (NDM/XML): a single ``<omm>`` or an ``<ndm>`` holding many, with
  or without namespace prefixes.
* **JSON**: a list of flat records as CelesTrak (numbers, ISO epochs) and
  Space-Track (strings, ``"EPOCH": "2025-09-27 19:46:00"`` plus
  ``EPOCH_MICROSECONDS``) serve them.
* **CSV**: CelesTrak's ``gp`` CSV and CSV exports of Space-Track history
  (``EPOCH`` like ``2020-01-01 06:11:10.983264+00:00``, ``TLE_LINE1/2``).

Only what SGP4 can propagate is accepted: ``MEAN_ELEMENT_THEORY`` SGP4
(also spelled ``SGP/SGP4``), ``REF_FRAME`` TEME, ``TIME_SYSTEM`` UTC and
``CENTER_NAME`` EARTH. When a record carries ``TLE_LINE1``/``TLE_LINE2``
(Space-Track history), the TLE is the authority for the element set, so that
the stored numbers and :meth:`ElementSet.to_satrec` describe the same orbit;
the OMM's ``NORAD_CAT_ID`` and ``EPOCH`` must agree with it.

Every bad record becomes a :class:`~kizuna.errors.Rejection` naming the file,
the 0-based record index, the line where there is one, and the OMM keyword.
Input that cannot be read at all (broken XML or JSON, a CSV without the
needed columns) raises :class:`~kizuna.errors.UnusableInputError`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date
from typing import Any
from xml.parsers import expat

from kizuna.catalog.elements import ElementSet, ParseResult, SpaceObject, object_type_from_name
from kizuna.catalog.satcat import normalize_object_type
from kizuna.catalog.tle import element_set_from_lines
from kizuna.errors import Rejection, TleFormatError, UnusableInputError

__all__ = ["parse_omm_csv", "parse_omm_json", "parse_omm_kvn", "parse_omm_xml"]

# Names under which producers declare SGP4 mean elements. "SGP/SGP4" is the
# spelling of CCSDS 502.0-B-2 and Orekit; "SDP4" is SGP4's deep-space branch,
# which python-sgp4 selects by itself; "TLE" is what the CCSDS NDM/XML 1.0
# sample writes for TLE mean elements ("USAF SGP4 IS THE ONLY PROPAGATOR THAT
# SHOULD BE USED FOR THIS DATA"). SGP4-XP, DSST, Brouwer... are refused:
# their mean elements mean something else, and SGP4 would misread them.
SGP4_THEORIES = frozenset({"SGP4", "SGP/SGP4", "SDP4", "SGP4/SDP4", "TLE"})

_HEADER_KEYS = ("CCSDS_OMM_VERS", "COMMENT", "CLASSIFICATION", "CREATION_DATE", "ORIGINATOR",
                "MESSAGE_ID")
_METADATA_KEYS = ("OBJECT_NAME", "OBJECT_ID", "CENTER_NAME", "REF_FRAME", "REF_FRAME_EPOCH",
                  "TIME_SYSTEM", "MEAN_ELEMENT_THEORY")
_MEAN_ELEMENT_KEYS = ("EPOCH", "SEMI_MAJOR_AXIS", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION",
                      "RA_OF_ASC_NODE", "ARG_OF_PERICENTER", "MEAN_ANOMALY", "GM")
_SPACECRAFT_KEYS = ("MASS", "SOLAR_RAD_AREA", "SOLAR_RAD_COEFF", "DRAG_AREA", "DRAG_COEFF")
_TLE_KEYS = ("EPHEMERIS_TYPE", "CLASSIFICATION_TYPE", "NORAD_CAT_ID", "ELEMENT_SET_NO",
             "REV_AT_EPOCH", "BSTAR", "BTERM", "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT", "AGOM")
_COVARIANCE_KEYS = ("COV_REF_FRAME", "CX_X", "CY_X", "CY_Y", "CZ_X", "CZ_Y", "CZ_Z",
                    "CX_DOT_X", "CX_DOT_Y", "CX_DOT_Z", "CX_DOT_X_DOT", "CY_DOT_X", "CY_DOT_Y",
                    "CY_DOT_Z", "CY_DOT_X_DOT", "CY_DOT_Y_DOT", "CZ_DOT_X", "CZ_DOT_Y",
                    "CZ_DOT_Z", "CZ_DOT_X_DOT", "CZ_DOT_Y_DOT", "CZ_DOT_Z_DOT")
_OMM_KEYWORDS = frozenset(_HEADER_KEYS + _METADATA_KEYS + _MEAN_ELEMENT_KEYS + _SPACECRAFT_KEYS
                          + _TLE_KEYS + _COVARIANCE_KEYS)

# XML block -> keywords allowed in it (NDM/XML 1.0 / 2.0 schema).
_XML_BLOCKS = {
    "header": frozenset(_HEADER_KEYS),
    "metadata": frozenset((*_METADATA_KEYS, "COMMENT")),
    "meanElements": frozenset((*_MEAN_ELEMENT_KEYS, "COMMENT")),
    "spacecraftParameters": frozenset((*_SPACECRAFT_KEYS, "COMMENT")),
    "tleParameters": frozenset((*_TLE_KEYS, "COMMENT")),
    "covarianceMatrix": frozenset((*_COVARIANCE_KEYS, "COMMENT")),
}

# Units CCSDS prescribes for the keywords Kizuna uses; a value given in other
# units is refused rather than silently misread (compared case-insensitively,
# spaces removed).
_UNITS = {
    "MEAN_MOTION": "rev/day",
    "INCLINATION": "deg",
    "RA_OF_ASC_NODE": "deg",
    "ARG_OF_PERICENTER": "deg",
    "MEAN_ANOMALY": "deg",
    "BSTAR": "1/er",
    "MEAN_MOTION_DOT": "rev/day**2",
    "MEAN_MOTION_DDOT": "rev/day**3",
}

_EPOCH_RE = re.compile(
    r"\s*(\d{4})-(?:(\d\d)-(\d\d)|(\d{3}))[T ](\d\d):(\d\d):(\d\d(?:\.\d*)?)"
    r"\s*(?:Z|[+-]00:?00|UTC)?\s*",
    re.ASCII,
)
# Julian date at 00:00 of the proleptic Gregorian day with ordinal n is n + 1721424.5
# (0001-01-01, ordinal 1, began at JD 1721425.5).
_JD_ORDINAL_OFFSET = 1721424.5
_EPOCH_AGREEMENT_S = 1e-3       # TLE epochs are printed to 1e-8 day = 0.86 ms
_MAX_NORAD_ID = 999_999_999     # 9 digits (the catalog passed 100,000 in 2026)


class _OmmBad(Exception):
    """One keyword of one OMM record is missing or wrong (internal)."""

    def __init__(self, key: str, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.key = key
        self.reason = reason
        self.line = line


# --------------------------------------------------------------------------- values


def _text(values: Mapping[str, Any], key: str) -> str | None:
    """Stripped string value, None when absent, null or blank."""
    raw = values.get(key)
    if raw is None:
        return None
    if not isinstance(raw, str):
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise _OmmBad(key, f"{key} has a {type(raw).__name__} value, expected text")
        return str(raw)
    raw = raw.strip()
    return raw or None


def _float(values: Mapping[str, Any], key: str, default: float | None = None) -> float:
    """Finite float value of ``key``; a missing key is an error unless ``default`` is given."""
    raw = values.get(key)
    if type(raw) is float:
        value = raw
    elif type(raw) is str and raw.strip():
        try:
            value = float(raw)
        except ValueError:
            raise _OmmBad(key, f"{key} {raw.strip()!r} is not a number") from None
        if "_" in raw or not raw.isascii():
            raise _OmmBad(key, f"{key} {raw.strip()!r} is not a plain decimal number")
    elif type(raw) is int:
        value = float(raw)
    elif raw is None or (type(raw) is str):
        if default is None:
            raise _OmmBad(key, f"mandatory {key} is missing or empty")
        return default
    else:
        raise _OmmBad(key, f"{key} has a {type(raw).__name__} value, expected a number")
    if not math.isfinite(value):
        raise _OmmBad(key, f"{key} {raw!r} is not a finite number")
    return value


def _int(values: Mapping[str, Any], key: str, required: bool = False) -> int | None:
    """Integer value of ``key`` (digits, or an integral number), None if absent and optional."""
    raw = values.get(key)
    if type(raw) is int:
        return raw
    if type(raw) is str:
        text = raw.strip()
        # Length guard: int() refuses over 4300 digits with a bare ValueError.
        if text.isdigit() and text.isascii() and len(text) <= 18:
            return int(text)
        if not text:
            raw = None
    if raw is None:
        if required:
            raise _OmmBad(key, f"mandatory {key} is missing or empty")
        return None
    # Tolerate "25544.0" (spreadsheet and pandas exports) but nothing fractional.
    try:
        value = float(raw) if type(raw) in (str, float) else math.nan
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value.is_integer() and value >= 0
            and (type(raw) is float or ("_" not in raw and raw.isascii()))):
        raise _OmmBad(key, f"{key} {raw!r} is not a whole non-negative number")
    return int(value)


def _epoch_jd_fr(text: str, key: str = "EPOCH", microseconds: int | None = None
                 ) -> tuple[float, float]:
    """Split UTC Julian date of an OMM epoch.

    Accepts ``YYYY-MM-DDThh:mm:ss[.f]``, the day-of-year form ``YYYY-DDDThh:mm:ss[.f]``,
    a space instead of ``T``, and a trailing ``Z`` or ``+00:00``. ``microseconds``
    (Space-Track's separate ``EPOCH_MICROSECONDS``) is added to whole seconds.
    """
    m = _EPOCH_RE.fullmatch(text)
    if m is None:
        raise _OmmBad(key, f"{key} {text!r} is not a UTC time like 2026-07-12T03:44:00.383136")
    year, month, day, doy, hour, minute, second = m.groups()
    try:
        if doy is None:
            ordinal = date(int(year), int(month), int(day)).toordinal()
        else:
            start = date(int(year), 1, 1).toordinal()
            day_of_year = int(doy)
            if not 1 <= day_of_year <= date(int(year), 12, 31).toordinal() - start + 1:
                raise ValueError(f"day of year {doy} does not exist")
            ordinal = start + day_of_year - 1
    except ValueError as exc:
        raise _OmmBad(key, f"{key} {text!r}: {exc}") from None
    hours, minutes, seconds = int(hour), int(minute), float(second)
    # 23:59:60.x is a leap second, which UTC allows; other 60s do not exist.
    if hours > 23 or minutes > 59 or seconds >= 61.0 or (
            seconds >= 60.0 and (hours, minutes) != (23, 59)):
        raise _OmmBad(key, f"{key} {text!r} has a time of day that does not exist")
    if microseconds is not None:
        if "." in second:
            raise _OmmBad("EPOCH_MICROSECONDS",
                          "EPOCH_MICROSECONDS given but EPOCH already has a fraction of a second")
        seconds += microseconds * 1e-6
    return ordinal + _JD_ORDINAL_OFFSET, (hours * 3600 + minutes * 60 + seconds) / 86400.0


def _intl_designator(values: Mapping[str, Any], key: str, required: bool) -> str | None:
    """``OBJECT_ID`` as ``YYYY-NNNP``; ``UNKNOWN`` and (outside CCSDS files) blank give None."""
    text = _text(values, key)
    if text is None:
        if required:
            raise _OmmBad(key, f"mandatory {key} is empty; CCSDS requires the international "
                               "designator (YYYY-NNNP, e.g. 1998-067A)")
        return None
    if text.upper() == "UNKNOWN":
        return None
    piece = text[8:]
    if not (len(text) <= 11 and text[4:5] == "-" and text[:4].isdigit() and text[5:8].isdigit()
            and text.isascii() and (not piece or (piece.isalpha() and piece.isupper()))):
        raise _OmmBad(key, f"{key} {text!r} is not an international designator "
                           "(YYYY-NNNP, e.g. 1998-067A)")
    return text


def _optional_date(values: Mapping[str, Any], key: str) -> date | None:
    """Metadata date (``LAUNCH_DATE``...); unreadable metadata never costs the orbit."""
    raw = values.get(key)
    if not isinstance(raw, str) or len(raw.strip()) < 10:
        return None
    try:
        return date.fromisoformat(raw.strip()[:10])
    except ValueError:
        return None


def _check_metadata(values: Mapping[str, Any], ccsds: bool) -> None:
    """Frame, time system, centre and theory must be what SGP4 produces."""
    for key, wanted, why in (
        ("CENTER_NAME", ("EARTH",), "SGP4 elements are Earth-centred"),
        ("REF_FRAME", ("TEME",), "SGP4 mean elements are defined in TEME"),
        ("TIME_SYSTEM", ("UTC",), "SGP4 epochs are UTC"),
    ):
        text = _text(values, key)
        if text is None:
            if ccsds:
                raise _OmmBad(key, f"mandatory {key} is missing or empty")
            continue
        if text.upper() not in wanted:
            raise _OmmBad(key, f"{key} is {text!r}, but Kizuna reads only {wanted[0]}: {why}")
    theory = _text(values, "MEAN_ELEMENT_THEORY")
    if theory is None:
        if ccsds:
            raise _OmmBad("MEAN_ELEMENT_THEORY", "mandatory MEAN_ELEMENT_THEORY is missing")
    elif theory.upper() not in SGP4_THEORIES:
        raise _OmmBad("MEAN_ELEMENT_THEORY",
                      f"MEAN_ELEMENT_THEORY is {theory!r}; Kizuna propagates with SGP4 only and "
                      "would misread other mean elements (SGP4-XP needs its own propagator)")


def _check_units(units: Mapping[str, str]) -> None:
    for key, unit in units.items():
        wanted = _UNITS.get(key)
        if wanted is not None and unit.replace(" ", "").lower() != wanted:
            raise _OmmBad(key, f"{key} is given in [{unit}], expected [{_UNITS[key]}]")


def _check_range(key: str, value: float, low: float, high: float, unit: str) -> None:
    if not low <= value <= high:
        raise _OmmBad(key, f"{key} {value} {unit} is outside [{low:g}, {high:g}]")


# --------------------------------------------------------------------------- one record


def _build(values: Mapping[str, Any], *, ccsds: bool) -> tuple[ElementSet, SpaceObject]:
    """Element set and object metadata of one flat OMM record (raises ``_OmmBad``).

    ``ccsds`` is true for KVN and XML messages, where the CCSDS mandatory
    keywords must be present; JSON and CSV feeds (CelesTrak, Space-Track) leave
    out what is implied (TEME, UTC, SGP4) and the first and second derivatives.
    """
    _check_metadata(values, ccsds)
    name = _text(values, "OBJECT_NAME")
    if name is None and ccsds:
        raise _OmmBad("OBJECT_NAME", "mandatory OBJECT_NAME is missing or empty")
    intl = _intl_designator(values, "OBJECT_ID", required=ccsds)
    norad_id = _int(values, "NORAD_CAT_ID", required=True)
    assert norad_id is not None
    if not 0 < norad_id <= _MAX_NORAD_ID:
        raise _OmmBad("NORAD_CAT_ID", f"NORAD_CAT_ID {norad_id} is not in 1..{_MAX_NORAD_ID}")
    line1 = _text(values, "TLE_LINE1")
    line2 = _text(values, "TLE_LINE2")
    epoch_text = _text(values, "EPOCH")
    epoch: tuple[float, float] | None = None
    if epoch_text is not None:
        microseconds = _int(values, "EPOCH_MICROSECONDS")
        if microseconds is not None and not 0 <= microseconds <= 999_999:
            raise _OmmBad("EPOCH_MICROSECONDS",
                          f"EPOCH_MICROSECONDS {microseconds} is not in 0..999999")
        epoch = _epoch_jd_fr(epoch_text, "EPOCH", microseconds)
    if line1 is not None or line2 is not None:
        es = _from_tle_lines(values, line1, line2, norad_id, epoch, name, intl)
    elif epoch is None:
        raise _OmmBad("EPOCH", "mandatory EPOCH is missing or empty")
    else:
        es = _from_mean_elements(values, ccsds, norad_id, epoch[0], epoch[1], name, intl)

    object_type = normalize_object_type(
        _text(values, "OBJECT_TYPE") or _text(values, "USER_DEFINED_OBJECT_TYPE"))
    obj = SpaceObject(
        norad_id=norad_id,
        name=name,
        intl_designator=intl,
        # An unrecognised OBJECT_TYPE is metadata noise; the name still tells DEB and R/B.
        object_type=object_type or object_type_from_name(name),
        owner=_text(values, "COUNTRY_CODE") or _text(values, "USER_DEFINED_COUNTRY_CODE"),
        launch_date=_optional_date(values, "LAUNCH_DATE")
        or _optional_date(values, "USER_DEFINED_LAUNCH_DATE"),
        decay_date=_optional_date(values, "DECAY_DATE")
        or _optional_date(values, "USER_DEFINED_DECAY_DATE"),
        rcs_size=_text(values, "RCS_SIZE") or _text(values, "USER_DEFINED_RCS_SIZE"),
    )
    return es, obj


def _from_mean_elements(values: Mapping[str, Any], ccsds: bool, norad_id: int,
                        epoch_jd: float, epoch_fr: float, name: str | None,
                        intl: str | None) -> ElementSet:
    mean_motion = _float(values, "MEAN_MOTION")
    if not 0.0 < mean_motion < 100.0:
        raise _OmmBad("MEAN_MOTION", f"MEAN_MOTION {mean_motion} rev/day is not in (0, 100)")
    eccentricity = _float(values, "ECCENTRICITY")
    if not 0.0 <= eccentricity < 1.0:
        raise _OmmBad("ECCENTRICITY", f"ECCENTRICITY {eccentricity} is outside [0, 1)")
    inclination = _float(values, "INCLINATION")
    _check_range("INCLINATION", inclination, 0.0, 180.0, "deg")
    raan = _float(values, "RA_OF_ASC_NODE")
    _check_range("RA_OF_ASC_NODE", raan, 0.0, 360.0, "deg")
    arg_perigee = _float(values, "ARG_OF_PERICENTER")
    _check_range("ARG_OF_PERICENTER", arg_perigee, 0.0, 360.0, "deg")
    mean_anomaly = _float(values, "MEAN_ANOMALY")
    _check_range("MEAN_ANOMALY", mean_anomaly, 0.0, 360.0, "deg")
    bstar = _float(values, "BSTAR")
    # CCSDS makes the derivatives mandatory for SGP4; the JSON/CSV feeds may omit
    # them, and SGP4 does not use them, so 0 is a safe default there.
    derivative_default = None if ccsds else 0.0
    ndot = _float(values, "MEAN_MOTION_DOT", derivative_default)
    nddot = _float(values, "MEAN_MOTION_DDOT", derivative_default)
    classification = _text(values, "CLASSIFICATION_TYPE") or "U"
    if len(classification) != 1 or not classification.isalpha():
        raise _OmmBad("CLASSIFICATION_TYPE",
                      f"CLASSIFICATION_TYPE {classification!r} is not one letter (U, C or S)")
    ephemeris_type = _int(values, "EPHEMERIS_TYPE") or 0
    if ephemeris_type == 4:
        raise _OmmBad("EPHEMERIS_TYPE", "EPHEMERIS_TYPE 4 marks SGP4-XP elements; Kizuna "
                                        "propagates with SGP4, which would misread them")
    return ElementSet(
        norad_id=norad_id,
        epoch_jd=epoch_jd,
        epoch_fr=epoch_fr,
        mean_motion_rev_day=mean_motion,
        eccentricity=eccentricity,
        inclination_deg=inclination,
        raan_deg=raan,
        arg_perigee_deg=arg_perigee,
        mean_anomaly_deg=mean_anomaly,
        bstar=bstar,
        mean_motion_dot=ndot,
        mean_motion_ddot=nddot,
        name=name,
        intl_designator=intl,
        classification=classification.upper(),
        ephemeris_type=ephemeris_type,
        element_set_no=_int(values, "ELEMENT_SET_NO"),
        rev_at_epoch=_int(values, "REV_AT_EPOCH"),
    )


def _from_tle_lines(values: Mapping[str, Any], line1: str | None, line2: str | None,
                    norad_id: int, epoch: tuple[float, float] | None, name: str | None,
                    intl: str | None) -> ElementSet:
    """The record's TLE, checked against its NORAD_CAT_ID and EPOCH (when given)."""
    if line1 is None or line2 is None:
        missing = "TLE_LINE1" if line1 is None else "TLE_LINE2"
        raise _OmmBad(missing, f"{missing} is missing while the other TLE line is given")
    if name is None:
        line0 = _text(values, "TLE_LINE0")
        if line0 is not None:
            name = line0[2:].strip() if line0.startswith("0 ") else line0
    try:
        # Line "numbers" 1 and 2 tell which TLE line a problem is on.
        es = element_set_from_lines(line1, line2, name=name, line1_no=1, line2_no=2)
    except TleFormatError as bad:
        key = f"TLE_LINE{bad.line}"
        raise _OmmBad(key, f"{key}: {bad.field}: {bad.reason}") from None
    if es.norad_id != norad_id:
        raise _OmmBad("TLE_LINE1", f"TLE_LINE1 is for catalog number {es.norad_id}, but "
                                   f"NORAD_CAT_ID is {norad_id}")
    if epoch is not None:
        gap_s = abs((es.epoch_jd - epoch[0]) + (es.epoch_fr - epoch[1])) * 86400.0
        if gap_s > _EPOCH_AGREEMENT_S:
            raise _OmmBad("TLE_LINE1", f"TLE_LINE1 epoch differs from EPOCH by {gap_s:.3f} s")
    if intl is not None and intl != es.intl_designator:
        # OBJECT_ID has the 4-digit year; keep it when the TLE's 2-digit form differs.
        es = replace(es, intl_designator=intl)
    return es


# --------------------------------------------------------------------------- results


class _Collector:
    """Accumulates good records, one object per catalog number, and rejections."""

    def __init__(self, file: str, fmt: str) -> None:
        self.result = ParseResult(file=file, format=fmt)
        self.objects: dict[int, SpaceObject] = {}

    def add(self, values: Mapping[str, Any], *, ccsds: bool, record: int,
            line_of: Callable[[str], int | None] | None, fallback_line: int | None) -> None:
        self.result.n_records += 1
        try:
            es, obj = _build(values, ccsds=ccsds)
        except _OmmBad as bad:
            line = bad.line
            if line is None:
                line = (line_of(bad.key) if line_of is not None else None) or fallback_line
            self.reject(line, record, bad.key, bad.reason)
        else:
            if es.tle_line1 is None:
                # Keep the record as received: its keywords and values, in order.
                es = replace(es, omm_text=json.dumps(dict(values), separators=(",", ":"),
                                                     default=str))
            self.result.element_sets.append(es)
            self.objects[obj.norad_id] = obj

    def reject(self, line: int | None, record: int | None, field: str, reason: str,
               count: bool = False) -> None:
        if count:
            self.result.n_records += 1
        self.result.rejected.append(Rejection(self.result.file, line, record, field, reason))

    def finish(self) -> ParseResult:
        self.result.objects.extend(self.objects.values())
        return self.result


# --------------------------------------------------------------------------- KVN


def parse_omm_kvn(text: str, *, file: str = "<input>") -> ParseResult:
    """Parse one or more CCSDS OMM messages in KVN (``KEY = value [units]``).

    Parameters
    ----------
    text : str
        File content. Each message starts with ``CCSDS_OMM_VERS``; ``COMMENT``
        lines and blank lines are skipped; a ``[units]`` suffix is checked
        against the CCSDS units for the keywords Kizuna uses.
    file : str
        Name used in rejections.

    Returns
    -------
    ParseResult
        ``format="omm-kvn"``. A rejection's ``record`` is the 0-based message
        index and ``line`` the line of the offending keyword (the
        ``CCSDS_OMM_VERS`` line when a keyword is missing). An unknown keyword,
        a line that is not ``KEY = value`` or a repeated keyword rejects its
        message.

    Raises
    ------
    UnusableInputError
        If the text holds no ``CCSDS_OMM_VERS`` line at all.
    """
    out = _Collector(file, "omm-kvn")
    record = -1
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    units: dict[str, str] = {}
    start_line = 0
    first_error: tuple[int, str, str] | None = None
    stray: tuple[int, str] | None = None  # keywords before the first CCSDS_OMM_VERS

    def flush() -> None:
        if record < 0:
            return
        if first_error is not None:
            out.reject(first_error[0], record, first_error[1], first_error[2], count=True)
            return
        try:
            _check_units(units)
        except _OmmBad as bad:
            out.reject(lines.get(bad.key, start_line), record, bad.key, bad.reason, count=True)
            return
        out.add(values, ccsds=True, record=record, line_of=lines.get, fallback_line=start_line)

    for line_no, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if key == "COMMENT" or (not sep and line.split(None, 1)[0] == "COMMENT"):
            continue
        if key == "CCSDS_OMM_VERS":
            flush()
            record += 1
            values, lines, units = {}, {}, {}
            start_line, first_error = line_no, None
            version = value.strip()
            if version not in ("1.0", "2.0", "3.0"):
                first_error = (line_no, key, f"CCSDS_OMM_VERS {version!r} is not 1.0, 2.0 or 3.0")
            continue
        if record < 0:
            if stray is None:
                stray = (line_no, key or line[:20])
            continue
        if first_error is not None:
            continue
        if not sep:
            first_error = (line_no, line.split(None, 1)[0][:40],
                           f"line {line_no} is not 'KEY = value'")
            continue
        if key not in _OMM_KEYWORDS and not key.startswith("USER_DEFINED_"):
            first_error = (line_no, key[:40], f"unexpected keyword {key[:40]!r} in an OMM")
            continue
        if key in values:
            first_error = (line_no, key,
                           f"{key} appears twice in one OMM (first on line {lines[key]})")
            continue
        value = value.strip()
        if value.endswith("]") and "[" in value:
            value, _, unit = value[:-1].rpartition("[")
            value = value.strip()
            units[key] = unit.strip()
        values[key] = value
        lines[key] = line_no
    flush()
    if stray is not None:
        out.reject(stray[0], None, stray[1],
                   "text before the first CCSDS_OMM_VERS line is not part of any OMM",
                   count=True)
    if record < 0:
        raise UnusableInputError(
            "no CCSDS_OMM_VERS line: this is not an OMM in KVN", file=file, field="CCSDS_OMM_VERS")
    return out.finish()


# --------------------------------------------------------------------------- XML


class _Node:
    __slots__ = ("attrs", "children", "line", "parts", "tag", "text")

    def __init__(self, tag: str, attrs: dict[str, str], line: int) -> None:
        self.tag = tag
        self.attrs = attrs
        self.line = line
        self.children: list[_Node] = []
        self.parts: list[str] = []
        self.text = ""


class _DoctypeRefused(Exception):
    pass


def _xml_tree(text: str, file: str) -> _Node:
    """Parse XML into light nodes that remember their line numbers.

    expat is used without namespace processing: prefixes are simply dropped,
    so ``<ndm:omm>``, a default namespace and the undeclared ``xsi:`` prefix
    found in real NDM samples all read the same. DTDs are refused, which
    rules out entity-expansion attacks.
    """
    parser = expat.ParserCreate()
    parser.buffer_text = True
    root = _Node("#document", {}, 0)
    stack = [root]

    def start(name: str, attrs: dict[str, str]) -> None:
        node = _Node(name.rpartition(":")[2], attrs, parser.CurrentLineNumber)
        stack[-1].children.append(node)
        stack.append(node)

    def end(_name: str) -> None:
        node = stack.pop()
        node.text = "".join(node.parts).strip()
        node.parts = []

    def chars(data: str) -> None:
        stack[-1].parts.append(data)

    def doctype(*_args: object) -> None:
        raise _DoctypeRefused

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(text, True)
    except ValueError as exc:  # e.g. a NUL character, refused before expat sees it
        raise UnusableInputError(f"not well-formed XML: {exc}", file=file, field="xml") from None
    except expat.ExpatError as exc:
        raise UnusableInputError(f"not well-formed XML: {expat.errors.messages[exc.code]}",
                                 file=file, line=exc.lineno, field="xml") from None
    except _DoctypeRefused:
        raise UnusableInputError("XML with a DOCTYPE declaration is refused (DTDs and entities "
                                 "are not part of CCSDS NDM/XML)", file=file,
                                 line=parser.CurrentLineNumber, field="xml") from None
    return root


def _xml_omm_values(omm: _Node) -> tuple[dict[str, str], dict[str, int], dict[str, str]]:
    """Flatten one ``<omm>`` into keyword -> text, line and units (raises ``_OmmBad``)."""
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    units: dict[str, str] = {}

    def take(node: _Node, key: str) -> None:
        if node.children:
            raise _OmmBad(key, f"<{node.tag}> must hold text, not elements", node.line)
        if key in values:
            raise _OmmBad(key, f"{key} appears twice in one OMM (first on line {lines[key]})",
                          node.line)
        values[key] = node.text
        lines[key] = node.line
        if "units" in node.attrs:
            units[key] = node.attrs["units"]

    def block(node: _Node, name: str) -> None:
        allowed = _XML_BLOCKS[name]
        for child in node.children:
            if child.tag not in allowed:
                raise _OmmBad(child.tag, f"unexpected <{child.tag}> in <{name}>", child.line)
            if child.tag != "COMMENT":
                take(child, child.tag)

    seen_header = seen_body = False
    for part in omm.children:
        if part.tag == "header" and not seen_header:
            seen_header = True
            block(part, "header")
        elif part.tag == "body" and not seen_body:
            seen_body = True
            segments = [c for c in part.children if c.tag == "segment"]
            for child in part.children:
                if child.tag != "segment":
                    raise _OmmBad(child.tag, f"unexpected <{child.tag}> in <body>", child.line)
            if len(segments) != 1:
                where = segments[1].line if segments else part.line
                raise _OmmBad("segment", f"an OMM body holds exactly one <segment>, found "
                                         f"{len(segments)}", where)
            seen_metadata = seen_data = False
            for section in segments[0].children:
                if section.tag == "metadata" and not seen_metadata:
                    seen_metadata = True
                    block(section, "metadata")
                elif section.tag == "data" and not seen_data:
                    seen_data = True
                    for sub in section.children:
                        if sub.tag == "COMMENT":
                            continue
                        if sub.tag == "userDefinedParameters":
                            for ud in sub.children:
                                parameter = ud.attrs.get("parameter", "").strip()
                                if ud.tag != "USER_DEFINED" or not parameter:
                                    raise _OmmBad(ud.tag, "expected <USER_DEFINED parameter="
                                                          "\"NAME\">", ud.line)
                                take(ud, "USER_DEFINED_" + parameter)
                        elif sub.tag in _XML_BLOCKS and sub.tag not in ("header", "metadata"):
                            block(sub, sub.tag)
                        else:
                            raise _OmmBad(sub.tag, f"unexpected <{sub.tag}> in <data>",
                                          sub.line)
                else:
                    what = (f"a second <{section.tag}>" if section.tag in ("metadata", "data")
                            else f"unexpected <{section.tag}>")
                    raise _OmmBad(section.tag, f"{what} in an OMM segment (it holds one "
                                               "<metadata> then one <data>)", section.line)
            if not seen_data:
                raise _OmmBad("data", "the OMM segment has no <data> block", segments[0].line)
        else:
            raise _OmmBad(part.tag, f"unexpected <{part.tag}> in <omm>", part.line)
    return values, lines, units


def parse_omm_xml(text: str, *, file: str = "<input>") -> ParseResult:
    """Parse CCSDS NDM/XML: one ``<omm>``, or an ``<ndm>`` holding several.

    Parameters
    ----------
    text : str
        The XML document (namespace prefixes are ignored; DTDs are refused).
    file : str
        Name used in rejections.

    Returns
    -------
    ParseResult
        ``format="omm-xml"``. A rejection's ``record`` is the 0-based index of
        the ``<omm>`` in the file and ``line`` the line of the offending
        element (of ``<omm>`` when a keyword is missing). Messages of other
        types inside an ``<ndm>`` (OPM, OEM...) are reported as rejections.

    Raises
    ------
    UnusableInputError
        If the XML is not well formed, or its root is neither ``<omm>`` nor ``<ndm>``.
    """
    tree = _xml_tree(text, file)
    if len(tree.children) != 1:  # pragma: no cover - expat enforces one root element
        raise UnusableInputError("XML must have one root element", file=file, field="xml")
    root = tree.children[0]
    if root.tag == "omm":
        messages = [root]
    elif root.tag == "ndm":
        messages = root.children
    else:
        raise UnusableInputError(f"XML root <{root.tag}> is not <omm> or <ndm>: not an OMM",
                                 file=file, line=root.line, field=root.tag)
    out = _Collector(file, "omm-xml")
    record = -1
    for message in messages:
        if message.tag == "COMMENT":
            continue
        record += 1
        if message.tag != "omm":
            out.reject(message.line, record, message.tag,
                       f"<{message.tag}> is not an OMM; Kizuna reads orbits from OMMs only",
                       count=True)
            continue
        try:
            values, lines, units = _xml_omm_values(message)
        except _OmmBad as bad:
            line = bad.line if bad.line is not None else message.line
            out.reject(line, record, bad.key, bad.reason, count=True)
            continue
        try:
            _check_units(units)
        except _OmmBad as bad:
            out.reject(lines.get(bad.key, message.line), record, bad.key, bad.reason, count=True)
            continue
        out.add(values, ccsds=True, record=record, line_of=lines.get, fallback_line=message.line)
    if record < 0:
        raise UnusableInputError("the <ndm> holds no OMM", file=file, line=root.line,
                                 field="ndm")
    return out.finish()


# --------------------------------------------------------------------------- JSON


def parse_omm_json(text: str, *, file: str = "<input>") -> ParseResult:
    """Parse OMM records in JSON (CelesTrak and Space-Track ``gp``/``gp_history``).

    Parameters
    ----------
    text : str
        A JSON list of flat objects keyed by OMM keywords (a single object is
        taken as a list of one). Values may be numbers or strings; ``null`` is absent.
    file : str
        Name used in rejections.

    Returns
    -------
    ParseResult
        ``format="omm-json"``; rejections carry the 0-based record index and no line.

    Raises
    ------
    UnusableInputError
        If the text is not JSON, or not a list of objects.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnusableInputError(f"not valid JSON: {exc.msg}", file=file, line=exc.lineno,
                                 field="json") from None
    except (ValueError, RecursionError) as exc:
        raise UnusableInputError(f"not usable JSON: {exc}", file=file, field="json") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise UnusableInputError(f"JSON holds a {type(data).__name__}; expected a list of OMM "
                                 "records", file=file, field="json")
    out = _Collector(file, "omm-json")
    for record, item in enumerate(data):
        if not isinstance(item, dict):
            out.reject(None, record, "-", f"record is a {type(item).__name__}, not an object",
                       count=True)
            continue
        out.add(item, ccsds=False, record=record, line_of=None, fallback_line=None)
    return out.finish()


# --------------------------------------------------------------------------- CSV

_CSV_ELEMENT_COLUMNS = ("EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE",
                        "ARG_OF_PERICENTER", "MEAN_ANOMALY", "BSTAR")


def parse_omm_csv(text: str, *, file: str = "<input>") -> ParseResult:
    """Parse OMM records in CSV (CelesTrak ``gp`` CSV, Space-Track history exports).

    Parameters
    ----------
    text : str
        CSV with a header row of OMM keywords. ``NORAD_CAT_ID`` is needed, and
        either ``TLE_LINE1``/``TLE_LINE2`` or the mean elements with ``EPOCH``
        and ``BSTAR``. Other columns (``A_KM`` ...) are ignored.
    file : str
        Name used in rejections.

    Returns
    -------
    ParseResult
        ``format="omm-csv"``; rejections carry the 0-based data-row index and
        the 1-based line number.

    Raises
    ------
    UnusableInputError
        If the header lacks the needed columns.
    """
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise UnusableInputError(f"CSV header unreadable: {exc}", file=file, line=1,
                                 field="header") from None
    if not header:
        raise UnusableInputError("empty CSV: no header row", file=file, line=1, field="header")
    header = [h.strip().lstrip("\ufeff").upper() for h in header]
    present = set(header)
    has_tle = {"TLE_LINE1", "TLE_LINE2"} <= present
    missing = [c for c in ("NORAD_CAT_ID",) + (() if has_tle else _CSV_ELEMENT_COLUMNS)
               if c not in present]
    if missing:
        raise UnusableInputError(f"CSV header lacks column(s) {', '.join(missing)}: not an OMM "
                                 "CSV", file=file, line=1, field=missing[0])
    out = _Collector(file, "omm-csv")
    n_columns = len(header)
    record = -1
    line = 1
    try:
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            record += 1
            if len(row) != n_columns:
                out.reject(line, record, "-", f"row has {len(row)} fields, the header "
                                              f"{n_columns}", count=True)
                continue
            out.add(dict(zip(header, row, strict=True)), ccsds=False, record=record,
                    line_of=None, fallback_line=line)
    except csv.Error as exc:
        out.reject(line + 1, record + 1, "-", f"CSV structure broken ({exc}); the rest of the "
                                               "file was not read", count=True)
    return out.finish()

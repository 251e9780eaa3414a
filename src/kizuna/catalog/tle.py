"""Two-line element sets (TLE) and three-line element sets (3LE).

The TLE is a punched-card format: every field sits in fixed columns, and the
last column of each line is a modulo-10 checksum. This module reads

* plain TLEs (line 1 / line 2),
* Space-Track 3LEs (``0 NAME`` before line 1) and CelesTrak 3LEs (a bare
  name line before line 1),
* the older Space-Track style seen in 2019 snapshots (``+`` signs, zero
  padded angles such as ``034.2430``, catalog numbers without leading zeros
  such as ``1     5U``),
* Alpha-5 catalog numbers (``A0000`` = 100000 ... ``Z9999`` = 339999),
* Vallado's ``SGP4-VER.TLE``, whose line 2 carries start/stop/step columns
  after column 69 (ignored), with ``#`` comment lines (skipped).

Each good pair becomes an :class:`~kizuna.catalog.elements.ElementSet` whose
epoch is the split Julian date python-sgp4 computes (bit for bit), and whose
``tle_line1``/``tle_line2`` keep the original lines so that
:meth:`ElementSet.to_satrec` builds exactly what ``Satrec.twoline2rv`` builds.
A bad pair becomes a :class:`~kizuna.errors.Rejection` and reading goes on
with the next line that starts with ``1 ``.

Column layout (1-based, inclusive), after the NORAD/Space-Track documentation::

    1 NNNNNC NNNNNAAA NNNNN.NNNNNNNN +.NNNNNNNN +NNNNN-N +NNNNN-N N NNNNN
    2 NNNNN NNN.NNNN NNN.NNNN NNNNNNN NNN.NNNN NNN.NNNN NN.NNNNNNNNNNNNNN
"""

from __future__ import annotations

import math
from operator import itemgetter

from kizuna.catalog.elements import ElementSet, ParseResult, SpaceObject, object_type_from_name
from kizuna.errors import Rejection, TleFormatError

__all__ = ["decode_alpha5", "element_set_from_lines", "parse_tle", "tle_checksum"]

TLE_LINE_LENGTH = 69

# Checksum weights per byte: a digit counts its value, a minus sign counts 1,
# everything else (letters, spaces, '.', '+') counts 0. A 256-entry table lets
# bytes.translate + sum do the work in C instead of a Python loop per character.
_CHECKSUM_TABLE = bytes(
    (b - 48) if 48 <= b <= 57 else (1 if b == 45 else 0) for b in range(256)
)

# Alpha-5: the first character of the 5-character catalog number may be a
# letter worth 10..33; I and O are skipped because they read as 1 and 0.
_ALPHA5_VALUE = {
    letter: value
    for value, letter in enumerate("ABCDEFGHJKLMNPQRSTUVWXYZ", start=10)
}

# Separator columns (0-based index, expected character) that sgp4's own
# strict reader checks: a shifted column is caught here with a precise message
# instead of producing a plausible but wrong number. itemgetter picks all of
# them in one C call, so the good path costs one tuple comparison.
_LINE1_LAYOUT = ((1, " "), (8, " "), (23, "."), (32, " "), (34, "."), (43, " "), (52, " "),
                 (61, " "), (63, " "))
_LINE2_LAYOUT = ((1, " "), (7, " "), (11, "."), (16, " "), (20, "."), (25, " "), (33, " "),
                 (37, "."), (42, " "), (46, "."), (51, " "))
_LAYOUTS = {
    which: (itemgetter(*(i for i, _ in layout)), tuple(c for _, c in layout), layout)
    for which, layout in ((1, _LINE1_LAYOUT), (2, _LINE2_LAYOUT))
}

# Julian date of 0 January of year Y is Y*365 + (Y-1)//4 + 1721044.5 for
# 1901..2099; python-sgp4 builds jdsatepoch this way (model.py, and the C++
# wrapper gives the same bits), and we must match it exactly.
_JD_YEAR_OFFSET = 1721044.5


def tle_checksum(line: str) -> int:
    """Modulo-10 checksum of the first 68 columns of a TLE line.

    Digits count their value, ``-`` counts 1, all else 0.

    >>> tle_checksum("1 00005U 58002B   00179.78495062  .00000023  00000-0  28098-4 0  4753")
    3
    """
    return sum(line[:68].encode("ascii", "replace").translate(_CHECKSUM_TABLE)) % 10


def decode_alpha5(text: str) -> int:
    """Catalog number of a 5-column TLE field, decoding Alpha-5.

    ``"25544"`` -> 25544, ``"    5"`` -> 5, ``"A0000"`` -> 100000,
    ``"Z9999"`` -> 339999.

    Raises
    ------
    ValueError
        If the field is not a number or Alpha-5 code (letters I and O are not used).
    """
    field = text.strip()
    if field.isdigit() and field.isascii():
        return int(field)
    rest = field[1:]
    value = _ALPHA5_VALUE.get(field[:1])
    if value is None or len(field) != 5 or not (rest.isascii() and rest.isdigit()):
        raise ValueError(
            f"catalog number {text!r} is neither digits nor Alpha-5 (a letter A-Z without I and "
            "O, then 4 digits)"
        )
    return value * 10000 + int(rest)


def _intl_designator(field: str) -> str | None:
    """``"98067A  "`` -> ``"1998-067A"``; blank -> None; malformed -> ValueError.

    Space-Track leaves the piece blank for some analyst objects whose launch is
    known but whose piece is not (``"70025   "`` -> ``"1970-025"``). Older
    histories right-justify the piece (``"92052  A"``, TOPEX/Poseidon until 1995).
    """
    text = field.strip()
    if not text:
        return None
    yy, number, piece = text[:2], text[2:5], text[5:].lstrip(" ")
    if not (text.isascii() and yy.isdigit() and number.isdigit() and len(number) == 3
            and len(piece) <= 3 and (not piece or (piece.isalpha() and piece.isupper()))):
        raise ValueError(f"international designator {field!r} is not YYNNNP (e.g. 98067A)")
    year = int(yy)
    year += 1900 if year >= 57 else 2000
    return f"{year}-{number}{piece}"


def _epoch_jd_fr(line1: str) -> tuple[float, float]:
    """Split Julian date of the epoch field (columns 19-32), exactly as python-sgp4."""
    yy = line1[18:20]
    if not (yy.isdigit() and yy.isascii()):
        raise ValueError(f"epoch year {yy!r} is not two digits")
    year = int(yy)
    year += 1900 if year >= 57 else 2000
    day_of_year = float(line1[20:32])
    # Day 366.x in a common year occurs in real element sets (sgp4 accepts it);
    # anything outside [1, 367) is not a day of the year.
    if not 1.0 <= day_of_year < 367.0:
        raise ValueError(f"epoch day of year {line1[20:32].strip()!r} is not in [1, 367)")
    whole_days, fraction = divmod(day_of_year, 1.0)
    return year * 365 + (year - 1) // 4 + whole_days + _JD_YEAR_OFFSET, round(fraction, 8)


def _implied_decimal(field: str) -> float:
    """TLE "decimal point assumed" field such as ``-11606-4`` -> -0.11606e-4.

    Columns: sign (``+``, ``-`` or blank), five digits, exponent sign, exponent digit.
    ``float`` rejects anything but digits after the inserted point, and ``int``
    anything but a signed digit, so the good path needs no further checks.
    """
    sign = field[0]
    if sign not in "+- " or field[6] not in "+- ":
        raise ValueError(f"{field!r} is not a number written like -11606-4 (= -0.11606e-4)")
    try:
        # Same arithmetic as sgp4's twoline2rv: float('-.ddddd') * 10.0 ** exponent.
        return float(sign.strip() + "." + field[1:6]) * 10.0 ** int(field[6:8])
    except ValueError:
        raise ValueError(
            f"{field!r} is not a number written like -11606-4 (= -0.11606e-4)") from None


def _bad(line_no: int, field: str, reason: str) -> TleFormatError:
    """The error for one field of one TLE pair (``parse_tle`` turns it into a Rejection)."""
    return TleFormatError(reason, line=line_no, field=field)


def _normalise(line: str, which: int, line_no: int) -> str:
    """Right-strip, check length, ASCII and checksum; return exactly 69 columns."""
    line = line.rstrip()
    if len(line) < TLE_LINE_LENGTH:
        raise _bad(line_no, "line_length",
                   f"line {which} has {len(line)} columns; a TLE line has {TLE_LINE_LENGTH} "
                   "(the last one is the checksum)")
    line = line[:TLE_LINE_LENGTH]  # columns after 69 (Vallado's start/stop/step) are not TLE
    if not line.isascii() or "_" in line:
        raise _bad(line_no, "format", f"line {which} contains a character a TLE cannot hold")
    if line[0] != str(which):
        raise _bad(line_no, "format", f"line {which} must start with '{which} '")
    expected = line[68]
    if not expected.isdigit():
        raise _bad(line_no, "checksum", f"column 69 of line {which} is {expected!r}, not a digit")
    got = sum(line[:68].encode("ascii").translate(_CHECKSUM_TABLE)) % 10
    if got != int(expected):
        raise _bad(line_no, "checksum",
                   f"line {which} checksum is {expected} but its columns 1-68 sum to {got} "
                   "(mod 10): the line is corrupted")
    pick, expected_chars, layout = _LAYOUTS[which]
    if pick(line) != expected_chars:
        for index, char in layout:
            if line[index] != char:
                raise _bad(line_no, "format",
                           f"column {index + 1} of line {which} is {line[index]!r}, expected "
                           f"{char!r}: the fields are shifted")
    return line


def element_set_from_lines(
    line1: str,
    line2: str,
    *,
    name: str | None = None,
    line1_no: int = 1,
    line2_no: int = 2,
) -> ElementSet:
    """Parse one TLE pair into an :class:`ElementSet`.

    Parameters
    ----------
    line1, line2 : str
        The two lines (anything after column 69 is ignored).
    name : str or None
        Object name from a 3LE name line, or from an OMM ``OBJECT_NAME``.
    line1_no, line2_no : int
        1-based line numbers for error messages.

    Returns
    -------
    ElementSet
        With the epoch python-sgp4 computes and both lines kept, normalised to 69 columns.

    Raises
    ------
    TleFormatError
        Naming the line number and the field (``checksum``, ``epoch``, ...) at fault.
    """
    l1 = _normalise(line1, 1, line1_no)
    l2 = _normalise(line2, 2, line2_no)
    line_no = line1_no
    field = "norad_id"
    try:
        norad_id = decode_alpha5(l1[2:7])
        line_no = line2_no
        norad_id_2 = decode_alpha5(l2[2:7])
        if norad_id_2 != norad_id:
            raise ValueError(f"line 2 is for catalog number {norad_id_2}, line 1 for {norad_id}")
        line_no = line1_no
        field = "classification"
        classification = l1[7]
        if classification == " ":
            classification = "U"
        elif not classification.isalpha():
            raise ValueError(f"classification {classification!r} is not a letter (U, C or S)")
        field = "intl_designator"
        intl = _intl_designator(l1[9:17])
        field = "epoch"
        epoch_jd, epoch_fr = _epoch_jd_fr(l1)
        field = "mean_motion_dot"
        ndot = float(l1[33:43])
        field = "mean_motion_ddot"
        nddot = _implied_decimal(l1[44:52])
        field = "bstar"
        bstar = _implied_decimal(l1[53:61])
        field = "ephemeris_type"
        eph = l1[62]
        ephemeris_type = 0 if eph == " " else int(eph)
        if ephemeris_type == 4:
            raise ValueError("ephemeris type 4 marks SGP4-XP elements; Kizuna propagates with "
                             "SGP4, which would misread them")
        field = "element_set_no"
        elset = l1[64:68].strip()
        element_set_no = int(elset) if elset else None
        line_no = line2_no
        field = "inclination"
        inclination_deg = float(l2[8:16])
        if not 0.0 <= inclination_deg <= 180.0:
            raise ValueError(f"inclination {inclination_deg} deg is outside [0, 180]")
        field = "raan"
        raan_deg = float(l2[17:25])
        if not 0.0 <= raan_deg <= 360.0:
            raise ValueError(f"right ascension of the node {raan_deg} deg is outside [0, 360]")
        field = "eccentricity"
        ecc_text = l2[26:33]
        if not ecc_text.replace(" ", "0").isdigit():
            raise ValueError(f"eccentricity {ecc_text!r} is not 7 digits (decimal point assumed)")
        eccentricity = float("0." + ecc_text.replace(" ", "0"))
        field = "arg_perigee"
        arg_perigee_deg = float(l2[34:42])
        if not 0.0 <= arg_perigee_deg <= 360.0:
            raise ValueError(f"argument of perigee {arg_perigee_deg} deg is outside [0, 360]")
        field = "mean_anomaly"
        mean_anomaly_deg = float(l2[43:51])
        if not 0.0 <= mean_anomaly_deg <= 360.0:
            raise ValueError(f"mean anomaly {mean_anomaly_deg} deg is outside [0, 360]")
        field = "mean_motion"
        mean_motion = float(l2[52:63])
        if not 0.0 < mean_motion < 100.0:
            raise ValueError(f"mean motion {mean_motion} rev/day is not in (0, 100)")
        field = "rev_at_epoch"
        revs = l2[63:68].strip()
        rev_at_epoch = int(revs) if revs else None
    except ValueError as exc:
        message = str(exc)
        if message.startswith(("could not convert", "invalid literal")):
            message = f"{field} is not a number ({message})"
        raise _bad(line_no, field, message) from None
    if not (math.isfinite(ndot) and math.isfinite(nddot) and math.isfinite(bstar)):
        raise _bad(line1_no, "bstar", "drag terms must be finite numbers")
    return ElementSet(
        norad_id=norad_id,
        epoch_jd=epoch_jd,
        epoch_fr=epoch_fr,
        mean_motion_rev_day=mean_motion,
        eccentricity=eccentricity,
        inclination_deg=inclination_deg,
        raan_deg=raan_deg,
        arg_perigee_deg=arg_perigee_deg,
        mean_anomaly_deg=mean_anomaly_deg,
        bstar=bstar,
        mean_motion_dot=ndot,
        mean_motion_ddot=nddot,
        name=name,
        intl_designator=intl,
        classification=classification,
        ephemeris_type=ephemeris_type,
        element_set_no=element_set_no,
        rev_at_epoch=rev_at_epoch,
        tle_line1=l1,
        tle_line2=l2,
    )


def _name_from_line(line: str) -> str:
    """Name of a 3LE name line: Space-Track's ``0 NAME`` or CelesTrak's bare ``NAME``."""
    text = line.strip()
    if text.startswith("0 "):
        text = text[2:].strip()
    return text


def parse_tle(text: str, *, file: str = "<input>") -> ParseResult:
    """Parse TLE or 3LE text into element sets and rejections.

    Parameters
    ----------
    text : str
        The file content. Blank lines and lines starting with ``#`` are skipped.
    file : str
        Name used in rejections.

    Returns
    -------
    ParseResult
        ``format="tle"``. ``element_sets`` in file order; ``objects`` holds one
        :class:`SpaceObject` per catalog number (name, international designator,
        object type guessed from the name), the last one seen winning;
        ``n_records`` counts element sets plus stray lines.

    Notes
    -----
    A bad pair (checksum, a field that is not a number or is out of range,
    catalog numbers that differ between the lines, a line 1 without line 2)
    gives one :class:`~kizuna.errors.Rejection` naming the 1-based line and the
    field (``checksum``, ``epoch``, ``eccentricity``, ``norad_id``, ``line2`` ...),
    and parsing resumes at the next line that starts with ``1 ``.
    """
    result = ParseResult(file=file, format="tle")
    element_sets = result.element_sets
    rejected = result.rejected
    objects: dict[int, SpaceObject] = {}
    lines = text.split("\n")
    n_lines = len(lines)
    n_records = 0
    pending_name: str | None = None
    pending_name_line = 0
    i = 0
    while i < n_lines:
        line = lines[i]
        first = line[:1]
        if first == "1" and line[1:2] == " ":
            # Line 1: its line 2 is the next line that is not blank or a comment.
            j = i + 1
            while j < n_lines:
                nxt = lines[j]
                if nxt.strip() and not nxt.startswith("#"):
                    break
                j += 1
            n_records += 1
            name = pending_name
            pending_name = None
            if j < n_lines and lines[j].startswith("2 "):
                try:
                    es = element_set_from_lines(line, lines[j], name=name,
                                                line1_no=i + 1, line2_no=j + 1)
                except TleFormatError as bad:
                    rejected.append(Rejection(file, bad.line, None, bad.field, bad.reason))
                else:
                    element_sets.append(es)
                    if es.name is not None or es.norad_id not in objects:
                        objects[es.norad_id] = SpaceObject(
                            norad_id=es.norad_id, name=es.name,
                            intl_designator=es.intl_designator,
                            object_type=object_type_from_name(es.name),
                        )
                i = j + 1
            elif j < n_lines and len(lines[j].rstrip()) >= TLE_LINE_LENGTH - 1 \
                    and not lines[j].startswith("1 "):
                # A line as long as a TLE line is a garbled line 2, not the next
                # object's name (names are at most 24 characters): one rejection.
                rejected.append(Rejection(
                    file, j + 1, None, "line2",
                    f"expected line 2 (starting with '2 ') after line {i + 1}, found "
                    f"{lines[j][:12]!r}..."))
                i = j + 1
            else:
                rejected.append(Rejection(
                    file, i + 1, None, "line2",
                    "line 1 is not followed by a line 2 (a line starting with '2 ')"))
                i = j  # resynchronise: the next significant line is read afresh
            continue
        if not line.strip() or first == "#":
            i += 1
            continue
        if first == "2" and line[1:2] == " ":
            n_records += 1
            rejected.append(Rejection(
                file, i + 1, None, "line1",
                "line 2 without a preceding line 1 (a line starting with '1 ')"))
            pending_name = None
        else:
            if pending_name is not None:
                n_records += 1
                rejected.append(Rejection(
                    file, pending_name_line, None, "line1",
                    f"name line {pending_name!r} is not followed by a line 1"))
            pending_name = _name_from_line(line)
            pending_name_line = i + 1
        i += 1
    if pending_name is not None:
        n_records += 1
        rejected.append(Rejection(file, pending_name_line, None, "line1",
                                  f"name line {pending_name!r} is not followed by a line 1"))
    result.objects.extend(objects.values())
    result.n_records = n_records
    return result

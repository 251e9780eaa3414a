"""CCSDS Orbit Ephemeris Message (OEM), KVN: write Kizuna ephemerides, read simple OEMs.

The writer follows CCSDS 502.0-B-2 (ODM 2.0), section 5: a header, then one
segment per object (``META_START`` ... ``META_STOP`` metadata, then data
lines ``epoch x y z x_dot y_dot z_dot`` in km and km/s). Comments in a data
block must come before its first data line, so notes about omitted epochs go
there.

The reader is deliberately small: it reads KVN OEM 1.0/2.0/3.0 files as
written by us and by common tools (header, metadata keywords, comments,
state lines with optional accelerations), skips covariance blocks, and keeps
every keyword as text. It does not convert time systems or frames.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TextIO

import numpy as np
import sgp4
from numpy.typing import ArrayLike

from kizuna.errors import InputError, KizunaError
from kizuna.propagation.ephemeris import Ephemeris
from kizuna.propagation.sgp4 import SGP4_ERRORS
from kizuna.timelib import iso_utc_us, jd_fr_from_datetime, parse_utc

__all__ = ["OEM_REF_FRAMES", "Oem", "OemSegment", "parse_oem", "read_oem", "write_oem"]

OEM_REF_FRAMES = {"TEME": "TEME", "GCRS": "GCRF", "ITRF": "ITRF2000"}
"""``REF_FRAME`` written for each Kizuna frame (SANA reference-frame names).

GCRS axes are the GCRF's; for ITRF the realisation (2000, 2008, 2014...)
changes positions by centimetres, far below SGP4 accuracy, so the
long-standing ``ITRF2000`` name is used.
"""

_OEM_VERSION = "2.0"
_DATA_LINE = "%s %.6f %.6f %.6f %.9f %.9f %.9f\n"
_DOY_RE = re.compile(r"^(\d{4})-(\d{3})T(\d{2}):(\d{2}):(\d{2}(?:\.\d*)?)Z?$")


class OemWriteError(KizunaError, ValueError):
    """Arguments to :func:`write_oem` cannot make a valid OEM."""


@dataclass(frozen=True, eq=False)
class OemSegment:
    """One OEM segment: metadata keywords, comments and the state vectors.

    ``jd, fr`` are split Julian dates of the epochs read literally in the
    segment's ``TIME_SYSTEM`` (no time-scale conversion). Positions km,
    velocities km/s, in ``REF_FRAME``; accelerations, if present, are dropped.
    """

    metadata: dict[str, str]
    comments: tuple[str, ...]
    epochs: tuple[str, ...]
    jd: np.ndarray
    fr: np.ndarray
    r_km: np.ndarray
    v_km_s: np.ndarray

    @property
    def object_name(self) -> str | None:
        return self.metadata.get("OBJECT_NAME")

    @property
    def object_id(self) -> str | None:
        return self.metadata.get("OBJECT_ID")

    @property
    def ref_frame(self) -> str | None:
        return self.metadata.get("REF_FRAME")

    @property
    def time_system(self) -> str | None:
        return self.metadata.get("TIME_SYSTEM")


@dataclass(frozen=True, eq=False)
class Oem:
    """A whole OEM: version, header keywords and comments, segments in file order."""

    version: str
    header: dict[str, str]
    comments: tuple[str, ...]
    segments: tuple[OemSegment, ...] = field(default_factory=tuple)


def write_oem(
    ephemeris: Ephemeris,
    path_or_file: str | os.PathLike[str] | TextIO,
    *,
    object_names: Mapping[int, str] | None = None,
    object_ids: Mapping[int, str] | None = None,
    frame: str = "TEME",
    originator: str = "KIZUNA",
    xp_arcsec: ArrayLike = 0.0,
    yp_arcsec: ArrayLike = 0.0,
    creation_date: datetime | None = None,
) -> int:
    """Write an ephemeris as a CCSDS OEM 2.0 KVN file, one segment per object.

    Parameters
    ----------
    ephemeris : Ephemeris
        States to write (TEME), converted to ``frame`` first.
    path_or_file : path or text file
        Where to write; a path is created or overwritten.
    object_names : mapping, optional
        ``norad_id -> OBJECT_NAME``; objects not in it are named by their
        catalog number.
    object_ids : mapping, optional
        ``norad_id -> OBJECT_ID`` (CCSDS recommends the international
        designator, e.g. ``1998-067A``); default: the catalog number.
    frame : {"TEME", "GCRS", "ITRF"}
        Written as ``REF_FRAME`` TEME, GCRF or ITRF2000 (:data:`OEM_REF_FRAMES`).
    originator : str
        ``ORIGINATOR`` keyword.
    xp_arcsec, yp_arcsec : float or ``(n_time,)``
        Polar motion, for ``frame="ITRF"`` only.
    creation_date : datetime, optional
        ``CREATION_DATE`` (aware UTC); default now. Pass a fixed value for
        byte-identical files.

    Returns
    -------
    int
        Number of segments written. Epochs where SGP4 failed are left out
        and counted in a ``COMMENT`` at the top of the segment; objects with
        no good epoch get no segment and are listed in a header ``COMMENT``.

    Notes
    -----
    ``CENTER_NAME = EARTH``, ``TIME_SYSTEM = UTC``; epochs carry
    microseconds, positions 6 decimals (mm), velocities 9.
    """
    frame_name = frame.upper()
    if frame_name not in OEM_REF_FRAMES:
        raise OemWriteError(f"unknown frame {frame!r}; use one of {', '.join(OEM_REF_FRAMES)}")
    created = creation_date if creation_date is not None else datetime.now(UTC)
    if created.tzinfo is None:
        raise OemWriteError("creation_date must be an aware UTC datetime (tzinfo=datetime.UTC)")
    created = created.astimezone(UTC)
    r_km, v_km_s = ephemeris.states(frame_name, xp_arcsec=xp_arcsec, yp_arcsec=yp_arcsec)
    epochs = iso_utc_us(ephemeris.jd, ephemeris.fr).tolist()
    names = object_names or {}
    ids = object_ids or {}

    lines = [f"CCSDS_OEM_VERS = {_OEM_VERSION}\n"]
    lines.append(
        f"COMMENT Generated by Kizuna: SGP4 (python-sgp4 {sgp4.__version__}, WGS72) from "
        "mean elements; units km and km/s\n"
    )
    empty = [i for i in range(ephemeris.n_obj) if not (ephemeris.error[i] == 0).any()]
    if empty:
        listed = ", ".join(
            f"{int(ephemeris.norad_id[i])} (code {_first_code(ephemeris.error[i])})" for i in empty
        )
        lines.append(f"COMMENT No segment for objects without any valid state: {listed}\n")
    lines.append(f"CREATION_DATE = {created.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}\n")
    lines.append(f"ORIGINATOR = {_kvn_value(originator, 'originator')}\n")

    n_segments = 0
    empty_rows = set(empty)
    for i in range(ephemeris.n_obj):
        if i in empty_rows:
            continue
        norad_id = int(ephemeris.norad_id[i])
        good = ephemeris.error[i] == 0
        good_epochs = [e for e, ok in zip(epochs, good.tolist(), strict=True) if ok]
        lines.append("\n")
        lines.append("META_START\n")
        lines.append(f"OBJECT_NAME = {_kvn_value(names.get(norad_id, str(norad_id)), 'name')}\n")
        lines.append(f"OBJECT_ID = {_kvn_value(ids.get(norad_id, str(norad_id)), 'id')}\n")
        lines.append("CENTER_NAME = EARTH\n")
        lines.append(f"REF_FRAME = {OEM_REF_FRAMES[frame_name]}\n")
        lines.append("TIME_SYSTEM = UTC\n")
        lines.append(f"START_TIME = {good_epochs[0]}\n")
        lines.append(f"STOP_TIME = {good_epochs[-1]}\n")
        lines.append("META_STOP\n")
        lines.append("\n")
        n_bad = int((~good).sum())
        if n_bad:
            codes = ", ".join(
                f"{c} ({SGP4_ERRORS.get(c, 'unknown')})"
                for c in sorted({int(c) for c in ephemeris.error[i][~good]})
            )
            lines.append(
                f"COMMENT {n_bad} of {ephemeris.n_time} epochs omitted, SGP4 error codes: "
                f"{codes}\n"
            )
        states = np.concatenate([r_km[i][good], v_km_s[i][good]], axis=1).tolist()
        lines.extend(
            _DATA_LINE % (epoch, *state)
            for epoch, state in zip(good_epochs, states, strict=True)
        )
        n_segments += 1

    text = "".join(lines)
    if isinstance(path_or_file, str | os.PathLike):
        with open(path_or_file, "w", encoding="ascii", newline="") as handle:
            handle.write(text)
    else:
        path_or_file.write(text)
    return n_segments


def read_oem(path_or_file: str | os.PathLike[str] | TextIO) -> Oem:
    """Read a KVN OEM from a path or a text file; see :func:`parse_oem`."""
    if isinstance(path_or_file, str | os.PathLike):
        with open(path_or_file, encoding="utf-8") as handle:
            return parse_oem(handle.read(), file=os.fspath(path_or_file))
    return parse_oem(path_or_file.read(), file=getattr(path_or_file, "name", "<input>"))


def parse_oem(text: str, *, file: str = "<input>") -> Oem:
    """Parse KVN OEM text.

    Raises
    ------
    kizuna.errors.InputError
        With the file, 1-based line and keyword, when the text is not an OEM
        (no ``CCSDS_OEM_VERS``), a keyword appears where it cannot, a data
        line does not hold an epoch and 6 or 9 numbers, or an epoch is not
        ``YYYY-MM-DDThh:mm:ss[.f]`` or ``YYYY-DDDThh:mm:ss[.f]``.
    """
    version: str | None = None
    header: dict[str, str] = {}
    header_comments: list[str] = []
    segments: list[OemSegment] = []
    state = "header"
    metadata: dict[str, str] = {}
    comments: list[str] = []
    rows: list[tuple[str, list[float]]] = []
    row_lines: list[int] = []

    def finish_segment() -> None:
        if not metadata:
            return
        jd_fr = [_parse_epoch(e, file, n) for (e, _), n in zip(rows, row_lines, strict=True)]
        values = np.array([v for _, v in rows], dtype=np.float64).reshape(len(rows), 6)
        segments.append(OemSegment(
            metadata=dict(metadata),
            comments=tuple(comments),
            epochs=tuple(e for e, _ in rows),
            jd=np.array([j for j, _ in jd_fr], dtype=np.float64),
            fr=np.array([f for _, f in jd_fr], dtype=np.float64),
            r_km=values[:, :3].copy(),
            v_km_s=values[:, 3:].copy(),
        ))

    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        keyword, value = _split_kvn(line)
        if version is None:
            if keyword == "COMMENT":
                header_comments.append(value)
                continue
            if keyword != "CCSDS_OEM_VERS":
                raise InputError(
                    "not a KVN OEM: the first keyword must be CCSDS_OEM_VERS",
                    file=file, line=line_no, field=keyword or "CCSDS_OEM_VERS",
                )
            version = value
            continue
        if keyword == "META_START":
            if state == "metadata":
                raise InputError("META_START inside a metadata block",
                                 file=file, line=line_no, field="META_START")
            finish_segment()
            metadata, comments, rows, row_lines = {}, [], [], []
            state = "metadata"
            continue
        if state == "covariance":
            if keyword == "COVARIANCE_STOP":
                state = "data"
            continue
        if keyword == "COMMENT":
            (header_comments if state == "header" else comments).append(value)
            continue
        if state == "header":
            if keyword is None:
                raise InputError("data line before the first META_START",
                                 file=file, line=line_no, field="META_START")
            header[keyword] = value
        elif state == "metadata":
            if keyword == "META_STOP":
                for required in ("OBJECT_NAME", "OBJECT_ID", "CENTER_NAME", "REF_FRAME",
                                 "TIME_SYSTEM", "START_TIME", "STOP_TIME"):
                    if required not in metadata:
                        raise InputError(f"metadata block lacks {required}",
                                         file=file, line=line_no, field=required)
                state = "data"
            elif keyword is None:
                raise InputError("expected KEYWORD = value or META_STOP in metadata",
                                 file=file, line=line_no, field="metadata")
            else:
                metadata[keyword] = value
        else:  # data
            if keyword == "COVARIANCE_START":
                state = "covariance"
                continue
            if keyword is not None:
                raise InputError(f"keyword {keyword} inside an ephemeris data block",
                                 file=file, line=line_no, field=keyword)
            tokens = line.split()
            if len(tokens) not in (7, 10):
                raise InputError(
                    f"a data line holds an epoch and 6 (or 9, with accelerations) numbers, "
                    f"got {len(tokens) - 1}", file=file, line=line_no, field="state",
                )
            try:
                numbers = [float(t) for t in tokens[1:7]]
            except ValueError as exc:
                raise InputError(f"state is not a number ({exc})",
                                 file=file, line=line_no, field="state") from None
            if not all(math.isfinite(x) for x in numbers):
                raise InputError("state holds a non-finite number",
                                 file=file, line=line_no, field="state")
            rows.append((tokens[0], numbers))
            row_lines.append(line_no)
    if version is None:
        raise InputError("not a KVN OEM: no CCSDS_OEM_VERS line", file=file, line=None,
                         field="CCSDS_OEM_VERS")
    if state in ("metadata", "covariance"):
        raise InputError(f"file ends inside a {state} block", file=file, line=None,
                         field="META_STOP" if state == "metadata" else "COVARIANCE_STOP")
    finish_segment()
    return Oem(version=version, header=header, comments=tuple(header_comments),
               segments=tuple(segments))


# --------------------------------------------------------------------------
# Helpers


def _first_code(error_row: np.ndarray) -> int:
    return int(error_row[np.flatnonzero(error_row)[0]])


def _kvn_value(value: str, what: str) -> str:
    text = str(value).strip()
    if not text or not text.isascii() or "\n" in text or "\r" in text:
        raise OemWriteError(f"OEM {what} {value!r} must be one line of non-empty ASCII text")
    return text


def _split_kvn(line: str) -> tuple[str | None, str]:
    """``(KEYWORD, value)`` of a KVN line, ``("COMMENT", text)``, or ``(None, line)`` for data."""
    if line.startswith("COMMENT"):
        return "COMMENT", line[7:].strip()
    if line in ("META_START", "META_STOP", "COVARIANCE_START", "COVARIANCE_STOP"):
        return line, ""
    key, sep, value = line.partition("=")
    key = key.strip()
    if sep and key.replace("_", "").isalnum() and key.isupper():
        value = value.strip()
        # KVN values may carry units in brackets, e.g. "7000.0 [km]".
        if value.endswith("]") and "[" in value:
            value = value[: value.rindex("[")].strip()
        return key, value
    return None, line


def _parse_epoch(text: str, file: str, line_no: int) -> tuple[float, float]:
    """Split Julian date of a CCSDS ASCII time (calendar or day-of-year form)."""
    doy = _DOY_RE.match(text)
    try:
        if doy:
            year, day, hour, minute, second = doy.groups()
            seconds = float(second)
            moment = datetime(int(year), 1, 1, tzinfo=UTC) + timedelta(
                days=int(day) - 1, hours=int(hour), minutes=int(minute),
                microseconds=round(seconds * 1e6),
            )
        else:
            moment = parse_utc(text)
    except ValueError as exc:
        raise InputError(f"epoch {text!r} is not a CCSDS time ({exc})",
                         file=file, line=line_no, field="epoch") from None
    return jd_fr_from_datetime(moment)

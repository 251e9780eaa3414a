"""CCSDS Conjunction Data Message (CDM): read and write KVN and XML, CDM 1.0 and 2.0.

A CDM (CCSDS 508.0-B-1, "CDM 1.0"; the 2.0 draft adds keywords) describes one
conjunction: a header, relative metadata (TCA, miss distance, screening
volume, the originator's collision probability...) and, for each of the two
objects, metadata, OD parameters, additional parameters, the state vector at
TCA and its covariance in the object's RTN frame.

Reading
-------
:func:`read_cdm` / :func:`parse_cdm` accept KVN and XML (detected from the
first character). Both formats are flattened into the same stream of
``(keyword, value, units, line)`` tokens, so every check below applies to
both and names the file, the 1-based line and the keyword:

* the first keyword must be ``CCSDS_CDM_VERS`` (XML: ``<cdm version=...>``),
  version 1.x or 2.x;
* keywords must be CDM 1.0/2.0 keywords (or ``USER_DEFINED_*``), in their
  section (header, relative metadata, object 1, object 2), at most once;
* mandatory keywords must be present and non-empty (CDM 1.0 rules for 1.x
  files; for 2.x, only those that stayed mandatory);
* numbers, integers and dates must parse; ``REF_FRAME`` must be a frame
  :func:`cdm_states_inertial` can convert; units given in brackets (KVN) or
  ``units=`` (XML) are checked for the state vector and covariance, where a
  wrong unit would silently scale values, and ignored elsewhere (CARA's test
  CDMs label relative velocities ``[m]``).

Empty values (``KEY =`` in KVN, ``<KEY/>`` or ``nil="true"`` in XML) read as
absent. Keywords of the standard that have no typed field (for example the
CDM 2.0 ``OEB_*``, ``RCS``, the XYZ alternate covariance,
``USER_DEFINED_*``) are kept verbatim in ``extra``. Comments are kept per
block, attached to the block of the keyword that follows them.

Writing
-------
:func:`format_cdm` / :func:`write_cdm` write KVN or XML that
:func:`parse_cdm` reads back equal (``==``) to the message written.

Frames
------
:func:`cdm_states_inertial` returns both states and 6x6 covariances in
Kizuna's GCRS (km, km/s); see its docstring and ``docs/design/cdm.md``.
"""

from __future__ import annotations

import gzip
import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from kizuna.catalog.omm import _xml_tree
from kizuna.errors import CdmFormatError, InputError, KizunaError
from kizuna.frames import ric_basis, teme_to_gcrs, teme_to_itrf_matrix
from kizuna.timelib import jd_fr_from_datetime

__all__ = [
    "CDM_EARTH_FIXED_FRAMES",
    "CDM_INERTIAL_FRAMES",
    "Cdm",
    "CdmObject",
    "CdmWriteError",
    "cdm_states_inertial",
    "format_cdm",
    "parse_cdm",
    "read_cdm",
    "write_cdm",
]

CDM_INERTIAL_FRAMES = ("EME2000", "GCRF", "ICRF", "TEME")
"""Inertial ``REF_FRAME`` values accepted (EME2000/GCRF/ICRF are taken as one frame)."""
CDM_EARTH_FIXED_FRAMES = (
    "ITRF", "ITRF-93", "ITRF-97", "ITRF2000", "ITRF2005", "ITRF2008", "ITRF2014", "ITRF2020",
)
"""Earth-fixed ``REF_FRAME`` values accepted (realisations differ by centimetres)."""

# --------------------------------------------------------------------------
# Keyword tables
#
# Each keyword has a section ("header", "relative" or "object"), a block
# inside it (used to place comments and to order written output) and a kind.
# Typed keywords also have the attribute that holds them.

_TEXT, _FLOAT, _INT, _DATE = "text", "float", "int", "date"

_COV_AXES_RTN = ("R", "T", "N", "RDOT", "TDOT", "NDOT", "DRG", "SRP", "THR")
_COV_AXES_XYZ = ("X", "Y", "Z", "XDOT", "YDOT", "ZDOT", "DRG", "SRP", "THR")
_COV_KIND = ("pos", "pos", "pos", "vel", "vel", "vel", "DRG", "SRP", "THR")
_COV_UNITS = {
    ("pos", "pos"): "m**2", ("vel", "pos"): "m**2/s", ("vel", "vel"): "m**2/s**2",
    ("DRG", "pos"): "m**3/kg", ("DRG", "vel"): "m**3/(kg*s)", ("DRG", "DRG"): "m**4/kg**2",
    ("SRP", "pos"): "m**3/kg", ("SRP", "vel"): "m**3/(kg*s)", ("SRP", "DRG"): "m**4/kg**2",
    ("SRP", "SRP"): "m**4/kg**2",
    ("THR", "pos"): "m**2/s**2", ("THR", "vel"): "m**2/s**3", ("THR", "DRG"): "m**3/(kg*s**2)",
    ("THR", "SRP"): "m**3/(kg*s**2)", ("THR", "THR"): "m**2/s**4",
}


def _cov_keywords(axes: tuple[str, ...]) -> list[tuple[str, int, int, str]]:
    """``(keyword, row, col, units)`` of a lower-triangular 9x9 covariance, row by row."""
    out = []
    for i, row in enumerate(axes):
        for j in range(i + 1):
            units = _COV_UNITS[(_COV_KIND[i], _COV_KIND[j])]
            out.append((f"C{row}_{axes[j]}", i, j, units))
    return out


_RTN_COV = _cov_keywords(_COV_AXES_RTN)
_XYZ_COV = _cov_keywords(_COV_AXES_XYZ)
_RTN_COV_INDEX = {kw: (i, j, u) for kw, i, j, u in _RTN_COV}
_RTN_6X6 = tuple(kw for kw, i, _j, _u in _RTN_COV if i < 6)
# The parameter-parameter terms (CDRG_DRG, CSRP_SRP...) are spelled the same in
# the RTN and the XYZ blocks; which one they belong to follows from context.
_SHARED_COV = frozenset(kw for kw, i, j, _u in _RTN_COV if i >= 6 and j >= 6)


@dataclass(frozen=True)
class _Kw:
    keyword: str
    section: str
    block: str
    kind: str = _TEXT
    attr: str | None = None
    units: str | None = None
    check_units: bool = False


def _table() -> dict[str, _Kw]:
    t: list[_Kw] = []

    def add(section: str, block: str, rows: list[tuple[Any, ...]]) -> None:
        for row in rows:
            t.append(_Kw(row[0], section, block, *row[1:]))

    add("header", "header", [
        ("CREATION_DATE", _DATE, "creation_date"),
        ("ORIGINATOR", _TEXT, "originator"),
        ("MESSAGE_FOR", _TEXT, "message_for"),
        ("MESSAGE_ID", _TEXT, "message_id"),
        ("CLASSIFICATION",),
    ])
    add("relative", "relative", [
        ("CONJUNCTION_ID",),
        ("TCA", _DATE, "tca"),
        ("MISS_DISTANCE", _FLOAT, "miss_distance_m", "m"),
        ("MAHALANOBIS_DISTANCE",),
        ("RELATIVE_SPEED", _FLOAT, "relative_speed_m_s", "m/s"),
        ("RELATIVE_POSITION_R", _FLOAT, "relative_position_r_m", "m"),
        ("RELATIVE_POSITION_T", _FLOAT, "relative_position_t_m", "m"),
        ("RELATIVE_POSITION_N", _FLOAT, "relative_position_n_m", "m"),
        ("RELATIVE_VELOCITY_R", _FLOAT, "relative_velocity_r_m_s", "m/s"),
        ("RELATIVE_VELOCITY_T", _FLOAT, "relative_velocity_t_m_s", "m/s"),
        ("RELATIVE_VELOCITY_N", _FLOAT, "relative_velocity_n_m_s", "m/s"),
        ("APPROACH_ANGLE",),
        ("START_SCREEN_PERIOD", _DATE, "start_screen_period"),
        ("STOP_SCREEN_PERIOD", _DATE, "stop_screen_period"),
        ("SCREEN_TYPE",),
        ("SCREEN_VOLUME_FRAME", _TEXT, "screen_volume_frame"),
        ("SCREEN_VOLUME_SHAPE", _TEXT, "screen_volume_shape"),
        ("SCREEN_VOLUME_RADIUS", _FLOAT, "screen_volume_radius_m", "m"),
        ("SCREEN_VOLUME_X", _FLOAT, "screen_volume_x_m", "m"),
        ("SCREEN_VOLUME_Y", _FLOAT, "screen_volume_y_m", "m"),
        ("SCREEN_VOLUME_Z", _FLOAT, "screen_volume_z_m", "m"),
        ("SCREEN_ENTRY_TIME", _DATE, "screen_entry_time"),
        ("SCREEN_EXIT_TIME", _DATE, "screen_exit_time"),
        ("SCREEN_PC_THRESHOLD",),
        ("COLLISION_PERCENTILE",),
        ("COLLISION_PROBABILITY", _FLOAT, "collision_probability"),
        ("COLLISION_PROBABILITY_METHOD", _TEXT, "collision_probability_method"),
        ("COLLISION_MAX_PROBABILITY",),
        ("COLLISION_MAX_PC_METHOD",),
        ("SEFI_COLLISION_PROBABILITY",),
        ("SEFI_COLLISION_PROBABILITY_METHOD",),
        ("SEFI_FRAGMENTATION_MODEL",),
        ("PREVIOUS_MESSAGE_ID",),
        ("PREVIOUS_MESSAGE_EPOCH",),
        ("NEXT_MESSAGE_EPOCH",),
    ])
    # Metadata order follows the CDM 1.0 XML schema (ORBIT_CENTER after
    # MANEUVERABLE), with the 2.0 additions next to their neighbours.
    add("object", "metadata", [
        ("OBJECT",),
        ("OBJECT_DESIGNATOR", _TEXT, "object_designator"),
        ("CATALOG_NAME", _TEXT, "catalog_name"),
        ("OBJECT_NAME", _TEXT, "object_name"),
        ("INTERNATIONAL_DESIGNATOR", _TEXT, "international_designator"),
        ("OBJECT_TYPE", _TEXT, "object_type"),
        ("OPS_STATUS",),
        ("OPERATOR_CONTACT_POSITION", _TEXT, "operator_contact_position"),
        ("OPERATOR_ORGANIZATION", _TEXT, "operator_organization"),
        ("OPERATOR_PHONE", _TEXT, "operator_phone"),
        ("OPERATOR_EMAIL", _TEXT, "operator_email"),
        ("EPHEMERIS_NAME", _TEXT, "ephemeris_name"),
        ("ODM_MSG_LINK",),
        ("ADM_MSG_LINK",),
        ("OBS_BEFORE_NEXT_MESSAGE",),
        ("COVARIANCE_METHOD", _TEXT, "covariance_method"),
        ("COVARIANCE_SOURCE",),
        ("MANEUVERABLE", _TEXT, "maneuverable"),
        ("ORBIT_CENTER", _TEXT, "orbit_center"),
        ("REF_FRAME", _TEXT, "ref_frame"),
        ("ALT_COV_TYPE",),
        ("ALT_COV_REF_FRAME",),
        ("GRAVITY_MODEL", _TEXT, "gravity_model"),
        ("ATMOSPHERIC_MODEL", _TEXT, "atmospheric_model"),
        ("N_BODY_PERTURBATIONS", _TEXT, "n_body_perturbations"),
        ("SOLAR_RAD_PRESSURE", _TEXT, "solar_rad_pressure"),
        ("EARTH_TIDES", _TEXT, "earth_tides"),
        ("INTRACK_THRUST", _TEXT, "intrack_thrust"),
    ])
    add("object", "od", [
        ("TIME_LASTOB_START", _DATE, "time_lastob_start"),
        ("TIME_LASTOB_END", _DATE, "time_lastob_end"),
        ("RECOMMENDED_OD_SPAN", _FLOAT, "recommended_od_span_d", "d"),
        ("ACTUAL_OD_SPAN", _FLOAT, "actual_od_span_d", "d"),
        ("OBS_AVAILABLE", _INT, "obs_available"),
        ("OBS_USED", _INT, "obs_used"),
        ("TRACKS_AVAILABLE", _INT, "tracks_available"),
        ("TRACKS_USED", _INT, "tracks_used"),
        ("RESIDUALS_ACCEPTED", _FLOAT, "residuals_accepted_pct", "%"),
        ("WEIGHTED_RMS", _FLOAT, "weighted_rms"),
        ("OD_EPOCH", _DATE, "od_epoch"),
    ])
    add("object", "additional", [
        ("AREA_PC", _FLOAT, "area_pc_m2", "m**2"),
        ("AREA_PC_MIN",), ("AREA_PC_MAX",),
        ("AREA_DRG", _FLOAT, "area_drg_m2", "m**2"),
        ("AREA_SRP", _FLOAT, "area_srp_m2", "m**2"),
        ("OEB_PARENT_FRAME",), ("OEB_PARENT_FRAME_EPOCH",),
        ("OEB_Q1",), ("OEB_Q2",), ("OEB_Q3",), ("OEB_QC",),
        ("OEB_MAX",), ("OEB_INT",), ("OEB_MIN",),
        ("AREA_ALONG_OEB_MAX",), ("AREA_ALONG_OEB_INT",), ("AREA_ALONG_OEB_MIN",),
        ("RCS",), ("RCS_MIN",), ("RCS_MAX",),
        ("VM_ABSOLUTE",), ("VM_APPARENT_MIN",), ("VM_APPARENT",), ("VM_APPARENT_MAX",),
        ("REFLECTANCE",),
        ("MASS", _FLOAT, "mass_kg", "kg"),
        ("HBR", _FLOAT, "hbr_m", "m"),
        ("CD_AREA_OVER_MASS", _FLOAT, "cd_area_over_mass_m2_kg", "m**2/kg"),
        ("CR_AREA_OVER_MASS", _FLOAT, "cr_area_over_mass_m2_kg", "m**2/kg"),
        ("THRUST_ACCELERATION", _FLOAT, "thrust_acceleration_m_s2", "m/s**2"),
        ("SEDR", _FLOAT, "sedr_w_kg", "W/kg"),
        ("MIN_DV",), ("MAX_DV",), ("LEAD_TIME_REQD_BEFORE_TCA",),
        ("APOAPSIS_ALTITUDE",), ("PERIAPSIS_ALTITUDE",), ("INCLINATION",),
        ("COV_CONFIDENCE",), ("COV_CONFIDENCE_METHOD",),
    ])
    add("object", "state", [
        ("X", _FLOAT, None, "km", True), ("Y", _FLOAT, None, "km", True),
        ("Z", _FLOAT, None, "km", True), ("X_DOT", _FLOAT, None, "km/s", True),
        ("Y_DOT", _FLOAT, None, "km/s", True), ("Z_DOT", _FLOAT, None, "km/s", True),
    ])
    add("object", "covariance",
        [(kw, _FLOAT, None, u, True) for kw, _i, _j, u in _RTN_COV])
    add("object", "alt_covariance",
        [(kw,) for kw, _i, _j, _u in _XYZ_COV if kw not in _SHARED_COV] + [("CSIG3EIGVEC3",)])
    add("object", "cov_metadata", [
        ("DENSITY_FORECAST_UNCERTAINTY",), ("CSCALE_FACTOR_MIN",), ("CSCALE_FACTOR",),
        ("CSCALE_FACTOR_MAX",), ("SCREENING_DATA_SOURCE",),
        ("DCP_SENSITIVITY_VECTOR_POSITION",), ("DCP_SENSITIVITY_VECTOR_VELOCITY",),
    ])
    return {k.keyword: k for k in t}


_KEYWORDS = _table()
_OBJECT_BLOCKS = ("metadata", "od", "additional", "state", "covariance", "alt_covariance",
                  "cov_metadata", "user")
_CDM_BLOCKS = ("header", "relative")
_STATE_KEYWORDS = ("X", "Y", "Z", "X_DOT", "Y_DOT", "Z_DOT")
_UNIT_ALIASES = {"sec": "s"}

_MANDATORY_HEADER = ("CREATION_DATE", "ORIGINATOR", "MESSAGE_ID")
_MANDATORY_RELATIVE = ("TCA", "MISS_DISTANCE")
_MANDATORY_OBJECT = ("OBJECT", "OBJECT_DESIGNATOR", "REF_FRAME", *_STATE_KEYWORDS)
# CDM 1.0 (508.0-B-1) also makes these mandatory; the 2.0 draft relaxed them.
_MANDATORY_OBJECT_V1 = ("CATALOG_NAME", "OBJECT_NAME", "INTERNATIONAL_DESIGNATOR",
                        "EPHEMERIS_NAME", "COVARIANCE_METHOD", "MANEUVERABLE")

# XML element names of the blocks. The CDM 2.0 blocks (XYZ/eigenvector
# covariance, covariance metadata) are written as further <covarianceMatrix>
# elements, as in the only CDM 2.0 XML sample available (Orekit's).
_XML_OBJECT_BLOCKS = {
    "od": "odParameters", "additional": "additionalParameters", "state": "stateVector",
    "covariance": "covarianceMatrix", "alt_covariance": "covarianceMatrix",
    "cov_metadata": "covarianceMatrix", "user": "userDefinedParameters",
}
_XML_RELATIVE_STATE = ("RELATIVE_POSITION_R", "RELATIVE_POSITION_T", "RELATIVE_POSITION_N",
                       "RELATIVE_VELOCITY_R", "RELATIVE_VELOCITY_T", "RELATIVE_VELOCITY_N")

_HBR_COMMENT_RE = re.compile(
    r"^\s*HBR\s*[=:]\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?:\[\s*m\s*\])?\s*$"
)
_BROKEN_UNIT_RE = re.compile(r"^(\S.*?)\s+\[([^\[\]]*)$")
_DOY_RE = re.compile(r"^(\d{4})-(\d{3})T(\d{2}):(\d{2}):(\d{2})(\.\d*)?Z?$")
_CAL_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d*)?Z?$")


class CdmWriteError(KizunaError, ValueError):
    """A :class:`Cdm` cannot be written as a valid CDM (say which field and why)."""


# --------------------------------------------------------------------------
# Data model


def _frozen_array(x: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    arr = np.array(x, dtype=np.float64)
    if arr.shape != shape:
        raise CdmWriteError(f"{name} must have shape {shape}, got {arr.shape}")
    arr.flags.writeable = False
    return arr


def _same(a: Any, b: Any) -> bool:
    """Equality that treats NaN as equal to NaN, for floats and arrays."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if a is None or b is None:
            return False
        return bool(np.array_equal(a, b, equal_nan=True))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


class _NanEq:
    """Mixin: dataclass equality field by field with :func:`_same`."""

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(
            _same(getattr(self, f.name), getattr(other, f.name))
            for f in fields(self)  # type: ignore[arg-type]
            if f.compare
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, eq=False, kw_only=True)
class CdmObject(_NanEq):
    """One object of a CDM: metadata, OD and additional parameters, state and covariance.

    Units are the standard's, in the attribute names. ``r_km``/``v_km_s`` are
    the state at TCA in ``ref_frame``. ``covariance_rtn`` is the 6x6
    position/velocity covariance in the object's RTN axes (m**2, m**2/s,
    m**2/s**2 as in the CDM), None only for CDM 2.x objects that give an
    alternate covariance instead. ``covariance_rtn_ext`` is 9x9 (R, T, N,
    RDOT, TDOT, NDOT, DRG, SRP, THR), symmetric, NaN where the message has no
    value; None when no drag/SRP/thrust row is present. ``extra`` holds the
    standard's keywords without a typed field (text as written, units
    dropped), ``comments`` the comments per block (``metadata``, ``od``,
    ``additional``, ``state``, ``covariance``, ``alt_covariance``,
    ``cov_metadata``, ``user``).
    """

    object_designator: str
    ref_frame: str
    r_km: np.ndarray
    v_km_s: np.ndarray
    covariance_rtn: np.ndarray | None
    covariance_rtn_ext: np.ndarray | None = None
    catalog_name: str | None = None
    object_name: str | None = None
    international_designator: str | None = None
    object_type: str | None = None
    operator_contact_position: str | None = None
    operator_organization: str | None = None
    operator_phone: str | None = None
    operator_email: str | None = None
    ephemeris_name: str | None = None
    covariance_method: str | None = None
    maneuverable: str | None = None
    orbit_center: str | None = None
    gravity_model: str | None = None
    atmospheric_model: str | None = None
    n_body_perturbations: str | None = None
    solar_rad_pressure: str | None = None
    earth_tides: str | None = None
    intrack_thrust: str | None = None
    time_lastob_start: datetime | None = None
    time_lastob_end: datetime | None = None
    recommended_od_span_d: float | None = None
    actual_od_span_d: float | None = None
    obs_available: int | None = None
    obs_used: int | None = None
    tracks_available: int | None = None
    tracks_used: int | None = None
    residuals_accepted_pct: float | None = None
    weighted_rms: float | None = None
    od_epoch: datetime | None = None
    area_pc_m2: float | None = None
    area_drg_m2: float | None = None
    area_srp_m2: float | None = None
    mass_kg: float | None = None
    hbr_m: float | None = None
    cd_area_over_mass_m2_kg: float | None = None
    cr_area_over_mass_m2_kg: float | None = None
    thrust_acceleration_m_s2: float | None = None
    sedr_w_kg: float | None = None
    extra: dict[str, str] = field(default_factory=dict)
    comments: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "r_km", _frozen_array(self.r_km, (3,), "r_km"))
        object.__setattr__(self, "v_km_s", _frozen_array(self.v_km_s, (3,), "v_km_s"))
        if self.covariance_rtn is not None:
            object.__setattr__(self, "covariance_rtn",
                               _frozen_array(self.covariance_rtn, (6, 6), "covariance_rtn"))
        if self.covariance_rtn_ext is not None:
            object.__setattr__(self, "covariance_rtn_ext",
                               _frozen_array(self.covariance_rtn_ext, (9, 9),
                                             "covariance_rtn_ext"))

    @property
    def is_earth_fixed(self) -> bool:
        """True when ``ref_frame`` is an ITRF realisation."""
        return self.ref_frame.upper() in CDM_EARTH_FIXED_FRAMES


@dataclass(frozen=True, eq=False, kw_only=True)
class Cdm(_NanEq):
    """A whole CDM: header, relative metadata/data and the two objects.

    Times are aware UTC datetimes (microseconds). ``collision_probability``
    is the originator's value, kept for reference only: Kizuna computes its
    own Pc from the states and covariances. ``file`` (where it was read
    from) is not compared by ``==``.
    """

    version: str
    creation_date: datetime
    originator: str
    message_id: str
    tca: datetime
    miss_distance_m: float
    object1: CdmObject
    object2: CdmObject
    message_for: str | None = None
    relative_speed_m_s: float | None = None
    relative_position_r_m: float | None = None
    relative_position_t_m: float | None = None
    relative_position_n_m: float | None = None
    relative_velocity_r_m_s: float | None = None
    relative_velocity_t_m_s: float | None = None
    relative_velocity_n_m_s: float | None = None
    start_screen_period: datetime | None = None
    stop_screen_period: datetime | None = None
    screen_volume_frame: str | None = None
    screen_volume_shape: str | None = None
    screen_volume_radius_m: float | None = None
    screen_volume_x_m: float | None = None
    screen_volume_y_m: float | None = None
    screen_volume_z_m: float | None = None
    screen_entry_time: datetime | None = None
    screen_exit_time: datetime | None = None
    collision_probability: float | None = None
    collision_probability_method: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    comments: dict[str, tuple[str, ...]] = field(default_factory=dict)
    file: str = field(default="<input>", compare=False)

    @property
    def objects(self) -> tuple[CdmObject, CdmObject]:
        return (self.object1, self.object2)

    @property
    def relative_position_rtn_m(self) -> np.ndarray | None:
        """``(3,)`` object 2 minus object 1 in object 1's RTN axes, m; None if not given."""
        return _vector(self.relative_position_r_m, self.relative_position_t_m,
                       self.relative_position_n_m)

    @property
    def relative_velocity_rtn_m_s(self) -> np.ndarray | None:
        """``(3,)`` relative velocity in object 1's RTN axes, m/s; None if not given."""
        return _vector(self.relative_velocity_r_m_s, self.relative_velocity_t_m_s,
                       self.relative_velocity_n_m_s)

    @property
    def hbr_m_from_comment(self) -> float | None:
        """Combined hard-body radius (m) from a ``COMMENT HBR = 20.0`` line, if any.

        CARA's test CDMs carry the HBR this way (CDM 1.0 has no HBR keyword).
        Every comment of the message is searched, in file order; the first
        ``HBR = <number>`` (optionally ``[m]``) wins. This is a field of the
        message derived from its comments, so it survives writing and reading.
        """
        for text in self._all_comments():
            m = _HBR_COMMENT_RE.match(text)
            if m:
                return float(m.group(1))
        return None

    def _all_comments(self) -> Iterator[str]:
        for block in _CDM_BLOCKS:
            yield from self.comments.get(block, ())
        for obj in self.objects:
            for block in _OBJECT_BLOCKS:
                yield from obj.comments.get(block, ())


def _vector(*parts: float | None) -> np.ndarray | None:
    if all(p is None for p in parts):
        return None
    return np.array([np.nan if p is None else p for p in parts], dtype=np.float64)


# --------------------------------------------------------------------------
# Reading


@dataclass
class _Token:
    keyword: str  # "COMMENT" for comments
    value: str | None
    units: str | None
    line: int | None
    segment_start: bool = False  # XML: first token of a <segment>


def read_cdm(path_or_file: str | os.PathLike[str] | TextIO) -> Cdm:
    """Read a CDM (KVN or XML, gzip ok) from a path or a text file; see :func:`parse_cdm`."""
    if isinstance(path_or_file, str | os.PathLike):
        name = os.fspath(path_or_file)
        with open(path_or_file, "rb") as handle:
            raw = handle.read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CdmFormatError(f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                                 file=name) from None
        return parse_cdm(text, file=name)
    return parse_cdm(path_or_file.read(), file=getattr(path_or_file, "name", "<input>"))


def parse_cdm(text: str, *, file: str = "<input>") -> Cdm:
    """Parse CDM text, KVN or XML (XML when the first non-blank character is ``<``).

    Raises
    ------
    kizuna.errors.CdmFormatError
        Naming the file, the 1-based line (when known) and the keyword, for:
        a missing or unsupported version line, an unknown or misplaced
        keyword, a keyword given twice, a missing or empty mandatory keyword,
        a value that is not a number/integer/CCSDS date, a ``REF_FRAME``
        outside :data:`CDM_INERTIAL_FRAMES` + :data:`CDM_EARTH_FIXED_FRAMES`,
        a wrong unit on a state-vector or covariance keyword, a file that
        does not hold exactly OBJECT1 then OBJECT2, or malformed XML.
    """
    text = text.lstrip("\ufeff")
    if text.lstrip().startswith("<"):
        version, tokens = _xml_tokens(text, file)
    else:
        version, tokens = _kvn_tokens(text, file)
    return _build(version, tokens, file)


def _kvn_tokens(text: str, file: str) -> tuple[str, list[_Token]]:
    version: str | None = None
    tokens: list[_Token] = []
    last_line = 0
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        last_line = line_no
        if line.startswith("COMMENT") and (len(line) == 7 or not _is_kw_char(line[7])):
            tokens.append(_Token("COMMENT", line[7:].strip(), None, line_no))
            continue
        key, sep, rest = line.partition("=")
        key = key.strip()
        if not sep or not key or not all(_is_kw_char(c) for c in key):
            raise CdmFormatError(
                f"expected 'KEYWORD = value' or 'COMMENT text', got {line[:60]!r}",
                file=file, line=line_no, field=key[:40] if sep and key else "-",
            )
        value, units = _split_units(rest.strip())
        if version is None:
            if key != "CCSDS_CDM_VERS":
                raise CdmFormatError(
                    "not a KVN CDM: the first keyword must be CCSDS_CDM_VERS",
                    file=file, line=line_no, field=key)
            version = _check_version(value, file, line_no)
            continue
        tokens.append(_Token(key, value or None, units, line_no))
    if version is None:
        raise CdmFormatError("not a KVN CDM: no CCSDS_CDM_VERS line", file=file,
                             line=last_line or None, field="CCSDS_CDM_VERS")
    return version, tokens


def _is_kw_char(c: str) -> bool:
    return c == "_" or c.isdigit() or ("A" <= c <= "Z")


def _split_units(value: str) -> tuple[str, str | None]:
    """``("7000.0", "km")`` from ``"7000.0 [km]"``; units absent -> None."""
    if value.endswith("]") and "[" in value:
        head, _, unit = value[:-1].rpartition("[")
        return head.strip(), unit.strip()
    # An unterminated bracket after the value: CARA's SingleCovTestCase CDMs
    # write "RESIDUALS_ACCEPTED = 85.4 [" (the "%]" lost); read it as a unit.
    broken = _BROKEN_UNIT_RE.match(value)
    if broken:
        return broken.group(1), broken.group(2).strip()
    return value, None


def _check_version(value: str, file: str, line: int | None) -> str:
    if not re.fullmatch(r"[12]\.\d+", value or ""):
        raise CdmFormatError(
            f"unsupported CDM version {value!r}; this reader handles 1.x and 2.x",
            file=file, line=line, field="CCSDS_CDM_VERS")
    return value


def _xml_tokens(text: str, file: str) -> tuple[str, list[_Token]]:
    try:
        doc = _xml_tree(text, file)
    except InputError as exc:
        raise CdmFormatError(exc.reason, file=file, line=exc.line, field="XML") from None
    roots = doc.children
    if len(roots) != 1:
        raise CdmFormatError("XML document has no root element", file=file, field="XML")
    root = roots[0]
    if root.tag == "ndm":  # a combined NDM instantiation holding one CDM
        cdms = [c for c in root.children if c.tag == "cdm"]
        if len(cdms) != 1:
            raise CdmFormatError(f"<ndm> holds {len(cdms)} <cdm> elements; read one CDM at a time",
                                 file=file, line=root.line, field="cdm")
        root = cdms[0]
    if root.tag != "cdm":
        raise CdmFormatError(f"not an XML CDM: root element is <{root.tag}>, expected <cdm>",
                             file=file, line=root.line, field="cdm")
    if root.attrs.get("id", "CCSDS_CDM_VERS") != "CCSDS_CDM_VERS":
        raise CdmFormatError(f"<cdm id={root.attrs['id']!r}> must be id=\"CCSDS_CDM_VERS\"",
                             file=file, line=root.line, field="CCSDS_CDM_VERS")
    version = _check_version(root.attrs.get("version", ""), file, root.line)
    tokens: list[_Token] = []

    def walk(node: Any, in_segment: bool) -> None:
        for child in node.children:
            tag = child.tag
            if tag == "COMMENT" or tag in _KEYWORDS or tag.startswith("USER_DEFINED_") or (
                tag.isupper() and not child.children
            ):
                if child.children:
                    raise CdmFormatError(f"<{tag}> must hold text, not elements",
                                         file=file, line=child.line, field=tag)
                nil = any(k.rpartition(":")[2] == "nil" and v.strip().lower() == "true"
                          for k, v in child.attrs.items())
                units = child.attrs.get("units") or None
                tokens.append(_Token(tag, None if nil else (child.text or None), units,
                                     child.line))
                continue
            start = len(tokens)
            walk(child, in_segment or tag == "segment")
            if tag == "segment":
                if len(tokens) == start:
                    raise CdmFormatError("empty <segment>", file=file, line=child.line,
                                         field="segment")
                first = next((t for t in tokens[start:] if t.keyword != "COMMENT"), None)
                if first is None:
                    raise CdmFormatError("<segment> holds no keyword", file=file,
                                         line=child.line, field="segment")
                first.segment_start = True

    walk(root, False)
    return version, tokens


@dataclass
class _Section:
    name: str  # "header", "relative", "OBJECT1", "OBJECT2"
    start_line: int | None
    values: dict[str, tuple[str | None, str | None, int | None]] = field(default_factory=dict)
    comments: dict[str, list[str]] = field(default_factory=dict)
    last_cov_block: str = "covariance"
    end_line: int | None = None


def _build(version: str, tokens: list[_Token], file: str) -> Cdm:
    header = _Section("header", tokens[0].line if tokens else None)
    relative = _Section("relative", None)
    objects: list[_Section] = []
    current = header
    pending: list[str] = []
    last_line: int | None = None

    def err(msg: str, tok: _Token, kw: str | None = None) -> CdmFormatError:
        return CdmFormatError(msg, file=file, line=tok.line, field=kw or tok.keyword)

    for tok in tokens:
        last_line = tok.line if tok.line is not None else last_line
        kw = tok.keyword
        if kw == "COMMENT":
            pending.append(tok.value or "")
            continue
        spec = _KEYWORDS.get(kw)
        if spec is None and kw.startswith("USER_DEFINED_"):
            spec = _Kw(kw, "object", "user")
        if spec is None:
            if kw == "CCSDS_CDM_VERS":
                raise err("CCSDS_CDM_VERS given twice (a file holds one CDM)", tok)
            raise err(f"unknown keyword {kw} (not a CDM 1.0/2.0 keyword; user keywords "
                      "must start with USER_DEFINED_)", tok)
        if tok.segment_start and kw != "OBJECT":
            raise err(f"an XML <segment> must start with OBJECT, found {kw}", tok)
        # Move to the section the keyword belongs to; sections only go forward.
        if spec.section == "header":
            if current is not header:
                raise err(f"header keyword {kw} after the header (it must come before "
                          "TCA and the relative metadata)", tok)
        elif spec.section == "relative":
            if current is header:
                current.end_line = tok.line
                current = relative
                relative.start_line = tok.line
            elif current is not relative:
                raise err(f"relative-metadata keyword {kw} inside the {current.name} section "
                          "(it must come before OBJECT = OBJECT1)", tok)
        else:  # object
            if kw == "OBJECT":
                name = (tok.value or "").strip().upper()
                expected = f"OBJECT{len(objects) + 1}"
                if len(objects) >= 2:
                    raise err(f"a CDM holds two objects; found a third OBJECT = {tok.value}",
                              tok)
                if name != expected:
                    raise err(f"OBJECT must be {expected} here, got {tok.value!r}", tok)
                current.end_line = tok.line
                if current is header:
                    relative.end_line = tok.line
                current = _Section(name, tok.line)
                objects.append(current)
            elif current.name not in ("OBJECT1", "OBJECT2"):
                raise err(f"object keyword {kw} before OBJECT = OBJECT1", tok)
        block = spec.block
        if kw in _SHARED_COV:
            block = current.last_cov_block
        elif block in ("covariance", "alt_covariance"):
            current.last_cov_block = block
        key = kw if block != "alt_covariance" or kw not in _SHARED_COV else "ALT:" + kw
        if key in current.values:
            first = current.values[key][2]
            raise err(f"{kw} appears twice in the {current.name} section"
                      + (f" (first on line {first})" if first is not None else ""), tok)
        current.values[key] = (tok.value, tok.units, tok.line)
        # A comment belongs to the block of the next keyword that has a value
        # (an empty keyword is not written back, so it cannot carry one).
        if pending and tok.value is not None:
            current.comments.setdefault(block, []).extend(pending)
            pending = []
    # Trailing comments stay with the last block that has a value.
    if pending:
        target = objects[-1] if objects else (relative if relative.values else header)
        last_block = _last_block(target)
        target.comments.setdefault(last_block, []).extend(pending)
    for sec in (header, relative, *objects):
        if sec.end_line is None:
            sec.end_line = last_line
    if len(objects) != 2:
        missing = "OBJECT1" if not objects else "OBJECT2"
        raise CdmFormatError(f"the CDM has no {missing} section (file ends at line {last_line})",
                             file=file, line=last_line, field="OBJECT")
    major = version.split(".")[0]
    hv = _typed(header, _MANDATORY_HEADER, file)
    rv = _typed(relative, _MANDATORY_RELATIVE, file)
    obj = [_build_object(sec, major, file) for sec in objects]
    extra = {**hv.pop("__extra__"), **rv.pop("__extra__")}
    comments = {b: tuple(c) for s in (header, relative) for b, c in s.comments.items()}
    return Cdm(version=version, object1=obj[0], object2=obj[1], extra=extra, comments=comments,
               file=file, **hv, **rv)


def _last_block(sec: _Section) -> str:
    order = _CDM_BLOCKS + _OBJECT_BLOCKS
    best = "header"
    for key, (value, _units, _line) in sec.values.items():
        if value is None:
            continue
        kw = key.removeprefix("ALT:")
        spec = _KEYWORDS.get(kw)
        block = "alt_covariance" if key.startswith("ALT:") else (spec.block if spec else "user")
        if order.index(block) >= order.index(best):
            best = block
    return best


def _typed(sec: _Section, mandatory: tuple[str, ...], file: str) -> dict[str, Any]:
    """Typed attribute values of a section, plus ``__extra__``; checks mandatory keywords."""
    for kw in mandatory:
        if kw not in sec.values:
            where = f"the {sec.name} section"
            if sec.start_line is not None:
                where += f" (lines {sec.start_line}-{sec.end_line})"
            raise CdmFormatError(f"mandatory keyword {kw} is missing from {where}",
                                 file=file, line=sec.end_line, field=kw)
        if sec.values[kw][0] is None:
            raise CdmFormatError(f"mandatory keyword {kw} has no value", file=file,
                                 line=sec.values[kw][2], field=kw)
    out: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for key, (value, units, line) in sec.values.items():
        kw = key.removeprefix("ALT:")
        spec = _KEYWORDS.get(kw)
        if key.startswith("ALT:") or spec is None or spec.attr is None:
            if spec is not None and spec.check_units and not key.startswith("ALT:"):
                continue  # state vector and covariance: assembled by the caller
            if value is not None and kw != "OBJECT":  # OBJECT1/2 is implied by position
                extra[kw] = value
            continue
        out[spec.attr] = _convert(spec, value, units, line, file)
    out["__extra__"] = extra
    return out


def _convert(spec: _Kw, value: str | None, units: str | None, line: int | None,
             file: str) -> Any:
    kw = spec.keyword
    if spec.check_units and units is not None and value is not None:
        if _norm_units(units) != _norm_units(spec.units or ""):
            raise CdmFormatError(f"{kw} must be in [{spec.units}], got [{units}]",
                                 file=file, line=line, field=kw)
    if value is None:
        return None
    if spec.kind == _TEXT:
        return value
    if spec.kind == _DATE:
        return _parse_date(value, kw, line, file)
    try:
        number = float(value)
    except ValueError:
        raise CdmFormatError(f"{kw} = {value!r} is not a number", file=file, line=line,
                             field=kw) from None
    if spec.kind == _INT:
        if math.isnan(number):
            return None  # CARA writes NaN for unknown counts
        if not number.is_integer():
            raise CdmFormatError(f"{kw} = {value!r} is not an integer", file=file, line=line,
                                 field=kw)
        return int(number)
    return number


def _norm_units(units: str) -> str:
    text = units.replace(" ", "").lower()
    for alias, canonical in _UNIT_ALIASES.items():
        text = re.sub(rf"\b{alias}\b", canonical, text)
    return text


def _parse_date(text: str, kw: str, line: int | None, file: str) -> datetime:
    """Aware UTC datetime of a CCSDS ASCII time (calendar or day-of-year form)."""
    cal = _CAL_RE.match(text)
    doy = _DOY_RE.match(text) if not cal else None
    try:
        if cal:
            y, mo, d, h, mi, s, frac = cal.groups()
            base = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=UTC)
        elif doy:
            y, doy_s, h, mi, s, frac = doy.groups()
            day = int(doy_s)
            base = datetime(int(y), 1, 1, int(h), int(mi), int(s), tzinfo=UTC)
            if not 1 <= day <= (366 if _leap(int(y)) else 365):
                raise ValueError(f"day of year {day} out of range")
            base += timedelta(days=day - 1)
        else:
            raise ValueError("expected YYYY-MM-DDThh:mm:ss[.f] or YYYY-DDDThh:mm:ss[.f]")
    except ValueError as exc:
        raise CdmFormatError(f"{kw} = {text!r} is not a valid CCSDS time ({exc})",
                             file=file, line=line, field=kw) from None
    if frac and len(frac) > 1:
        base += timedelta(microseconds=round(float(frac) * 1e6))
    return base


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _build_object(sec: _Section, major: str, file: str) -> CdmObject:
    mandatory = _MANDATORY_OBJECT + (_MANDATORY_OBJECT_V1 if major == "1" else ())
    values = _typed(sec, mandatory, file)
    extra = values.pop("__extra__")
    frame = values["ref_frame"].strip().upper()
    if frame not in CDM_INERTIAL_FRAMES + CDM_EARTH_FIXED_FRAMES:
        raise CdmFormatError(
            f"REF_FRAME {values['ref_frame']!r} is not supported; use one of "
            f"{', '.join(CDM_INERTIAL_FRAMES + CDM_EARTH_FIXED_FRAMES)}",
            file=file, line=sec.values["REF_FRAME"][2], field="REF_FRAME")
    state = [_convert(_KEYWORDS[kw], *sec.values[kw], file) for kw in _STATE_KEYWORDS]
    # Covariance: the 21 RTN position/velocity terms are all-or-nothing.
    present = [kw for kw in _RTN_6X6 if kw in sec.values and sec.values[kw][0] is not None]
    cov6: np.ndarray | None = None
    if present or major == "1" or "ALT_COV_TYPE" not in extra:
        missing = [kw for kw in _RTN_6X6 if kw not in present]
        if missing:
            kw = missing[0]
            line = sec.values[kw][2] if kw in sec.values else sec.end_line
            what = "has no value" if kw in sec.values else "is missing"
            raise CdmFormatError(
                f"{sec.name} RTN covariance: mandatory keyword {kw} {what} "
                f"({len(missing)} of 21 position/velocity terms absent)",
                file=file, line=line, field=kw)
    ext = np.full((9, 9), np.nan)
    has_ext = False
    for kw, (i, j, _u) in _RTN_COV_INDEX.items():
        if kw in sec.values:
            value = _convert(_KEYWORDS[kw], *sec.values[kw], file)
            if value is not None:
                ext[i, j] = ext[j, i] = value
                has_ext = has_ext or i >= 6
    if present:
        cov6 = ext[:6, :6].copy()
    return CdmObject(
        r_km=state[:3], v_km_s=state[3:], covariance_rtn=cov6,
        covariance_rtn_ext=ext if has_ext else None,
        extra=extra, comments={b: tuple(c) for b, c in sec.comments.items()}, **values,
    )


# --------------------------------------------------------------------------
# Writing


def format_cdm(cdm: Cdm, fmt: str = "kvn") -> str:
    """The CDM as KVN (``fmt="kvn"``) or XML (``fmt="xml"``) text.

    Numbers are written with the shortest repr that reads back to the same
    float, times with microseconds, units in the standard's spelling.
    Keywords in ``extra`` are written in their block, in the standard's
    order; comments before the first keyword of their block.
    """
    entries = _entries(cdm)
    kind = fmt.lower()
    if kind == "kvn":
        return _to_kvn(cdm, entries)
    if kind == "xml":
        return _to_xml(cdm, entries)
    raise CdmWriteError(f"unknown CDM format {fmt!r}; use 'kvn' or 'xml'")


def write_cdm(cdm: Cdm, path_or_file: str | os.PathLike[str] | TextIO, *,
              fmt: str = "kvn") -> str:
    """Write the CDM as KVN or XML (UTF-8) to a path or text file; return the text."""
    text = format_cdm(cdm, fmt)
    if isinstance(path_or_file, str | os.PathLike):
        with open(path_or_file, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    else:
        path_or_file.write(text)
    return text


# (section, block, [(keyword, value text, units)]) in writing order
_Block = tuple[str, str, list[tuple[str, str, str | None]]]


def _entries(cdm: Cdm) -> list[_Block]:
    for key in cdm.extra:
        spec = _KEYWORDS.get(key)
        if spec is None or spec.section not in _CDM_BLOCKS or spec.attr is not None:
            raise CdmWriteError(f"Cdm.extra[{key!r}] is not a header or relative-metadata "
                                "keyword without a typed field")
    for obj in cdm.objects:
        for key in obj.extra:
            spec = _KEYWORDS.get(key)
            if not key.startswith("USER_DEFINED_") and (
                spec is None or spec.section != "object" or spec.attr is not None
                or key == "OBJECT" or (spec.check_units and key not in _SHARED_COV)
            ):
                raise CdmWriteError(f"CdmObject.extra[{key!r}] is not an object keyword "
                                    "without a typed field")
    blocks: list[_Block] = []
    for block in _CDM_BLOCKS:
        blocks.append((block, block, _block_entries(cdm, block, cdm.extra)))
    for name, obj in zip(("OBJECT1", "OBJECT2"), cdm.objects, strict=True):
        for block in _OBJECT_BLOCKS:
            blocks.append((name, block, _object_block_entries(obj, block, name)))
    return blocks


def _block_entries(holder: Any, block: str, extra: Mapping[str, str]
                   ) -> list[tuple[str, str, str | None]]:
    out = []
    for spec in _KEYWORDS.values():
        if spec.block != block:
            continue
        if spec.attr is not None:
            value = getattr(holder, spec.attr)
            if value is not None:
                out.append((spec.keyword, _format_value(spec, value), spec.units))
        elif spec.keyword in extra and not spec.check_units and spec.keyword != "OBJECT":
            out.append((spec.keyword, _text_value(extra[spec.keyword], spec.keyword), None))
    return out


def _object_block_entries(obj: CdmObject, block: str, name: str
                          ) -> list[tuple[str, str, str | None]]:
    if block == "state":
        values = [*obj.r_km.tolist(), *obj.v_km_s.tolist()]
        return [(kw, _fmt_float(v), _KEYWORDS[kw].units)
                for kw, v in zip(_STATE_KEYWORDS, values, strict=True)]
    if block == "covariance":
        out = []
        if obj.covariance_rtn is not None:
            out = [(kw, _fmt_float(float(obj.covariance_rtn[i, j])), u)
                   for kw, i, j, u in _RTN_COV if i < 6]
        if obj.covariance_rtn_ext is not None:
            out += [(kw, _fmt_float(float(obj.covariance_rtn_ext[i, j])), u)
                    for kw, i, j, u in _RTN_COV
                    if i >= 6 and not math.isnan(obj.covariance_rtn_ext[i, j])]
        return out
    if block == "alt_covariance":
        return [(kw, _text_value(obj.extra[kw], kw), u) for kw, _i, _j, u in _XYZ_COV
                if kw in obj.extra] + (
            [("CSIG3EIGVEC3", _text_value(obj.extra["CSIG3EIGVEC3"], "CSIG3EIGVEC3"), None)]
            if "CSIG3EIGVEC3" in obj.extra else [])
    if block == "user":
        return [(kw, _text_value(v, kw), None) for kw, v in obj.extra.items()
                if kw.startswith("USER_DEFINED_")]
    out = _block_entries(obj, block, obj.extra)
    if block == "metadata":
        out.insert(0, ("OBJECT", name, None))
    return out


def _format_value(spec: _Kw, value: Any) -> str:
    if spec.kind == _DATE:
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise CdmWriteError(f"{spec.keyword} must be an aware UTC datetime, got {value!r}")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    if spec.kind == _FLOAT:
        return _fmt_float(float(value))
    if spec.kind == _INT:
        return str(int(value))
    return _text_value(str(value), spec.keyword)


def _fmt_float(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        raise CdmWriteError("a CDM cannot hold an infinite value")
    # repr is the shortest text that reads back to the same float.
    return repr(float(x)).replace("e", "E")


def _text_value(value: str, kw: str) -> str:
    text = str(value).strip()
    if not text or "\n" in text or "\r" in text:
        raise CdmWriteError(f"{kw} value {value!r} must be one non-empty line of text")
    if text.endswith("]") and "[" in text:
        raise CdmWriteError(f"{kw} value {value!r} would read back as a unit in brackets")
    return text


def _comments(cdm: Cdm, section: str, block: str) -> tuple[str, ...]:
    if section in ("header", "relative"):
        return cdm.comments.get(block, ())
    obj = cdm.object1 if section == "OBJECT1" else cdm.object2
    return obj.comments.get(block, ())


def _check_comment(text: str) -> str:
    if "\n" in text or "\r" in text:
        raise CdmWriteError(f"comment {text!r} must be a single line")
    return text


def _to_kvn(cdm: Cdm, entries: list[_Block]) -> str:
    lines = [f"{'CCSDS_CDM_VERS':<36} = {cdm.version}"]
    for section, block, items in entries:
        comments = _comments(cdm, section, block)
        if not items:
            if comments:
                raise CdmWriteError(f"{section} {block} comments need at least one keyword "
                                    "in that block to be written")
            continue
        lines.extend(f"COMMENT {_check_comment(c)}".rstrip() for c in comments)
        for kw, value, units in items:
            line = f"{kw:<36} = {value}"
            if units:
                line = f"{line:<70} [{units}]"
            lines.append(line)
    return "\n".join(lines) + "\n"


def _to_xml(cdm: Cdm, entries: list[_Block]) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<cdm xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
           '     xsi:noNamespaceSchemaLocation='
           '"http://sanaregistry.org/r/ndmxml/ndmxml-1.0-master.xsd"',
           f'     id="CCSDS_CDM_VERS" version={quoteattr(cdm.version)}>']

    def elements(items: list[tuple[str, str, str | None]], comments: tuple[str, ...],
                 indent: str) -> list[str]:
        res = [f"{indent}<COMMENT>{escape(_check_comment(c))}</COMMENT>" for c in comments]
        for kw, value, units in items:
            attr = f" units={quoteattr(units)}" if units else ""
            res.append(f"{indent}<{kw}{attr}>{escape(value)}</{kw}>")
        return res

    by_key = {(s, b): items for s, b, items in entries}
    out.append("  <header>")
    out += elements(by_key[("header", "header")], cdm.comments.get("header", ()), "    ")
    out.append("  </header>")
    out.append("  <body>")
    out.append("    <relativeMetadataData>")
    rel = by_key[("relative", "relative")]
    head = [e for e in rel if e[0] in ("CONJUNCTION_ID", "TCA", "MISS_DISTANCE",
                                       "MAHALANOBIS_DISTANCE", "RELATIVE_SPEED")]
    state = [e for e in rel if e[0] in _XML_RELATIVE_STATE]
    tail = [e for e in rel if e not in head and e not in state]
    out += elements(head, cdm.comments.get("relative", ()), "      ")
    if state:
        out.append("      <relativeStateVector>")
        out += elements(state, (), "        ")
        out.append("      </relativeStateVector>")
    out += elements(tail, (), "      ")
    out.append("    </relativeMetadataData>")
    for section, obj in zip(("OBJECT1", "OBJECT2"), cdm.objects, strict=True):
        out.append("    <segment>")
        out.append("      <metadata>")
        out += elements(by_key[(section, "metadata")], obj.comments.get("metadata", ()),
                        "        ")
        out.append("      </metadata>")
        out.append("      <data>")
        for block in _OBJECT_BLOCKS[1:]:
            items = by_key[(section, block)]
            comments = obj.comments.get(block, ())
            if not items:
                if comments:
                    raise CdmWriteError(f"{section} {block} comments need at least one keyword "
                                        "in that block to be written")
                continue
            tag = _XML_OBJECT_BLOCKS[block]
            out.append(f"        <{tag}>")
            out += elements(items, comments, "          ")
            out.append(f"        </{tag}>")
        out.append("      </data>")
        out.append("    </segment>")
    out.append("  </body>")
    out.append("</cdm>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# Frames


def cdm_states_inertial(
    cdm: Cdm,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Both objects' states and 6x6 covariances at TCA in one inertial frame (GCRS).

    Returns
    -------
    r1_km, v1_km_s, cov1_km2, r2_km, v2_km_s, cov2_km2 : ndarray
        Positions ``(3,)`` km, velocities ``(3,)`` km/s, and position/velocity
        covariances ``(6, 6)`` in km**2, km**2/s, km**2/s**2, all in Kizuna's
        GCRS (:mod:`kizuna.frames`).

    Notes
    -----
    * ``EME2000``, ``GCRF`` and ``ICRF`` states are used as they are. The
      EME2000-GCRS frame bias (about 23 mas, 0.8 m at 7,000 km) is then one
      common rotation of both states and covariances, which leaves Pc (a
      function of the relative geometry) unchanged; only mixing EME2000 for
      one object with GCRF for the other would cost up to about 0.8 m.
    * ``ITRF*`` states are rotated with the inverse of
      :func:`kizuna.frames.teme_to_itrf_matrix` (GMST 1982, zero polar
      motion), including the Earth-rotation term ``omega x r`` in the
      velocity, then TEME -> GCRS (:func:`kizuna.frames.teme_to_gcrs`), at
      TCA (UTC; UT1 from skyfield's built-in table). Ignoring polar motion
      moves absolute positions by about 10-15 m, again one rotation common
      to both objects. ``TEME`` states use the second step only.
    * The RTN covariance is rotated with the RTN axes of each object's own
      *inertial* state (R = r/|r|, N = r x v/|r x v|, T = N x R):
      ``C = B C_rtn B^T`` with ``B = blockdiag(A, A)``, ``A`` having the R,
      T, N unit vectors as columns. This is a pure rotation of both the
      position and the velocity parts (no ``omega x`` coupling), as for a
      covariance whose velocity part is expressed in the RTN axes at TCA.
      m -> km scales every term by 1e-6.

    Raises
    ------
    kizuna.errors.CdmFormatError
        When an object has no RTN covariance (a CDM 2.x alternate covariance
        only).
    """
    jd, fr = jd_fr_from_datetime(cdm.tca)
    out: list[np.ndarray] = []
    for obj in cdm.objects:
        r, v = _inertial_state(obj, jd, fr)
        if obj.covariance_rtn is None:
            raise CdmFormatError(
                f"OBJECT{len(out) // 3 + 1} has no RTN covariance (CR_R ... CNDOT_NDOT)",
                file=cdm.file, field="CR_R")
        a = ric_basis(r, v).T  # columns: R, T, N unit vectors in GCRS
        b = np.zeros((6, 6))
        b[:3, :3] = a
        b[3:, 3:] = a
        cov = b @ (np.asarray(obj.covariance_rtn) * 1e-6) @ b.T
        out += [r, v, 0.5 * (cov + cov.T)]
    return out[0], out[1], out[2], out[3], out[4], out[5]


def _inertial_state(obj: CdmObject, jd: float, fr: float) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(obj.r_km, dtype=np.float64)
    v = np.asarray(obj.v_km_s, dtype=np.float64)
    frame = obj.ref_frame.strip().upper()
    if frame in ("EME2000", "GCRF", "ICRF"):
        return r.copy(), v.copy()
    if frame in CDM_EARTH_FIXED_FRAMES:
        m, m_dot = teme_to_itrf_matrix(jd, fr)
        # r_itrf = M r_teme and v_itrf = M v_teme + M' r_teme, inverted (M is a rotation).
        r_teme = m.T @ r
        v_teme = m.T @ (v - m_dot @ r_teme)
        r, v = r_teme, v_teme
    elif frame != "TEME":
        raise CdmFormatError(f"REF_FRAME {obj.ref_frame!r} cannot be converted", field="REF_FRAME")
    r_gcrs, v_gcrs = teme_to_gcrs(r, v, jd, fr)
    assert v_gcrs is not None
    return r_gcrs, v_gcrs

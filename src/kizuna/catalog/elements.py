"""Catalog records: one SGP4 element set, and one space object's metadata.

Angles keep the ``_deg`` of the formats they come from (TLE, OMM); they are
converted to radians only when an SGP4 record is built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime

from sgp4.api import WGS72, Satrec

from kizuna.errors import Rejection
from kizuna.timelib import datetime_from_jd_fr

# sgp4's own satnum field cannot hold more than Alpha-5 'Z9999'; larger
# catalog numbers are carried by ``norad_id`` and SGP4 gets a placeholder.
SGP4_MAX_SATNUM = 339_999
_JD_1949_DEC_31 = 2433281.5
_MINUTES_PER_DAY = 1440.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ElementSet:
    """One SGP4/SDP4 mean element set (TLE or CCSDS OMM with ``MEAN_ELEMENT_THEORY=SGP4``).

    The epoch is a split UTC Julian date ``(epoch_jd, epoch_fr)`` as SGP4
    wants it, so a TLE epoch is kept to the last digit. ``tle_line1`` and
    ``tle_line2`` hold the original lines when the set came from a TLE (kept
    for provenance, and used to build the SGP4 record exactly as Vallado's
    reference code does); ``omm_text`` keeps an OMM record without TLE lines
    as received (its keywords and values as JSON), for provenance.
    """

    norad_id: int
    epoch_jd: float
    epoch_fr: float
    mean_motion_rev_day: float
    eccentricity: float
    inclination_deg: float
    raan_deg: float
    arg_perigee_deg: float
    mean_anomaly_deg: float
    bstar: float = 0.0
    mean_motion_dot: float = 0.0
    mean_motion_ddot: float = 0.0
    name: str | None = None
    intl_designator: str | None = None
    classification: str = "U"
    ephemeris_type: int = 0
    element_set_no: int | None = None
    rev_at_epoch: int | None = None
    tle_line1: str | None = None
    tle_line2: str | None = None
    omm_text: str | None = field(default=None, compare=False, repr=False)

    @property
    def epoch(self) -> datetime:
        """Epoch as an aware UTC datetime (rounded to the microsecond)."""
        return datetime_from_jd_fr(self.epoch_jd, self.epoch_fr)

    @property
    def period_min(self) -> float:
        return _MINUTES_PER_DAY / self.mean_motion_rev_day

    def to_satrec(self) -> Satrec:
        """Build the SGP4 record (WGS72, improved mode, as in Vallado's reference).

        From the original TLE lines when present, else from the mean elements.
        Errors in the elements show up later as SGP4 error codes, not here.
        """
        if self.tle_line1 and self.tle_line2:
            return Satrec.twoline2rv(self.tle_line1, self.tle_line2, WGS72)
        sat = Satrec()
        satnum = self.norad_id if 0 <= self.norad_id <= SGP4_MAX_SATNUM else 0
        epoch_days = (self.epoch_jd - _JD_1949_DEC_31) + self.epoch_fr
        sat.sgp4init(
            WGS72,
            "i",
            satnum,
            epoch_days,
            self.bstar,
            self.mean_motion_dot / (_MINUTES_PER_DAY**2) * 2 * math.pi,
            self.mean_motion_ddot / (_MINUTES_PER_DAY**3) * 2 * math.pi,
            self.eccentricity,
            math.radians(self.arg_perigee_deg),
            math.radians(self.inclination_deg),
            math.radians(self.mean_anomaly_deg),
            self.mean_motion_rev_day / _MINUTES_PER_DAY * 2 * math.pi,
            math.radians(self.raan_deg),
        )
        return sat


# Object types as CelesTrak SATCAT spells them.
OBJECT_TYPES = ("PAYLOAD", "ROCKET BODY", "DEBRIS", "UNKNOWN")


@dataclass(frozen=True, slots=True, kw_only=True)
class SpaceObject:
    """What is known about one cataloged object besides its orbit.

    ``owner`` is the SATCAT owner/source code (``US``, ``PRC``, ``CIS``,
    ``JPN`` ...) or, from the UCS database, the owner country name.
    """

    norad_id: int
    name: str | None = None
    intl_designator: str | None = None
    object_type: str | None = None
    owner: str | None = None
    operator: str | None = None
    purpose: str | None = None
    launch_date: date | None = None
    decay_date: date | None = None
    rcs_size: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


def object_type_from_name(name: str | None) -> str | None:
    """Guess the SATCAT object type from a catalog name (``DEB``, ``R/B``).

    Used only when no SATCAT record says otherwise; names without a marker
    are taken as payloads, as Space-Track names debris and rocket bodies.
    """
    if not name:
        return None
    upper = name.upper()
    if " DEB" in upper or upper.endswith("DEB") or "DEBRIS" in upper:
        return "DEBRIS"
    if "R/B" in upper or "ROCKET BODY" in upper or " AKM" in upper or " PKM" in upper:
        return "ROCKET BODY"
    if upper.startswith("TBA") or upper.startswith("OBJECT "):
        return "UNKNOWN"
    return "PAYLOAD"


@dataclass(slots=True, kw_only=True)
class ParseResult:
    """What a parser read from one file: good records plus rejected ones.

    ``objects`` holds metadata found alongside the orbits (names, designators,
    OMM ``OBJECT_TYPE``) or, for SATCAT files, the whole content.
    ``n_records`` counts records seen, good or bad.
    """

    file: str
    format: str
    element_sets: list[ElementSet] = field(default_factory=list)
    objects: list[SpaceObject] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    n_records: int = 0
    sha256: str | None = None

"""Real TLEs and ElementSet builders shared by the store tests.

The element sets come from real TLE lines (ISS history rows, and objects of the
2023-09-09 Space-Track catalog) through ``sgp4.api.Satrec``, so these tests do
not depend on Kizuna's own parsers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from sgp4.api import WGS72, Satrec

from kizuna.catalog.elements import ElementSet, ParseResult

# make_result fixture: (element_sets, objects, rejected, *, file, format, sha256) -> ParseResult
MakeResult = Callable[..., ParseResult]

# ISS (25544) rows of the Space-Track GP history 2020-2024 (tests/data/tle-history),
# in epoch order; the four 2021-09-16 rows are consecutive sets of one day.
ISS_TLES = [
    ("1 25544U 98067A   20001.25776601  .00001469  00000-0  34254-4 0  9999",
     "2 25544  51.6446  99.4171 0005055  90.7711   3.7257 15.49530329205988"),
    ("1 25544U 98067A   20300.83097691  .00001534  00000-0  35580-4 0  9996",
     "2 25544  51.6453  57.0843 0001671  64.9808  73.0513 15.49338189252428"),
    ("1 25544U 98067A   21259.01072506  .00006688  00000-0  13215-3 0  9993",
     "2 25544  51.6424 253.6392 0003369  17.6324  33.5426 15.48396547302671"),
    ("1 25544U 98067A   21259.21473368  .00002068  00000-0  46608-4 0  9997",
     "2 25544  51.6428 252.6298 0003137  21.2391  87.8773 15.48395478302700"),
    ("1 25544U 98067A   21259.53526913  .00002297  00000-0  50845-4 0  9999",
     "2 25544  51.6441 251.0454 0003002  23.9092  73.1328 15.48399394302750"),
    ("1 25544U 98067A   21259.77787037  .00002107  00000-0  47327-4 0  9992",
     "2 25544  51.6434 249.8460 0003202  23.5127 346.7343 15.48399660302797"),
    ("1 25544U 98067A   22201.40857775  .00008240  00000-0  15195-3 0  9998",
     "2 25544  51.6419 172.0419 0005020  30.4744  71.6173 15.50043356350332"),
    ("1 25544U 98067A   24266.21760442  .00075477  00000-0  13411-2 0  9998",
     "2 25544  51.6387 194.7719 0007316  16.9104 160.4599 15.49479876473590"),
]

# One object per orbit regime, from the 2023-09-09 catalog.
REGIME_TLES = {
    "LEO": ("STARLINK-1007",
            "1 44713U 19074A   23247.54648211  .00010237  00000-0  70537-3 0  9997",
            "2 44713  53.0548 343.8382 0002167  92.2444 267.8793 15.06389148210682"),
    "MEO": ("NAVSTAR 65 (USA 213)",
            "1 36585U 10022A   23247.46276066  .00000034  00000-0  00000-0 0  9994",
            "2 36585  54.5661 249.5813 0109195  59.6674  18.7983  2.00561945 97206"),
    "GEO": ("INTELSAT 901",
            "1 26824U 01024A   23247.76627722 -.00000214  00000-0  00000+0 0  9993",
            "2 26824   0.0453 272.4504 0000661 295.3934  24.1326  1.00271292 81391"),
    "HEO": ("MOLNIYA 1-91",
            "1 25485U 98054A   23247.48798182  .00000015  00000-0  00000+0 0  9990",
            "2 25485  63.4549  80.8911 6799154 291.5985  11.8105  2.36441283188875"),
}


def element_set(line1: str, line2: str, name: str | None = None,
                norad_id: int | None = None) -> ElementSet:
    """ElementSet of a real TLE through sgp4's own reader (``norad_id`` overrides)."""
    sat = Satrec.twoline2rv(line1, line2, WGS72)
    return ElementSet(
        norad_id=sat.satnum if norad_id is None else norad_id,
        epoch_jd=sat.jdsatepoch,
        epoch_fr=sat.jdsatepochF,
        mean_motion_rev_day=sat.no_kozai * 1440.0 / (2 * math.pi),
        eccentricity=sat.ecco,
        inclination_deg=math.degrees(sat.inclo),
        raan_deg=math.degrees(sat.nodeo),
        arg_perigee_deg=math.degrees(sat.argpo),
        mean_anomaly_deg=math.degrees(sat.mo),
        bstar=sat.bstar,
        mean_motion_dot=sat.ndot * 1440.0**2 / (2 * math.pi),
        mean_motion_ddot=sat.nddot * 1440.0**3 / (2 * math.pi),
        name=name,
        intl_designator=None,
        classification=sat.classification,
        ephemeris_type=sat.ephtype,
        element_set_no=sat.elnum,
        rev_at_epoch=sat.revnum,
        tle_line1=line1 if norad_id is None else None,
        tle_line2=line2 if norad_id is None else None,
    )


def iss_sets(indices: Sequence[int] | None = None) -> list[ElementSet]:
    rows = ISS_TLES if indices is None else [ISS_TLES[i] for i in indices]
    return [element_set(l1, l2, "ISS (ZARYA)") for l1, l2 in rows]


def regime_sets() -> list[ElementSet]:
    return [element_set(l1, l2, name) for name, l1, l2 in REGIME_TLES.values()]



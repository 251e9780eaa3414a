"""Ephemeris arrays of a whole catalog: TEME states per object and time, plus SGP4 codes."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import TextIO

import numpy as np
from numpy.typing import ArrayLike

from kizuna import frames
from kizuna.errors import KizunaError
from kizuna.timelib import iso_utc_ms

CSV_COLUMNS = ("norad_id", "time_utc", "x_km", "y_km", "z_km", "vx_km_s", "vy_km_s", "vz_km_s")
"""Column order of :meth:`Ephemeris.to_csv`."""

# Fixed decimals keep the CSV byte-identical for identical inputs:
# 1e-6 km = 1 mm and 1e-9 km/s = 1 micrometre/s, below SGP4's round-off.
_CSV_ROW = "%d,%s,%.6f,%.6f,%.6f,%.9f,%.9f,%.9f\n"


class EphemerisError(KizunaError, ValueError):
    """An ephemeris was built from arrays of inconsistent shapes, or asked for a missing object."""


@dataclass(frozen=True, eq=False)
class Ephemeris:
    """States of ``n_obj`` objects at ``n_time`` common times, in TEME.

    Attributes
    ----------
    norad_id : ndarray of int64, ``(n_obj,)``
        Catalog number of each row.
    jd, fr : ndarray of float64, ``(n_time,)``
        Split UTC Julian dates of the columns.
    r_teme_km : ndarray of float64, ``(n_obj, n_time, 3)``
        Positions, km; NaN where ``error != 0``.
    v_teme_km_s : ndarray of float64, ``(n_obj, n_time, 3)``
        Velocities, km/s; NaN where ``error != 0``.
    error : ndarray of uint8, ``(n_obj, n_time)``
        SGP4 error codes (0 = good), see
        :data:`kizuna.propagation.sgp4.SGP4_ERRORS`.

    The arrays are not copied; treat them as read-only.
    """

    norad_id: np.ndarray
    jd: np.ndarray
    fr: np.ndarray
    r_teme_km: np.ndarray
    v_teme_km_s: np.ndarray
    error: np.ndarray

    def __post_init__(self) -> None:
        coerced = {
            "norad_id": np.asarray(self.norad_id, dtype=np.int64),
            "jd": np.asarray(self.jd, dtype=np.float64),
            "fr": np.asarray(self.fr, dtype=np.float64),
            "r_teme_km": np.asarray(self.r_teme_km, dtype=np.float64),
            "v_teme_km_s": np.asarray(self.v_teme_km_s, dtype=np.float64),
            "error": np.asarray(self.error, dtype=np.uint8),
        }
        for name, value in coerced.items():
            object.__setattr__(self, name, value)
        n_obj, n_time = self.norad_id.shape[0], self.jd.shape[0]
        expected = {
            "norad_id": (n_obj,),
            "jd": (n_time,),
            "fr": (n_time,),
            "r_teme_km": (n_obj, n_time, 3),
            "v_teme_km_s": (n_obj, n_time, 3),
            "error": (n_obj, n_time),
        }
        for name, shape in expected.items():
            actual = getattr(self, name).shape
            if actual != shape:
                raise EphemerisError(
                    f"Ephemeris.{name} has shape {actual}, expected {shape} "
                    f"for {n_obj} objects x {n_time} times"
                )

    @property
    def n_obj(self) -> int:
        return int(self.norad_id.shape[0])

    @property
    def n_time(self) -> int:
        return int(self.jd.shape[0])

    def time_utc(self) -> np.ndarray:
        """``(n_time,)`` ISO 8601 UTC strings with milliseconds and ``Z``."""
        return iso_utc_ms(self.jd, self.fr)

    def row(self, norad_id: int) -> int:
        """Row index of ``norad_id`` (its first row if it appears twice)."""
        hits = np.flatnonzero(self.norad_id == int(norad_id))
        if hits.size == 0:
            raise EphemerisError(f"NORAD {norad_id} is not in this ephemeris")
        return int(hits[0])

    def error_summary(self) -> dict[int, int]:
        """Objects with errors, by first error code; see :func:`error_summary`."""
        return error_summary(self.error)

    def states(
        self,
        frame: str = "TEME",
        *,
        xp_arcsec: ArrayLike = 0.0,
        yp_arcsec: ArrayLike = 0.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Positions (km) and velocities (km/s) in ``frame``: TEME, GCRS or ITRF.

        Polar motion (arcseconds, scalars or ``(n_time,)``) only matters for
        ITRF; see :func:`kizuna.frames.teme_to_itrf`.
        """
        r_km, v_km_s = frames.teme_to(
            frame, self.r_teme_km, self.v_teme_km_s, self.jd, self.fr,
            xp_arcsec=xp_arcsec, yp_arcsec=yp_arcsec,
        )
        assert v_km_s is not None
        return r_km, v_km_s

    def to_csv(
        self,
        path_or_file: str | os.PathLike[str] | TextIO,
        *,
        frame: str = "TEME",
        xp_arcsec: ArrayLike = 0.0,
        yp_arcsec: ArrayLike = 0.0,
        header: bool = True,
        header_comment: bool = True,
    ) -> int:
        """Write one CSV row per object and good time; return the number of rows.

        Columns are :data:`CSV_COLUMNS`: ``norad_id, time_utc, x_km, y_km,
        z_km, vx_km_s, vy_km_s, vz_km_s``, ordered by row then time.
        Positions have 6 decimals (mm), velocities 9, times milliseconds and
        ``Z``, lines end in ``\\n``: identical inputs give identical bytes.
        Times where SGP4 failed (``error != 0``) are left out.

        Parameters
        ----------
        path_or_file : path or text file
            Where to write. A path is created or overwritten.
        frame : {"TEME", "GCRS", "ITRF"}
            Frame of the written vectors.
        xp_arcsec, yp_arcsec : float or ``(n_time,)``
            Polar motion for ITRF.
        header : bool
            Write the column-name line (and the comment line below). Pass
            False when appending further objects to a file already started,
            e.g. when writing a large catalog in chunks of objects.
        header_comment : bool
            Start with a line ``# frame=TEME time_system=UTC`` naming the
            frame (read it back with ``pandas.read_csv(..., comment="#")``).
        """
        frame_name = frame.upper()
        r_km, v_km_s = self.states(frame_name, xp_arcsec=xp_arcsec, yp_arcsec=yp_arcsec)
        if isinstance(path_or_file, str | os.PathLike):
            with open(path_or_file, "w", encoding="ascii", newline="") as handle:
                return self._write_csv(handle, frame_name, r_km, v_km_s, header, header_comment)
        return self._write_csv(path_or_file, frame_name, r_km, v_km_s, header, header_comment)

    def _write_csv(
        self,
        handle: TextIO,
        frame_name: str,
        r_km: np.ndarray,
        v_km_s: np.ndarray,
        header: bool,
        header_comment: bool,
    ) -> int:
        if header and header_comment:
            handle.write(f"# frame={frame_name} time_system=UTC\n")
        if header:
            handle.write(",".join(CSV_COLUMNS) + "\n")
        times = self.time_utc()
        n_rows = 0
        for i in range(self.n_obj):
            good = self.error[i] == 0
            states = np.concatenate([r_km[i][good], v_km_s[i][good]], axis=1).tolist()
            norad_id = int(self.norad_id[i])
            out = io.StringIO()
            for stamp, state in zip(times[good].tolist(), states, strict=True):
                out.write(_CSV_ROW % (norad_id, stamp, *state))
            handle.write(out.getvalue())
            n_rows += len(states)
        return n_rows


def error_summary(error: ArrayLike) -> dict[int, int]:
    """Count objects with errors, by the code of each object's first failing time.

    Parameters
    ----------
    error : array_like, ``(n_obj, n_time)``
        SGP4 codes, as returned by :func:`kizuna.propagation.sgp4.propagate`.

    Returns
    -------
    dict
        ``{code: n_objects}`` in ascending code order, only codes that occur;
        its values sum to the number of objects with any error.

    Examples
    --------
    >>> import numpy as np
    >>> error_summary(np.array([[0, 0], [0, 6], [1, 1], [6, 6]], dtype=np.uint8))
    {1: 1, 6: 2}
    """
    error = np.asarray(error)
    if error.ndim != 2:
        raise EphemerisError(f"error must be (n_obj, n_time), got shape {error.shape}")
    failed = error != 0
    rows = np.flatnonzero(failed.any(axis=1))
    first = error[rows, failed[rows].argmax(axis=1)]
    codes, counts = np.unique(first, return_counts=True)
    return {int(c): int(n) for c, n in zip(codes, counts, strict=True)}

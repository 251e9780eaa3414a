"""Time at the edges: aware UTC datetimes outside, split Julian dates inside.

SGP4 takes UTC as a split Julian date ``(jd, fr)``: ``jd`` a whole-and-a-half
day number (midnight) and ``fr`` the fraction of the day, so that no precision
is lost over a week-long window. Leap seconds and UT1 (needed only for frame
rotations) come from skyfield's built-in tables in :mod:`kizuna.frames`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import numpy as np

from kizuna.errors import KizunaError

SECONDS_PER_DAY = 86400.0
JD_UNIX_EPOCH = 2440587.5
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_ISO_RE = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?"
    r"\s*(Z|[+-]00:?00|UTC)?\s*$",
    re.IGNORECASE,
)


class TimeFormatError(KizunaError, ValueError):
    """A time string is not ISO 8601 UTC."""


def parse_utc(text: str) -> datetime:
    """Parse an ISO 8601 UTC time (``Z``, ``+00:00`` or no zone) to an aware datetime.

    Fractions of a second beyond microseconds are rounded to the nearest
    microsecond.

    >>> parse_utc("2026-07-12T03:44:00.383136Z").isoformat()
    '2026-07-12T03:44:00.383136+00:00'
    """
    m = _ISO_RE.match(text)
    if not m:
        raise TimeFormatError(
            f"{text!r} is not an ISO 8601 UTC time; write e.g. 2026-07-12T03:44:00Z"
        )
    year, month, day, hour, minute, second, frac, _zone = m.groups()
    try:
        base = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0),
            int(second or 0), tzinfo=UTC,
        )
    except ValueError as exc:
        raise TimeFormatError(f"{text!r}: {exc}") from None
    if frac:
        base += timedelta(microseconds=round(float("0." + frac) * 1e6))
    return base


def as_utc(dt: datetime) -> datetime:
    """Return ``dt`` as an aware UTC datetime; naive datetimes are refused."""
    if dt.tzinfo is None:
        raise TimeFormatError(
            f"naive datetime {dt!r}: pass an aware UTC datetime (tzinfo=datetime.UTC)"
        )
    return dt.astimezone(UTC)


def jd_fr_from_datetime(dt: datetime) -> tuple[float, float]:
    """Split Julian date (UTC) of an aware datetime, ``jd`` at midnight."""
    dt = as_utc(dt)
    days = (dt.date() - _UNIX_EPOCH.date()).days
    jd = JD_UNIX_EPOCH + days
    fr = (dt.hour * 3600 + dt.minute * 60 + dt.second + dt.microsecond * 1e-6) / SECONDS_PER_DAY
    return jd, fr


def datetime_from_jd_fr(jd: float, fr: float) -> datetime:
    """Aware UTC datetime (rounded to the microsecond) of a split Julian date."""
    whole_days = np.floor(jd - JD_UNIX_EPOCH)
    rest_days = (jd - JD_UNIX_EPOCH - whole_days) + fr
    return _UNIX_EPOCH + timedelta(days=int(whole_days)) + timedelta(
        microseconds=round(rest_days * SECONDS_PER_DAY * 1e6)
    )


def time_grid(start: datetime, duration_s: float, step_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Evenly spaced times from ``start`` over ``duration_s`` (end included).

    Returns ``(jd, fr)`` arrays of shape ``(n_time,)``; ``jd`` is constant and
    ``fr`` grows past 1, which SGP4 accepts and which keeps the spacing exact.
    """
    if step_s <= 0 or duration_s < 0:
        raise KizunaError(f"need step_s > 0 and duration_s >= 0, got {step_s}, {duration_s}")
    jd0, fr0 = jd_fr_from_datetime(start)
    n_step = int(np.floor(duration_s / step_s + 1e-9))
    offsets_s = np.arange(n_step + 1) * float(step_s)
    if offsets_s[-1] < duration_s - 1e-9:
        offsets_s = np.append(offsets_s, float(duration_s))
    fr = fr0 + offsets_s / SECONDS_PER_DAY
    return np.full_like(fr, jd0), fr


def seconds_since(jd: np.ndarray, fr: np.ndarray, jd0: float, fr0: float) -> np.ndarray:
    """Seconds from ``(jd0, fr0)`` to ``(jd, fr)``, computed without cancellation."""
    return ((np.asarray(jd) - jd0) + (np.asarray(fr) - fr0)) * SECONDS_PER_DAY


def iso_utc_ms(jd: np.ndarray | float, fr: np.ndarray | float) -> np.ndarray:
    """ISO 8601 strings with milliseconds and ``Z`` (the CSV contract format)."""
    jd = np.asarray(jd, dtype=np.float64)
    fr = np.asarray(fr, dtype=np.float64)
    # (jd - JD_UNIX_EPOCH) is a whole number of days when jd is at midnight;
    # keep it apart from fr so the millisecond rounding is exact.
    days_ms = np.rint((jd - JD_UNIX_EPOCH) * 86_400_000.0).astype(np.int64)
    frac_ms = np.rint(fr * 86_400_000.0).astype(np.int64)
    stamps = (days_ms + frac_ms).astype("datetime64[ms]")
    return np.char.add(np.datetime_as_string(stamps, unit="ms"), "Z")


def iso_utc_us(jd: np.ndarray | float, fr: np.ndarray | float) -> np.ndarray:
    """ISO 8601 strings with microseconds and no zone letter (CCSDS OEM epochs).

    Microseconds keep an epoch within 0.5 us of the state it labels (a few
    mm at orbital speed), where milliseconds would allow 4 m.
    """
    jd = np.asarray(jd, dtype=np.float64)
    fr = np.asarray(fr, dtype=np.float64)
    # As in iso_utc_ms: whole days and the day fraction are rounded apart.
    days_us = np.rint((jd - JD_UNIX_EPOCH) * 86_400_000_000.0).astype(np.int64)
    frac_us = np.rint(fr * 86_400_000_000.0).astype(np.int64)
    stamps = (days_us + frac_us).astype("datetime64[us]")
    return np.datetime_as_string(stamps, unit="us")

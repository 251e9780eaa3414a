"""Conjunction screening: all-vs-all and protected-vs-all close approaches on SGP4.

Parts: ``filters`` (perigee/apogee shells), ``knots`` (SGP4 at knots, Hermite
interpolation bounds), ``broadphase`` (spatial hash per time cell, numba),
``tca`` (TCA and miss refined on SGP4 itself; RIC from :mod:`kizuna.frames`),
``engine`` (:func:`screen`), ``reference`` (slow brute force for tests).
"""

from kizuna.screening.base import (
    CSV_COLUMNS,
    EVENT_DTYPE,
    ScreeningConfig,
    ScreeningInputError,
    ScreeningResult,
    ScreeningSummary,
)
from kizuna.screening.engine import screen

__all__ = [
    "CSV_COLUMNS",
    "EVENT_DTYPE",
    "ScreeningConfig",
    "ScreeningInputError",
    "ScreeningResult",
    "ScreeningSummary",
    "screen",
]

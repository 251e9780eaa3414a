"""SGP4 propagation of a whole catalog into ephemeris arrays ``(n_obj, n_time, 3)``, TEME."""

from kizuna.propagation.ephemeris import Ephemeris, error_summary
from kizuna.propagation.sgp4 import SGP4_ERRORS, propagate, propagate_snapshot

__all__ = ["SGP4_ERRORS", "Ephemeris", "error_summary", "propagate", "propagate_snapshot"]

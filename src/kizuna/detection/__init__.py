"""Detection over element-set histories and catalog snapshots.

``maneuvers`` finds burns in an object's element-set history (see
docs/design/maneuvers.md).
"""

from kizuna.detection.maneuvers import (
    MANEUVER_CSV_COLUMNS,
    MANEUVER_KINDS,
    ElementHistory,
    ManeuverError,
    ManeuverResult,
    ManeuverSettings,
    PairResiduals,
    detect_maneuvers,
    maneuver_residuals,
)

__all__ = [
    "MANEUVER_CSV_COLUMNS",
    "MANEUVER_KINDS",
    "ElementHistory",
    "ManeuverError",
    "ManeuverResult",
    "ManeuverSettings",
    "PairResiduals",
    "detect_maneuvers",
    "maneuver_residuals",
]

"""Screening configuration, result records and the CSV contract.

A screen reports one :data:`EVENT_DTYPE` record per local minimum of the SGP4
distance between two objects that lies inside the window and is below the
threshold. Times are seconds from the window start (``t_s``); the CSV writer
turns them into ISO 8601 UTC with milliseconds.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from kizuna.errors import KizunaError
from kizuna.timelib import SECONDS_PER_DAY, iso_utc_ms, jd_fr_from_datetime

CSV_COLUMNS = (
    "primary_norad_id",
    "secondary_norad_id",
    "tca_utc",
    "miss_km",
    "rel_speed_km_s",
    "radial_km",
    "in_track_km",
    "cross_track_km",
)

PC_CSV_COLUMNS = ("pc", "pc_method")
"""Columns appended to :data:`CSV_COLUMNS` when a screen carries collision probabilities."""


def format_pc(pc: float | None) -> str:
    """One ``pc`` CSV cell: ``.6e``, empty for None or NaN (undefined Pc)."""
    if pc is None or np.isnan(float(pc)):
        return ""
    return f"{float(pc):.6e}"


EVENT_DTYPE = np.dtype(
    [
        ("primary_norad_id", np.int64),
        ("secondary_norad_id", np.int64),
        ("t_s", np.float64),
        ("miss_km", np.float64),
        ("rel_speed_km_s", np.float64),
        ("radial_km", np.float64),
        ("in_track_km", np.float64),
        ("cross_track_km", np.float64),
    ]
)
"""One close approach. ``t_s`` is the TCA in seconds from the window start;
the miss vector is secondary minus primary, in the primary's RIC frame."""


class ScreeningInputError(KizunaError, ValueError):
    """A screening argument is unusable (empty catalog, bad window, unknown primary...)."""


@dataclass(frozen=True, kw_only=True)
class ScreeningConfig:
    """Tuning of the screening engine. The defaults are measured choices (docs/design/screening.md).

    Correctness does not depend on these values: every stage pads by bounds
    that hold for any setting; they only move the cost between stages.
    """

    sample_step_s: float = 30.0
    """Broad-phase time cell T: pairs are tested once per T with linear motion plus a cubic bound."""

    protected_sample_step_s: float = 120.0
    """T used for protected-vs-all screens (few primaries: a larger reach is cheap)."""

    knot_error_km: float = 1.0
    """Target cubic-Hermite interpolation error when choosing each object's SGP4 knot step."""

    protected_knot_error_km: float = 25.0
    """Knot error target for protected-vs-all screens: SGP4 at knots dominates their cost,
    and the larger broad-phase pad only adds cheap candidates around few primaries."""

    max_knot_step_s: float = 3840.0
    """Upper bound on any object's knot step."""

    chunk_s: float = 43200.0
    """The window is streamed in chunks of this length (bounds memory)."""

    error_check_stride: int = 8
    """SGP4 is also evaluated at the midpoint of every n-th knot segment to measure the
    interpolation error; the broad phase pads by ``error_safety`` times the larger of that
    and the third-derivative jump estimate."""

    max_interp_error_km: float = 25.0
    """A knot segment whose padded interpolation error exceeds this ends the object's usable
    time (counted as failed), like an SGP4 error: only decaying objects in their last
    revolutions get there."""

    error_safety: float = 2.0
    error_floor_km: float = 0.005

    shell_margin_km: float = 60.0
    """Margin of the perigee/apogee prefilter beyond the threshold (covers SGP4 short-period
    and drag excursions of the osculating radius from the mean-element shell over a week)."""

    tca_tolerance_s: float = 1e-6

    sgp4_backend: str = "heyoka"
    """SGP4 at the knots: ``"heyoka"`` (compiled, near-Earth objects; deep space stays on
    python-sgp4) or ``"sgp4"`` (python-sgp4 for all). The narrow phase always refines on
    python-sgp4. Both agree to centimetres, far inside the broad phase's padding."""


@dataclass(frozen=True, kw_only=True)
class ScreeningSummary:
    """What happened during a screen, for reports and benchmarks."""

    n_objects: int
    n_screened: int
    n_prefiltered: int
    n_failed: int
    failed_norad_ids: tuple[int, ...]
    n_candidates_broad: int
    n_candidates_narrow: int
    n_sgp4_knots: int
    n_sgp4_refine: int
    n_refine_failed: int
    max_interp_pad_km: float
    timings_s: dict[str, float] = field(default_factory=dict)
    # Objects published with one and the same element set (docked vehicles
    # carrying their station's set, co-located GEO pairs): SGP4 puts them at
    # distance 0 at every instant, which has no local minimum and so gives no
    # event. They are listed here so that no one mistakes silence for distance.
    shared_element_sets: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True, kw_only=True)
class ScreeningResult:
    """Events (``EVENT_DTYPE`` array sorted by TCA, primary, secondary) and the run summary."""

    events: np.ndarray
    start: datetime
    duration_s: float
    threshold_km: float
    summary: ScreeningSummary

    def __len__(self) -> int:
        return len(self.events)

    def tca_utc(self) -> np.ndarray:
        """TCA strings, ISO 8601 UTC with milliseconds and ``Z``."""
        jd0, fr0 = jd_fr_from_datetime(self.start)
        return iso_utc_ms(np.full(len(self.events), jd0), fr0 + self.events["t_s"] / SECONDS_PER_DAY)

    def to_csv(self, path: str | Path | None = None) -> str:
        """Write the contract CSV (header + one row per event); returns the text.

        Floats have 6 decimals (mm, um/s); the output is byte-identical for identical inputs.
        """
        buf = io.StringIO()
        buf.write(",".join(CSV_COLUMNS) + "\n")
        ev = self.events
        tca = self.tca_utc()
        for k in range(len(ev)):
            e = ev[k]
            buf.write(
                f"{int(e['primary_norad_id'])},{int(e['secondary_norad_id'])},{tca[k]},"
                f"{e['miss_km']:.6f},{e['rel_speed_km_s']:.6f},{e['radial_km']:.6f},"
                f"{e['in_track_km']:.6f},{e['cross_track_km']:.6f}\n"
            )
        text = buf.getvalue()
        if path is not None:
            Path(path).write_text(text, encoding="utf-8", newline="")
        return text

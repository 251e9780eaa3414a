"""The few names a Python user of Kizuna imports.

>>> from kizuna.api import load_catalog, propagate_snapshot, time_grid
>>> from kizuna.api import screen, compute_pc, read_cdm, pc_from_cdm
>>> from kizuna.api import detect_maneuvers, maneuver_residuals
>>> from kizuna.api import detect_proximity, detect_breakups
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime

from kizuna.catalog.elements import ElementSet, ParseResult, SpaceObject
from kizuna.catalog.reader import read_catalog
from kizuna.catalog.snapshot import CatalogSnapshot
from kizuna.ccsds.cdm import Cdm, read_cdm, write_cdm
from kizuna.collision.pc_cdm import pc_from_cdm
from kizuna.collision.registry import compute_pc
from kizuna.collision.screening_pc import pc_for_events
from kizuna.detection.breakups import detect_breakups
from kizuna.detection.maneuvers import detect_maneuvers, maneuver_residuals
from kizuna.detection.proximity import detect_proximity
from kizuna.errors import InputError, KizunaError, Rejection, UnusableInputError
from kizuna.ingest import FileOutcome, ingest_files
from kizuna.propagation.ephemeris import Ephemeris
from kizuna.propagation.sgp4 import propagate, propagate_snapshot
from kizuna.screening import ScreeningResult, screen
from kizuna.store.session import Store, open_store
from kizuna.timelib import parse_utc, time_grid

__all__ = [
    "CatalogSnapshot",
    "Cdm",
    "ElementSet",
    "Ephemeris",
    "FileOutcome",
    "InputError",
    "KizunaError",
    "ParseResult",
    "Rejection",
    "ScreeningResult",
    "SpaceObject",
    "Store",
    "UnusableInputError",
    "compute_pc",
    "detect_breakups",
    "detect_maneuvers",
    "detect_proximity",
    "ingest_files",
    "load_catalog",
    "maneuver_residuals",
    "open_store",
    "parse_utc",
    "pc_for_events",
    "pc_from_cdm",
    "propagate",
    "propagate_snapshot",
    "read_catalog",
    "read_cdm",
    "screen",
    "time_grid",
    "write_cdm",
]


def load_catalog(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    as_of: datetime | None = None,
) -> tuple[CatalogSnapshot, list[Rejection]]:
    """Read catalog files (any supported format) into a snapshot, without a store.

    The newest element set per object at or before ``as_of`` is kept; SATCAT
    files contribute metadata only. Returns the snapshot and the rejected
    records of every file.

    Raises
    ------
    UnusableInputError
        If a file cannot be read or its format is unknown.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    element_sets: list[ElementSet] = []
    objects: dict[int, SpaceObject] = {}
    rejected: list[Rejection] = []
    for path in paths:
        result = read_catalog(path)
        element_sets.extend(result.element_sets)
        for obj in result.objects:
            objects[obj.norad_id] = _merge(objects.get(obj.norad_id), obj)
        rejected.extend(result.rejected)
    snapshot = CatalogSnapshot.from_element_sets(element_sets, objects.values(), as_of=as_of)
    return snapshot, rejected


def _merge(old: SpaceObject | None, new: SpaceObject) -> SpaceObject:
    """Fill the gaps of ``old`` with ``new`` (never blank a known field)."""
    if old is None:
        return new
    fields = {
        name: getattr(old, name) if getattr(old, name) not in (None, "") else getattr(new, name)
        for name in SpaceObject.__dataclass_fields__
        if name != "extra"
    }
    return SpaceObject(**fields, extra={**new.extra, **old.extra})

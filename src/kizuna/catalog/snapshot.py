"""Catalog snapshot "as of T": the newest element set per object, ready to propagate."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sgp4.api import Satrec

from kizuna.catalog.elements import ElementSet, SpaceObject
from kizuna.timelib import jd_fr_from_datetime


@dataclass(frozen=True)
class CatalogSnapshot:
    """One element set per object (sorted by ``norad_id``) and their metadata.

    ``objects`` maps ``norad_id`` to :class:`SpaceObject` where known.
    """

    element_sets: tuple[ElementSet, ...]
    objects: dict[int, SpaceObject] = field(default_factory=dict)
    as_of: datetime | None = None

    @classmethod
    def from_element_sets(
        cls,
        element_sets: Iterable[ElementSet],
        objects: Iterable[SpaceObject] = (),
        as_of: datetime | None = None,
    ) -> CatalogSnapshot:
        """Keep the newest set per object with epoch at or before ``as_of`` (all if None).

        Ties on epoch keep the set seen last, so a later file wins.
        """
        limit = jd_fr_from_datetime(as_of) if as_of is not None else None
        newest: dict[int, ElementSet] = {}
        for es in element_sets:
            if limit is not None and (es.epoch_jd - limit[0]) + (es.epoch_fr - limit[1]) > 0:
                continue
            cur = newest.get(es.norad_id)
            if cur is None or (es.epoch_jd - cur.epoch_jd) + (es.epoch_fr - cur.epoch_fr) >= 0:
                newest[es.norad_id] = es
        ordered = tuple(newest[k] for k in sorted(newest))
        meta = {o.norad_id: o for o in objects}
        return cls(element_sets=ordered, objects=meta, as_of=as_of)

    def __len__(self) -> int:
        return len(self.element_sets)

    @property
    def norad_id(self) -> np.ndarray:
        """``(n_obj,)`` int64 catalog numbers."""
        return np.fromiter((es.norad_id for es in self.element_sets), dtype=np.int64,
                           count=len(self.element_sets))

    def name(self, norad_id: int) -> str | None:
        obj = self.objects.get(norad_id)
        if obj is not None and obj.name:
            return obj.name
        for es in self.element_sets:
            if es.norad_id == norad_id:
                return es.name
        return None

    def digest(self) -> str:
        """SHA-256 of the (norad_id, epoch) of every element set: names the exact catalog used.

        Two snapshots with the same digest hold the same element sets (up to
        provider), so a stored result can be traced to its inputs.
        """
        text = "\n".join(f"{es.norad_id} {es.epoch_jd!r} {es.epoch_fr!r}"
                          for es in self.element_sets)
        return hashlib.sha256(text.encode("ascii")).hexdigest()

    def satrecs(self) -> list[Satrec]:
        """SGP4 records in snapshot order."""
        return [es.to_satrec() for es in self.element_sets]

    def subset(self, norad_ids: Iterable[int]) -> CatalogSnapshot:
        wanted = set(int(i) for i in norad_ids)
        kept = tuple(es for es in self.element_sets if es.norad_id in wanted)
        return CatalogSnapshot(kept, {k: v for k, v in self.objects.items() if k in wanted},
                               self.as_of)

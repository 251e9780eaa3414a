"""Breakup and proximity detection never crash on small or odd snapshots (seeded).

Random small snapshots built from real element sets of the 2023-09-09 catalog: 0 to 50
bystanders, a parent with 0 to 12 synthetic "fragments" (its set with a new id, slightly
changed mean motion and eccentricity, an epoch 0 to 400 days later), and, in half the
trials, three odd objects (eccentricity 0.9999, 0.5 and 17.5 rev/day). The only exception
allowed is a KizunaError (a caller mistake); results must refer to objects that exist.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from kizuna.api import load_catalog
from kizuna.catalog.snapshot import CatalogSnapshot
from kizuna.detection.breakups import detect_breakups
from kizuna.detection.proximity import detect_proximity
from kizuna.errors import KizunaError

CATALOG = (Path(__file__).resolve().parents[1] / "data" / "catalogs"
           / "spacetrack_3le_full_2023-09-09.txt.gz")


@pytest.fixture(scope="module")
def real_sets():
    return list(load_catalog(CATALOG)[0].element_sets)


def _trial(rng: random.Random, sets):
    base = rng.sample(sets, rng.choice([0, 1, 5, 50]))
    parent = rng.choice(sets)
    frags = [replace(parent, norad_id=90000 + k,
                     mean_motion_rev_day=parent.mean_motion_rev_day * (1 + rng.gauss(0, 1e-3)),
                     eccentricity=min(0.99, parent.eccentricity + abs(rng.gauss(0, 1e-3))),
                     epoch_jd=parent.epoch_jd + rng.choice([0, 1, 2, 30, 400]))
             for k in range(rng.choice([0, 1, 3, 12]))]
    odd = []
    if rng.random() < 0.5:
        w = rng.choice(sets)
        odd = [replace(w, norad_id=95000, eccentricity=0.9999),
               replace(w, norad_id=95001, mean_motion_rev_day=0.5),
               replace(w, norad_id=95002, mean_motion_rev_day=17.5)]
    old = CatalogSnapshot.from_element_sets([*base, parent])
    new = CatalogSnapshot.from_element_sets([*base, parent, *frags, *odd])
    return old, new, parent, odd


def test_random_small_snapshots_give_results_or_clear_errors(real_sets):
    rng = random.Random(3)
    n_proximity = 0
    for _ in range(30):
        old, new, parent, odd = _trial(rng, real_sets)
        old_ids = {es.norad_id for es in old.element_sets}
        new_ids = {es.norad_id for es in new.element_sets}
        try:
            for b in detect_breakups(old, new):
                assert b.parent_norad_id in old_ids
                assert set(b.fragment_ids) <= new_ids - old_ids
        except KizunaError as exc:
            assert str(exc)
        protected = [parent.norad_id] + ([95000] if odd else [])
        try:
            report = detect_proximity(new, protected, duration_s=rng.choice([60.0, 3600.0]),
                                      workers=1)
        except KizunaError as exc:
            assert str(exc)
            continue
        n_proximity += 1
        for ev in report.events:
            assert ev.protected_norad_id in protected
            assert ev.other_norad_id in new_ids
            assert 0.0 <= ev.start_s <= ev.end_s and ev.min_range_km >= 0.0
    assert n_proximity > 20  # most trials run to the end

"""Fixtures shared by the detection tests."""

from __future__ import annotations

import pytest

from kizuna.catalog.reader import read_catalog


@pytest.fixture(scope="session")
def iss_sets(data_dir):
    """The ISS element-set history 2020-2024 (9,571 sets), read once."""
    return read_catalog(data_dir / "tle-history" / "iss_25544_gp_history_2020-2024.csv.gz").element_sets

"""The numba median kernels of maneuver detection against their numpy twins, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from kizuna.detection.maneuvers import (
    _rolling_median,
    _rolling_median_numpy,
    _window_median,
    _window_median_numpy,
)


def _series(seed, n=3000, k=4):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, k))
    x[rng.random((n, k)) < 0.05] = np.nan
    x[rng.random((n, k)) < 0.002] = np.inf
    x[rng.random((n, k)) < 0.05] = 0.25  # ties
    x[:60, 1] = np.nan  # a column whose first windows hold no finite value
    # groups of 1 to 120 rows, non-decreasing ids as detect_maneuvers' pairs
    gid = np.repeat(np.arange(n), rng.integers(1, 120, n))[:n]
    return x, gid


@pytest.mark.parametrize("half", [1, 7, 20])
def test_rolling_median_kernel_is_its_numpy_twin(half):
    x, gid = _series(half)
    got = _rolling_median(x, gid, half)
    want = _rolling_median_numpy(x, gid, half)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(_rolling_median(x[:, 2], gid, half),
                                  _rolling_median_numpy(x[:, 2], gid, half))
    assert np.isnan(got).any() and np.isfinite(got).mean() > 0.9  # both kinds were exercised


def test_rolling_median_falls_back_for_unsorted_groups():
    x, gid = _series(3)
    shuffled = gid[::-1].copy()
    np.testing.assert_array_equal(_rolling_median(x, shuffled, 5),
                                  _rolling_median_numpy(x, shuffled, 5))


def test_rolling_median_small_window_by_hand():
    x = np.array([5.0, 1.0, np.nan, 3.0, 2.0, 9.0, 4.0])
    gid = np.array([0, 0, 0, 0, 1, 1, 1])
    # group 0: windows {5,1}, {5,1,nan}, {1,nan,3}, {nan,3}; group 1: {2,9}, {2,9,4}, {9,4}
    np.testing.assert_array_equal(_rolling_median(x, gid, 1),
                                  [3.0, 3.0, 2.0, 3.0, 5.5, 4.0, 6.5])


@pytest.mark.parametrize("count", [1, 5, 9])
def test_window_median_kernel_is_its_numpy_twin(count):
    x, gid = _series(10 + count)
    starts = np.arange(-count, len(x) + 2)
    ref = np.clip(starts, 0, len(x) - 1)
    np.testing.assert_array_equal(_window_median(x, gid, starts, count, ref),
                                  _window_median_numpy(x, gid, starts, count, ref))
    np.testing.assert_array_equal(_window_median(x[:, 0], gid, starts, count, ref),
                                  _window_median_numpy(x[:, 0], gid, starts, count, ref))

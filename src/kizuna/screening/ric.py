"""Radial, in-track, cross-track (RIC) frame of an orbiting object. Pure numpy.

For a state ``(r, v)``::

    R = r / |r|              radial (outward)
    C = r x v / |r x v|      cross-track (orbit normal)
    I = C x R                in-track (along the velocity for a circular orbit)

The rows of the basis matrix are ``R, I, C``, so ``basis @ vec`` gives a vector's
components ``(radial, in_track, cross_track)``. xyz is on the last axis and
everything broadcasts over leading axes.
"""

from __future__ import annotations

import numpy as np


def ric_basis(r_km: np.ndarray, v_km_s: np.ndarray) -> np.ndarray:
    """RIC basis of states ``(..., 3)``; returns ``(..., 3, 3)`` with rows R, I, C.

    >>> b = ric_basis(np.array([7000.0, 0, 0]), np.array([0, 7.5, 0]))
    >>> b.round(12).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    r = np.asarray(r_km, dtype=np.float64)
    v = np.asarray(v_km_s, dtype=np.float64)
    radial = r / np.linalg.norm(r, axis=-1, keepdims=True)
    h = np.cross(r, v)
    cross = h / np.linalg.norm(h, axis=-1, keepdims=True)
    in_track = np.cross(cross, radial)
    return np.stack([radial, in_track, cross], axis=-2)


def to_ric(r_km: np.ndarray, v_km_s: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """Components ``(..., 3)`` (radial, in-track, cross-track) of ``vec`` in the RIC frame of ``(r, v)``."""
    basis = ric_basis(r_km, v_km_s)
    return np.einsum("...ij,...j->...i", basis, np.asarray(vec, dtype=np.float64))

"""Common interface and registry of the collision-probability methods.

Every registered method is called as::

    method(r1_km, v1_km_s, cov1, r2_km, v2_km_s, cov2, hbr_km, **options) -> PcResult

with TCA states in one inertial frame (km, km/s) and 3x3 or 6x6 covariances
in that frame (km^2 ...). ``hall3d`` and ``mc3d`` need 6x6 covariances (and
``mc3d`` a ``t_window_s``); the 2D methods use the position block only.
"""

from __future__ import annotations

from collections.abc import Callable

from kizuna.collision.alfano import alfano_pc
from kizuna.collision.chan import chan_pc
from kizuna.collision.encounter import CollisionInputError, PcResult
from kizuna.collision.foster import foster_pc
from kizuna.collision.hall3d import pc_hall3d
from kizuna.collision.maxpc import max_pc_alfriend, max_pc_frisbee
from kizuna.collision.montecarlo import mc_2d_from_states, pc_mc_3d

PcMethod = Callable[..., PcResult]

METHODS: dict[str, PcMethod] = {
    "foster": foster_pc,
    "chan": chan_pc,
    "alfano2005": alfano_pc,
    "max_alfriend": max_pc_alfriend,
    "max_frisbee": max_pc_frisbee,
    "hall3d": pc_hall3d,
    "mc2d": mc_2d_from_states,
    "mc3d": pc_mc_3d,
}


def get_method(name: str) -> PcMethod:
    """Return the method registered under ``name`` (see :data:`METHODS`)."""
    try:
        return METHODS[name]
    except KeyError:
        raise CollisionInputError(
            f"unknown Pc method {name!r}; choose one of {', '.join(sorted(METHODS))}"
        ) from None


def register(name: str, method: PcMethod) -> None:
    """Add or replace a method under ``name``."""
    METHODS[name] = method


def compute_pc(method: str, r1_km, v1_km_s, cov1, r2_km, v2_km_s, cov2, hbr_km,
               **options) -> PcResult:
    """Run the method registered as ``method`` on one conjunction."""
    return get_method(method)(r1_km, v1_km_s, cov1, r2_km, v2_km_s, cov2, hbr_km, **options)

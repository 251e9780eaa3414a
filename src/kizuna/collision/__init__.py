"""Collision probability (Pc) for conjunctions.

Modules: ``encounter`` (encounter-plane frame, projection, covariance
remediation, :class:`PcResult`), ``foster`` (exact 2D, scalar and vectorized),
``chan`` and ``alfano`` (2D series), ``maxpc`` (Alfriend/Frisbee maximum Pc),
``hall3d`` (3D-Nc for slow/long encounters, two-body), ``montecarlo``
(seeded 2D/3D references with 95% intervals), ``hbr`` (hard-body radius
table), ``registry`` (name -> method, :func:`compute_pc`).
See docs/design/collision.md.
"""

from kizuna.collision.encounter import CollisionInputError, PcResult, project_encounter
from kizuna.collision.foster import foster_pc, foster_pc_batch, pc_circle_2d
from kizuna.collision.registry import METHODS, compute_pc, get_method, register

__all__ = [
    "METHODS",
    "CollisionInputError",
    "PcResult",
    "compute_pc",
    "foster_pc",
    "foster_pc_batch",
    "get_method",
    "pc_circle_2d",
    "project_encounter",
    "register",
]

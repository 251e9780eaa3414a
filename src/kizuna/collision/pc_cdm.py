"""Collision probability of a CCSDS CDM, computed from its states and covariances.

The CDM's own ``COLLISION_PROBABILITY`` is never used: both objects' TCA
states and RTN covariances are taken to one inertial frame
(:func:`kizuna.ccsds.cdm.cdm_states_inertial`) and run through the methods of
:mod:`kizuna.collision.registry`.

Hard-body radius (combined, metres), first that applies (DESIGN.md rule):

1. ``hbr_m`` passed by the caller (``kizuna pc --hbr-m``);
2. the message's own value: a ``COMMENT HBR = <m>`` line (CARA's convention
   for CDM 1.0), else the CDM 2.0 ``HBR`` keyword of the objects (sum of the
   two; an object without one takes its table value);
3. the HBR table (:mod:`kizuna.collision.hbr`): combined radius of both
   objects by catalog number (``OBJECT_DESIGNATOR``) and ``OBJECT_TYPE``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from kizuna.ccsds.cdm import Cdm, cdm_states_inertial
from kizuna.collision.encounter import CollisionInputError, PcResult
from kizuna.collision.hall3d import _default_window
from kizuna.collision.hbr import HbrEstimate, combined_hbr_m, hbr_estimate
from kizuna.collision.registry import METHODS, get_method

#: Methods run by ``method="all"``, in output order (all registered ones).
ALL = ("foster", "chan", "alfano2005", "max_alfriend", "max_frisbee", "hall3d", "mc2d", "mc3d")

#: Draws used by the Monte Carlo methods when run from a CDM (seed 0); the
#: 95% interval is in the result.
MC2D_SAMPLES = 1_000_000
MC3D_SAMPLES = 20_000


def _norad(designator: str | None) -> int | None:
    try:
        return int(str(designator).strip())
    except (TypeError, ValueError):
        return None


def hbr_for_cdm(cdm: Cdm, hbr_m: float | None = None) -> tuple[float, str]:
    """Combined hard-body radius (m) for a CDM and where it came from.

    See the module docstring for the order. Returns ``(hbr_m, source)`` with
    ``source`` one of ``"argument"``, ``"comment"``, ``"cdm HBR"``, ``"table"``.
    """
    if hbr_m is not None:
        if not (math.isfinite(hbr_m) and hbr_m > 0):
            raise CollisionInputError(f"hbr_m must be a positive number of metres; got {hbr_m}")
        return float(hbr_m), "argument"
    from_comment = cdm.hbr_m_from_comment
    if from_comment is not None and from_comment > 0:
        return float(from_comment), "comment"
    objs = cdm.objects
    table = [hbr_estimate(_norad(o.object_designator), o.object_type) for o in objs]
    given = [o.hbr_m if o.hbr_m is not None and o.hbr_m > 0 else None for o in objs]
    if any(g is not None for g in given):
        parts = [HbrEstimate(g, 0.0, "cdm") if g is not None else t
                 for g, t in zip(given, table, strict=True)]
        return combined_hbr_m(parts[0], parts[1]), "cdm HBR"
    return combined_hbr_m(table[0], table[1]), "table"


def _method_names(method: str | Sequence[str]) -> list[str]:
    if isinstance(method, str):
        if method == "all":
            return [m for m in ALL if m in METHODS]
        names = [method]
    else:
        names = list(method)
    for n in names:
        get_method(n)  # raises with the list of valid names
    return names


def pc_from_cdm(cdm: Cdm, method: str | Sequence[str] = "foster",
                hbr_m: float | None = None) -> list[tuple[str, PcResult]]:
    """Pc of one CDM by one, several or all registered methods.

    Parameters
    ----------
    cdm : Cdm
        As read by :func:`kizuna.ccsds.cdm.read_cdm`.
    method : str or sequence of str
        A name of :data:`kizuna.collision.registry.METHODS`, a list of names,
        or ``"all"`` (:data:`ALL`).
    hbr_m : float, optional
        Combined hard-body radius, m; default from the CDM or the HBR table
        (:func:`hbr_for_cdm`).

    Returns
    -------
    list of ``(method, PcResult)`` in the order asked. Each result's
    ``extras`` carries ``hbr_m`` and ``hbr_source``. With ``method="all"``
    a method that cannot handle the geometry (e.g. a 2D method at zero
    relative velocity) gives ``pc = nan`` and ``extras["error"]`` instead of
    raising; a single named method raises
    :class:`~kizuna.collision.encounter.CollisionInputError`.
    """
    names = _method_names(method)
    lenient = isinstance(method, str) and method == "all"
    hbr, source = hbr_for_cdm(cdm, hbr_m)
    r1, v1, c1, r2, v2, c2 = cdm_states_inertial(cdm)
    hbr_km = hbr / 1e3
    out: list[tuple[str, PcResult]] = []
    for name in names:
        kwargs: dict = {}
        if name == "mc2d":
            kwargs = {"n_samples": MC2D_SAMPLES, "seed": 0}
        elif name == "mc3d":
            kwargs = {"n_samples": MC3D_SAMPLES, "seed": 0, "n_grid": 100}
        try:
            if name == "mc3d":
                import numpy as np
                x1 = np.concatenate([r1, v1])
                x2 = np.concatenate([r2, v2])
                kwargs["t_window_s"] = _default_window(x1, c1, x2, c2, hbr_km)
            res = get_method(name)(r1, v1, c1, r2, v2, c2, hbr_km, **kwargs)
        except CollisionInputError as exc:
            if not lenient:
                raise
            res = PcResult(float("nan"), name, extras={"error": str(exc)})
        extras = dict(res.extras or {})
        extras.update(hbr_m=hbr, hbr_source=source)
        out.append((name, PcResult(res.pc, res.method, res.covariance_remediated, res.ci95,
                                   res.n_samples, res.n_hits, extras)))
    return out

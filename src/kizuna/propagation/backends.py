"""SGP4 of many satellites at common times, with heyoka's compiled SGP4 where it applies.

heyoka.py (ESA's Taylor-integration library) ships an SGP4 propagator that
LLVM compiles to SIMD code and evaluates a whole batch of satellites at once.
On the 2023-09-09 catalog it runs 1.9 to 2.5 times as many propagations per
second per core as python-sgp4's ``SatrecArray`` and agrees with it to
centimetres (``bench/bench_sgp4_backends.py``; tests/propagation). It
implements near-Earth SGP4 only, so deep-space objects (python-sgp4's
``method == "d"``: periods of 225 minutes and more) stay on ``SatrecArray``.

:class:`BatchSgp4` has the call signature and output layout of
``SatrecArray.sgp4`` (one ``jd`` per time, ``(n, nt)`` error codes, ``(n, nt, 3)``
positions and velocities, TEME, km and km/s), so callers can swap it in.

heyoka runs its own thread pool (TBB). Kizuna forks its worker processes
instead (:mod:`kizuna.parallel`), and a thread pool does not survive a fork,
so heyoka is held to one thread per process before its first use.

heyoka is a dependency, but a platform without its wheels (or a broken
install) must not lose SGP4: when it cannot be imported, the ``"heyoka"``
backend runs everything on ``SatrecArray`` (the same results to centimetres,
slower) and says so once in a warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from sgp4.api import SatrecArray

__all__ = ["BACKENDS", "BatchSgp4", "aligned_split", "heyoka_available", "lane_width",
           "on_heyoka"]

BACKENDS = ("heyoka", "sgp4")

_hy = None
_hy_missing: str | None = None


def _heyoka():
    """Import heyoka on first use (about 2 s), pinned to one thread; None if unavailable."""
    global _hy, _hy_missing
    if _hy is None and _hy_missing is None:
        try:
            import heyoka

            heyoka.set_nthreads(1)
            heyoka.model.sgp4_propagator  # noqa: B018 - older heyoka has no SGP4
        except (ImportError, AttributeError, OSError) as exc:
            _hy_missing = f"{type(exc).__name__}: {exc}"
            warnings.warn(f"heyoka is unavailable ({_hy_missing}); SGP4 runs on python-sgp4's "
                          "SatrecArray only (same results, slower)", RuntimeWarning, stacklevel=3)
            return None
        _hy = heyoka
    return _hy


def heyoka_available() -> bool:
    """Whether the ``"heyoka"`` backend really runs on heyoka (imports it on first call)."""
    return _heyoka() is not None


def lane_width(backend: str) -> int:
    """Satellites heyoka evaluates together in one SIMD batch (1 for python-sgp4).

    heyoka iterates Kepler's equation until every lane of a batch has converged, so a
    satellite's last bits depend on its batch-mates. Callers that split a catalog into
    parts and want results independent of the split cut it at multiples of this
    count of near-Earth satellites (:func:`aligned_split`).
    """
    hy = _heyoka() if backend == "heyoka" else None
    return int(hy.recommended_simd_size()) if hy is not None else 1


def aligned_split(is_near: np.ndarray, n_parts: int, lane: int) -> list[tuple[int, int]]:
    """``n_parts`` contiguous ranges covering ``range(len(is_near))``, of about equal size,
    each starting after a multiple of ``lane`` near-Earth satellites (see :func:`lane_width`)."""
    n = len(is_near)
    before = np.concatenate([[0], np.cumsum(is_near)])  # near satellites before index e
    edges = [0]
    for k in range(1, n_parts):
        e = max(int(round(k * n / n_parts)), edges[-1])
        while e < n and before[e] % lane:
            e += 1
        edges.append(e)
    edges.append(n)
    return [(edges[k], edges[k + 1]) for k in range(n_parts)]


def on_heyoka(satrecs: Sequence, backend: str) -> np.ndarray:
    """Which records :class:`BatchSgp4` propagates on heyoka (near-Earth ones, heyoka backend)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown SGP4 backend {backend!r}; use one of {BACKENDS}")
    use = backend == "heyoka" and heyoka_available()
    return np.array([use and s.method == "n" for s in satrecs], dtype=bool)


class BatchSgp4:
    """SGP4 of a fixed list of ``Satrec`` records, evaluated at common times.

    Parameters
    ----------
    satrecs : the records (WGS72, as every ``Satrec`` kizuna builds).
    backend : ``"heyoka"`` (near-Earth records on heyoka, deep-space ones on
        python-sgp4) or ``"sgp4"`` (python-sgp4 for all).
    """

    def __init__(self, satrecs: Sequence, backend: str = "heyoka"):
        self.n = len(satrecs)
        near = on_heyoka(satrecs, backend)
        self.near_idx = np.flatnonzero(near)
        self.deep_idx = np.flatnonzero(~near)
        self._hyprop = None
        if len(self.near_idx):
            sats = [satrecs[i] for i in self.near_idx]
            self._hyprop = _heyoka().model.sgp4_propagator(sats, batch_size=lane_width("heyoka"))
            # Epochs kept as python-sgp4 keeps them (whole days, then the fraction), so the
            # minutes since epoch are formed as it forms them.
            self._ep_jd = np.array([s.jdsatepoch for s in sats])
            self._ep_fr = np.array([s.jdsatepochF for s in sats])
        self._deep = SatrecArray([satrecs[i] for i in self.deep_idx]) if len(self.deep_idx) else None
        self._near_sel, self._deep_sel = _selector(self.near_idx), _selector(self.deep_idx)

    def sgp4(self, jd: np.ndarray, fr: np.ndarray):
        """Like ``SatrecArray.sgp4``: ``(e (n, nt) uint8, r (n, nt, 3), v (n, nt, 3))``."""
        nt = len(jd)
        e = np.empty((self.n, nt), dtype=np.uint8)
        r = np.empty((self.n, nt, 3))
        v = np.empty((self.n, nt, 3))
        self.sgp4_into(jd, fr, e, r, v)
        return e, r, v

    def sgp4_into(self, jd: np.ndarray, fr: np.ndarray, e_out: np.ndarray, r_km_out: np.ndarray,
                  v_km_s_out: np.ndarray) -> None:
        """:meth:`sgp4` writing into given ``(n, nt)`` / ``(n, nt, 3)`` arrays (views allowed)."""
        jd = np.asarray(jd, dtype=np.float64)
        fr = np.asarray(fr, dtype=np.float64)
        if len(self.near_idx):
            tsince_min = ((jd[:, None] - self._ep_jd[None, :]) * 1440.0
                          + (fr[:, None] - self._ep_fr[None, :]) * 1440.0)
            out = self._hyprop(tsince_min)  # (nt, 7, n_near): x y z vx vy vz code
            idx = self._near_sel
            r_km_out[idx] = out[:, 0:3, :].transpose(2, 0, 1)
            v_km_s_out[idx] = out[:, 3:6, :].transpose(2, 0, 1)
            e_out[idx] = out[:, 6, :].T
        if self._deep is not None:
            ed, rd, vd = self._deep.sgp4(jd, fr)
            idx = self._deep_sel
            e_out[idx], r_km_out[idx], v_km_s_out[idx] = ed, rd, vd


def _selector(idx: np.ndarray):
    """A slice where the indices are contiguous (a view, no gather), else the indices."""
    if len(idx) and idx[-1] - idx[0] == len(idx) - 1:
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx

"""Compare engine events with brute-force reference events."""

from __future__ import annotations

import numpy as np


def match(events: np.ndarray, ref: list[tuple[int, int, float, float]], window_s: float = 1.0):
    """Match engine events to reference events of the same pair within ``window_s``.

    Returns ``(n_matched, |dTCA| s, |dmiss| km, missing refs, extra engine events,
    engine rel. speed km/s, reference miss km)``, the arrays over matched events.
    """
    eng: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for e in events:
        key = (int(e["primary_norad_id"]), int(e["secondary_norad_id"]))
        eng.setdefault(key, []).append(
            (float(e["t_s"]), float(e["miss_km"]), float(e["rel_speed_km_s"])))
    used = set()
    dts, dms, missing, speeds, misses = [], [], [], [], []
    for a, b, t, m in ref:
        cands = [(abs(x[0] - t), k, x) for k, x in enumerate(eng.get((a, b), []))]
        if cands and min(cands)[0] < window_s:
            _, k, x = min(cands)
            used.add((a, b, k))
            dts.append(abs(x[0] - t))
            dms.append(abs(x[1] - m))
            speeds.append(x[2])
            misses.append(m)
        else:
            missing.append((a, b, t, m))
    extra = [(a, b, x) for (a, b), xs in eng.items() for k, x in enumerate(xs)
             if (a, b, k) not in used]
    return (len(dts), np.array(dts), np.array(dms), missing, extra, np.array(speeds),
            np.array(misses))


def tca_conditioning_s(miss_km, rel_speed_km_s, noise_km=1e-9):
    """How well a TCA is defined at all: |d(t)| ~ m + w^2 (t - tca)^2 / (2 m), so SGP4's
    own position noise (~1e-9 km is generous) hides the minimum within
    sqrt(2 m noise) / w seconds. About 1e-8 s for LEO crossings, 10-100 ms for
    GEO pairs drifting at metres per second."""
    return np.sqrt(2 * np.asarray(miss_km) * noise_km) / np.asarray(rel_speed_km_s)

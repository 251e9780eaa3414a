"""heyoka's compiled SGP4 (the screening knots' backend) against Vallado's vectors and python-sgp4."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from test_vallado import FIELD_TOLERANCE, _times_minutes, _verification_text

from kizuna.catalog.reader import read_catalog
from kizuna.catalog.tle import parse_tle
from kizuna.propagation import backends
from kizuna.propagation.backends import BatchSgp4, aligned_split

DATA = Path(__file__).resolve().parents[1] / "data"


def _tcppver_vectors() -> dict[int, list[list[float]]]:
    """Vallado's expected (minutes, r km, v km/s) per satellite, from tcppver.out."""
    out: dict[int, list[list[float]]] = {}
    current = None
    text = (DATA / "sgp4-verification" / "tcppver.out").read_text(encoding="ascii")
    for line in text.replace("\r", "").split("\n"):
        fields = line.split()
        if len(fields) == 2 and fields[1] == "xx":
            current = out.setdefault(int(fields[0]), [])
        elif len(fields) >= 7 and current is not None:
            current.append([float(x) for x in fields[:7]])
    return out


def test_heyoka_reproduces_vallados_near_earth_vectors():
    text, raw_line2 = _verification_text()
    parsed = parse_tle(text, file="SGP4-VER.TLE (checksums repaired)")
    expected = _tcppver_vectors()
    checked = near = 0
    for es, line2 in zip(parsed.element_sets, raw_line2, strict=True):
        sat = es.to_satrec()
        batch = BatchSgp4([sat], "heyoka")
        if sat.method != "n":
            assert len(batch.near_idx) == 0  # deep space stays on python-sgp4
            continue
        assert len(batch.near_idx) == 1
        near += 1
        minutes, _ = _times_minutes(line2)
        whole, fraction = np.divmod(np.array(minutes) / 1440.0, 1.0)
        e, r, v = batch.sgp4(sat.jdsatepoch + whole, sat.jdsatepochF + fraction)
        rows = expected[sat.satnum]
        # tcppver.out stops at the first error; the time lists agree up to there.
        for k, row in enumerate(rows):
            assert minutes[k] == pytest.approx(row[0], abs=FIELD_TOLERANCE)
            assert e[0, k] == 0
            np.testing.assert_allclose(r[0, k], row[1:4], rtol=0, atol=FIELD_TOLERANCE)
            np.testing.assert_allclose(v[0, k], row[4:7], rtol=0, atol=FIELD_TOLERANCE)
            checked += 1
        if len(rows) < len(minutes):  # an SGP4 error ended the reference: same code here
            assert e[0, len(rows)] != 0
    assert near == 9  # SGP4-VER.TLE: 9 near-Earth, 24 deep-space records
    assert checked == 158  # every vector of the 9 near-Earth records in tcppver.out


def test_heyoka_matches_python_sgp4_over_the_real_catalog_for_a_week():
    res = read_catalog(DATA / "catalogs" / "spacetrack_3le_full_2023-09-09.txt.gz")
    rng = np.random.default_rng(5)
    pick = rng.choice(len(res.element_sets), size=3000, replace=False)
    sats = [res.element_sets[k].to_satrec() for k in np.sort(pick)]
    jd0 = max(s.jdsatepoch + s.jdsatepochF for s in sats)
    t_days = np.linspace(0.0, 7.0, 57)
    jd = np.full(len(t_days), np.floor(jd0))
    fr = (jd0 - np.floor(jd0)) + t_days
    fast = BatchSgp4(sats, "heyoka")
    ref = BatchSgp4(sats, "sgp4")
    assert len(fast.near_idx) > 2000 and len(fast.deep_idx) > 200
    assert len(ref.near_idx) == 0
    e1, r1, v1 = fast.sgp4(jd, fr)
    e0, r0, v0 = ref.sgp4(jd, fr)
    np.testing.assert_array_equal(e1, e0)  # the same decays and errors, at the same times
    ok = e0 == 0
    assert 0.9 < ok.mean() < 1.0  # some real objects do fail within the week
    dr_km = np.linalg.norm(r1 - r0, axis=-1)[ok]
    dv_km_s = np.linalg.norm(v1 - v0, axis=-1)[ok]
    # measured on this sample: max 1.2e-8 km, median 1.4e-10 km, dv max 9e-12 km/s
    # (floating-point order; the knots' broad-phase padding floor is 5e-3 km)
    assert dr_km.max() < 1e-6
    assert np.median(dr_km) < 1e-9
    assert dv_km_s.max() < 1e-9


def test_without_heyoka_the_heyoka_backend_is_python_sgp4_with_a_warning(monkeypatch):
    """A platform where heyoka cannot be imported keeps SGP4: everything on SatrecArray."""
    import builtins

    from sgp4.api import SatrecArray

    real_import = builtins.__import__

    def no_heyoka(name, *args, **kwargs):
        if name == "heyoka" or name.startswith("heyoka."):
            raise ImportError("No module named 'heyoka' (simulated)")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_heyoka)
    monkeypatch.setattr(backends, "_hy", None)
    monkeypatch.setattr(backends, "_hy_missing", None)
    sats = [es.to_satrec() for es in read_catalog(
        DATA / "catalogs" / "spacetrack_3le_full_2023-09-09.txt.gz").element_sets[:300]]
    with pytest.warns(RuntimeWarning, match="heyoka is unavailable.*simulated"):
        assert not backends.heyoka_available()
    assert backends.lane_width("heyoka") == 1
    assert not backends.on_heyoka(sats, "heyoka").any()
    jd = np.full(5, sats[0].jdsatepoch)
    fr = sats[0].jdsatepochF + np.linspace(0.0, 1.0, 5)
    e, r, v = BatchSgp4(sats, "heyoka").sgp4(jd, fr)
    e0, r0, v0 = SatrecArray(sats).sgp4(jd, fr)
    assert np.array_equal(e, e0) and np.array_equal(r, r0) and np.array_equal(v, v0)


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="heyoka"):
        BatchSgp4([], "orekit")


@pytest.mark.parametrize("n, n_parts, lane, p_near", [
    (1000, 2, 4, 0.84), (1000, 7, 8, 0.5), (37, 4, 8, 1.0), (5, 3, 8, 1.0), (0, 2, 4, 0.5),
    (200, 3, 4, 0.0)])
def test_aligned_split_covers_everything_at_lane_multiples(n, n_parts, lane, p_near):
    # Checked by counting, independently of the cumsum the function uses:
    # contiguous, non-decreasing ranges that cover 0..n, every inner edge
    # either at n or after a whole number of lanes of near-Earth satellites.
    is_near = np.random.default_rng(n + lane).random(n) < p_near
    parts = aligned_split(is_near, n_parts, lane)
    assert len(parts) == n_parts and parts[0][0] == 0 and parts[-1][1] == n
    for (a, b), (c, _) in zip(parts, parts[1:], strict=False):
        assert a <= b == c
        assert b == n or sum(bool(x) for x in is_near[:b]) % lane == 0
    if n >= 100 * n_parts and 0 < p_near:
        # about equal sizes: within a few lanes of n / n_parts
        sizes = [b - a for a, b in parts]
        assert max(sizes) - min(sizes) <= 4 * lane / p_near

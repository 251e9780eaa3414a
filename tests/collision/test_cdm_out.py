"""CDMs written for real screening events (kizuna.collision.cdm_out), read back three ways.

References that the writer does not produce: the screen's own miss distances
and RIC miss components (TEME), ``pc_for_events`` (TEME states, vectorized
Foster), the model covariances rotated by the TEME->GCRS matrix, and the
independent ``ccsds-ndm`` reader.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "screening"))
from screening_subsets import FULL_2023, dense_leo, load_snapshot

from kizuna.catalog.snapshot import CatalogSnapshot
from kizuna.ccsds.cdm import cdm_states_inertial, format_cdm, read_cdm, write_cdm
from kizuna.collision.cdm_out import cdm_for_event
from kizuna.collision.covariance import CovarianceModel
from kizuna.collision.encounter import CollisionInputError
from kizuna.collision.pc_cdm import pc_from_cdm
from kizuna.collision.screening_pc import event_states, pc_for_events
from kizuna.frames import teme_to_gcrs_matrix
from kizuna.screening import screen
from kizuna.screening.engine import newest_epoch
from kizuna.timelib import jd_fr_from_datetime

CREATED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@cache
def _screen():
    snap = load_snapshot(FULL_2023)
    sub = snap.subset(dense_leo(snap, 200, seed=3))
    start = newest_epoch(sub)
    res = screen(sub, start=start, duration_s=86400.0, threshold_km=10.0, workers=1)
    assert len(res) > 20
    pc, pm, det = pc_for_events(res.events, sub, start)
    # The three largest Pc and the three closest approaches.
    picks = sorted(set(np.argsort(pc)[-3:].tolist()) | set(np.argsort(res.events["miss_km"])[:3]
                                                            .tolist()))
    return sub, start, res, pc, pm, det, picks


def _ndm_value(x):
    return None if x is None else float(getattr(x, "value", x))


def test_written_cdms_read_back_with_the_events_pc_miss_and_rtn_geometry(tmp_path):
    sub, start, res, pc, pm, det, picks = _screen()
    assert max(pc[k] for k in picks) > 1e-7  # a non-negligible Pc is among them
    for k in picks:
        e = res.events[k]
        cdm = cdm_for_event(e, sub, start, creation_date=CREATED, duration_s=86400.0,
                            threshold_km=10.0)
        assert cdm.version == "1.0"
        assert cdm.collision_probability == pc[k]
        assert cdm.collision_probability_method == "FOSTER-1992"
        for fmt in ("kvn", "xml"):
            path = tmp_path / f"{k}.{fmt}"
            write_cdm(cdm, path, fmt=fmt)
            back = read_cdm(path)
            assert back == cdm
            assert back.hbr_m_from_comment == det["hbr_m"][k]
            [(_, res_pc)] = pc_from_cdm(back)
            assert res_pc.extras["hbr_source"] == "comment"
            assert res_pc.pc == pytest.approx(pc[k], rel=1e-6)
            r1, v1, c1, r2, v2, c2 = cdm_states_inertial(back)
            # A rotation keeps distances: GCRF miss = the screen's TEME miss.
            assert abs(np.linalg.norm(r2 - r1) - e["miss_km"]) * 1e3 < 1.0
            assert abs(back.miss_distance_m - e["miss_km"] * 1e3) < 1.0
            assert abs(back.relative_speed_m_s - e["rel_speed_km_s"] * 1e3) < 1e-2
            # RTN relative position = the screen's RIC miss components.
            ric = np.array([e["radial_km"], e["in_track_km"], e["cross_track_km"]]) * 1e3
            np.testing.assert_allclose(back.relative_position_rtn_m, ric, atol=1.0)


def test_covariances_are_the_teme_model_covariances_rotated_to_gcrf():
    sub, start, res, _pc, _pm, _det, picks = _screen()
    k = picks[0]
    ev = res.events[k:k + 1]
    st = event_states(ev, sub, start)  # TEME states and RIC->TEME covariances, km
    cdm = cdm_for_event(ev[0], sub, start, creation_date=CREATED)
    jd, fr = jd_fr_from_datetime(start)
    m = teme_to_gcrs_matrix(jd, fr + ev["t_s"][0] / 86400.0)
    b = np.zeros((6, 6))
    b[:3, :3] = b[3:, 3:] = m
    r1, v1, c1, r2, v2, c2 = cdm_states_inertial(cdm)
    for got, want in ((c1, st["cov1"][0]), (c2, st["cov2"][0])):
        np.testing.assert_allclose(got, b @ want @ b.T, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(r1, m @ st["r1"][0], atol=1e-9)
    np.testing.assert_allclose(v2, m @ st["v2"][0], atol=1e-12)
    assert [o.covariance_method for o in cdm.objects] == ["DEFAULT", "DEFAULT"]


def test_fitted_models_are_calculated_and_used_with_an_explicit_hbr():
    sub, start, res, *_ = _screen()
    e = res.events[0]
    p = int(e["primary_norad_id"])
    coeff = ((0.1, 0.05, 0.0), (0.3, 0.5, 0.1), (0.1, 0.02, 0.0),
             (3e-4, 1e-4, 0.0), (1e-4, 1e-4, 0.0), (1e-4, 0.0, 0.0))
    models = {p: CovarianceModel(norad_id=p, coefficients=coeff)}
    cdm = cdm_for_event(e, sub, start, models=models, creation_date=CREATED, hbr_m=20.0)
    assert [o.covariance_method for o in cdm.objects] == ["CALCULATED", "DEFAULT"]
    assert cdm.hbr_m_from_comment == 20.0
    ref, _, _ = pc_for_events(res.events[:1], sub, start, models=models,
                              hbr_overrides={p: 20.0, int(e["secondary_norad_id"]): 1e-9})
    # 20 m + a negligible radius (no sigma for overrides) = the explicit 20 m.
    assert cdm.collision_probability == pytest.approx(ref[0], rel=1e-6)
    [(_, back)] = pc_from_cdm(cdm)
    assert back.pc == pytest.approx(cdm.collision_probability, rel=1e-6)


def test_output_is_byte_identical_for_identical_inputs():
    sub, start, res, pc, pm, *_ = _screen()
    k = int(np.argmax(pc))
    texts = {fmt: [format_cdm(cdm_for_event(res.events[k], sub, start, pc=pc[k],
                                            pc_method=pm[k], creation_date=CREATED), fmt)
                   for _ in range(2)] for fmt in ("kvn", "xml")}
    assert texts["kvn"][0] == texts["kvn"][1] and texts["xml"][0] == texts["xml"][1]
    e = res.events[k]
    cdm = cdm_for_event(e, sub, start, creation_date=CREATED)
    assert cdm.message_id.startswith(f"{int(e['primary_norad_id'])}_"
                                     f"{int(e['secondary_norad_id'])}_")
    later = format_cdm(cdm_for_event(e, sub, start, creation_date=datetime(2027, 1, 1,
                                                                           tzinfo=UTC)))
    diff = [(a, b) for a, b in zip(texts["kvn"][0].splitlines(), later.splitlines(), strict=True)
            if a != b]
    assert len(diff) == 1 and diff[0][0].startswith("CREATION_DATE")


def test_objects_without_name_or_designator_give_a_cdm_2_0():
    sub, start, res, pc, *_ = _screen()
    k = int(np.argmax(pc))
    e = res.events[k]
    p = int(e["primary_norad_id"])
    sets = tuple(dataclasses.replace(es, intl_designator=None, name=None)
                 if es.norad_id == p else es for es in sub.element_sets)
    bare = CatalogSnapshot(sets, {i: o for i, o in sub.objects.items() if i != p}, sub.as_of)
    cdm = cdm_for_event(e, bare, start, creation_date=CREATED)
    assert cdm.version == "2.0"
    assert cdm.object1.object_name is None and cdm.object1.international_designator is None
    back = read_cdm(_write_text(format_cdm(cdm, "kvn")))
    assert back == cdm
    [(_, r)] = pc_from_cdm(back)
    assert r.pc == pytest.approx(pc[k], rel=1e-6)


def _write_text(text: str):
    import io

    return io.StringIO(text)


def test_bad_arguments_are_refused():
    sub, start, res, *_ = _screen()
    with pytest.raises(CollisionInputError, match="aware"):
        cdm_for_event(res.events[0], sub, start, creation_date=datetime(2026, 1, 1))
    with pytest.raises(CollisionInputError, match="hbr_m"):
        cdm_for_event(res.events[0], sub, start, creation_date=CREATED, hbr_m=0.0)
    with pytest.raises(CollisionInputError, match="EVENT_DTYPE"):
        cdm_for_event({"primary_norad_id": 1}, sub, start, creation_date=CREATED)


@pytest.mark.parametrize("fmt", ["kvn", "xml"])
def test_ccsds_ndm_reads_our_cdms_with_the_same_values(fmt):
    ndm_io = importlib.import_module("ccsds_ndm.ndm_io")  # test dependency: fail if missing
    reader = ndm_io.NdmIo()
    sub, start, res, _pc, _pm, _det, picks = _screen()
    for k in picks:
        cdm = cdm_for_event(res.events[k], sub, start, creation_date=CREATED, duration_s=86400.0,
                            threshold_km=10.0)
        other = reader.from_string(format_cdm(cdm, fmt))
        rel = other.body.relative_metadata_data
        assert rel.tca == cdm.tca.strftime("%Y-%m-%dT%H:%M:%S.%f")
        assert _ndm_value(rel.miss_distance) == cdm.miss_distance_m
        assert _ndm_value(rel.collision_probability) == cdm.collision_probability
        assert rel.collision_probability_method == "FOSTER-1992"
        for seg, obj in zip(other.body.segment, cdm.objects, strict=True):
            meta, data = seg.metadata, seg.data
            assert meta.object_designator == obj.object_designator
            assert meta.object_name == obj.object_name
            assert meta.international_designator == obj.international_designator
            assert getattr(meta.ref_frame, "value", meta.ref_frame) == "GCRF"
            assert getattr(meta.covariance_method, "value", meta.covariance_method) == "DEFAULT"
            sv = data.state_vector
            assert [_ndm_value(getattr(sv, a)) for a in ("x", "y", "z", "x_dot", "y_dot",
                                                         "z_dot")] == [
                *obj.r_km.tolist(), *obj.v_km_s.tolist()]
            cov = data.covariance_matrix
            for attr, (i, j) in {"cr_r": (0, 0), "ct_t": (1, 1), "cn_n": (2, 2),
                                 "crdot_t": (3, 1), "ctdot_r": (4, 0),
                                 "ctdot_tdot": (4, 4), "cndot_ndot": (5, 5)}.items():
                assert _ndm_value(getattr(cov, attr)) == obj.covariance_rtn[i, j]


def test_screening_csv_with_pc_is_the_screen_csv_plus_two_columns(tmp_path):
    import csv

    from kizuna.collision.screening_csv import screening_csv_with_pc

    sub, start, res, pc, pm, *_ = _screen()
    pc = pc.copy()
    pm = pm.astype(object)
    pc[0], pm[0] = np.nan, "none:zero_rel_speed"
    text = screening_csv_with_pc(res, pc, pm, path=tmp_path / "s.csv")
    assert (tmp_path / "s.csv").read_bytes() == text.encode()
    plain = res.to_csv().splitlines()
    lines = text.splitlines()
    assert lines[0] == plain[0] + ",pc,pc_method"
    assert [line.rsplit(",", 2)[0] for line in lines] == plain
    rows = list(csv.DictReader(lines))
    assert rows[0]["pc"] == "" and rows[0]["pc_method"] == "none:zero_rel_speed"
    for row, value, method in zip(rows[1:], pc[1:], pm[1:], strict=True):
        assert float(row["pc"]) == pytest.approx(value, rel=5e-7)  # 7 significant digits
        assert row["pc_method"] == method and "e" in row["pc"]
    with pytest.raises(CollisionInputError, match="one value per event"):
        screening_csv_with_pc(res, pc[:-1], pm[:-1])

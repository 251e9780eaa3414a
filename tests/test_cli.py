"""The command-line contracts: exit codes, outputs, and the demo."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from rich.progress import Progress
from sgp4.api import Satrec
from typer.testing import CliRunner

from kizuna.catalog.reader import read_catalog
from kizuna.ccsds.oem import read_oem
from kizuna.cli import app
from kizuna.demo import run_demo
from kizuna.detection.maneuvers import detect_maneuvers

DATA = Path(__file__).parent / "data"
CATALOG_2023 = DATA / "catalogs" / "spacetrack_3le_full_2023-09-09.txt.gz"

ISS_3LE = (
    "0 ISS (ZARYA)\n"
    "1 25544U 98067A   23248.21590435  .00012534  00000-0  22537-3 0  9995\n"
    "2 25544  51.6427 292.0790 0005543  28.9934  77.7697 15.50229801414205\n"
)


def _first_3le_records(n: int) -> list[str]:
    with gzip.open(CATALOG_2023, "rt", encoding="ascii") as handle:
        lines = [next(handle) for _ in range(3 * n)]
    return ["".join(lines[i:i + 3]) for i in range(0, 3 * n, 3)]


def _with_bad_checksum(record: str) -> str:
    name, line1, line2 = record.splitlines()
    bad_digit = str((int(line1[68]) + 1) % 10)
    return "\n".join([name, line1[:68] + bad_digit, line2]) + "\n"


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture()
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.sqlite'}"


def test_ingest_of_a_clean_file_exits_0_and_stores_every_object(runner, db_url, tmp_path):
    path = tmp_path / "five.tle"
    path.write_text("".join(_first_3le_records(5)), encoding="ascii")
    result = runner.invoke(app, ["ingest", str(path), "--db", db_url])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["catalog", "list", "--db", db_url])
    assert listed.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert [int(r["norad_id"]) for r in rows] == [5, 11, 12, 16, 20]
    assert rows[0]["name"] == "VANGUARD 1"


def test_ingest_with_a_bad_record_exits_1_names_line_and_field_and_keeps_the_rest(
    runner, db_url, tmp_path
):
    records = _first_3le_records(4)
    records[2] = _with_bad_checksum(records[2])
    path = tmp_path / "one_bad.tle"
    path.write_text("".join(records), encoding="ascii")
    result = runner.invoke(app, ["ingest", str(path), "--db", db_url])
    assert result.exit_code == 1
    # The bad record starts on line 7 (name), its line 1 is line 8.
    assert "one_bad.tle:8" in result.output and "checksum" in result.output
    listed = runner.invoke(app, ["catalog", "list", "--db", db_url])
    assert len(list(csv.DictReader(io.StringIO(listed.stdout)))) == 3


def test_ingest_of_an_unknown_format_exits_2_and_other_files_still_go_in(
    runner, db_url, tmp_path
):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01\x02 this is not a catalog \xff" * 10)
    good = tmp_path / "good.tle"
    good.write_text("".join(_first_3le_records(2)), encoding="ascii")
    result = runner.invoke(app, ["ingest", str(junk), str(good), "--db", db_url])
    assert result.exit_code == 2
    assert "junk.bin" in result.output and "unusable" in result.output
    listed = runner.invoke(app, ["catalog", "list", "--db", db_url])
    assert len(list(csv.DictReader(io.StringIO(listed.stdout)))) == 2


def test_reingesting_a_file_adds_nothing(runner, db_url, tmp_path):
    path = tmp_path / "iss.tle"
    path.write_text(ISS_3LE, encoding="ascii")
    assert runner.invoke(app, ["ingest", str(path), "--db", db_url]).exit_code == 0
    again = runner.invoke(app, ["ingest", str(path), "--db", db_url])
    assert again.exit_code == 0
    assert "already ingested" in again.output
    summary = runner.invoke(app, ["catalog", "summary", "--db", db_url, "--json"])
    assert json.loads(summary.stdout)["n_element_sets"] == 1


def test_catalog_show_prints_history_and_unknown_id_exits_1(runner, db_url, tmp_path):
    path = tmp_path / "iss.tle"
    path.write_text(ISS_3LE, encoding="ascii")
    runner.invoke(app, ["ingest", str(path), "--db", db_url])
    shown = runner.invoke(app, ["catalog", "show", "25544", "--db", db_url])
    assert shown.exit_code == 0
    assert "ISS (ZARYA)" in shown.stdout and "1998-067A" in shown.stdout
    assert "LEO" in shown.stdout
    missing = runner.invoke(app, ["catalog", "show", "99999", "--db", db_url])
    assert missing.exit_code == 1


def test_propagate_csv_matches_sgp4_called_directly(runner, tmp_path):
    catalog = tmp_path / "iss.tle"
    catalog.write_text(ISS_3LE, encoding="ascii")
    out = tmp_path / "iss.csv"
    result = runner.invoke(app, [
        "propagate", str(catalog), "--start", "2023-09-05T12:00:00Z", "--hours", "1",
        "--step-s", "600", "-o", str(out),
    ])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0] == "# frame=TEME time_system=UTC"
    rows = list(csv.DictReader(lines[1:]))
    assert len(rows) == 7
    assert rows[0]["time_utc"] == "2023-09-05T12:00:00.000Z"
    _, line1, line2 = ISS_3LE.splitlines()
    sat = Satrec.twoline2rv(line1, line2)
    # 2023-09-05T12:10:00Z is JD 2460192.5 + 0.5 + 600 s.
    e, r_km, v_km_s = sat.sgp4(2460192.5, 0.5 + 600 / 86400)
    assert e == 0
    got = [float(rows[1][k]) for k in ("x_km", "y_km", "z_km")]
    assert np.allclose(got, r_km, atol=1e-6)  # CSV keeps 6 decimals (mm)
    assert np.allclose([float(rows[1][k]) for k in ("vx_km_s", "vy_km_s", "vz_km_s")],
                       v_km_s, atol=1e-9)


def test_propagate_oem_round_trips_and_unknown_id_exits_1(runner, tmp_path):
    catalog = tmp_path / "iss.tle"
    catalog.write_text(ISS_3LE, encoding="ascii")
    out = tmp_path / "iss.oem"
    result = runner.invoke(app, [
        "propagate", str(catalog), "--hours", "0.5", "--step-s", "60", "--format", "oem",
        "-o", str(out), "--frame", "gcrs",
    ])
    assert result.exit_code == 0, result.output
    oem = read_oem(out)
    assert len(oem.segments) == 1
    assert oem.segments[0].ref_frame == "GCRF"
    assert len(oem.segments[0].epochs) == 31
    missing = runner.invoke(app, ["propagate", str(catalog), "--ids", "1", "-o", str(out)])
    assert missing.exit_code == 1


def test_bad_options_exit_2_with_a_fix_it_message(runner, tmp_path):
    catalog = tmp_path / "iss.tle"
    catalog.write_text(ISS_3LE, encoding="ascii")
    bad_time = runner.invoke(app, ["propagate", str(catalog), "--start", "yesterday"])
    assert bad_time.exit_code == 2 and "ISO 8601" in bad_time.output
    bad_frame = runner.invoke(app, ["propagate", str(catalog), "--frame", "J2000"])
    assert bad_frame.exit_code == 2 and "TEME, GCRS or ITRF" in bad_frame.output


def test_demo_ingests_the_bundled_catalog_and_reports_its_documented_size(tmp_path):
    console = Console(file=io.StringIO(), width=120)
    report = run_demo(tmp_path, console=console, progress=lambda: Progress(console=console))
    catalog = report["catalog"]
    # CelesTrak active catalog of 2026-07-12: 15,985 objects (shared data README).
    assert catalog["n_objects"] == 15_985
    assert sum(catalog["by_regime"].values()) == 15_985
    assert catalog["by_owner"]  # owners come from the bundled UCS database
    propagation = report["propagation"]
    assert propagation["n_objects"] == 15_985 and propagation["n_times"] == 94
    # The ISS flies between 400 and 440 km and never beyond 51.7 deg latitude.
    track = report["iss_ground_track"]
    assert len(track) == 7
    assert all(400 < p["alt_km"] < 440 and abs(p["lat_deg"]) < 51.7 for p in track)
    assert (tmp_path / "summary.json").exists() and (tmp_path / "iss_25544.oem").exists()
    screening = report["screening"]
    header, *rows = (tmp_path / "conjunctions.csv").read_text().splitlines()
    assert header.endswith(",cross_track_km,pc,pc_method")
    assert len(rows) == screening["n_events"] > 0
    assert 0 < screening["closest_miss_km"] < 5.0
    assert screening["run_id"] == 1
    assert min(float(r.split(",")[3]) for r in rows) == screening["closest_miss_km"]
    # CDMs of the highest-Pc approaches: readable, and their Pc recomputed from the
    # message's own states and covariances is the Pc in the CSV
    from kizuna.ccsds.cdm import read_cdm
    from kizuna.collision.pc_cdm import pc_from_cdm

    assert 1 <= len(screening["cdm_files"]) <= 5
    first = read_cdm(tmp_path / "cdm" / screening["cdm_files"][0])
    (_, result), = pc_from_cdm(first, "foster")
    assert result.pc == pytest.approx(screening["max_pc"], rel=1e-6)
    assert max(float(r.split(",")[8]) for r in rows if r.split(",")[8]) == pytest.approx(
        screening["max_pc"], rel=1e-5)
    # Proximity around the bundled allied assets: the modules and visiting vehicles of the
    # ISS carry the station's own element set (docked), Himawari 8 and 9 share a GEO slot.
    prox = report["proximity"]
    pairs = {(e["asset"], e["other"]): e for e in prox["events"]}
    assert (25544, 25575) in pairs and pairs[(25544, 25575)]["min_range_km"] == 0.0
    assert (41836, 40267) in pairs and pairs[(41836, 40267)]["min_range_km"] < 150.0
    assert len((tmp_path / "proximity.csv").read_text().splitlines()) == prox["n_events"] + 1
    # Maneuvers of the ISS from the bundled 2025 history, read back from the store: the
    # same detections as from the history file itself, among them Progress MS-32's reboost
    # of 2025-11-19 (13:04 UTC, 847 s; +2.7 km announced; tests/data/tle-history/
    # iss_orbit_changes_2025-09_to_2025-12.csv), and every one stored as an event.
    man = report["maneuvers"]
    direct = detect_maneuvers(read_catalog(
        DATA / "tle-history" / "iss_25544_spacetrack_omm_2025-09-27_to_2025-12-25.json.gz"
    ).element_sets)
    assert man["detections"] == direct.rows() and len(direct) >= 1
    # the store adds the bundled catalog's ISS set of 2026-07-12, beyond the 10-day gap
    assert man["n_sets_used"] == direct.n_sets_used + 1
    mid_burn = datetime(2025, 11, 19, 13, 11, 3, tzinfo=UTC)
    near = [d for d in man["detections"]
            if abs(datetime.fromisoformat(d["time_utc"].replace("Z", "+00:00")) - mid_burn)
            <= timedelta(days=1)]
    assert len(near) == 1 and float(near[0]["delta_a_km"]) == pytest.approx(2.7, abs=0.3)
    assert man["n_stored"] == len(man["detections"])
    assert len((tmp_path / "maneuvers.csv").read_text().splitlines()) == len(direct) + 1


def test_demo_rejects_an_asset_file_without_assets(tmp_path):
    from kizuna.demo import load_assets
    from kizuna.errors import ConfigError

    bad = tmp_path / "assets.toml"
    bad.write_text("[[asset]]\nname = 'no id'\n")
    with pytest.raises(ConfigError, match="norad_id"):
        load_assets(bad)
    assert {a["norad_id"] for a in load_assets()} >= {25544, 41836}


def test_propagate_csv_written_in_chunks_has_one_header(runner, tmp_path, monkeypatch):
    import kizuna.cli as cli_module

    catalog = tmp_path / "five.tle"
    catalog.write_text("".join(_first_3le_records(5)), encoding="ascii")
    out = tmp_path / "five.csv"
    # Force one object per chunk so the chunked path is exercised.
    monkeypatch.setattr(cli_module, "CSV_SAMPLES_PER_CHUNK", 1)
    result = runner.invoke(app, ["propagate", str(catalog), "--hours", "0.1", "--step-s", "60",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert sum(line.startswith("norad_id,") for line in lines) == 1
    assert sum(line.startswith("#") for line in lines) == 1
    assert {line.split(",")[0] for line in lines[2:]} == {"5", "11", "12", "16", "20"}


IRIDIUM33_DEBRIS = DATA / "catalogs" / "debris-clouds" / "gp-debris-iridium33.json.gz"


def test_screen_writes_the_contract_csv_identical_to_the_engine_and_run_to_run(
    runner, tmp_path, db_url
):
    from kizuna.api import load_catalog
    from kizuna.screening import screen

    out_a, out_b = tmp_path / "a.csv", tmp_path / "b.csv"
    args = ["screen", str(IRIDIUM33_DEBRIS), "--days", "1", "--threshold-km", "50"]
    first = runner.invoke(app, [*args, "-o", str(out_a), "--db", db_url])
    assert first.exit_code == 0, first.output
    assert "recorded as run 1" in first.output
    second = runner.invoke(app, [*args, "-o", str(out_b), "--workers", "1", "--no-record"])
    assert second.exit_code == 0
    text = out_a.read_text()
    assert text == out_b.read_text()
    lines = text.splitlines()
    assert lines[0] == ("primary_norad_id,secondary_norad_id,tca_utc,miss_km,rel_speed_km_s,"
                        "radial_km,in_track_km,cross_track_km")
    rows = list(csv.DictReader(lines))
    assert rows, "111 Iridium 33 fragments come within 50 km of each other within a day"
    assert all(int(r["primary_norad_id"]) < int(r["secondary_norad_id"]) for r in rows)
    assert all(r["tca_utc"].endswith("Z") and len(r["tca_utc"]) == 24 for r in rows)
    assert all(float(r["miss_km"]) < 50 for r in rows)
    snapshot, _ = load_catalog(IRIDIUM33_DEBRIS)
    engine = screen(snapshot, duration_s=86400.0, threshold_km=50.0, workers=1)
    assert engine.to_csv() == text
    stored = runner.invoke(app, ["conjunctions", "--run", "1", "--db", db_url])
    assert stored.exit_code == 0 and stored.stdout == text
    listed = runner.invoke(app, ["runs", "--db", db_url])
    assert listed.stdout.splitlines()[1].startswith("1,screening,")


def test_screen_on_a_dask_cluster_writes_the_same_csv(runner, tmp_path):
    import distributed  # a dependency: a missing package must fail, not skip

    local, remote = tmp_path / "local.csv", tmp_path / "remote.csv"
    args = ["screen", str(IRIDIUM33_DEBRIS), "--days", "1", "--threshold-km", "50", "--no-record"]
    assert runner.invoke(app, [*args, "-o", str(local)]).exit_code == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as cluster:
        result = runner.invoke(app, [*args, "-o", str(remote), "--scheduler",
                                     cluster.scheduler_address])
    assert result.exit_code == 0, result.output
    assert remote.read_text() == local.read_text()
    assert len(local.read_text().splitlines()) > 10


def test_screen_with_a_primary_not_in_the_catalog_exits_1(runner, tmp_path):
    result = runner.invoke(app, ["screen", str(IRIDIUM33_DEBRIS), "--primary", "25544",
                                 "-o", str(tmp_path / "x.csv")])
    assert result.exit_code == 1 and "25544" in result.output


ISS_HISTORY = DATA / "tle-history" / "iss_25544_gp_history_2020-2024.csv.gz"


def test_maneuvers_finds_the_published_2023_09_08_iss_reboost_and_writes_the_contract_csv(
    runner, tmp_path
):
    out = tmp_path / "m.csv"
    result = runner.invoke(app, ["maneuvers", str(ISS_HISTORY), "--norad", "25544",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert list(rows[0])[:4] == ["norad_id", "time_utc", "delta_a_km", "delta_v_m_s"]
    assert {r["norad_id"] for r in rows} == {"25544"}
    # published burn 2023-09-08 18:52-19:14 UTC (tests/data/tle-history reboost list)
    assert any(r["time_utc"].startswith("2023-09-08T19") for r in rows)
    # the object's learned noise (ManeuverResult.span_sigma_a_km, 4.4 m) and the limit it sets
    assert "noise (object 25544): median sigma of delta-a 4.4 m per set pair" in result.output
    assert "smallest detectable change of a about 89 m" in result.output
    missing = runner.invoke(app, ["maneuvers", str(ISS_HISTORY), "--norad", "1", "-o", str(out)])
    assert missing.exit_code == 2 and "no element sets" in missing.output


CDM_DIR = Path(__file__).resolve().parent / "data" / "ccsds" / "cdm"


def test_pc_of_cara_cdms_matches_published_2d_values(runner, tmp_path):
    # CARA Pc2D_Foster of Alfano 2009 cases 5 and 6 (tests/data/pc/A09TestCases...csv).
    files = [CDM_DIR / "cara" / f"AlfanoTestCase0{n}.cdm.gz" for n in (5, 6)]
    result = runner.invoke(app, ["pc", *map(str, files)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "file,method,pc"
    got = {row.split(",")[0]: float(row.split(",")[2]) for row in lines[1:]}
    assert got[str(files[0])] == pytest.approx(0.044492344523551, rel=1e-3)
    assert got[str(files[1])] == pytest.approx(0.00433545396136356, rel=1e-3)


def test_pc_hbr_option_and_all_methods(runner):
    path = CDM_DIR / "cara" / "OmitronTestCase_Test08_3DNc.cdm.gz"
    one = runner.invoke(app, ["pc", str(path), "--hbr-m", "20"])
    assert one.exit_code == 0
    # CARA unit test: Pc2D_Foster 2.2660816e-20 with HBR 20 m.
    assert float(one.stdout.strip().splitlines()[1].split(",")[2]) == pytest.approx(
        2.2660816e-20, rel=1e-3)
    methods = runner.invoke(app, ["pc", str(CDM_DIR / "cara" / "AlfanoTestCase05.cdm.gz"),
                                  "--method", "max_alfriend"])
    assert methods.exit_code == 0 and ",max_alfriend," in methods.stdout


def test_pc_bad_cdm_names_file_line_keyword_and_others_still_run(runner, tmp_path):
    good = CDM_DIR / "cara" / "AlfanoTestCase05.cdm.gz"
    bad = CDM_DIR / "orekit" / "CDM-wrong-key-word.txt.gz"
    result = runner.invoke(app, ["pc", str(bad), str(good)])
    assert result.exit_code == 1
    assert str(bad) in result.stderr and ":" in result.stderr
    assert str(good) in result.stdout
    only_bad = runner.invoke(app, ["pc", str(bad)])
    assert only_bad.exit_code == 2
    unknown = runner.invoke(app, ["pc", str(good), "--method", "nope"])
    assert unknown.exit_code == 2 and "foster" in unknown.stderr


def _pair_catalog(tmp_path, ids=("34779", "49330")):
    """Compass G2 and SJ-21 from the 2022-01-25 catalog (SJ-21 docked with it)."""
    return _catalog_subset(tmp_path, DATA / "catalogs" / "spacetrack_3le_full_2022-01-25.txt.gz",
                           ids, name="pair.txt")


def test_proximity_flags_sj21_at_compass_g2_and_events_lists_it(runner, tmp_path):
    cat = _pair_catalog(tmp_path)
    out, db = tmp_path / "p.csv", f"sqlite:///{tmp_path / 's.sqlite'}"
    res = runner.invoke(app, ["proximity", str(cat), "--protected", "34779", "--days", "1",
                              "-o", str(out), "--record", "--db", db, "--workers", "1"])
    assert res.exit_code == 0, res.output
    rows = out.read_text().splitlines()
    assert rows[0].startswith("protected_norad_id,other_norad_id,start_utc,end_utc,"
                              "min_range_km,min_range_utc")
    assert rows[1].startswith("34779,49330,") and len(rows) == 2
    listed = runner.invoke(app, ["events", "--db", db, "--kind", "proximity", "--norad", "49330"])
    assert listed.exit_code == 0 and ",proximity,proximity,34779,49330," in listed.stdout


def test_proximity_with_an_asset_not_in_the_catalog_exits_1(runner, tmp_path):
    cat = _pair_catalog(tmp_path)
    res = runner.invoke(app, ["proximity", str(cat), "--protected", "1",
                              "-o", str(tmp_path / "x.csv")])
    assert res.exit_code == 1
    assert "not in the catalog" in res.output


def test_maneuvers_residuals_csv_shows_the_evidence_of_a_reboost(runner, tmp_path):
    # published reboost 2023-09-08 18:52-19:14 UTC: the set of 21:09 still has the old orbit
    # (docs/design/maneuvers.md, burn time), so the step is in the pair after it
    res_csv = tmp_path / "r.csv"
    result = runner.invoke(app, ["maneuvers", str(ISS_HISTORY), "-o", str(tmp_path / "m.csv"),
                                 "--residuals", str(res_csv)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(res_csv.read_text().splitlines()))
    assert len(rows) == 9554  # 9,571 sets less 16 duplicates, less one
    assert "9,554 set pairs (residuals, noise, z)" in result.output
    days = [r for r in rows if r["epoch_before_utc"].startswith(("2023-09-08", "2023-09-09"))]
    step = max(days, key=lambda r: abs(float(r["a_km_z"])))
    assert step["epoch_before_utc"].startswith("2023-09-08T21:09")
    assert float(step["a_km_resid"]) > 1.0 and float(step["a_km_z"]) > 20.0
    quiet = [abs(float(r["a_km_z"])) for r in rows if r["epoch_before_utc"].startswith("2023-08")]
    assert np.median(quiet) < 1.5  # a typical pair is within its noise


def test_maneuvers_counts_the_detections_whose_burn_time_is_not_fixed(runner, tmp_path):
    # Fengyun-2D: 47 detections, of which the ones with time_sigma_s over a day are doubtful
    # (docs/design/maneuvers.md, held-out GEO)
    history = DATA / "tle-history" / "fengyun-2d_29640_tle_2011-2015.txt.gz"
    out = tmp_path / "m.csv"
    result = runner.invoke(app, ["maneuvers", str(history), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.read_text().splitlines()))
    n_untimed = sum(float(r["time_sigma_s"]) > 86400.0 for r in rows)
    assert len(rows) == 47 and 0 < n_untimed < 47
    assert f"{n_untimed} of 47 maneuvers have a burn-time sigma over a day" in result.output
    quiet = runner.invoke(app, ["maneuvers", str(ISS_HISTORY), "-o", str(out)])
    assert "burn-time sigma over a day" not in quiet.output  # none of the ISS's 85


def test_maneuvers_record_stores_events_with_evidence(runner, tmp_path):
    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    res = runner.invoke(app, ["maneuvers", str(ISS_HISTORY), "-o", str(tmp_path / "m.csv"),
                              "--record", "--db", db])
    assert res.exit_code == 0, res.output
    n_rows = len((tmp_path / "m.csv").read_text().splitlines()) - 1
    listed = runner.invoke(app, ["events", "--db", db, "--kind", "maneuver", "--since",
                                 "2023-09-08T00:00:00Z", "--until", "2023-09-09T00:00:00Z"])
    assert listed.exit_code == 0
    assert 1 <= len(listed.stdout.splitlines()) - 1 <= n_rows
    assert ",maneuver," in listed.stdout and ",25544," in listed.stdout


def test_breakups_writes_the_contract_csv_and_finds_the_2019_centaur_breakup(runner, tmp_path):
    # Atlas V Centaur 2018-079B (43652) broke up on 2019-04-06, between these snapshots.
    out = tmp_path / "breakups.csv"
    result = runner.invoke(app, ["breakups",
                                 str(DATA / "catalogs" / "spacetrack_3le_full_2019-03-23.txt.gz"),
                                 str(DATA / "catalogs" / "spacetrack_3le_full_2019-12-23.txt.gz"),
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert list(rows[0])[:3] == ["parent_norad_id", "time_utc", "n_fragments"]
    assert "43652" in {r["parent_norad_id"] for r in rows}
    assert all(r["time_utc"].endswith("Z") and len(r["time_utc"]) == 24 for r in rows)


def test_breakups_record_stores_them_as_events_with_fragment_evidence(runner, tmp_path, db_url):
    import json

    from kizuna.store.events import find_events
    from kizuna.store.session import open_store

    old, new = (DATA / "catalogs" / f"spacetrack_3le_full_{d}.txt.gz"
                for d in ("2019-03-23", "2019-12-23"))
    result = runner.invoke(app, ["breakups", str(old), str(new), "-o", str(tmp_path / "b.csv"),
                                 "--record", "--db", db_url])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((tmp_path / "b.csv").read_text().splitlines()))
    listed = runner.invoke(app, ["events", "--db", db_url, "--kind", "breakup", "--norad",
                                 "43652"])
    assert listed.exit_code == 0 and ",breakup," in listed.stdout
    with open_store(db_url) as store, store.begin() as session:
        stored = find_events(session=session, kind="breakup")
    assert len(stored) == len(rows)
    centaur = next(e for e in stored if e.primary_norad_id == 43652)
    evidence = centaur.evidence if isinstance(centaur.evidence, dict) else json.loads(
        centaur.evidence)
    row = next(r for r in rows if r["parent_norad_id"] == "43652")
    assert centaur.n_fragments == int(row["n_fragments"]) == len(evidence["fragment_ids"])
    assert evidence["element_sets"][0]["norad_id"] == 43652


def test_screen_with_pc_writes_pc_columns_and_conjunctions_gives_them_back(
    runner, tmp_path, db_url
):
    from kizuna.api import load_catalog
    from kizuna.collision.screening_pc import pc_for_events
    from kizuna.screening import screen

    out = tmp_path / "pc.csv"
    args = ["screen", str(IRIDIUM33_DEBRIS), "--days", "1", "--threshold-km", "50"]
    result = runner.invoke(app, [*args, "--pc", "-o", str(out), "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "highest Pc" in result.output
    text = out.read_text()
    lines = text.splitlines()
    assert lines[0].endswith(",cross_track_km,pc,pc_method")
    # Without the two columns it is exactly the contract CSV of the same screen.
    snapshot, _ = load_catalog(IRIDIUM33_DEBRIS)
    engine = screen(snapshot, duration_s=86400.0, threshold_km=50.0, workers=1)
    plain = [",".join(line.split(",")[:8]) for line in lines]
    assert "\n".join(plain) + "\n" == engine.to_csv()
    pc, pm, _ = pc_for_events(engine.events, snapshot, engine.start)
    rows = list(csv.DictReader(lines))
    assert [r["pc_method"] for r in rows] == list(pm)
    assert [float(r["pc"]) for r in rows] == pytest.approx(list(pc), rel=1e-6)
    stored = runner.invoke(app, ["conjunctions", "--run", "1", "--db", db_url])
    assert stored.exit_code == 0 and stored.stdout == text
    # A run screened without --pc still exports the plain contract CSV.
    plain_run = runner.invoke(app, [*args, "-o", str(tmp_path / "plain.csv"), "--db", db_url])
    assert plain_run.exit_code == 0
    again = runner.invoke(app, ["conjunctions", "--run", "2", "--db", db_url])
    assert again.stdout == (tmp_path / "plain.csv").read_text() == engine.to_csv()


def test_cdm_writes_one_readable_cdm_per_selected_conjunction(runner, tmp_path, db_url):
    from kizuna.ccsds.cdm import cdm_states_inertial, read_cdm
    from kizuna.collision.pc_cdm import pc_from_cdm

    out = tmp_path / "pc.csv"
    args = ["screen", str(IRIDIUM33_DEBRIS), "--days", "1", "--threshold-km", "50", "--pc",
            "-o", str(out), "--db", db_url]
    assert runner.invoke(app, args).exit_code == 0
    rows = list(csv.DictReader(out.read_text().splitlines()))
    close = [r for r in rows if float(r["miss_km"]) <= 5.0]
    likely = [r for r in rows if r["pc"] and float(r["pc"]) >= 1e-12]
    expected = {(r["primary_norad_id"], r["secondary_norad_id"], r["tca_utc"])
                for r in close + likely}
    assert close and expected
    cdm_args = ["cdm", "--run", "1", "--db", db_url, "--max-miss-km", "5", "--min-pc", "1e-12",
                "--creation-date", "2026-11-23T00:00:00Z", "--catalog", str(IRIDIUM33_DEBRIS)]
    first = runner.invoke(app, [*cdm_args, "-o", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    files = sorted((tmp_path / "a").iterdir())
    assert [str(f) for f in files] == sorted(first.stdout.split())
    assert len(files) == len(expected)
    from kizuna.timelib import parse_utc

    for f in files:
        p, s, _ = f.stem.split("_")
        assert f.suffix == ".cdm"
        message = read_cdm(f)
        assert message.message_id == f.stem and message.version == "1.0"
        # The CSV row of this pair whose millisecond TCA is within 0.5 ms of the CDM's.
        [row] = [r for r in rows if (r["primary_norad_id"], r["secondary_norad_id"]) == (p, s)
                 and abs((parse_utc(r["tca_utc"]) - message.tca).total_seconds()) <= 5e-4]
        assert (p, s, row["tca_utc"]) in expected
        r1, _, _, r2, _, _ = cdm_states_inertial(message)
        assert abs(float(((r2 - r1) ** 2).sum()) ** 0.5 - float(row["miss_km"])) < 1e-3
        [(_, res)] = pc_from_cdm(message)
        if row["pc"]:
            assert res.pc == pytest.approx(float(row["pc"]), rel=1e-5)  # CSV has 7 digits
    # Same inputs, same bytes; XML on request.
    second = runner.invoke(app, [*cdm_args, "-o", str(tmp_path / "b")])
    assert second.exit_code == 0
    assert [f.read_bytes() for f in files] == [
        (tmp_path / "b" / f.name).read_bytes() for f in files]
    xml = runner.invoke(app, [*cdm_args, "--format", "xml", "-o", str(tmp_path / "x")])
    assert xml.exit_code == 0
    assert all((tmp_path / "x" / f.name).read_text().startswith("<?xml") for f in files)
    assert read_cdm(tmp_path / "x" / files[0].name) == read_cdm(files[0])


def test_cdm_refuses_a_catalog_that_is_not_the_runs_and_needs_a_criterion(
    runner, tmp_path, db_url
):
    args = ["screen", str(IRIDIUM33_DEBRIS), "--days", "1", "--threshold-km", "50",
            "-o", str(tmp_path / "c.csv"), "--db", db_url]
    assert runner.invoke(app, args).exit_code == 0
    base = ["cdm", "--run", "1", "--db", db_url, "-o", str(tmp_path / "out")]
    none = runner.invoke(app, base)
    assert none.exit_code == 2 and "--min-pc" in none.output
    # The run screened files, not the (empty) store: rebuilding from the store must refuse.
    wrong = runner.invoke(app, [*base, "--max-miss-km", "5"])
    assert wrong.exit_code == 2 and "digest" in wrong.output and "--catalog" in wrong.output
    other = DATA / "catalogs" / "debris-clouds" / "gp-debris-fengyun1c.json.gz"
    if other.exists():
        bad = runner.invoke(app, [*base, "--max-miss-km", "5", "--catalog", str(other)])
        assert bad.exit_code == 2 and "digest" in bad.output
    # Without --pc at screen time, --min-pc uses the Pc computed now.
    ok = runner.invoke(app, [*base, "--min-pc", "1e-300", "--catalog", str(IRIDIUM33_DEBRIS)])
    assert ok.exit_code == 0, ok.output
    assert len(ok.stdout.split()) >= 1
    missing = runner.invoke(app, ["cdm", "--run", "7", "--db", db_url, "--max-miss-km", "5",
                                  "-o", str(tmp_path / "out")])
    assert missing.exit_code == 2 and "no screening run 7" in missing.output


def test_cdm_rebuilds_the_snapshot_from_the_store_until_the_store_changes(
    runner, tmp_path, db_url
):
    assert runner.invoke(app, ["ingest", str(IRIDIUM33_DEBRIS), "--db", db_url]).exit_code == 0
    screened = runner.invoke(app, ["screen", "--db", db_url, "--days", "1", "--threshold-km",
                                   "50", "--pc", "-o", str(tmp_path / "s.csv")])
    assert screened.exit_code == 0, screened.output
    rows = list(csv.DictReader((tmp_path / "s.csv").read_text().splitlines()))
    n_close = sum(float(r["miss_km"]) <= 10.0 for r in rows)
    args = ["cdm", "--run", "1", "--db", db_url, "--max-miss-km", "10", "-o",
            str(tmp_path / "out")]
    ok = runner.invoke(app, args)
    assert ok.exit_code == 0, ok.output
    assert len(ok.stdout.split()) == n_close > 0
    # New element sets in the store: the snapshot is no longer the run's.
    other = DATA / "catalogs" / "debris-clouds" / "gp-debris-cosmos2251.json.gz"
    assert runner.invoke(app, ["ingest", str(other), "--db", db_url]).exit_code == 0
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2 and "digest" in refused.output


# ------------------------------------------------------------------ proximity + maneuver history

ISS_REBOOSTS = DATA / "tle-history" / "iss_reboosts_published_2020-2025.csv"
ISS, NAUKA, CYGNUS_NG19 = 25544, 49044, 57488


def _catalog_subset(tmp_path, src, ids, name="subset.txt"):
    """The 3LE records of these objects from a gzip catalog, as a new file."""
    with gzip.open(src, "rt") as fh:
        lines = fh.read().splitlines()
    keep = [x for k, line in enumerate(lines) if line.startswith(tuple(f"1 {i}" for i in ids))
            for x in lines[k - 1:k + 2]]
    assert len(keep) == 3 * len(ids)
    path = tmp_path / name
    path.write_text("\n".join(keep) + "\n")
    return path


def _utc_days(text: str) -> float:
    """Days since 2000-01-01T12:00Z of an ISO time ('Z' or offset)."""
    from datetime import UTC, datetime

    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (when - datetime(2000, 1, 1, 12, tzinfo=UTC)).total_seconds() / 86400.0


def _largest_sma_rise_km(first_utc: str, last_utc: str) -> float:
    """Largest rise of the ISS semi-major axis (from the TLE mean motion, Kozai) between
    consecutive element sets with epochs in [first, last]: a reboost shows as a km-size rise,
    drag only ever lowers it (an independent look at the raw history)."""
    from kizuna.catalog.reader import read_catalog

    sets = read_catalog(ISS_HISTORY).element_sets
    t = np.array([(es.epoch_jd - 2451545.0) + es.epoch_fr for es in sets])
    n_rad_s = np.array([es.mean_motion_rev_day for es in sets]) * 2 * np.pi / 86400.0
    order = np.argsort(t)
    t, a_km = t[order], (398600.8 / n_rad_s[order] ** 2) ** (1 / 3)
    m = (t >= _utc_days(first_utc)) & (t <= _utc_days(last_utc))
    assert m.sum() >= 10
    return float(np.diff(a_km[m]).max())


def _rows_by_other(path):
    return {r["other_norad_id"]: r for r in csv.DictReader(path.read_text().splitlines())}


def test_proximity_flags_the_published_iss_reboost_before_the_approach_from_files_and_store(
    runner, tmp_path
):
    import os
    from datetime import UTC, datetime, timedelta

    # Cygnus NG-19 (protected) with the ISS and its Nauka module, as catalogued on
    # 2023-09-09 (Cygnus and Nauka share a set of 2023-09-04, the ISS set is of 2023-09-05).
    cat = _catalog_subset(tmp_path, CATALOG_2023, (ISS, NAUKA, CYGNUS_NG19))
    published = next(r for r in csv.DictReader(ISS_REBOOSTS.read_text().splitlines())
                     if r["burn_start_utc"].startswith("2023-09-08"))
    burn_mid = (datetime.fromisoformat(published["burn_start_utc"]).replace(tzinfo=UTC)
                + timedelta(seconds=float(published["burn_duration_s"]) / 2))
    # the raw history: the ISS orbit rose by km between the sets around the reboost
    assert _largest_sma_rise_km("2023-09-06T00:00:00Z", "2023-09-10T00:00:00Z") > 3.0

    args = ["proximity", str(cat), "--protected", str(CYGNUS_NG19), "--start",
            "2023-09-09T00:00:00Z", "--days", "1", "--workers", "1"]
    from_files = tmp_path / "files.csv"
    res = runner.invoke(app, [*args, "--history", str(ISS_HISTORY), "-o", str(from_files)])
    assert res.exit_code == 0, res.output
    rows = _rows_by_other(from_files)
    assert set(rows) == {str(ISS), str(NAUKA)}
    iss = rows[str(ISS)]
    assert iss["kind"] == "proximity"
    assert (iss["maneuver_before"], iss["maneuver_checked"]) == ("true", "true")
    burn = datetime.fromisoformat(iss["maneuver_utc"].replace("Z", "+00:00"))
    assert abs(burn - burn_mid) < timedelta(hours=1)  # measured: 20 min after mid-burn
    # inside the LEO look-back (3 days before the start .. the closest approach)
    closest = datetime.fromisoformat(iss["min_range_utc"].replace("Z", "+00:00"))
    assert datetime(2023, 9, 6, tzinfo=UTC) <= burn <= closest
    assert 1.5 < float(iss["maneuver_delta_v_m_s"]) < 2.5  # the burn was 1314 s of thrust
    assert iss["maneuver_kind"] == "raise"  # a reboost
    assert rows[str(NAUKA)]["maneuver_kind"] == ""
    # Nauka has no history at all: not flagged, and the CSV says it could not be checked
    assert (rows[str(NAUKA)]["maneuver_before"], rows[str(NAUKA)]["maneuver_checked"]) == (
        "false", "false")
    # the default store was neither needed nor created
    assert not (Path(os.environ["KIZUNA_DATA_DIR"]) / "kizuna.sqlite").exists()

    # Same history ingested into a store: --db alone gives the same CSV.
    db = f"sqlite:///{tmp_path / 'history.sqlite'}"
    assert runner.invoke(app, ["ingest", str(ISS_HISTORY), "--db", db]).exit_code == 0
    from_store = tmp_path / "store.csv"
    res = runner.invoke(app, [*args, "--db", db, "-o", str(from_store)])
    assert res.exit_code == 0, res.output
    assert "store history:" in res.output
    assert from_store.read_text() == from_files.read_text()
    off = runner.invoke(app, [*args, "--db", db, "--no-store-history", "-o", str(from_store)])
    assert off.exit_code == 0
    assert _rows_by_other(from_store)[str(ISS)]["maneuver_before"] == "false"


def test_proximity_without_a_maneuver_in_the_look_back_is_not_flagged(runner, tmp_path):
    cat = _catalog_subset(tmp_path, CATALOG_2023, (ISS, NAUKA, CYGNUS_NG19))
    out = tmp_path / "p.csv"
    # default start: the newest epoch of these three sets, the ISS set of 2023-09-05T05:10Z
    res = runner.invoke(app, ["proximity", str(cat), "--protected", str(CYGNUS_NG19),
                              "--days", "1", "--workers", "1", "--history", str(ISS_HISTORY),
                              "-o", str(out)])
    assert res.exit_code == 0, res.output
    iss = _rows_by_other(out)[str(ISS)]
    start, end = iss["start_utc"], iss["end_utc"]
    assert start.startswith("2023-09-05T05:10")
    # references: no published correction in [start - 3 d, end], and the raw history
    # shows no rise of the orbit there (drag only)
    look_back = _utc_days(start) - 3.0
    for r in csv.DictReader(ISS_REBOOSTS.read_text().splitlines()):
        assert not look_back <= _utc_days(r["burn_start_utc"][:16] + ":00Z") <= _utc_days(end)
    assert _largest_sma_rise_km("2023-09-02T05:10:00Z", end) < 0.1
    assert (iss["maneuver_before"], iss["maneuver_checked"]) == ("false", "true")
    assert iss["maneuver_utc"] == ""


def test_screen_pc_no_record_never_creates_or_writes_a_store(runner, tmp_path):
    import dataclasses
    import hashlib
    import os

    from kizuna.api import load_catalog
    from kizuna.collision.screening_pc import model_for, pc_for_events
    from kizuna.screening import screen
    from kizuna.store.covariances import save_covariance_models
    from kizuna.store.session import open_store

    args = ["screen", str(IRIDIUM33_DEBRIS), "--days", "0.5", "--threshold-km", "20",
            "--workers", "1", "--pc", "--no-record"]
    snapshot, _ = load_catalog(IRIDIUM33_DEBRIS)
    engine = screen(snapshot, duration_s=43200.0, threshold_km=20.0, workers=1)
    assert len(engine.events) >= 5

    def pcs(path):
        return [float(r["pc"]) for r in csv.DictReader(path.read_text().splitlines())]

    # 1. no --db: no store opened, every object gets its documented default model
    default_store = Path(os.environ["KIZUNA_DATA_DIR"]) / "kizuna.sqlite"
    out = tmp_path / "defaults.csv"
    res = runner.invoke(app, [*args, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert not default_store.exists() and "recorded as run" not in res.output
    pc_default, _, _ = pc_for_events(engine.events, snapshot, engine.start, models={})
    assert pcs(out) == pytest.approx(list(pc_default), rel=1e-6)

    # 2. --db naming a store that does not exist: not created (nor its folder)
    missing = tmp_path / "nowhere" / "k.sqlite"
    res = runner.invoke(app, [*args, "-o", str(tmp_path / "b.csv"), "--db", f"sqlite:///{missing}"])
    assert res.exit_code == 0, res.output
    assert "no store at" in res.output and not missing.parent.exists()
    assert pcs(tmp_path / "b.csv") == pcs(out)

    # 3. an existing store with a fitted model for one object: read, and left unchanged
    path = tmp_path / "s.sqlite"
    url = f"sqlite:///{path}"
    target = int(engine.events["primary_norad_id"][0])
    base = model_for(snapshot, target)
    wide = dataclasses.replace(base, source="history", coefficients=tuple(
        tuple(3.0 * x for x in row) for row in base.coefficients))
    with open_store(url) as store, store.begin_write() as session:
        save_covariance_models(session=session, models=[wide])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    out3 = tmp_path / "fitted.csv"
    res = runner.invoke(app, [*args, "-o", str(out3), "--db", url])
    assert res.exit_code == 0, res.output
    assert "1 of" in res.output  # "1 of N objects with a covariance fitted"
    pc_fitted, _, _ = pc_for_events(engine.events, snapshot, engine.start,
                                    models={target: wide})
    assert pcs(out3) == pytest.approx(list(pc_fitted), rel=1e-6)
    assert pcs(out3) != pcs(out)  # the stored model changed the answer
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    with open_store(url, upgrade_schema=False) as store, store.begin() as session:
        from sqlalchemy import text

        assert session.execute(text("SELECT count(*) FROM runs")).scalar() == 0

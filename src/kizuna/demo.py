"""``kizuna demo``: the main job on the bundled data.

Ingests the bundled CelesTrak active catalog and the UCS owner database into
a fresh SQLite store, prints the catalog summary, propagates the whole
catalog over one orbit, screens it all-vs-all for one day (with the Pc of
every close approach and CDMs of the highest), looks for
proximity operations around the allied assets (a TOML list, default
``data/allied_assets.toml``), ingests a Space-Track element-set history of the
ISS and detects its maneuvers from the store, and writes the reports to the
output folder.
"""

from __future__ import annotations

import json
import time
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from kizuna import frames
from kizuna.ccsds.cdm import write_cdm
from kizuna.ccsds.oem import write_oem
from kizuna.collision.cdm_out import cdm_for_event
from kizuna.collision.screening_csv import screening_csv_with_pc
from kizuna.collision.screening_pc import pc_for_events
from kizuna.detection.maneuvers import detect_maneuvers
from kizuna.detection.proximity import proximity_report
from kizuna.errors import ConfigError
from kizuna.ingest import ingest_files
from kizuna.propagation.ephemeris import Ephemeris, error_summary
from kizuna.propagation.sgp4 import SGP4_ERRORS, propagate_snapshot
from kizuna.report import print_screening, print_summary
from kizuna.screening import screen
from kizuna.store import repository
from kizuna.store.events import record_maneuvers, record_proximity
from kizuna.store.screenings import record_screening
from kizuna.store.session import open_store
from kizuna.timelib import iso_utc_ms, time_grid

BUNDLED_FILES = (
    "celestrak_active_gp_2026-07-12.csv.gz",
    "UCS-Satellite-Database_2021-pandas-export.csv.gz",
)
ISS_NORAD_ID = 25544
SCREEN_DAYS = 1.0
SCREEN_THRESHOLD_KM = 5.0
PROXIMITY_DAYS = 1.0
N_CDMS = 5
ASSETS_FILE = "allied_assets.toml"
# Space-Track history of the ISS, 2025-09-27 to 2025-12-25 (DATA_SOURCES.md).
ISS_HISTORY_FILE = "iss_25544_spacetrack_omm_2025-09-27_to_2025-12-25.json.gz"


def bundled_path(name: str) -> Path:
    """Path of a data file shipped inside the package."""
    return Path(str(resources.files("kizuna") / "data" / name))


def load_assets(path: Path | None = None) -> list[dict[str, object]]:
    """Protected assets from a TOML file (``[[asset]]`` tables with ``norad_id``, ``name``,
    ``nation``); default the bundled list of allied satellites."""
    path = path or bundled_path(ASSETS_FILE)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the asset list: {exc}") from exc
    assets = data.get("asset")
    if not isinstance(assets, list) or not assets:
        raise ConfigError(f"{path}: no [[asset]] tables; each needs norad_id = <int>")
    for k, asset in enumerate(assets, start=1):
        if not isinstance(asset.get("norad_id"), int):
            raise ConfigError(f"{path}: asset {k}: norad_id must be an integer")
    return assets


def run_demo(
    out: Path, *, console: Console, progress: Callable[[], Progress],
    assets_file: Path | None = None,
) -> dict[str, object]:
    """Run the demo into ``out`` and return what it reported (also in ``summary.json``)."""
    out.mkdir(parents=True, exist_ok=True)
    db_path = out / "kizuna.sqlite"
    for stale in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        stale.unlink(missing_ok=True)
    db_url = f"sqlite:///{db_path.resolve()}"
    timings: dict[str, float] = {}

    console.rule("[bold]Kizuna demo: the allied catalog")
    t0 = time.perf_counter()
    files = [bundled_path(name) for name in BUNDLED_FILES]
    with progress() as bar:
        task = bar.add_task("ingesting", total=len(files))
        outcomes = ingest_files(
            files, db_url=db_url, origin="celestrak",
            progress=lambda e: bar.advance(task) if e.stage == "done" else None,
        )
    timings["ingest_s"] = time.perf_counter() - t0
    for outcome in outcomes:
        report = outcome.report
        if report is None:
            console.print(f"[red]{outcome.path}: {outcome.error}[/]")
            continue
        console.print(
            f"ingested {Path(outcome.path).name}: {report.format}, {report.n_records:,} records, "
            f"{report.n_element_sets_added:,} element sets, {report.n_objects_upserted:,} "
            f"objects, {report.n_rejected} rejected"
        )
    console.print(f"ingest took {timings['ingest_s']:.2f} s")

    with open_store(db_url) as store, store.begin() as session:
        summary = repository.catalog_summary(session=session)
        snapshot = repository.load_snapshot(session=session)
    print_summary(summary, console)

    # One ISS orbit (~93 min) of the whole catalog from the newest epoch.
    console.rule("[bold]SGP4 over the whole catalog")
    start = max(es.epoch for es in snapshot.element_sets)
    jd, fr = time_grid(start, 93 * 60.0, 60.0)
    t0 = time.perf_counter()
    eph = propagate_snapshot(snapshot, jd, fr)
    timings["propagate_s"] = time.perf_counter() - t0
    n_states = int(eph.error.size)
    errors = error_summary(eph.error)
    console.print(
        f"{eph.n_obj:,} objects x {eph.n_time} times = {n_states:,} states from "
        f"{iso_utc_ms(jd[0], fr[0])} in {timings['propagate_s']:.2f} s "
        f"({n_states / timings['propagate_s'] / 1e6:.2f} M states/s)"
    )
    for code, n in sorted(errors.items()):
        console.print(f"  {n} objects fail with SGP4 error {code}: {SGP4_ERRORS.get(code, '?')}")

    iss_track: list[dict[str, object]] = []
    if ISS_NORAD_ID in set(eph.norad_id.tolist()):
        row = eph.row(ISS_NORAD_ID)
        r_itrf_km, _ = frames.teme_to_itrf(eph.r_teme_km[row], None, jd, fr)
        lat_rad, lon_rad, alt_km = frames.itrf_to_geodetic(r_itrf_km)
        stamps = iso_utc_ms(jd, fr)
        for k in range(0, eph.n_time, 15):
            iss_track.append({
                "time_utc": str(stamps[k]),
                "lat_deg": round(float(np.degrees(lat_rad[k])), 3),
                "lon_deg": round(float(np.degrees(lon_rad[k])), 3),
                "alt_km": round(float(alt_km[k]), 3),
            })
        console.print("ISS ground track (every 15 min):")
        for point in iss_track:
            console.print(
                f"  {point['time_utc']}  lat {point['lat_deg']:8.3f}  lon {point['lon_deg']:9.3f}"
                f"  alt {point['alt_km']:7.1f} km"
            )
        iss = Ephemeris(
            norad_id=eph.norad_id[row:row + 1], jd=jd, fr=fr, r_teme_km=eph.r_teme_km[row:row + 1],
            v_teme_km_s=eph.v_teme_km_s[row:row + 1], error=eph.error[row:row + 1],
        )
        obj = snapshot.objects.get(ISS_NORAD_ID)
        designator = obj.intl_designator if obj is not None else None
        write_oem(
            iss, out / "iss_25544.oem",
            object_names={ISS_NORAD_ID: snapshot.name(ISS_NORAD_ID) or "ISS"},
            object_ids={ISS_NORAD_ID: designator} if designator else None,
        )

    # Conjunction screening of the whole bundled catalog over one day.
    console.rule("[bold]Conjunction screening, all-vs-all")
    t0 = time.perf_counter()
    started_at = datetime.now(UTC)
    screening = screen(snapshot, start=start, duration_s=SCREEN_DAYS * 86400.0,
                       threshold_km=SCREEN_THRESHOLD_KM)
    timings["screen_s"] = time.perf_counter() - t0
    # Pc of every close approach: the bundled catalog has one element set per object, so
    # the covariances are the documented defaults by regime and type (no history to fit)
    t0 = time.perf_counter()
    pc, pc_method, _ = pc_for_events(screening.events, snapshot, screening.start)
    timings["pc_s"] = time.perf_counter() - t0
    screening_csv_with_pc(screening, pc, pc_method, out / "conjunctions.csv")
    print_screening(screening, snapshot, console, top=10, pc=pc)
    with open_store(db_url) as store, store.begin_write() as session:
        run_id = record_screening(
            session=session, result=screening, snapshot=snapshot, started_at=started_at,
            catalog_source={"store": db_url, "files": [f.name for f in files]},
            pc=pc, pc_method=pc_method,
            pc_parameters={"method": "foster", "covariance": "default models"},
        )
    console.print(f"recorded as screening run {run_id} in the demo store")
    # CDMs of the highest-Pc approaches (creation date = window start: reproducible files)
    cdm_dir = out / "cdm"
    cdm_dir.mkdir(exist_ok=True)
    for stale in cdm_dir.glob("*.cdm"):
        stale.unlink()
    ranked = [k for k in np.argsort(-np.nan_to_num(pc, nan=-1.0), kind="stable")
              if np.isfinite(pc[k]) and pc[k] > 0][:N_CDMS]
    cdm_files = []
    for k in ranked:
        ev = screening.events[k]
        message = cdm_for_event(ev, snapshot, screening.start, pc=float(pc[k]),
                                pc_method=str(pc_method[k]), creation_date=screening.start,
                                duration_s=screening.duration_s,
                                threshold_km=screening.threshold_km)
        name = f"{message.message_id}.cdm"
        write_cdm(message, cdm_dir / name)
        cdm_files.append(name)
    console.print(f"{len(cdm_files)} CDMs (highest Pc) in {cdm_dir}/")

    # Proximity operations around the allied assets (config file, default bundled list).
    console.rule("[bold]Proximity operations near allied assets")
    assets = load_assets(assets_file)
    present = set(snapshot.norad_id.tolist())
    protected = [int(a["norad_id"]) for a in assets if int(a["norad_id"]) in present]
    for a in assets:
        if int(a["norad_id"]) not in present:
            console.print(f"  asset {a['norad_id']} {a.get('name', '')} is not in the catalog")
    t0 = time.perf_counter()
    prox = proximity_report(snapshot, protected, start=start, days=PROXIMITY_DAYS)
    timings["proximity_s"] = time.perf_counter() - t0
    prox.to_csv(out / "proximity.csv")
    console.print(f"{len(prox.events)} proximity events around {len(protected)} assets over "
                  f"{PROXIMITY_DAYS:g} day(s) in {timings['proximity_s']:.1f} s")
    if prox.events:
        table = Table(title="Proximity events", title_justify="left")
        for col in ("asset", "other", "kind", "min range km", "motion"):
            table.add_column(col, justify="right" if "km" in col else "left")
        for e in sorted(prox.events, key=lambda e: (e.min_range_km, e.other_norad_id))[:15]:
            table.add_row(f"{e.protected_norad_id} {snapshot.name(e.protected_norad_id) or ''}",
                          f"{e.other_norad_id} {snapshot.name(e.other_norad_id) or ''}",
                          e.kind, f"{e.min_range_km:.2f}", e.motion)
        console.print(table)
    with open_store(db_url) as store, store.begin_write() as session:
        n_stored = len(record_proximity(session=session, report=prox))
    console.print(f"stored {n_stored} events in the demo store (kizuna events --db ...)")

    # Maneuvers of the ISS from its element-set history, read back from the store.
    console.rule("[bold]Maneuvers in the ISS element-set history")
    history_path = bundled_path(ISS_HISTORY_FILE)
    t0 = time.perf_counter()
    (outcome,) = ingest_files([history_path], db_url=db_url, origin="spacetrack")
    if outcome.report is None:
        raise ConfigError(f"{history_path}: {outcome.error}")
    with open_store(db_url) as store, store.begin() as session:
        history = repository.element_set_history(session=session, norad_id=ISS_NORAD_ID)
    maneuvers = detect_maneuvers(history, norad_id=ISS_NORAD_ID)
    with open_store(db_url) as store, store.begin_write() as session:
        n_maneuvers_stored = len(record_maneuvers(session=session, result=maneuvers,
                                                  history=history))
    timings["maneuvers_s"] = time.perf_counter() - t0
    maneuvers.to_csv(out / "maneuvers.csv")
    maneuver_rows = maneuvers.rows()
    console.print(
        f"{ISS_HISTORY_FILE}: {outcome.report.n_element_sets_added:,} new element sets; "
        f"{maneuvers.n_sets_used:,} usable sets of the ISS in the store "
        f"({maneuvers.n_duplicates} duplicates dropped), {len(maneuvers)} maneuvers, "
        f"stored as events")
    if maneuver_rows:
        table = Table(title="ISS maneuvers", title_justify="left")
        for col in ("burn time (UTC)", "time sigma", "kind", "delta-a km", "delta-v m/s",
                    "score"):
            table.add_column(col, justify="left" if col in ("burn time (UTC)", "kind")
                             else "right")
        for row in maneuver_rows:
            table.add_row(str(row["time_utc"]), f"{float(row['time_sigma_s']) / 60:.0f} min",
                          str(row["kind"]), str(row["delta_a_km"]), str(row["delta_v_m_s"]),
                          str(row["score"]))
        console.print(table)

    report = {
        "catalog": summary,
        "propagation": {
            "start_utc": str(iso_utc_ms(jd[0], fr[0])),
            "n_objects": eph.n_obj,
            "n_times": eph.n_time,
            "objects_with_sgp4_errors": {str(k): v for k, v in sorted(errors.items())},
        },
        "iss_ground_track": iss_track,
        "screening": {
            "days": SCREEN_DAYS,
            "threshold_km": SCREEN_THRESHOLD_KM,
            "run_id": run_id,
            "n_events": len(screening),
            "n_objects_skipped": screening.summary.n_failed,
            "closest_miss_km": round(float(screening.events["miss_km"].min()), 6)
            if len(screening) else None,
            "max_pc": float(np.nanmax(pc)) if np.isfinite(pc).any() else None,
            "cdm_files": cdm_files,
        },
        "proximity": {
            "days": PROXIMITY_DAYS,
            "assets": protected,
            "n_events": len(prox.events),
            "events": [{"asset": e.protected_norad_id, "other": e.other_norad_id,
                        "kind": e.kind, "min_range_km": round(float(e.min_range_km), 3)}
                       for e in prox.events],
        },
        "maneuvers": {
            "history_file": ISS_HISTORY_FILE,
            "norad_id": ISS_NORAD_ID,
            "n_sets_used": maneuvers.n_sets_used,
            "n_stored": n_maneuvers_stored,
            "detections": maneuver_rows,
        },
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
    (out / "summary.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    console.print(f"reports in {out}/: summary.json, conjunctions.csv (with Pc), cdm/, "
                  "proximity.csv, maneuvers.csv, iss_25544.oem; "
                  f"store {db_path}")
    return report

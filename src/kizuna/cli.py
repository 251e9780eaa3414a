"""Command line: thin wrappers over :mod:`kizuna.api`.

Results go to files or stdout; summaries, progress and errors go to stderr,
so output can be piped. Exit codes: 0 success, 1 some records rejected (the
good ones were used), 2 unusable input or a caller mistake.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kizuna.errors import KizunaError, Rejection, StoreUnavailableError

app = typer.Typer(
    help="Kizuna: allied space domain awareness (catalog, SGP4 propagation, screening).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(help="Query the stored catalog.", no_args_is_help=True)
db_app = typer.Typer(help="Store administration.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(db_app, name="db")

# Rich assumes 80 columns when output is not a terminal; reports are wider.
REPORT_WIDTH = 150
err = Console(stderr=True, highlight=False, soft_wrap=True,
              width=None if sys.stderr.isatty() else REPORT_WIDTH)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store URL (sqlite:///file.sqlite or postgresql+psycopg://user@host/db); "
        "default KIZUNA_DB_URL, else a SQLite file under KIZUNA_DATA_DIR.",
    ),
]
ViewerOption = Annotated[
    str | None,
    typer.Option("--viewer", help="Show only records releasable to this nation (e.g. JPN, USA)."),
]
MAX_REJECTIONS_SHOWN = 20
# Object-times per propagated CSV chunk: 49 bytes each, so about 1 GB.
CSV_SAMPLES_PER_CHUNK = 20_000_000


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def _print_rejections(rejected: list[Rejection]) -> None:
    for rejection in rejected[:MAX_REJECTIONS_SHOWN]:
        err.print(f"  rejected {rejection}", markup=False)
    if len(rejected) > MAX_REJECTIONS_SHOWN:
        err.print(f"  ... and {len(rejected) - MAX_REJECTIONS_SHOWN} more rejected records")


def _parse_time(text: str | None) -> datetime | None:
    from kizuna.timelib import parse_utc

    if text is None:
        return None
    try:
        return parse_utc(text)
    except KizunaError as exc:
        _fail(str(exc))
    raise AssertionError  # unreachable; _fail exits


def _parse_ids(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        _fail(f"--ids {text!r}: give comma-separated NORAD catalog numbers, e.g. 25544,43013")
    raise AssertionError


# ------------------------------------------------------------------ ingest


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Catalog files: TLE/3LE, OMM "
                                                "(KVN/XML/JSON/CSV), SATCAT or UCS CSV; gzip ok.")],
    db: DbOption = None,
    origin: Annotated[str, typer.Option(help="Data provider label (part of the dedupe key "
                                        "norad_id + epoch + origin).")] = "public",
    releasable_to: Annotated[str, typer.Option(help="ALL, or nation codes allowed to see "
                                               "these records, e.g. JPN,USA.")] = "ALL",
) -> None:
    """Parse and store catalog files, one transaction per file.

    Exit code 0 when every record was stored, 1 when some records were
    rejected (the good ones are stored), 2 when some file was unusable.
    """
    from kizuna.ingest import exit_code, ingest_files, summarize

    with _progress() as progress:
        task = progress.add_task("ingesting", total=len(paths))

        def on_progress(event: object) -> None:
            stage = event.stage
            progress.update(task, description=f"{stage} {Path(event.path).name}")
            if stage == "done":
                progress.advance(task)

        try:
            outcomes = ingest_files(
                paths, db_url=db, origin=origin, releasable_to=releasable_to,
                progress=on_progress,
            )
        except KizunaError as exc:
            _fail(str(exc))
    for outcome in outcomes:
        err.print(summarize([outcome]), markup=False)
        _print_rejections(list(outcome.rejected))
    raise typer.Exit(exit_code(outcomes))


# ------------------------------------------------------------------ catalog


def _open(db: str | None):  # -> Store, imported lazily for a fast --help
    from kizuna.store.session import open_store

    try:
        return open_store(db)
    except KizunaError as exc:
        _fail(str(exc))
    raise AssertionError


@catalog_app.command("summary")
def catalog_summary(
    db: DbOption = None,
    as_of: Annotated[str | None, typer.Option(help="ISO UTC time; default newest.")] = None,
    viewer: ViewerOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Objects per orbit regime, per type and per owner."""
    from kizuna.store.repository import catalog_summary as summarize

    when = _parse_time(as_of)
    with _open(db) as store, store.begin() as session:
        summary = summarize(session=session, as_of=when, releasable_to=viewer)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        from kizuna.report import print_summary

        print_summary(summary, Console())


@catalog_app.command("list")
def catalog_list(
    db: DbOption = None,
    regime: Annotated[str | None, typer.Option(help="LEO, MEO, GEO, HEO or UNKNOWN.")] = None,
    object_type: Annotated[str | None, typer.Option("--type", help="PAYLOAD, ROCKET BODY, "
                                                    "DEBRIS or UNKNOWN.")] = None,
    owner: Annotated[str | None, typer.Option(help="Owner code or country, exact.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    viewer: ViewerOption = None,
) -> None:
    """List objects (CSV on stdout: norad_id,name,intl_designator,object_type,owner)."""
    from kizuna.store.repository import count_objects, list_objects

    with _open(db) as store, store.begin() as session:
        filters = dict(regime=regime, object_type=object_type, owner=owner, releasable_to=viewer)
        rows = list_objects(session=session, limit=limit, offset=offset, **filters)
        total = count_objects(session=session, **filters)
    typer.echo("norad_id,name,intl_designator,object_type,owner")
    for o in rows:
        cells = [str(o.norad_id), o.name or "", o.intl_designator or "", o.object_type or "",
                 o.owner or ""]
        typer.echo(",".join(_csv_cell(c) for c in cells))
    err.print(f"{len(rows)} of {total} objects (offset {offset})")


def _csv_cell(text: str) -> str:
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\n') else text


@catalog_app.command("show")
def catalog_show(
    norad_id: Annotated[int, typer.Argument(help="NORAD catalog number.")],
    db: DbOption = None,
    history: Annotated[int, typer.Option(help="How many recent element sets to list.")] = 10,
    viewer: ViewerOption = None,
) -> None:
    """One object: metadata and its element-set history (newest last)."""
    from kizuna.catalog.regimes import orbit_regime
    from kizuna.store.repository import element_set_history, get_object

    with _open(db) as store, store.begin() as session:
        obj = get_object(session=session, norad_id=norad_id, releasable_to=viewer)
        sets = element_set_history(session=session, norad_id=norad_id, releasable_to=viewer)
    if obj is None and not sets:
        _fail(f"object {norad_id} is not in the store (or not releasable to {viewer})", 1)
    console = Console()
    if obj is not None:
        for label, value in (
            ("NORAD id", obj.norad_id), ("name", obj.name), ("international designator",
            obj.intl_designator), ("type", obj.object_type), ("owner", obj.owner),
            ("operator", obj.operator), ("purpose", obj.purpose),
            ("launch", obj.launch_date), ("decay", obj.decay_date),
        ):
            if value not in (None, ""):
                console.print(f"{label:>25}: {value}")
    console.print(f"{'element sets':>25}: {len(sets)}")
    if sets:
        newest = sets[-1]
        console.print(f"{'regime':>25}: "
                      f"{orbit_regime(newest.mean_motion_rev_day, newest.eccentricity)}")
        table = Table(title=f"Last {min(history, len(sets))} element sets")
        for col in ("epoch (UTC)", "n rev/day", "e", "i deg", "RAAN deg", "B*"):
            table.add_column(col, justify="right")
        for es in sets[-history:]:
            table.add_row(es.epoch.isoformat(timespec="milliseconds"),
                          f"{es.mean_motion_rev_day:.8f}", f"{es.eccentricity:.7f}",
                          f"{es.inclination_deg:.4f}", f"{es.raan_deg:.4f}", f"{es.bstar:.4e}")
        console.print(table)
        if newest.tle_line1:
            console.print(newest.tle_line1, markup=False)
            console.print(newest.tle_line2, markup=False)


# ------------------------------------------------------------------ propagate


@app.command()
def propagate(
    catalog: Annotated[list[Path] | None, typer.Argument(
        help="Catalog file(s) to propagate; omit to use the store (--db).")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Output file.")] = Path(
        "ephemeris.csv"),
    db: DbOption = None,
    ids: Annotated[str | None, typer.Option(help="Comma-separated NORAD ids; default all.")]
    = None,
    start: Annotated[str | None, typer.Option(help="ISO UTC start; default newest epoch.")]
    = None,
    hours: Annotated[float, typer.Option(min=0.0, help="Window length in hours.")] = 24.0,
    step_s: Annotated[float, typer.Option("--step-s", min=0.001, help="Step, seconds.")] = 60.0,
    frame: Annotated[str, typer.Option(help="TEME, GCRS or ITRF.")] = "TEME",
    fmt: Annotated[str, typer.Option("--format", help="csv or oem.")] = "csv",
    workers: Annotated[int | None, typer.Option(min=1, help="Processes; default all cores.")]
    = None,
    viewer: ViewerOption = None,
) -> None:
    """Ephemeris (SGP4) for some objects or the whole catalog, to CSV or CCSDS OEM.

    Objects whose SGP4 fails (e.g. decayed) are counted and left out of the
    rows where they fail; they never stop the run.
    """
    from kizuna.propagation.ephemeris import error_summary
    from kizuna.propagation.sgp4 import SGP4_ERRORS, propagate_snapshot
    from kizuna.timelib import time_grid

    fmt = fmt.lower()
    if fmt not in ("csv", "oem"):
        _fail(f"--format {fmt!r}: use csv or oem")
    if frame.upper() not in ("TEME", "GCRS", "ITRF"):
        _fail(f"--frame {frame!r}: use TEME, GCRS or ITRF")
    snapshot = _snapshot(catalog, db, viewer)
    wanted = _parse_ids(ids)
    if wanted is not None:
        missing = sorted(set(wanted) - set(snapshot.norad_id.tolist()))
        if missing:
            _fail(f"not in the catalog: {', '.join(map(str, missing))}", 1)
        snapshot = snapshot.subset(wanted)
    if len(snapshot) == 0:
        _fail("the catalog is empty: ingest a file first or pass a catalog file")
    t0 = _parse_time(start) or max(es.epoch for es in snapshot.element_sets)
    jd, fr = time_grid(t0, hours * 3600.0, step_s)

    # CSV is written in chunks of objects, which bounds memory (49 bytes per
    # sample) and drives the bar; an OEM file needs every segment at once.
    chunk = max(1, CSV_SAMPLES_PER_CHUNK // max(1, len(jd))) if fmt == "csv" else len(snapshot)
    n_rows = 0
    errors: dict[int, int] = {}
    started = time.perf_counter()
    with _progress() as progress, open(output, "w", encoding="ascii", newline="") as handle:
        task = progress.add_task("propagating", total=len(snapshot))
        for lo in range(0, len(snapshot), chunk):
            part = snapshot.subset(snapshot.norad_id[lo:lo + chunk].tolist())
            eph = propagate_snapshot(part, jd, fr, workers=workers)
            for code, n in error_summary(eph.error).items():
                errors[code] = errors.get(code, 0) + n
            if fmt == "csv":
                n_rows += eph.to_csv(handle, frame=frame, header=lo == 0, header_comment=lo == 0)
            else:
                from kizuna.ccsds.oem import write_oem

                write_oem(
                    eph, handle, frame=frame.upper(),
                    object_names={int(k): snapshot.name(int(k)) or str(k) for k in part.norad_id},
                )
                n_rows += int((eph.error == 0).sum())
            progress.advance(task, len(part))
    elapsed = time.perf_counter() - started
    err.print(
        f"{len(snapshot)} objects x {len(jd)} times -> {output} ({fmt}, {frame.upper()}), "
        f"{n_rows:,} states in {elapsed:.1f} s"
    )
    for code, n in sorted(errors.items()):
        err.print(f"  {n} objects with SGP4 error {code}: {SGP4_ERRORS.get(code, '?')}")


def _store(db: str | None, *, read_only: bool = False):  # -> Store
    """The store at ``db`` (or the default URL), opened and upgraded; with ``read_only``
    only if it already exists at the current schema, else StoreUnavailableError (the
    caller says what happens instead)."""
    if not read_only:
        return _open(db)
    from kizuna.store.session import open_existing_store

    try:
        return open_existing_store(db)
    except StoreUnavailableError:
        raise
    except KizunaError as exc:  # an unparsable URL
        _fail(str(exc))
    raise AssertionError


def _snapshot(catalog: list[Path] | None, db: str | None, viewer: str | None, *,
              as_of: datetime | None = None, read_only: bool = False):
    """The catalog files' snapshot, or the store's newest set per object at or before
    ``as_of`` (default: newest); with ``read_only`` only from a store that exists."""
    from kizuna.api import load_catalog
    from kizuna.store.repository import load_snapshot

    if catalog:
        try:
            snapshot, rejected = load_catalog(catalog)
        except KizunaError as exc:
            _fail(str(exc))
        if rejected:
            err.print(f"{len(rejected)} records rejected while reading the catalog:")
            _print_rejections(rejected)
        return snapshot
    try:
        store = _store(db, read_only=read_only)
    except StoreUnavailableError as exc:
        _fail(f"{exc}: ingest a catalog first (kizuna ingest) or pass a catalog file")
    with store, store.begin() as session:
        return load_snapshot(session=session, as_of=as_of, releasable_to=viewer)


# ------------------------------------------------------------------ screen


def _covariance_models(db: str | None, viewer: str | None, norad_ids, *,
                       read_only: bool = False):
    """Fitted covariance models of these objects from the store (--db or default); {} if
    none. With ``read_only``, {} and a note when there is no usable store."""
    from kizuna.store.covariances import load_covariance_models

    try:
        store = _store(db, read_only=read_only)
    except StoreUnavailableError as exc:
        err.print(f"{exc}: default covariance models for every object")
        return {}
    with store, store.begin() as session:
        return load_covariance_models(session=session, norad_ids=[int(i) for i in norad_ids],
                                      releasable_to=viewer)


@app.command()
def screen(
    catalog: Annotated[list[Path] | None, typer.Argument(
        help="Catalog file(s) to screen; omit to use the store (--db).")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Output CSV.")] = Path(
        "conjunctions.csv"),
    db: DbOption = None,
    start: Annotated[str | None, typer.Option(help="ISO UTC start; default newest epoch.")]
    = None,
    days: Annotated[float, typer.Option(min=0.0, help="Window length in days.")] = 7.0,
    threshold_km: Annotated[float, typer.Option("--threshold-km", min=0.0,
                                                help="Report minima closer than this.")] = 5.0,
    primary: Annotated[str | None, typer.Option(
        help="Comma-separated NORAD ids of protected assets to screen against everything "
        "else; default all-vs-all.")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Cores; default all.")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:8786): run the window's chunks on that "
        "cluster instead of this machine; same CSV.")] = None,
    top: Annotated[int, typer.Option(help="Closest approaches to list in the summary.")] = 10,
    record: Annotated[bool, typer.Option(help="Record the run and its events in the store "
                                         "(--db or the default store). --no-record never "
                                         "creates or writes a store.")] = True,
    with_pc: Annotated[bool, typer.Option(
        "--pc/--no-pc", help="Also compute each close approach's probability of collision "
        "(Foster; covariance models fitted in the store where there are, else defaults by "
        "regime and type; combined HBR from the CARA table) and add the columns "
        "pc,pc_method. The store is --db or the default one; with --no-record it is read "
        "only if it exists and --db was given or the catalog comes from it, otherwise every "
        "object gets the default model.")] = False,
    viewer: ViewerOption = None,
) -> None:
    """Conjunction screening: every close approach below the threshold in the window.

    CSV columns: primary_norad_id, secondary_norad_id, tca_utc, miss_km,
    rel_speed_km_s, radial_km, in_track_km, cross_track_km (one row per local
    minimum of distance; primary < secondary for all-vs-all); with --pc also
    pc (.6e, empty where undefined) and pc_method.
    """
    from kizuna.report import print_screening
    from kizuna.screening import screen as run_screen

    snapshot = _snapshot(catalog, db, viewer, read_only=not record)
    primaries = _parse_ids(primary)
    if primaries is not None:
        missing = sorted(set(primaries) - set(snapshot.norad_id.tolist()))
        if missing:
            _fail(f"primaries not in the catalog: {', '.join(map(str, missing))}", 1)
    if len(snapshot) == 0:
        _fail("the catalog is empty: ingest a file first or pass a catalog file")
    if days <= 0 or threshold_km <= 0:
        _fail("--days and --threshold-km must be positive")
    err.print(f"screening {len(snapshot):,} objects"
              + (f" against {len(primaries)} primaries" if primaries else " all-vs-all")
              + f", {days:g} days, {threshold_km:g} km ...")
    started_at = datetime.now(UTC)
    try:
        with _progress_bar("screening" + (f" on {scheduler}" if scheduler else "")) as tick:
            result = run_screen(
                snapshot, start=_parse_time(start), duration_s=days * 86400.0,
                threshold_km=threshold_km, primaries=primaries, workers=workers,
                scheduler=scheduler, progress=tick,
            )
    except KizunaError as exc:
        _fail(str(exc))
    pc_values = pc_methods = None
    pc_parameters: dict[str, object] = {}
    if with_pc:
        import numpy as np

        from kizuna.collision.screening_csv import screening_csv_with_pc
        from kizuna.collision.screening_pc import pc_for_events

        ev = result.events
        ids = np.unique(np.concatenate([ev["primary_norad_id"], ev["secondary_norad_id"]]))
        if not len(ids):
            models = {}
        elif record:  # the store is written anyway
            models = _covariance_models(db, viewer, ids)
        elif db is not None or not catalog:  # asked for: read it if it exists
            models = _covariance_models(db, viewer, ids, read_only=True)
        else:  # --no-record, no --db: no store at all
            models = {}
        try:
            pc_values, pc_methods, _ = pc_for_events(ev, snapshot, result.start, models=models)
        except KizunaError as exc:
            _fail(str(exc))
        pc_parameters = {"method": "foster", "hbr": "CARA table (Baars & Hall combination)",
                         "n_objects": len(ids), "n_fitted_models": len(models)}
        err.print(f"Pc of {len(ev):,} close approaches: {len(models):,} of {len(ids):,} objects "
                  "with a covariance fitted to their history, the others default models")
        screening_csv_with_pc(result, pc_values, pc_methods, output)
    else:
        result.to_csv(output)
    print_screening(result, snapshot, err, top=top, pc=pc_values)
    err.print(f"{len(result):,} close approaches -> {output}")
    if record:
        from kizuna.store.screenings import record_screening

        source: dict[str, object]
        if catalog:
            source = {"files": [{"path": str(p), "sha256": hashlib.sha256(p.read_bytes())
                                 .hexdigest()} for p in catalog]}
        else:
            source = {"store": True, "viewer": viewer}
        pc_kwargs = ({"pc": pc_values, "pc_method": pc_methods, "pc_parameters": pc_parameters}
                     if with_pc else {})
        with _open(db) as store, store.begin_write() as session:
            run_id = record_screening(session=session, result=result, snapshot=snapshot,
                                      catalog_source=source, primaries=primaries,
                                      started_at=started_at, **pc_kwargs)
            url = store.url
        err.print(f"recorded as run {run_id} in {url} (kizuna conjunctions --run {run_id})")


@contextmanager
def _progress_bar(label: str):
    """The CLI's progress bar on stderr; yields ``tick(done, total)``."""
    with _progress() as bar:
        task = bar.add_task(label, total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield tick


@app.command()
def runs(
    db: DbOption = None,
    limit: Annotated[int, typer.Option(min=1)] = 20,
) -> None:
    """Recorded analysis runs, newest first (CSV on stdout)."""
    from kizuna.store.screenings import list_runs

    with _open(db) as store, store.begin() as session:
        records = list_runs(session=session, limit=limit)
    typer.echo("run_id,kind,started_utc,status,n_events,start_utc,duration_s,threshold_km")
    for r in records:
        p = r.parameters
        typer.echo(f"{r.id},{r.kind},{r.started_at.isoformat()},{r.status},"
                   f"{p.get('summary', {}).get('n_events', '')},{p.get('start_utc', '')},"
                   f"{p.get('duration_s', '')},{p.get('threshold_km', '')}")


@app.command()
def conjunctions(
    db: DbOption = None,
    run: Annotated[int | None, typer.Option(help="Only this run.")] = None,
    norad: Annotated[int | None, typer.Option(help="Only approaches of this object.")] = None,
    start: Annotated[str | None, typer.Option(help="TCA at or after (ISO UTC).")] = None,
    end: Annotated[str | None, typer.Option(help="TCA at or before (ISO UTC).")] = None,
    max_miss_km: Annotated[float | None, typer.Option(help="Miss distance at most.")] = None,
    min_pc: Annotated[float | None, typer.Option(
        "--min-pc", help="Stored Pc at least (runs screened with --pc).")] = None,
) -> None:
    """Stored close approaches as screening CSV on stdout (with pc,pc_method for --pc runs)."""
    from kizuna.store.screenings import (
        conjunctions_csv,
        find_conjunctions,
        get_run,
        run_has_pc,
    )

    with _open(db) as store, store.begin() as session:
        records = find_conjunctions(session=session, run_id=run, norad_id=norad,
                                    start=_parse_time(start), end=_parse_time(end),
                                    max_miss_km=max_miss_km, min_pc=min_pc)
        run_record = get_run(session=session, run_id=run) if run is not None else None
    # One run: its own columns (even with no rows), so the export equals the run's CSV.
    with_pc = run_has_pc(run_record) if run_record is not None else None
    typer.echo(conjunctions_csv(records, with_pc=with_pc), nl=False)
    err.print(f"{len(records):,} close approaches")


@app.command()
def cdm(
    run: Annotated[int, typer.Option(help="Screening run id (kizuna runs).")],
    output_dir: Annotated[Path, typer.Option(
        "-o", "--output-dir", help="Folder for the CDM files (created if needed).")],
    db: DbOption = None,
    min_pc: Annotated[float | None, typer.Option(
        "--min-pc", min=0.0, max=1.0, help="Conjunctions with Pc at least this (the run's "
        "stored Pc; computed now for runs screened without --pc).")] = None,
    max_miss_km: Annotated[float | None, typer.Option(
        "--max-miss-km", min=0.0, help="Conjunctions with a miss distance at most this.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="kvn or xml.")] = "kvn",
    catalog: Annotated[list[Path] | None, typer.Option(
        "--catalog", help="The catalog file(s) the run screened; default: rebuild the "
        "snapshot from the store. Must give the run's snapshot digest.")] = None,
    creation_date: Annotated[str | None, typer.Option(
        "--creation-date", help="CREATION_DATE of the messages (ISO UTC); default now. Fix "
        "it to get byte-identical files.")] = None,
) -> None:
    """One CCSDS CDM per stored conjunction of a screening run that passes the criteria.

    A conjunction is kept when its Pc >= --min-pc OR its miss <= --max-miss-km (give at
    least one). Files are named <primary>_<secondary>_<TCA>.cdm (TCA as
    YYYYmmddTHHMMSS.ffffffZ, the MESSAGE_ID); their paths go to stdout. States are SGP4
    at TCA in GCRF, covariances the objects' models (fitted in the store, else
    defaults) in RTN, Pc Foster with the CARA-table HBR (in a COMMENT HBR = line).
    """
    import numpy as np

    from kizuna.ccsds.cdm import write_cdm
    from kizuna.collision.cdm_out import cdm_for_event
    from kizuna.collision.screening_pc import pc_for_events
    from kizuna.screening.base import EVENT_DTYPE
    from kizuna.store.repository import load_snapshot
    from kizuna.store.screenings import SCREENING, find_conjunctions, get_run, run_has_pc
    from kizuna.timelib import parse_utc

    if min_pc is None and max_miss_km is None:
        _fail("give --min-pc and/or --max-miss-km: which conjunctions get a CDM")
    kind = fmt.lower()
    if kind not in ("kvn", "xml"):
        _fail(f"--format {fmt!r}: use kvn or xml")
    created = _parse_time(creation_date) if creation_date else datetime.now(UTC)
    with _open(db) as store, store.begin() as session:
        run_record = get_run(session=session, run_id=run)
        if run_record is None or run_record.kind != SCREENING:
            _fail(f"no screening run {run} in {store.url} (kizuna runs lists them)")
        records = find_conjunctions(session=session, run_id=run)
        params = run_record.parameters
        source = params.get("catalog", {})
        snapshot = None
        if not catalog:
            snapshot = load_snapshot(session=session, releasable_to=source.get("viewer"))
    if catalog:
        snapshot = _snapshot(catalog, None, None)
    want = params.get("snapshot", {}).get("digest")
    if snapshot.digest() != want:
        files = ", ".join(f["path"] for f in source.get("files", [])) or "the store as it was"
        _fail(f"the catalog rebuilt {'from --catalog' if catalog else 'from the store'} is not "
              f"the one run {run} screened (snapshot digest {snapshot.digest()[:12]}... vs "
              f"{str(want)[:12]}...); pass the run's catalog with --catalog ({files})")
    if not records:
        err.print(f"run {run} has no conjunctions")
        return
    start = parse_utc(params["start_utc"])
    # Event rows from the stored conjunctions; t_s from the microsecond TCA.
    events = np.array([(r.primary_norad_id, r.secondary_norad_id,
                        (r.tca - start).total_seconds(), r.miss_km, r.rel_speed_km_s,
                        r.radial_km, r.in_track_km, r.cross_track_km) for r in records],
                      dtype=EVENT_DTYPE)
    ids = np.unique(np.concatenate([events["primary_norad_id"], events["secondary_norad_id"]]))
    models = _covariance_models(db, source.get("viewer"), ids)
    try:
        pc_now, pm_now, _ = pc_for_events(events, snapshot, start, models=models)
    except KizunaError as exc:
        _fail(str(exc))
    # Select on the stored Pc when the run has one (what `conjunctions` shows), else on now's.
    stored = run_has_pc(run_record)
    pc_sel = (np.array([np.nan if r.pc is None else r.pc for r in records]) if stored
              else pc_now)
    keep = np.zeros(len(records), dtype=bool)
    if min_pc is not None:
        keep |= np.nan_to_num(pc_sel, nan=-1.0) >= min_pc
    if max_miss_km is not None:
        keep |= events["miss_km"] <= max_miss_km
    if stored:
        moved = [k for k in np.flatnonzero(keep) if records[k].pc is not None and not np.isclose(
            pc_now[k], records[k].pc, rtol=1e-6, atol=0.0)]
        if moved:
            err.print(f"{len(moved)} selected conjunctions have a Pc now that differs from the "
                      "stored one (covariance models refitted since the run); the CDMs carry "
                      "the Pc of the covariances they hold")
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for k in np.flatnonzero(keep):
        try:
            message = cdm_for_event(events[k], snapshot, start, models=models, pc=pc_now[k],
                                    pc_method=pm_now[k], creation_date=created,
                                    duration_s=params.get("duration_s"),
                                    threshold_km=params.get("threshold_km"))
            path = output_dir / f"{message.message_id}.cdm"
            write_cdm(message, path, fmt=kind)
        except KizunaError as exc:  # e.g. an object name the CDM cannot hold
            err.print(f"[bold red]error:[/] {records[k].primary_norad_id} x "
                      f"{records[k].secondary_norad_id} at {records[k].tca_utc}: {exc}")
            continue
        written.append(path)
        typer.echo(str(path))
    err.print(f"{len(written)} of {len(records):,} conjunctions of run {run} -> "
              f"{kind.upper()} CDMs in {output_dir}")
    if len(written) < int(keep.sum()):
        raise typer.Exit(1)


# ------------------------------------------------------------------ maneuvers


def _read_history(paths: list[Path]):  # -> (list[ElementSet], list[Rejection])
    """Every element set of these history files; rejected records are listed on stderr."""
    from kizuna.catalog.reader import read_catalog

    sets = []
    rejected: list[Rejection] = []
    for path in paths:
        try:
            result = read_catalog(path)
        except KizunaError as exc:
            _fail(str(exc))
        sets.extend(result.element_sets)
        rejected.extend(result.rejected)
    if rejected:
        err.print(f"{len(rejected)} records rejected while reading the history:")
        _print_rejections(rejected)
    return sets, rejected


@app.command()
def maneuvers(
    history: Annotated[list[Path] | None, typer.Argument(
        help="Element-set history files (TLE/3LE, OMM KVN/XML/JSON/CSV; gzip ok); omit to "
        "use the store (--db, needs --norad).")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Output CSV.")] = Path(
        "maneuvers.csv"),
    norad: Annotated[int | None, typer.Option(help="Only this object.")] = None,
    db: DbOption = None,
    record: Annotated[bool, typer.Option(help="Store the maneuvers as events with their "
                                         "element sets as evidence (--db or the default "
                                         "store).")] = False,
    viewer: ViewerOption = None,
    residuals: Annotated[Path | None, typer.Option(
        help="Also write every set pair's residuals, learned noise and z per series (the "
        "evidence the detector tests) to this CSV.")] = None,
) -> None:
    """Maneuvers detected in element-set history (one CSV row per maneuver).

    CSV columns: norad_id, time_utc (estimated burn time), delta_a_km, delta_v_m_s, then
    delta_i_deg, plane_change_deg, delta_e, dv_in_plane_m_s, dv_out_of_plane_m_s,
    time_sigma_s, score, epoch_before_utc, epoch_after_utc, regime.
    """
    import numpy as np

    from kizuna.detection.maneuvers import (
        ManeuverSettings,
        detect_maneuvers,
        maneuver_residuals,
    )

    rejected: list[Rejection] = []
    if history:
        sets, rejected = _read_history(history)
    else:
        if norad is None:
            _fail("give HISTORY files, or --norad ID to read that object's history from the store")
        from kizuna.store.repository import element_set_history

        with _open(db) as store, store.begin() as session:
            sets = element_set_history(session=session, norad_id=norad, releasable_to=viewer)
    if not sets:
        _fail("no element sets found: check the files, or ingest the history first")
    try:
        result = detect_maneuvers(sets, norad_id=norad)
    except KizunaError as exc:
        _fail(str(exc))
    result.to_csv(output)
    if residuals is not None:
        n_pairs = maneuver_residuals(sets, norad_id=norad).to_csv(residuals)
        err.print(f"{n_pairs:,} set pairs (residuals, noise, z) -> {residuals}")
    objects = "object" if result.n_objects == 1 else "objects"
    err.print(f"{result.n_sets_in:,} element sets of {result.n_objects:,} {objects} "
              f"({result.n_duplicates} duplicates, {result.n_invalid} invalid, "
              f"{result.n_gaps} gaps > 10 d) -> {len(result)} maneuvers -> {output}")
    if result.skipped:
        err.print(f"  {len(result.skipped):,} objects skipped (too few element sets)")
    if len(result.span_sigma_a_km):
        sig = float(np.median(result.span_sigma_a_km))
        z = ManeuverSettings().z_threshold
        who = (f"object {int(result.span_norad_id[0])}" if len(result.span_norad_id) == 1
               else "median object")
        err.print(f"  noise ({who}): median sigma of delta-a {sig * 1000:.1f} m per set pair; "
                  f"smallest detectable change of a about {z * sig * 1000:.0f} m")
    if len(result):
        kinds, counts = np.unique(result.kind, return_counts=True)
        err.print("  kinds: " + ", ".join(f"{k} {n}" for k, n in zip(kinds, counts, strict=True)))
    n_untimed = int((result.time_sigma_s > 86400.0).sum())
    if n_untimed:
        # on the GEO validation histories such detections were mostly not listed maneuvers
        err.print(f"  {n_untimed} of {len(result)} maneuvers have a burn-time sigma over a day "
                  "(time_sigma_s): doubtful, see docs/design/maneuvers.md")
    if record:
        from kizuna.store.events import record_maneuvers

        with _open(db) as store, store.begin_write() as session:
            ids = record_maneuvers(session=session, result=result, history=sets)
        err.print(f"stored {len(ids)} events (kizuna events --kind maneuver)")
    raise typer.Exit(1 if rejected else 0)


# ------------------------------------------------------------------ pc


@app.command()
def pc(
    cdm: Annotated[list[Path], typer.Argument(help="CCSDS CDM file(s), KVN or XML (gzip ok).")],
    method: Annotated[str, typer.Option(
        help="foster, chan, alfano2005, max_alfriend, max_frisbee, hall3d, mc2d, mc3d, "
             "or all.")] = "foster",
    hbr_m: Annotated[float | None, typer.Option(
        "--hbr-m", min=0.0, help="Combined hard-body radius, m; default the CDM's HBR "
        "comment/keyword, else the HBR table.")] = None,
) -> None:
    """Collision probability from CDMs, computed from their states and covariances.

    CSV `file,method,pc` on stdout. Exit 0 all good, 1 some files unusable
    (the others still give rows), 2 nothing usable.
    """
    from kizuna.ccsds.cdm import read_cdm
    from kizuna.collision.pc_cdm import pc_from_cdm
    from kizuna.collision.registry import get_method

    if method != "all":
        try:
            get_method(method)
        except KizunaError as exc:
            _fail(str(exc))
    if hbr_m is not None and not hbr_m > 0:
        _fail("--hbr-m must be > 0 m")
    rows = ["file,method,pc"]
    bad = 0
    for path in cdm:
        try:
            results = pc_from_cdm(read_cdm(path), method, hbr_m=hbr_m)
        except (OSError, EOFError) as exc:  # unreadable, or a truncated gzip
            err.print(f"[bold red]error:[/] {path}: cannot read: {exc}")
            bad += 1
            continue
        except KizunaError as exc:
            # CdmFormatError/InputError carry file:line: KEYWORD: reason.
            err.print(f"[bold red]error:[/] {exc}")
            bad += 1
            continue
        for name, res in results:
            value = "" if res.pc != res.pc else f"{res.pc:.10e}"  # NaN -> empty cell
            rows.append(f"{_csv_cell(str(path))},{name},{value}")
            if res.extras and "error" in res.extras:
                err.print(f"{path}: {name}: {res.extras['error']}")
    typer.echo("\n".join(rows))
    if bad:
        raise typer.Exit(2 if bad == len(cdm) else 1)


# ------------------------------------------------------------------ proximity


# Store history read for the objects of proximity events, around the window: the
# maneuver detector learns each object's noise from the pairs around a burn (a
# rolling window of +-20 pairs) and confirms a step with the sets after it.
STORE_HISTORY_BEFORE_DAYS = 30.0  # before the start of the look-back
STORE_HISTORY_AFTER_DAYS = 10.0  # after the window end (the longest gap assessed)


def _store_history(db: str | None, viewer: str | None, norad_ids, start: datetime,
                   end: datetime):  # -> (list[ElementSet], reason | None)
    """The stored element sets of these objects with epochs in [start, end], read only."""
    from kizuna.store.repository import element_set_histories

    try:
        store = _store(db, read_only=True)
    except StoreUnavailableError as exc:
        return [], str(exc)
    with store, store.begin() as session:
        return element_set_histories(session=session, norad_ids=list(norad_ids),
                                     releasable_to=viewer, start=start, end=end), None


@app.command()
def proximity(
    catalog: Annotated[list[Path] | None, typer.Argument(
        help="Catalog file(s); omit to use the store (--db): the newest set per object at "
        "or before --start.")] = None,
    protected: Annotated[str, typer.Option(
        help="Comma-separated NORAD ids of the protected assets.")] = "",
    output: Annotated[Path, typer.Option("-o", "--output", help="Output CSV.")] = Path(
        "proximity.csv"),
    db: DbOption = None,
    start: Annotated[str | None, typer.Option(help="ISO UTC start; default newest epoch.")]
    = None,
    days: Annotated[float, typer.Option(min=0.0, help="Window length in days.")] = 7.0,
    workers: Annotated[int | None, typer.Option(min=1, help="Cores; default all.")] = None,
    history: Annotated[list[Path] | None, typer.Option(
        "--history", help="Element-set history file (TLE/3LE, OMM KVN/XML/JSON/CSV; gzip ok; "
        "repeat for more): maneuvers are detected in it, for the maneuver_before columns "
        "and for fly-bys after a maneuver.")] = None,
    store_history: Annotated[bool, typer.Option(
        "--store-history/--no-store-history", help="When the store is used (--db given, or "
        "no CATALOG), also detect maneuvers in the element-set history it keeps for the "
        "other object of each event. The store is only read, never created.")] = True,
    record: Annotated[bool, typer.Option(help="Store the events (--db or the default "
                                         "store).")] = False,
    viewer: ViewerOption = None,
) -> None:
    """Proximity operations against protected assets (one CSV row per event).

    CSV columns: protected_norad_id, other_norad_id, start_utc, end_utc, min_range_km,
    min_range_utc, then kind, duration_h, ranges, RIC at the minimum, motion, flags, the
    maneuver of the other object that preceded the event (maneuver_before, maneuver_utc,
    maneuver_delta_v_m_s), regime, and maneuver_checked: true when the other object's
    history (--history files, the store) spans the look-back before the event, so that
    maneuver_before=false means "none detected" rather than "no history".
    Exit 1 when history records were rejected (the good ones were used).
    """
    from kizuna.detection.proximity import detect_proximity, with_maneuver_history

    assets = _parse_ids(protected)
    if not assets:
        _fail("give --protected ID,... (NORAD ids of the assets to protect)")
    if days <= 0:
        _fail("--days must be positive")
    t_start = _parse_time(start)
    file_sets, rejected = _read_history(history) if history else ([], [])
    snapshot = _snapshot(catalog, db, viewer, as_of=t_start, read_only=not record)
    missing = sorted(set(assets) - set(snapshot.norad_id.tolist()))
    if missing:
        _fail(f"protected assets not in the catalog: {', '.join(map(str, missing))}", 1)
    err.print(f"proximity of {len(snapshot):,} objects to {len(assets)} "
              f"{'asset' if len(assets) == 1 else 'assets'}, {days:g} days ...")
    try:
        report = detect_proximity(snapshot, assets, start=t_start, duration_s=days * 86400.0,
                                  workers=workers, history=file_sets if history else None)
        others = {e.other_norad_id for e in report.events}
        if store_history and (db is not None or not catalog) and others:
            look_s = max(v.maneuver_lookback_s for v in report.asset_limits.values())
            sets, why = _store_history(
                db, viewer, others,
                report.start - timedelta(seconds=look_s, days=STORE_HISTORY_BEFORE_DAYS),
                report.start + timedelta(seconds=report.duration_s,
                                         days=STORE_HISTORY_AFTER_DAYS))
            if why:
                err.print(f"no store history: {why}")
            else:
                err.print(f"store history: {len(sets):,} element sets of "
                          f"{len({es.norad_id for es in sets}):,} of the {len(others):,} "
                          "objects in the events")
            if sets:
                mine = [es for es in file_sets if es.norad_id in others]
                report = with_maneuver_history(report, sets + mine, source="store")
    except KizunaError as exc:
        _fail(str(exc))
    report.to_csv(output)
    err.print(f"{len(report):,} proximity events -> {output}")
    if history or report.maneuver_source != "none":
        n_man = sum(e.maneuver is not None for e in report.events)
        n_unchecked = sum(not e.maneuver_checked for e in report.events)
        err.print(f"  maneuvers ({report.maneuver_source}): {n_man} events preceded by a "
                  f"maneuver of the other object; {n_unchecked} events whose other object "
                  "has no history spanning the look-back (maneuver_checked=false)")
    for e in report.events[:10]:
        burn = (f"; maneuver {report.time_of(e.start_s - e.maneuver.seconds_before_start)}"
                if e.maneuver is not None else "")
        names = [f"{i} {snapshot.name(i) or ''}".rstrip()
                 for i in (e.protected_norad_id, e.other_norad_id)]
        err.print(f"  {names[0]} <- {names[1]} {e.kind} "
                  f"min {e.min_range_km:.2f} km: {e.motion}{burn}", markup=False)
    if record:
        from kizuna.store.events import record_proximity

        with _open(db) as store, store.begin_write() as session:
            ids = record_proximity(session=session, report=report)
        err.print(f"stored {len(ids)} events (kizuna events --kind proximity)")
    raise typer.Exit(1 if rejected else 0)


@app.command()
def events(
    db: DbOption = None,
    kind: Annotated[str | None, typer.Option(help="maneuver, proximity, breakup ...")] = None,
    norad: Annotated[int | None, typer.Option(help="Only events of this object.")] = None,
    since: Annotated[str | None, typer.Option(help="Events ending at or after (ISO UTC).")]
    = None,
    until: Annotated[str | None, typer.Option(help="Events starting at or before (ISO UTC).")]
    = None,
    viewer: ViewerOption = None,
) -> None:
    """Stored events (maneuvers, proximity events, breakups) as CSV on stdout."""
    from kizuna.store.events import events_csv, find_events

    with _open(db) as store, store.begin() as session:
        records = find_events(session=session, kind=kind, norad_id=norad,
                              since=_parse_time(since), until=_parse_time(until),
                              releasable_to=viewer)
    typer.echo(events_csv(records), nl=False)
    err.print(f"{len(records):,} events")


# ------------------------------------------------------------------ breakups


@app.command()
def breakups(
    old_catalog: Annotated[Path, typer.Argument(help="Older catalog file (TLE/3LE or OMM).")],
    new_catalog: Annotated[Path, typer.Argument(help="Newer catalog file.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output CSV.")] = Path(
        "breakups.csv"),
    min_fragments: Annotated[int, typer.Option(min=2, help="Fewest fragments per event.")] = 3,
    db: DbOption = None,
    record: Annotated[bool, typer.Option(help="Store the breakups as events with their "
                                         "element sets as evidence (--db or the default "
                                         "store).")] = False,
) -> None:
    """Fragmentation events between two catalog snapshots.

    CSV columns: parent_norad_id, time_utc, n_fragments, then time_sigma_s, method,
    spread_km, dv_median_m_s, dv_p90_m_s, parent_name, launch, fragment_ids.
    """
    from kizuna.api import load_catalog
    from kizuna.detection.breakups import breakups_to_csv, detect_breakups

    try:
        old, rejected_old = load_catalog(old_catalog)
        new, rejected_new = load_catalog(new_catalog)
        events = detect_breakups(old, new, min_fragments=min_fragments)
    except KizunaError as exc:
        _fail(str(exc))
    rejected = rejected_old + rejected_new
    _print_rejections(rejected)
    breakups_to_csv(events, output)
    for e in events:
        err.print(f"  {e.parent_norad_id} {e.parent_name or ''}: {e.time_utc} "
                  f"+- {e.time_sigma_s / 86400:.1f} d, {e.n_fragments} fragments ({e.method})",
                  markup=False)
    err.print(f"{len(events)} breakups -> {output}")
    if record:
        from kizuna.store.events import record_breakups

        with _open(db) as store, store.begin_write() as session:
            ids = record_breakups(session=session, breakups=events, snapshot=new)
        err.print(f"stored {len(ids)} events (kizuna events --kind breakup)")
    raise typer.Exit(1 if rejected else 0)


# ------------------------------------------------------------------ db


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create or migrate the store schema to the newest version (Alembic)."""
    from kizuna.store.session import upgrade

    try:
        upgrade(db)
    except KizunaError as exc:
        _fail(str(exc))
    err.print("store schema is up to date")


# ------------------------------------------------------------------ demo


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo store and reports.")] = Path(
        "out/demo"),
    assets: Annotated[Path | None, typer.Option(
        help="TOML list of protected assets ([[asset]] norad_id = ...); default the bundled "
        "allied list.")] = None,
) -> None:
    """The main job on the bundled data: ingest, summarise, propagate, screen, detect."""
    from kizuna.demo import run_demo

    try:
        run_demo(out, console=Console(width=None if sys.stdout.isatty() else REPORT_WIDTH),
                 progress=_progress, assets_file=assets)
    except KizunaError as exc:
        _fail(str(exc))


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())

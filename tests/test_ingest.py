"""Ingest of real catalog files into SQLite and PostgreSQL, including a killed ingest."""

from __future__ import annotations

import gzip
import hashlib
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import make_url

from kizuna.catalog.reader import read_catalog
from kizuna.catalog.snapshot import CatalogSnapshot
from kizuna.ingest import (
    TEST_HOOK_MARKER,
    TEST_SLEEP_ENV,
    IngestProgress,
    exit_code,
    ingest_files,
    summarize,
)
from kizuna.store.repository import (
    catalog_summary,
    element_set_history,
    list_sources,
    load_snapshot,
)
from kizuna.store.session import make_engine, open_store

CATALOG_2023 = "catalogs/spacetrack_3le_full_2023-09-09.txt.gz"
CATALOG_2022 = "catalogs/spacetrack_3le_full_2022-01-25.txt.gz"
ISS_HISTORY = "tle-history/iss_25544_gp_history_2020-2024.csv.gz"


def _counts(db_url: str) -> dict[str, int]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return {
                t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
                for t in ("sources", "space_objects", "element_sets")
            }
    finally:
        engine.dispose()


def _fingerprint(db_url: str) -> dict[str, tuple[int, str]]:
    """Row count and SHA-256 of every row (in primary-key order) of every table."""
    engine = make_engine(db_url)
    meta = MetaData()
    meta.reflect(engine)
    out = {}
    try:
        with engine.connect() as conn:
            for name, table in sorted(meta.tables.items()):
                h = hashlib.sha256()
                n = 0
                order = list(table.primary_key.columns) or list(table.columns)
                for row in conn.execute(select(table).order_by(*order)):
                    h.update(repr(tuple(row)).encode())
                    n += 1
                out[name] = (n, h.hexdigest())
    finally:
        engine.dispose()
    return out


# ------------------------------------------------------------------ real files


def test_full_2023_catalog_stores_every_object_and_element_set(
    db_url: str, data_dir: Path
) -> None:
    [outcome] = ingest_files([data_dir / CATALOG_2023], db_url=db_url, origin="space-track")
    report = outcome.report
    assert outcome.status == "ok" and report is not None
    assert (report.n_records, report.n_element_sets_added, report.n_objects_upserted) == (
        25_587, 25_587, 25_587)
    assert (report.n_duplicates, report.n_rejected) == (0, 0)
    assert _counts(db_url) == {"sources": 1, "space_objects": 25_587, "element_sets": 25_587}

    store = open_store(db_url)
    try:
        with store.begin() as session:
            summary = catalog_summary(session=session)
            [source] = list_sources(session=session)
        assert summary["n_objects"] == 25_587
        # LEO agrees with the data notes (21,224); the others follow the
        # boundaries of kizuna.catalog.regimes.
        assert summary["by_regime"] == {"LEO": 21_224, "MEO": 1_174, "GEO": 1_143, "HEO": 2_046}
        assert source.sha256 == hashlib.sha256((data_dir / CATALOG_2023).read_bytes()).hexdigest()
        assert (source.file_name, source.format, source.origin) == (
            "spacetrack_3le_full_2023-09-09.txt.gz", "tle", "space-track")
    finally:
        store.dispose()

    # The same file again: nothing added.
    [again] = ingest_files([data_dir / CATALOG_2023], db_url=db_url, origin="space-track")
    assert again.report is not None and again.report.already_ingested
    assert _counts(db_url)["element_sets"] == 25_587


def test_iss_history_stores_every_set_of_one_object_and_snapshots_match(
    db_url: str, data_dir: Path
) -> None:
    [outcome] = ingest_files([data_dir / ISS_HISTORY], db_url=db_url)
    assert outcome.report is not None and outcome.report.n_element_sets_added == 9_571
    assert _counts(db_url) == {"sources": 1, "space_objects": 1, "element_sets": 9_571}

    parsed = read_catalog(data_dir / ISS_HISTORY).element_sets
    store = open_store(db_url)
    try:
        with store.begin() as session:
            history = element_set_history(session=session, norad_id=25544)
            assert len(history) == 9_571
            assert [es.epoch for es in history] == sorted(es.epoch for es in parsed)
            assert sorted(history, key=lambda es: es.epoch) == sorted(parsed,
                                                                        key=lambda es: es.epoch)
            # Around the 2023-09-08 reboost and elsewhere: the store's
            # snapshot equals the in-memory one over the parsed file.
            for as_of in ("2020-01-01T06:11:10.983264Z", "2023-09-08T12:00:00Z",
                          "2022-07-20T09:48:21Z", "2024-12-31T23:59:59Z"):
                t = datetime.fromisoformat(as_of)
                got = load_snapshot(session=session, as_of=t).element_sets
                assert got == CatalogSnapshot.from_element_sets(parsed, as_of=t).element_sets
    finally:
        store.dispose()


def test_exit_codes_follow_the_worst_file(db_url: str, data_dir: Path, tmp_path: Path) -> None:
    with gzip.open(data_dir / CATALOG_2023, "rt") as f:
        lines = f.read().splitlines()[:30]  # 10 objects
    good = tmp_path / "good.txt"
    good.write_text("\n".join(lines[:15]) + "\n")  # 5 objects
    bad_lines = list(lines[15:])
    bad_lines[1] = bad_lines[1][:-1] + str((int(bad_lines[1][-1]) + 1) % 10)  # checksum off
    mixed = tmp_path / "mixed.txt.gz"
    mixed.write_bytes(gzip.compress(("\n".join(bad_lines) + "\n").encode()))
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    missing = tmp_path / "missing.txt"

    good_only = ingest_files([good], db_url=db_url)
    assert exit_code(good_only) == 0 and good_only[0].status == "ok"

    outcomes = ingest_files([mixed, empty, missing], db_url=db_url)
    assert [o.status for o in outcomes] == ["rejected", "unusable", "unusable"]
    assert exit_code(outcomes) == 2
    assert exit_code(outcomes[:1]) == 1
    mixed_report = outcomes[0].report
    assert mixed_report is not None
    assert (mixed_report.n_element_sets_added, mixed_report.n_rejected) == (4, 1)
    assert outcomes[0].rejected[0].line == 2 and outcomes[0].rejected[0].field
    assert outcomes[1].error is not None and outcomes[1].report is None
    assert outcomes[2].error is not None and "missing.txt" in outcomes[2].error.file
    assert _counts(db_url) == {"sources": 2, "space_objects": 9, "element_sets": 9}
    text_summary = summarize(outcomes)
    assert "mixed.txt.gz: tle, 5 records, 4 element sets added" in text_summary
    assert "empty.txt: unusable" in text_summary


def test_progress_reports_each_stage_of_each_file(db_url: str, data_dir: Path,
                                                  tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    events: list[IngestProgress] = []
    ingest_files([data_dir / ISS_HISTORY, empty], db_url=db_url, progress=events.append)
    assert [(e.index, e.stage) for e in events] == [
        (0, "parsing"), (0, "storing"), (0, "done"), (1, "parsing"), (1, "done")]
    assert all(e.total == 2 for e in events)
    assert events[2].outcome is not None and events[2].outcome.status == "ok"
    assert events[4].outcome is not None and events[4].outcome.status == "unusable"


def test_origin_and_releasability_are_recorded(db_url: str, data_dir: Path) -> None:
    ingest_files([data_dir / ISS_HISTORY], db_url=db_url, origin="space-track",
                 releasable_to="usa,jpn")
    store = open_store(db_url)
    try:
        with store.begin() as session:
            [source] = list_sources(session=session)
            assert (source.origin, source.releasable_to) == ("space-track", "JPN,USA")
            assert element_set_history(session=session, norad_id=25544,
                                       releasable_to="FRA") == []
            assert len(element_set_history(session=session, norad_id=25544,
                                           releasable_to="JPN")) == 9_571
    finally:
        store.dispose()


def test_default_store_is_the_sqlite_file_under_data_dir(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIZUNA_DATA_DIR", str(tmp_path / "kz"))
    monkeypatch.delenv("KIZUNA_DB_URL", raising=False)
    [outcome] = ingest_files([data_dir / ISS_HISTORY])
    assert outcome.status == "ok"
    assert (tmp_path / "kz" / "kizuna.sqlite").is_file()


# ------------------------------------------------------------------ crash safety

_INGEST_PROCESS = (
    "import sys\n"
    "from kizuna.ingest import ingest_files\n"
    "ingest_files([sys.argv[2]], db_url=sys.argv[1])\n"
    "print('committed')\n"
)


def _transaction_is_open(db_url: str) -> bool:
    """Evidence that the killed process is inside its transaction."""
    if db_url.startswith("sqlite"):
        # The ingest holds SQLite's write lock until COMMIT: another writer
        # that will not wait is refused.
        con = sqlite3.connect(make_url(db_url).database, timeout=0, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            return "locked" in str(exc)
        finally:
            con.close()
        return False
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            states = conn.execute(
                select(text("state")).select_from(text("pg_stat_activity")).where(
                    text("datname = current_database() AND pid <> pg_backend_pid()"))
            ).scalars().all()
        return "idle in transaction" in states
    finally:
        engine.dispose()


def test_a_killed_ingest_leaves_the_store_exactly_as_before(db_url: str, data_dir: Path) -> None:
    ingest_files([data_dir / CATALOG_2022], db_url=db_url)
    before = _fingerprint(db_url)
    assert before["element_sets"][0] == 23_939

    env = {**os.environ, TEST_SLEEP_ENV: "120"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _INGEST_PROCESS, db_url, str(data_dir / CATALOG_2023)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x) for x in proc.stderr], daemon=True)
    reader.start()
    try:
        seen = []
        while True:
            line = lines.get(timeout=120)
            seen.append(line)
            if line.startswith(TEST_HOOK_MARKER):
                break
        # Every row of the file has been written, the COMMIT has not happened.
        assert _transaction_is_open(db_url)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        proc.stdout.close()
        reader.join(timeout=10)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    assert _fingerprint(db_url) == before
    sha = hashlib.sha256((data_dir / CATALOG_2023).read_bytes()).hexdigest()
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM sources WHERE sha256 = :s"), {"s": sha})
            assert n.scalar_one() == 0
    finally:
        engine.dispose()

    # The store is not left locked or damaged: the same file now goes in.
    [outcome] = ingest_files([data_dir / CATALOG_2023], db_url=db_url)
    assert outcome.report is not None and not outcome.report.already_ingested
    assert outcome.report.n_element_sets_added == 25_587
    assert _counts(db_url)["element_sets"] == 23_939 + 25_587

"""Benchmark: ingest of the 25,587-object 2023-09-09 catalog into a fresh store.

Each repetition ingests the file with :func:`kizuna.ingest.ingest_files` into a
new, empty database: a SQLite file in a temporary folder, and a PostgreSQL
database created (and dropped) by this script. Reported per backend, as the
median (and best) over the repetitions:

* parse — read, gunzip, detect and parse the file (``read_catalog``);
* store — the one write transaction (``add_parse_result`` + COMMIT);
* ingest — parse + store, the number the 3 s SQLite target is about;
* wall — the whole ``ingest_files`` call, including creating the schema.

Usage::

    .venv/bin/python bench/bench_ingest.py [--repeat 5] [--pg-url URL] [--no-postgres]

The PostgreSQL server defaults to ``KIZUNA_BENCH_PG_URL``, else
``KIZUNA_TEST_PG_URL``, else ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``;
if it cannot be reached its rows say so and the SQLite rows still print.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from kizuna.ingest import ingest_files

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT / "tests" / "data" / "catalogs" / "spacetrack_3le_full_2023-09-09.txt.gz"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SQLITE_TARGET_S = 3.0


def _one_run(db_url: str, path: Path) -> dict[str, float]:
    t0 = time.perf_counter()
    [outcome] = ingest_files([path], db_url=db_url)
    wall = time.perf_counter() - t0
    if outcome.report is None or outcome.report.already_ingested:
        raise SystemExit(f"benchmark run did not ingest {path}: {outcome}")
    return {
        "parse": outcome.parse_s,
        "store": outcome.store_s,
        "ingest": outcome.parse_s + outcome.store_s,
        "wall": wall,
        "sets": outcome.report.n_element_sets_added,
    }


def bench_sqlite(path: Path, repeat: int) -> list[dict[str, float]]:
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="kizuna-bench-") as tmp:
            runs.append(_one_run(f"sqlite:///{Path(tmp) / 'kizuna.sqlite'}", path))
    return runs


def bench_postgres(path: Path, repeat: int, admin_url: str) -> list[dict[str, float]]:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 5})
    runs = []
    try:
        for _ in range(repeat):
            name = f"kizuna_bench_{uuid.uuid4().hex[:12]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(admin_url).set(database=name)
                runs.append(_one_run(url.render_as_string(hide_password=False), path))
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
    return runs


def _row(backend: str, runs: list[dict[str, float]]) -> str:
    def cell(key: str) -> str:
        values = [r[key] for r in runs]
        return f"{statistics.median(values):.3f} ({min(values):.3f})"

    return (f"| {backend} | {len(runs)} | {int(runs[0]['sets']):,} | {cell('parse')} | "
            f"{cell('store')} | {cell('ingest')} | {cell('wall')} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg-url", default=os.environ.get(
        "KIZUNA_BENCH_PG_URL", os.environ.get("KIZUNA_TEST_PG_URL", DEFAULT_PG)))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--quick", action="store_true", help="one repetition instead of five")
    args = parser.parse_args(argv)

    rows = []
    if args.quick:
        args.repeat = 1
    sqlite_runs = bench_sqlite(args.file, args.repeat)
    rows.append(_row("SQLite", sqlite_runs))
    if not args.no_postgres:
        try:
            rows.append(_row("PostgreSQL", bench_postgres(args.file, args.repeat, args.pg_url)))
        except Exception as exc:  # noqa: BLE001 - report and keep the SQLite numbers
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            rows.append(f"| PostgreSQL | 0 | - | unavailable: {first} | | | |")

    print(f"Ingest of `{args.file.name}` into a fresh store; seconds, median (best) of "
          f"{args.repeat}. Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs.\n")
    print("| backend | runs | element sets | parse s | store s | ingest s (parse+store) "
          "| wall s (incl. schema) |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    best = statistics.median(r["ingest"] for r in sqlite_runs)
    verdict = "meets" if best <= SQLITE_TARGET_S else "MISSES"
    print(f"\nSQLite ingest median {best:.3f} s {verdict} the {SQLITE_TARGET_S:.0f} s target.")
    return 0 if best <= SQLITE_TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())

"""Ingest orchestration: catalog files -> parser -> store, one transaction per file.

Each file is parsed (:func:`kizuna.catalog.reader.read_catalog`, format and
gzip detected), then stored by :func:`kizuna.store.repository.add_parse_result`
in its own transaction, so a failure or a kill during one file leaves the store
exactly as it was before that file. An unusable file is recorded in its
outcome and the other files still go in; a store failure stops the run.

The command line maps the outcomes to its exit code with :func:`exit_code`:
0 all good, 1 some records rejected (good ones stored), 2 some input unusable.

Test hook: when the environment variable ``KIZUNA_TEST_SLEEP_BEFORE_COMMIT_S``
holds a positive number, each file's transaction writes the line
``kizuna-test-hook: before commit <path>`` to stderr and sleeps that many
seconds just before COMMIT. The crash-safety tests use it to SIGKILL an ingest
while its transaction is open. It has no other use.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy.exc import SQLAlchemyError

from kizuna.catalog.elements import ParseResult
from kizuna.errors import InputError, Rejection, StoreError, UnusableInputError
from kizuna.store.releasability import ALL, normalize_releasability
from kizuna.store.repository import IngestReport, add_parse_result
from kizuna.store.session import Store, open_store

TEST_SLEEP_ENV = "KIZUNA_TEST_SLEEP_BEFORE_COMMIT_S"
TEST_HOOK_MARKER = "kizuna-test-hook: before commit"


@dataclass(frozen=True, slots=True, kw_only=True)
class FileOutcome:
    """What happened to one input file.

    Exactly one of ``report`` (the file was parsed and stored, possibly as
    already ingested) and ``error`` (the file was unusable) is set.
    ``rejected`` lists the records the parser refused (the good ones were
    stored). ``parse_s`` and ``store_s`` are wall-clock seconds.
    """

    path: str
    report: IngestReport | None = None
    error: InputError | None = None
    rejected: tuple[Rejection, ...] = ()
    parse_s: float = 0.0
    store_s: float = 0.0

    @property
    def status(self) -> Literal["ok", "rejected", "unusable"]:
        if self.error is not None:
            return "unusable"
        return "rejected" if self.rejected else "ok"


@dataclass(frozen=True, slots=True)
class IngestProgress:
    """One progress event: ``stage`` is ``"parsing"``, ``"storing"`` or ``"done"``.

    ``index`` is the 0-based position of ``path`` among ``total`` files;
    ``outcome`` is set on ``"done"``.
    """

    path: str
    index: int
    total: int
    stage: Literal["parsing", "storing", "done"]
    outcome: FileOutcome | None = None


ProgressCallback = Callable[[IngestProgress], None]


def exit_code(outcomes: Iterable[FileOutcome]) -> int:
    """Command-line exit code: 2 if any file was unusable, else 1 if any record was
    rejected, else 0."""
    statuses = {o.status for o in outcomes}
    if "unusable" in statuses:
        return 2
    return 1 if "rejected" in statuses else 0


def _read(path: str) -> ParseResult:
    # Imported here so that `kizuna.ingest` imports without the parsers' cost.
    from kizuna.catalog.reader import read_catalog

    try:
        return read_catalog(path)
    except InputError:
        raise
    except OSError as exc:
        raise UnusableInputError(
            f"cannot read the file: {exc.strerror or exc}", file=path, field="file"
        ) from None


def _test_hook_before_commit(path: str) -> None:
    """Sleep before COMMIT when the crash test asks for it (see the module docstring)."""
    delay = os.environ.get(TEST_SLEEP_ENV)
    if not delay or float(delay) <= 0:
        return
    sys.stderr.write(f"{TEST_HOOK_MARKER} {path}\n")
    sys.stderr.flush()
    time.sleep(float(delay))


def store_parse_result(
    store: Store, result: ParseResult, *, origin: str = "public", releasable_to: str = ALL
) -> IngestReport:
    """Store one parsed file in its own write transaction (committed on return)."""
    try:
        with store.begin_write() as session:
            report = add_parse_result(
                session=session, result=result, origin=origin, releasable_to=releasable_to
            )
            _test_hook_before_commit(result.file)
    except SQLAlchemyError as exc:
        raise StoreError(
            f"storing {result.file} in {store.url} failed; nothing of this file was kept: "
            f"{exc.__class__.__name__}: {exc}"
        ) from exc
    return report


def ingest_files(
    paths: Iterable[str | os.PathLike[str]],
    *,
    db_url: str | None = None,
    origin: str = "public",
    releasable_to: str = ALL,
    progress: ProgressCallback | None = None,
) -> list[FileOutcome]:
    """Parse and store catalog files, one transaction per file.

    Parameters
    ----------
    paths : iterable of path-like
        Catalog files of any supported format (TLE/3LE, OMM, SATCAT ...; gzip ok).
    db_url : str, optional
        Store URL; default from settings (``KIZUNA_DB_URL`` or the SQLite file
        under ``KIZUNA_DATA_DIR``). The schema is upgraded on open.
    origin : str
        Data provider label recorded with every element set (dedupe key part).
    releasable_to : str
        ``"ALL"`` or nation codes (``"JPN,USA"``) allowed to see these records.
    progress : callable, optional
        Called with an :class:`IngestProgress` before parsing, before storing
        and after each file.

    Returns
    -------
    list of FileOutcome
        One per path, in order.

    Raises
    ------
    StoreError
        If the store cannot be opened or written (input problems never raise).
    ReleasabilityError
        On a malformed ``releasable_to``.
    """
    files = [os.fspath(p) for p in paths]
    releasable_to = normalize_releasability(releasable_to)
    outcomes: list[FileOutcome] = []

    def tell(path: str, i: int, stage: Literal["parsing", "storing", "done"],
             outcome: FileOutcome | None = None) -> None:
        if progress is not None:
            progress(IngestProgress(path, i, len(files), stage, outcome))

    with open_store(db_url) as store:
        for i, path in enumerate(files):
            tell(path, i, "parsing")
            t0 = time.perf_counter()
            try:
                result = _read(path)
            except InputError as exc:
                outcome = FileOutcome(
                    path=path, error=exc, rejected=(exc.rejection,),
                    parse_s=time.perf_counter() - t0,
                )
                outcomes.append(outcome)
                tell(path, i, "done", outcome)
                continue
            t1 = time.perf_counter()
            tell(path, i, "storing")
            report = store_parse_result(
                store, result, origin=origin, releasable_to=releasable_to
            )
            outcome = FileOutcome(
                path=path, report=report, rejected=tuple(result.rejected),
                parse_s=t1 - t0, store_s=time.perf_counter() - t1,
            )
            outcomes.append(outcome)
            tell(path, i, "done", outcome)
    return outcomes


def summarize(outcomes: Iterable[FileOutcome]) -> str:
    """Short human-readable summary (one line per file), for the command line."""
    lines = []
    for o in outcomes:
        name = Path(o.path).name
        if o.error is not None:
            lines.append(f"{name}: unusable: {o.error.reason}")
            continue
        r = o.report
        assert r is not None
        if r.already_ingested:
            lines.append(f"{name}: already ingested (source {r.source_id}); nothing added")
            continue
        lines.append(
            f"{name}: {r.format}, {r.n_records} records, {r.n_element_sets_added} element sets "
            f"added, {r.n_duplicates} duplicates, {r.n_objects_upserted} objects upserted, "
            f"{r.n_rejected} rejected ({o.parse_s + o.store_s:.2f} s)"
        )
    return "\n".join(lines)

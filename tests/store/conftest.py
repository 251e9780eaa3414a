"""Store test fixtures: an open store per backend, and ParseResults built in code."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from store_samples import MakeResult

from kizuna.catalog.elements import ElementSet, ParseResult, SpaceObject
from kizuna.errors import Rejection
from kizuna.store.session import Store, open_store


@pytest.fixture
def make_result() -> MakeResult:
    """Build a ParseResult as a parser would (``sha256`` stands for the file's bytes)."""
    counter = iter(range(1_000_000))

    def make(
        element_sets: Sequence[ElementSet] = (),
        objects: Sequence[SpaceObject] = (),
        rejected: Sequence[Rejection] = (),
        *,
        file: str | None = None,
        format: str = "tle",
        sha256: str | None = None,
    ) -> ParseResult:
        n = next(counter)
        return ParseResult(
            file=file or f"file{n}.txt",
            format=format,
            element_sets=list(element_sets),
            objects=list(objects),
            rejected=list(rejected),
            n_records=len(element_sets) + len(rejected) + (len(objects) if not element_sets else 0),
            sha256=sha256 or f"{n:064x}",
        )

    return make


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """The store on a fresh database of each backend, schema at head."""
    st = open_store(db_url)
    try:
        yield st
    finally:
        st.dispose()

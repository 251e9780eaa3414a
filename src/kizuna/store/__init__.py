"""The store: objects, element-set history, sources and runs in SQLite or PostgreSQL.

:mod:`~kizuna.store.session` opens it (and upgrades its schema),
:mod:`~kizuna.store.repository` reads and writes it, and
:mod:`~kizuna.store.releasability` says who may see what.
"""

from kizuna.store.releasability import normalize_releasability, releasable
from kizuna.store.repository import (
    IngestReport,
    SourceRecord,
    add_parse_result,
    catalog_summary,
    element_set_history,
    get_object,
    latest_element_sets,
    list_objects,
    list_sources,
    load_snapshot,
)
from kizuna.store.session import Store, make_engine, open_existing_store, open_store, upgrade

__all__ = [
    "IngestReport",
    "SourceRecord",
    "Store",
    "add_parse_result",
    "catalog_summary",
    "element_set_history",
    "get_object",
    "latest_element_sets",
    "list_objects",
    "list_sources",
    "load_snapshot",
    "make_engine",
    "normalize_releasability",
    "open_existing_store",
    "open_store",
    "releasable",
    "upgrade",
]

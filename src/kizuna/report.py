"""Human-readable renderings (rich) of results, shared by the CLI and the demo."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def print_summary(summary: dict[str, Any], console: Console) -> None:
    """Render :func:`kizuna.store.repository.catalog_summary` as three tables."""
    console.print(
        f"[bold]{summary['n_objects']:,} objects[/], {summary['n_element_sets']:,} element sets "
        f"from {summary['n_sources']} sources"
        + (f" (as of {summary['as_of']})" if summary.get("as_of") else "")
    )
    for key, title, limit in (
        ("by_regime", "orbit regime", None),
        ("by_object_type", "object type", None),
        ("by_owner", "owner (where known)", 12),
    ):
        counts: dict[str, int] = summary[key]
        table = Table(title=f"Objects per {title}", title_justify="left")
        table.add_column(title)
        table.add_column("objects", justify="right")
        items = list(counts.items())
        for name, n in items[:limit]:
            table.add_row(name, f"{n:,}")
        if limit is not None and len(items) > limit:
            rest = sum(n for _, n in items[limit:])
            table.add_row(f"{len(items) - limit} others", f"{rest:,}")
        if key == "by_owner":
            unknown = summary["n_objects"] - sum(counts.values())
            table.add_row("[dim]unknown[/]", f"{unknown:,}")
        console.print(table)

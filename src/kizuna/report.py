"""Human-readable renderings (rich) of results, shared by the CLI and the demo."""

from __future__ import annotations

from typing import Any

import numpy as np
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


def print_screening(result: Any, snapshot: Any, console: Console, *, top: int = 10,
                    pc: Any = None) -> None:
    """Counts, timings and the closest approaches (with names) of a screening result.

    ``pc`` (one value per event, NaN where undefined) adds a Pc column and a line
    naming the highest Pc.
    """
    summary = result.summary
    timings = ", ".join(f"{k} {v:.1f}" for k, v in summary.timings_s.items() if k != "total")
    console.print(
        f"{len(result):,} close approaches below {result.threshold_km:g} km among "
        f"{summary.n_screened:,} objects screened ({summary.n_failed} skipped from an SGP4 "
        f"failure on) in {summary.timings_s.get('total', 0.0):.1f} s ({timings} s)"
    )
    for group in summary.shared_element_sets:
        names = ", ".join(f"{i} {snapshot.name(i) or ''}".strip() for i in group)
        console.print(f"  one element set shared by {names} (docked or co-located: distance 0 "
                      "in SGP4, so no close-approach events)", markup=False)
    if len(result) == 0 or top <= 0:
        return
    events = result.events
    tca = result.tca_utc()
    values = None if pc is None else np.asarray(pc, dtype=np.float64)
    if values is not None and np.any(np.isfinite(values)):
        k = int(np.nanargmax(values))
        p, q = int(events["primary_norad_id"][k]), int(events["secondary_norad_id"][k])
        console.print(f"highest Pc {values[k]:.2e}: {p} {snapshot.name(p) or ''} x {q} "
                      f"{snapshot.name(q) or ''} at {tca[k]} "
                      f"({int(np.sum(values >= 1e-4))} with Pc >= 1e-4)", markup=False)
    order = sorted(range(len(events)), key=lambda k: (float(events["miss_km"][k]), k))[:top]
    table = Table(title=f"Closest {len(order)} approaches", title_justify="left")
    columns = ["TCA (UTC)", "primary", "secondary", "miss km", "rel. speed km/s", "R / I / C km"]
    if values is not None:
        columns.append("Pc")
    for col in columns:
        table.add_column(col, justify="right" if "km" in col or col == "Pc" else "left",
                         no_wrap=True)
    for k in order:
        e = events[k]
        p, q = int(e["primary_norad_id"]), int(e["secondary_norad_id"])
        cells = [
            str(tca[k]), f"{p} {snapshot.name(p) or ''}", f"{q} {snapshot.name(q) or ''}",
            f"{e['miss_km']:.3f}", f"{e['rel_speed_km_s']:.3f}",
            f"{e['radial_km']:.2f} / {e['in_track_km']:.2f} / {e['cross_track_km']:.2f}",
        ]
        if values is not None:
            cells.append(f"{values[k]:.2e}" if np.isfinite(values[k]) else "-")  # NaN: undefined
        table.add_row(*cells)
    console.print(table)

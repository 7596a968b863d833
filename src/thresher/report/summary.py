"""The table printed at the end of a run: documents in / kept / dropped by reason."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def summary_table(stats: dict[str, Any]) -> Table:
    """Build the end-of-run table from the merged ``stats.json`` content."""
    docs = stats["documents"]
    table = Table(title=f"thresher run: recipe {stats['recipe']}", show_lines=False)
    table.add_column("", style="bold")
    table.add_column("documents", justify="right")
    table.add_row("read", f"{docs['read']:,}")
    table.add_row("kept", f"{docs['kept']:,}")
    table.add_row("dropped", f"{docs['dropped']:,}")
    for reason, n in stats["dropped_by_reason"].items():
        table.add_row(f"  {reason}", f"{n:,}")
    if docs["bad_records"]:
        table.add_row("bad input records", f"{docs['bad_records']:,}")
        for reason, n in stats["bad_records"].items():
            table.add_row(f"  {reason}", f"{n:,}")
    if docs["skipped_records"]:
        table.add_row("skipped records", f"{docs['skipped_records']:,}")
    for step in stats["steps"]:
        lines = step["counters"].get("lines_removed")
        if lines:
            table.add_row(f"lines removed by {step['name']}", f"{lines:,}")
    return table

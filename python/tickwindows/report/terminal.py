"""The report on a terminal (rich): a big coloured verdict, then every table."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .data import ReportData
from .tables import report_tables

STATUS_STYLE = {"ok": "green", "fail": "bold red", "pending": "yellow", "info": "", "": ""}


def print_report(data: ReportData, console: Console) -> None:
    """The report on a rich Console: a big coloured verdict, then every table."""
    colour = "green" if data.current_go else "yellow" if data.gate and data.gate.go else "red"
    headline = data.verdict if data.matches_now or data.gate is None else f"{data.verdict} (STALE)"
    banner = Text(f"  {headline}  ", style=f"bold white on {colour}", justify="center")
    console.print(Panel(banner, title=f"tickwindows report: {data.db_path}", border_style=colour, padding=(1, 4)))

    for table in report_tables(data):
        if table.key == "verdict":
            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="bold")
            grid.add_column()
            for (label, value), status in zip(table.rows, table.statuses, strict=True):
                grid.add_row(label, Text(value, style=STATUS_STYLE.get(status, "")))
            console.print(grid)
            continue
        rt = Table(title=table.title, title_justify="left", caption=table.note or None, caption_justify="left")
        for col in table.columns:
            rt.add_column(col, overflow="fold")
        for row, status in zip(table.rows, table.statuses, strict=True):
            cells = [Text(c, style=STATUS_STYLE.get(status, "") if c in ("ok", "fail", "GO", "NO-GO") else "")
                     for c in row]
            rt.add_row(*cells)
        console.print(rt)

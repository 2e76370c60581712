"""The weekly status written out for people: Markdown, one HTML page, Rich renderables and
plain text, from the data of `reports.weekly.build_weekly`."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

__all__ = ["weekly_html", "weekly_markdown", "weekly_rich", "weekly_text"]


def weekly_markdown(weekly: Mapping[str, Any]) -> str:
    """The weekly status as Markdown."""
    from leadpact.reports.document_writer import environment

    text = environment().get_template("weekly.md").render(w=weekly)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip() + "\n"


def weekly_html(weekly: Mapping[str, Any]) -> str:
    """The weekly status as one self-contained HTML page."""
    from markupsafe import Markup

    from leadpact.reports.document_writer import SANS, environment

    return environment().get_template("weekly.html").render(w=weekly, sans=Markup(SANS))


def weekly_rich(weekly: Mapping[str, Any]) -> Any:
    """The weekly status as Rich renderables, for the terminal."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    meta = weekly["meta"]
    parts: list[Any] = [
        Text(f"{meta['company']}: weekly status, {meta['week']}", style="bold"),
        Text(
            f"data as of {meta['as_of_text']}"
            + (f" · {meta['meeting']}" if meta["meeting"] else ""),
            style="dim",
        ),
    ]
    table = Table(
        "",
        "",
        "Against target",
        "",
        show_edge=False,
        header_style="bold",
        title="Performance against target",
        title_justify="left",
    )
    styles = {"met": "green", "on track": "green", "missed": "red", "behind": "red"}
    side = ""
    for row in weekly["performance"]:
        label = weekly["sides"].get(row["side"], row["side"]) if row["side"] != side else ""
        if label and side:
            table.add_section()
        side = row["side"]
        table.add_row(
            Text(label, style="bold"),
            row["name"],
            row["text"],
            Text(row["state"], style=styles.get(row["state"], "dim")),
        )
    parts.append(table)
    bottleneck = weekly["bottleneck"]
    if bottleneck is None:
        parts.append(
            Panel(
                "No part of the flow fell short of what the pact expects this week.",
                title="Bottleneck",
            )
        )
    else:
        parts.append(
            Panel(
                Text(f"{bottleneck['text']} (short by {bottleneck['shortfall']:g} leads)"),
                title="Biggest bottleneck",
                border_style="red",
            )
        )
        imp = weekly["improvement"]
        parts.append(
            Panel(
                Text.assemble((imp["action"], "bold"), "\n", (f"Why: {imp['why']}", "dim")),
                title="Suggested improvement",
                border_style="cyan",
            )
        )
    if weekly["due"]:
        due = Table(
            "", "Due", show_edge=False, title="Reviews and approvals due", title_justify="left"
        )
        for item in weekly["due"]:
            due.add_row(
                Text(item["state"], style="red" if item["state"] == "overdue" else "yellow"),
                item["text"],
            )
        parts.append(due)
    else:
        parts.append(
            Text(f"Nothing due this week; next review {weekly['next_review']}.", style="dim")
        )
    for message in weekly["data_problems"]:
        parts.append(Text(f"Data problem: {message}", style="red"))
    return Group(*parts)


def weekly_text(weekly: Mapping[str, Any], width: int = 100) -> str:
    """The weekly status as plain text (the Rich layout without colours)."""
    from rich.console import Console

    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(weekly_rich(weekly))
    return console.export_text()

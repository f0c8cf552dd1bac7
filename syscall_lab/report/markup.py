"""Markdown building blocks of the report: a table, a collapsed block, a figure link, and the
words every section writes the same way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tabulate import tabulate

__all__ = ["collapsed", "figure_link", "plural", "table", "versus", "yes_no"]


def yes_no(flag: bool) -> str:
    """``yes`` or ``no``."""
    return "yes" if flag else "no"


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    """A GitHub table of cells already formatted."""
    # disable_numparse: cells arrive formatted; tabulate must not re-format or re-align them.
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def collapsed(summary: str, body: Sequence[str]) -> list[str]:
    """A collapsible block (GitHub renders the markdown inside after a blank line)."""
    return [f"<details><summary>{summary}</summary>", "", *body, "", "</details>"]


def plural(number_of: int, noun: str) -> str:
    """``1 condition``, ``5 conditions``."""
    return f"{number_of} {noun}{'' if number_of == 1 else 's'}"


def versus(baseline: str, condition: str) -> str:
    """``condition vs baseline``."""
    return f"{condition} vs {baseline}"


def figure_link(figures: Mapping[str, str], key: str, caption: str) -> list[str]:
    """The lines linking the figure ``key`` when it was drawn (none otherwise)."""
    return ["", f"![{caption}]({figures[key]})"] if key in figures else []

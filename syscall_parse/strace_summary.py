"""strace's own ``-c``/``-C`` summary table, read back so our counts can be checked against it.

Rows are sliced by the dash runs of the divider line under the header (one run per column),
not split on blanks, so any column set chosen with ``-U`` and the 4.x fixed widths both read.
A blank ``errors`` cell is 0. The table may stand alone (``-c``) or end a trace (``-C``); a
second table follows ``System call usage summary for 32 bit mode:`` on multi-personality runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Summary", "SummaryRow", "SummaryTable", "read_summary"]


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """One row of the table; a column the table does not have is None."""

    syscall: str
    calls: int | None
    errors: int | None
    seconds: float | None = None
    percent: float | None = None
    usecs_per_call: int | None = None


@dataclass(frozen=True, slots=True)
class SummaryTable:
    """The rows of one table in strace's order, its ``total`` row, and its personality
    (``None`` for the native one, ``"32 bit"`` after the banner)."""

    rows: tuple[SummaryRow, ...]
    total: SummaryRow | None
    mode: str | None = None

    def counts(self) -> dict[str, tuple[int, int]]:
        """``{syscall: (calls, errors)}``."""
        return {row.syscall: (row.calls or 0, row.errors or 0) for row in self.rows}


@dataclass(frozen=True, slots=True)
class Summary:
    """Every table found, native first. ``tables`` is empty when there was none."""

    tables: tuple[SummaryTable, ...]

    @property
    def native(self) -> SummaryTable | None:
        """The table of the native personality, if there was one."""
        for table in self.tables:
            if table.mode is None:
                return table
        return None


# '------ ----------- --------- ----------------' => one run of dashes per column (matched
# against the line without its trailing blanks).
_DIVIDER = re.compile(r"-+(?: -+)+|-{6,}")
_RUN = re.compile(r"-+")
# 'System call usage summary for 32 bit mode:' => '32 bit'.
_MODE = ("System call usage summary for ", " mode:")

# Header words (5.6+ names, -U names) to the field they fill.
_FIELDS = {
    "calls": "calls",
    "errors": "errors",
    "seconds": "seconds",
    "% time": "percent",
    "usecs/call": "usecs_per_call",
    "syscall": "syscall",
}


def _cells(line: str, spans: list[tuple[int, int]]) -> list[str]:
    # The last column runs to the end of the line: 4.x let long names overflow it.
    cells = [line[start:end].strip() for start, end in spans[:-1]]
    cells.append(line[spans[-1][0] :].strip())
    return cells


def _row(cells: list[str], names: list[str | None]) -> SummaryRow | None:
    fields: dict[str, object] = {}
    try:
        for name, cell in zip(names, cells, strict=True):
            if name is None:
                continue
            if name == "syscall":
                fields[name] = cell
            elif name in ("calls", "errors", "usecs_per_call"):
                fields[name] = int(cell) if cell else (0 if name == "errors" else None)
            else:
                fields[name] = float(cell) if cell else None
    except ValueError:
        return None
    if not fields.get("syscall"):
        return None
    fields.setdefault("calls", None)
    fields.setdefault("errors", None)
    return SummaryRow(**fields)  # type: ignore[arg-type]


def read_summary(lines: Iterable[str]) -> Summary:
    """Find and read strace's summary tables among ``lines`` (a ``-c`` file, a ``-C`` log).

    Lines of the trace before the table are skipped; a table is a header line containing
    ``syscall`` followed by a divider of dash runs.
    """
    tables: list[SummaryTable] = []
    previous = ""
    mode: str | None = None
    spans: list[tuple[int, int]] | None = None
    names: list[str | None] = []
    rows: list[SummaryRow] = []
    dividers = 0
    start, end = _MODE
    for raw in lines:
        line = raw.rstrip("\r\n")
        stripped = line.rstrip()
        banner = len(stripped) > len(start) + len(end)
        if banner and stripped.startswith(start) and stripped.endswith(end):
            mode = stripped[len(start) : -len(end)]
            continue
        divider = _DIVIDER.fullmatch(stripped) is not None
        if spans is None:
            if divider and "syscall" in previous:
                spans = [(m.start(), m.end()) for m in _RUN.finditer(line)]
                header = _cells(previous, spans)
                names = [_FIELDS.get(cell) for cell in header]
                rows, dividers = [], 1
            previous = line
            continue
        if divider:
            dividers += 1
            continue
        row = _row(_cells(line, spans), names)
        if row is None:
            # Not a row: the table ended without a total (a cut log); keep what was read.
            tables.append(SummaryTable(tuple(rows), None, mode))
            spans, previous = None, line
            continue
        if dividers >= 2:
            tables.append(SummaryTable(tuple(rows), row, mode))
            spans, previous, mode = None, "", None
            continue
        rows.append(row)
    if spans is not None:
        tables.append(SummaryTable(tuple(rows), None, mode))
    return Summary(tuple(tables))

"""Events to DataFrames with the schema of ``schema.py``, and exact CSV/Parquet round trips.

``read_trace`` reads logs with either engine (``engine.py``) through their record batches
(``batches.py``), which ``frames.py`` turns into the frame; ``events_to_frame`` puts events
in rows the same way. Unparsed lines are not rows: ``read_trace`` counts them in
``df.attrs["unparsed_lines"]`` and lists them in the ``ParseStats`` it is given.

CSV (the form of ``writers.py``): nulls are written as ``\\N`` so that a null (a signal's
``ret``) and an empty string (the ``args`` of ``getuid()``) stay apart; floats are written in
their shortest exact form. Parquet: the schema's Arrow types (``schema.arrow_schema``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from syscall_parse.batches import event_batches, read_batches
from syscall_parse.csv_form import NULL
from syscall_parse.engine import Engine, Source
from syscall_parse.errors import InputError
from syscall_parse.events import Event
from syscall_parse.frames import batches_to_frame
from syscall_parse.schema import COLUMNS, DTYPES, arrow_schema
from syscall_parse.stream import ParseStats
from syscall_parse.writers import ROW_GROUP_ROWS, write_csv_batches, write_parquet_batches

__all__ = [
    "events_to_frame",
    "read_csv",
    "read_parquet",
    "read_trace",
    "write_csv",
    "write_parquet",
]


def _category(values: Sequence[object]) -> pd.Categorical:
    # Categories as an object index: the default string dtype differs in pandas 2 and 3.
    present = sorted({v for v in values if v is not None and v is not pd.NA})
    dtype = pd.CategoricalDtype(pd.Index(present, dtype=object))
    return pd.Categorical([None if v is pd.NA else v for v in values], dtype=dtype)


def _float(values: Sequence[float | None]) -> np.ndarray:
    return np.array([math.nan if v is None else v for v in values], dtype="float64")


def _column(values: Sequence[object], dtype: str):
    if dtype == "category":
        return _category(values)
    if dtype == "float64":
        return _float(values)  # type: ignore[arg-type]
    if dtype == "int64":
        return np.array(values, dtype="int64")
    return pd.array(values, dtype=dtype)


def _frame(columns: dict[str, Sequence[object]]) -> pd.DataFrame:
    return pd.DataFrame({name: _column(columns[name], DTYPES[name]) for name in COLUMNS})


def events_to_frame(events: Iterable[Event]) -> pd.DataFrame:
    """One row per event (``Unparsed`` ones skipped), columns and dtypes of ``schema.DTYPES``,
    values of ``schema.event_row``."""
    return batches_to_frame(event_batches(events))


def read_trace(
    source: Source,
    *,
    engine: Engine = "auto",
    stats: ParseStats | None = None,
    strict: bool = False,
) -> pd.DataFrame:
    """Parse logs (paths, ``-``, compressed, a ``-ff`` prefix or file list) to a frame.

    ``engine`` (see ``syscall_parse.engine``): ``"auto"`` reads a plain log with the vectorized
    engine and anything else with the reference parser; both give the same frame.
    ``df.attrs["unparsed_lines"]`` is the number of lines that were not strace output; pass
    ``stats`` to get their list, or ``strict=True`` to raise StraceParseError on the first (both
    need the reference). Raises InputError for unreadable sources. The frame is built from
    ``batches.read_batches`` (its streaming form), each batch converted as it comes: the peak
    memory is about 1.3x the frame's size over the imports.
    """
    batches = read_batches(source, engine=engine, stats=stats, strict=strict)
    frame = batches_to_frame(batches)
    frame.attrs["unparsed_lines"] = batches.unparsed_lines
    return frame


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write an event frame as CSV, atomically (the form of ``writers``).

    Nulls are written as ``\\N``; a text that starts with a backslash gets one more; a text
    holding a carriage return or a newline is quoted.
    """
    write_csv_batches(_batches(frame), path)


def write_parquet(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write an event frame as Parquet with the schema's Arrow types, atomically."""
    write_parquet_batches(_batches(frame), path)


def _batches(frame: pd.DataFrame) -> list[pa.RecordBatch]:
    """An event frame as record batches of the schema (NaN as null)."""
    table = pa.Table.from_pandas(frame, schema=arrow_schema(), preserve_index=False)
    return table.to_batches(max_chunksize=ROW_GROUP_ROWS)


def _parse_cell(text: str | None, dtype: str) -> object:
    if text is None:
        return None
    if dtype in ("int64", "Int64"):
        return int(text)
    if dtype == "float64":
        return float(text)
    if dtype == "boolean":
        return text == "True"
    return text[1:] if text.startswith("\\") else text


def _check_columns(path: str | os.PathLike[str], names: Iterable[str]) -> None:
    missing = [name for name in COLUMNS if name not in set(names)]
    if missing:
        raise InputError(f"{path}: not an event table, missing columns {', '.join(missing)}")


def read_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV written by ``write_csv`` back into exactly the frame that was written.

    Raises InputError when the file lacks a column of the schema.
    """
    # Arrow's reader, not pandas': pandas before 3.0 cuts a quoted text at a NUL byte.
    from pyarrow import csv

    raw = csv.read_csv(
        path,
        parse_options=csv.ParseOptions(newlines_in_values=True),
        convert_options=csv.ConvertOptions(
            column_types=dict.fromkeys(COLUMNS, pa.string()),
            null_values=[NULL],
            strings_can_be_null=True,
        ),
    )
    _check_columns(path, raw.column_names)
    columns = {
        name: [_parse_cell(value, DTYPES[name]) for value in raw.column(name).to_pylist()]
        for name in COLUMNS
    }
    return _frame(columns)


def read_parquet(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a Parquet event table with the schema's dtypes."""
    raw = pd.read_parquet(path)
    _check_columns(path, raw.columns)
    columns = {
        name: [None if v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v
               for v in raw[name].astype(object).tolist()]
        for name in COLUMNS
    }  # fmt: skip
    return _frame(columns)

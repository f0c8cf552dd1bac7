"""The one text form of event tables: CSV (``writers.write_csv_batches`` writes files in it,
``table.write_csv`` frames through it). The header, then one line per row, fields as pandas'
``to_csv`` writes them, nulls as ``\\N``. A text starting with a backslash gets one more, so
that no text reads as the null; a text holding a comma, a double quote, a newline or a carriage
return is quoted, its quotes doubled (pandas leaves a carriage return bare, and its reader then
cuts the line there); integers in decimal; floats in their shortest exact form (Python's
``repr``: ``1e-05``, ``1.0``); booleans ``True``/``False``. Each block is written in one pass
over its rows by the compiled ``_csv_lines`` (without the GIL: the writer's thread formats while
the parser's runs), or, where it is not built, by Arrow compute kernels (no Python per row).
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from syscall_parse.schema import arrow_schema

__all__ = ["COMPILED", "NULL", "csv_header", "csv_lines"]

try:
    from syscall_parse import _csv_lines
except ImportError:  # not built where the package was installed (no C compiler)
    _csv_lines = None

COMPILED = _csv_lines is not None
"""Whether blocks are written by the compiled ``_csv_lines`` (else by Arrow kernels, about
four times slower)."""

NULL = r"\N"
"""A null in CSV files."""

_SPECIAL = '",\n\r'
"""The characters that make a text quoted."""

_SPECIAL_BYTES = np.frombuffer(_SPECIAL.encode(), np.uint8)

_PEEK = 1 << 12
"""Bytes of a column's texts searched first (a column holding those characters at all
mostly holds them early: arguments)."""


def _quoted(text: pa.Array) -> pa.Array:
    """Texts as CSV fields: a leading backslash doubled; a text holding a comma, a double
    quote, a newline or a carriage return between quotes, its quotes doubled."""
    leading = pc.starts_with(text, "\\")
    if pc.any(leading).as_py():
        text = pc.if_else(leading, pc.binary_join_element_wise("\\", text, ""), text)
    if not _may_hold_special(text):
        return text
    # Doubling the quotes of every text costs less than finding the texts that hold one, and
    # tells them (those it made longer); the other characters are looked for one by one in
    # the texts not yet known to be quoted (RE2 finds one character fast, a set of them not).
    # A null text stays null whatever its mark.
    doubled = pc.replace_substring(text, '"', '""')
    longer = pc.not_equal(pc.binary_length(doubled), pc.binary_length(text))
    quote = longer.fill_null(True).to_numpy(zero_copy_only=False)
    for character in _SPECIAL.replace('"', ""):
        others = np.flatnonzero(~quote)
        if not len(others):
            break
        found = pc.match_substring_regex(text.take(others), character)
        quote[others] = found.to_numpy(zero_copy_only=False)
    if not quote.any():
        return text
    mark = pc.if_else(_bools(quote), '"', "")
    return pc.binary_join_element_wise(mark, doubled, mark, "")


def _may_hold_special(text: pa.Array) -> bool:
    """Whether a text may hold a ``_SPECIAL`` character: the bytes of all the texts searched
    at once (most columns of most logs hold none: return tokens, errno texts; one search of
    their bytes costs less than a regex match per text), the first ``_PEEK`` first."""
    if text.type != pa.string():
        return True
    _, offsets, data = text.buffers()
    if data is None:
        return False
    first, last = np.frombuffer(offsets, np.int32, len(text) + 1, text.offset * 4)[[0, -1]]
    raw = np.frombuffer(data, np.uint8, int(last - first), int(first))
    return any(np.isin(part, _SPECIAL_BYTES).any() for part in (raw[:_PEEK], raw[_PEEK:]))


def _floats(column: pa.Array) -> pa.Array:
    """Floats as Python's ``repr`` writes them (``_float_texts``): once per distinct value
    when the values repeat (durations, most of them a few microseconds), else value by value
    (time stamps), as a sample of them tells."""
    sample = column.slice(0, _SAMPLE)
    if len(column) > 4 * _SAMPLE and pc.count_distinct(sample).as_py() < _SAMPLE // 2:
        encoded = column.dictionary_encode()
        return _float_texts(encoded.dictionary).take(encoded.indices)
    return _float_texts(column)


_SAMPLE = 1024


def _float_texts(column: pa.Array) -> pa.Array:
    """Floats as Python's ``repr`` writes them. Most values of a log are whole microseconds
    (``S.uuuuuu`` read as n / 10**6, correctly rounded): below 2**33 the shortest text that
    reads back as such a value is its decimal of n with the trailing zeros dropped (any shorter
    one is at least 1e-6 away, more than the spacing of doubles there), written from the
    integers (Arrow's cast of a float gives the same digits in other forms: '1' for 1.0,
    '0.00001' for 1e-05); below 1e-4 ``repr`` writes an exponent, taken from the 99 such
    texts. The other values (negative, huge, not whole microseconds) are written by ``repr``,
    once per distinct value."""
    values = column.to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore", over="ignore"):
        micros = np.rint(values * 1e6)
        exact = (micros / 1e6 == values) & (values >= 0) & (values < 2.0**33) & ~np.signbit(values)
    micros = np.where(exact, micros, 0).astype(np.int64)
    whole, fraction = np.divmod(micros, 1_000_000)
    millis, micro_part = np.divmod(fraction, 1000)
    milli_texts, micro_texts = _fraction_texts()
    text = pc.binary_join_element_wise(
        _integers(whole),
        milli_texts.take(_integers_array(millis + 1000 * (micro_part == 0))),
        micro_texts.take(_integers_array(micro_part)),
        "",
    )
    tiny = exact & (micros < 100) & (micros > 0)
    if tiny.any():
        text = pc.if_else(
            _bools(tiny), _tiny().take(_integers_array(np.where(tiny, micros, 0))), text
        )
    other = ~exact & ~np.isnan(values)
    if other.any():
        text = pc.replace_with_mask(text, _bools(other), _repr_floats(values[other]))
    if column.null_count:
        return pc.if_else(column.is_valid(), text, pa.nulls(len(column), pa.string()))
    return text


@functools.cache
def _fraction_texts() -> tuple[pa.Array, pa.Array]:
    """The texts of a fraction of a second, ``.mmmuuu`` with its trailing zeros dropped, in
    two parts taken by index: the point and milliseconds (index ``m`` for ``.mmm``, followed
    by microseconds; ``1000 + m`` for ``.mmm`` trimmed, the last part, ``.0`` for none), and
    the microseconds ``uuu`` trimmed (``''`` for none)."""
    millis = [f".{m:03d}" for m in range(1000)]
    last = ["." + (f"{m:03d}".rstrip("0") or "0") for m in range(1000)]
    micros = [f"{u:03d}".rstrip("0") for u in range(1000)]
    return pa.array(millis + last, pa.string()), pa.array(micros, pa.string())


@functools.cache
def _tiny() -> pa.Array:
    """The texts of n / 10**6 for n below 100, where repr writes an exponent (n < 100)."""
    return pa.array([repr(n / 1e6) for n in range(100)], pa.string())


def _repr_floats(values: np.ndarray) -> pa.Array:
    """``repr`` of each value, formatted once per distinct value."""
    distinct, index = np.unique(values, return_inverse=True)
    written = pa.array([repr(value) for value in distinct.tolist()], pa.string())
    return written.take(_integers_array(index))


def _integers_array(values: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values, np.int64))


def _integers(values: np.ndarray) -> pa.Array:
    """Integers as decimal texts."""
    return _integers_array(values).cast(pa.string())


def _bools(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.bool_())


def _field(column: pa.Array) -> pa.Array:
    """One column as CSV fields, nulls as ``NULL``. A dictionary column's values are
    formatted once, then taken."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        values = pa.concat_arrays([column.dictionary, pa.nulls(1, pa.string())])
        text = _quoted(values).fill_null(NULL)
        return text.take(column.indices.fill_null(len(column.dictionary)))
    if pa.types.is_floating(kind):
        text = _floats(column)
    elif pa.types.is_boolean(kind):
        text = pc.if_else(column, "True", "False")
    elif pa.types.is_integer(kind):
        text = column.cast(pa.string())
    else:
        text = _quoted(column)
    return text.fill_null(NULL) if column.null_count else text


def _constant(column: pa.Array) -> str | None:
    """The field of every row of a column that holds one value in all (all null, or an
    integer, boolean or dictionary column of one value), else None."""
    if column.null_count == len(column):
        return NULL
    kind = column.type
    values = column.indices if pa.types.is_dictionary(kind) else column
    if column.null_count or not (pa.types.is_integer(values.type) or pa.types.is_boolean(kind)):
        return None
    extremes = pc.min_max(values)
    if extremes["min"] != extremes["max"]:
        return None
    return _field(column.slice(0, 1))[0].as_py()


def csv_lines(batch: pa.RecordBatch, *, compiled: bool = COMPILED) -> pa.Buffer:
    """The CSV lines of a batch's rows (no header), each ending with a newline, by the compiled
    ``_csv_lines`` or by Arrow's kernels: the same bytes. Its columns have the schema's Arrow
    types (int64, float64, bool, string, dictionaries of strings with int32 indices)."""
    if batch.num_rows == 0:
        return pa.py_buffer(b"")
    if compiled:
        return pa.py_buffer(_csv_lines.csv_lines(batch))
    return _kernel_lines(batch)


def _kernel_lines(batch: pa.RecordBatch) -> pa.Buffer:
    """``csv_lines`` by Arrow's kernels: the fields joined by commas, the newline added to the
    last one. A run of columns of one value (a single pid, no ``-r``, no signals) is one text
    for all rows, joined as one field."""
    fields: list[pa.Array | str] = []
    for column in batch.columns:
        constant = _constant(column)
        if constant is None:
            fields.append(_field(column))
        elif fields and isinstance(fields[-1], str):
            fields[-1] += "," + constant
        else:
            fields.append(constant)
    if isinstance(fields[-1], str):
        fields[-1] += "\n"
    else:
        fields[-1] = pc.binary_join_element_wise(fields[-1], "", "\n")
    if len(fields) == 1 and isinstance(fields[0], str):
        return pa.py_buffer(fields[0].encode() * batch.num_rows)
    lines = pc.binary_join_element_wise(*fields, ",")
    _, offsets, data = lines.buffers()
    bounds = np.frombuffer(offsets, np.int32, len(lines) + 1, lines.offset * 4)
    return data.slice(int(bounds[0]), int(bounds[-1] - bounds[0]))


def csv_header() -> bytes:
    """The header line: the schema's column names."""
    return (",".join(arrow_schema().names) + "\n").encode()

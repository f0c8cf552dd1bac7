"""Split calls joined as ``stream.iter_events`` joins them, with vectorized operations on chunk
tables: the pairs inside a chunk by its worker (``join_inside``), those across chunk borders
and the calls that never resumed by the parent (``arrange``)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from syscall_parse._fast import arrow, codes

__all__ = ["arrange", "join_inside"]


def join_inside(table: pa.Table) -> tuple[pa.Table, int]:
    """Joins the split calls whose two halves lie in this chunk (in the workers: most pairs do),
    drops unparsed and skipped lines; returns the table with an ``end_line`` column, and the
    unparsed count. ``arrange`` joins the pairs that cross chunk borders and yields the calls
    that did not return."""
    code = arrow.values(table["code"])
    pid_column = arrow.one(table["pid"])
    pid = arrow.values(pid_column, fill=-1)
    ids = arrow.values(arrow.one(table["syscall"]).indices, fill=-1)
    state = np.flatnonzero(
        ((code == codes.UNFINISHED) | (code == codes.RESUMED) | (code == codes.EXIT))
        & arrow.valid(pid_column)
    )
    order, same, joined = codes.pairs(code[state], pid[state], ids[state])
    rows = state[order]
    at = np.flatnonzero(joined)  # the entry half at rows[at], its resumed half at rows[at + 1]
    entry, exit_half = rows[at], rows[at + 1]
    # An edge: no earlier state row of its pid here, or one left unfinished (yielded at the
    # entry's line by the parent).
    before = at - 1
    has_before = (at > 0) & same[np.maximum(before, 0)]
    edge = ~has_before | (code[rows[np.maximum(before, 0)]] == codes.UNFINISHED)
    line = arrow.values(table["line"])
    new_line = line.copy()
    new_line[exit_half] = line[entry]
    new_code = code.copy()
    new_code[exit_half] = np.where(edge, codes.JOINED_EDGE, codes.JOINED)
    columns = {name: arrow.one(table[name]) for name in table.column_names}
    columns["line"] = arrow.array(new_line)
    columns["code"] = arrow.array(new_code)
    columns["end_line"] = arrow.array(line)
    if len(at):
        partner = np.full(len(code), -1, np.int64)
        partner[exit_half] = entry
        has = partner >= 0
        first = np.where(has, partner, np.arange(len(code)))
        for name in ("time", "relative"):
            columns[name] = columns[name].take(arrow.array(first))
        head = columns["args"].take(arrow.array(partner, mask=~has))
        columns["args"] = _joined(head, columns["args"])
    keep = code < codes.UNPARSED
    keep[entry] = False
    unparsed = int((code == codes.UNPARSED).sum())
    joined = pa.table(columns)
    if keep.all():  # (a filter copies every column)
        return joined, unparsed
    return joined.filter(arrow.array(keep)), unparsed


def arrange(table: pa.Table, *, hold: bool = False) -> tuple[pa.Table, pa.Table]:
    """Join the split calls across chunk borders and order rows as ``stream.iter_events``
    yields them (the workers joined those inside a chunk: ``join_inside``); returns the rows,
    and the unfinished calls held back. ``hold``: more chunks follow, so the unfinished calls
    that no later row of their pid here resumes or ends are held back (they go at the head of
    the next window) instead of yielded at the end. A table without ``args`` (a count, which
    needs no texts) is arranged all the same."""
    # No combine_chunks of the whole table: the takes below copy each column once anyway.
    count = table.num_rows
    code = arrow.values(table["code"])
    line = arrow.values(table["line"])  # the first line: where a joined call's entry was
    end_line = arrow.values(table["end_line"])  # where each event is yielded
    pid_column = arrow.one(table["pid"])
    pid = arrow.values(pid_column, fill=-1)
    ids = arrow.values(arrow.one(table["syscall"]).indices, fill=-1)  # (one dictionary)
    state = np.flatnonzero(
        (
            (code == codes.UNFINISHED)
            | (code == codes.RESUMED)
            | (code == codes.EXIT)
            | (code == codes.JOINED_EDGE)
        )
        & arrow.valid(pid_column)
    )
    order, same, joined = codes.pairs(code[state], pid[state], ids[state])
    rows = state[order]  # state rows grouped by pid, in line order within a pid
    entry = rows[:-1][joined]  # unfinished halves joined with ...
    exit_half = rows[1:][joined]  # ... the resumed half that follows them
    is_unfinished = code[rows] == codes.UNFINISHED
    # An unfinished call not joined is yielded, as a call that did not return, just before
    # its pid's next unfinished call or exit, or at the end in line order.
    followed = np.zeros(len(rows), bool)
    followed[:-1] = same
    lone = is_unfinished.copy()
    lone[:-1] &= ~joined
    lone_at = np.flatnonzero(lone)
    held = rows[lone_at[~followed[lone_at]]] if hold else rows[:0]
    if hold:
        lone_at = lone_at[followed[lone_at]]
    trigger = np.where(
        followed[lone_at],
        line[rows[np.minimum(lone_at + 1, len(rows) - 1)]],
        np.iinfo(np.int64).max,
    )
    lone_rows = rows[lone_at]

    keep = np.ones(count, bool)
    keep[code == codes.UNFINISHED] = False
    kept = np.flatnonzero(keep)
    # Sort keys: (yield line, 0 for an unreturned call yielded before that line's event, 1
    # otherwise, then the call's own line for the calls still pending at the end).
    key_line = np.concatenate((end_line[kept], trigger))
    key_sub = np.concatenate((np.ones(len(kept), np.int8), np.zeros(len(lone_rows), np.int8)))
    key_own = np.concatenate((end_line[kept], line[lone_rows]))
    source = np.concatenate((kept, lone_rows))
    final = np.lexsort((key_own, key_sub, key_line))
    source = source[final]
    is_lone = np.concatenate((np.zeros(len(kept), bool), np.ones(len(lone_rows), bool)))[final]

    # Joined calls: the entry's first line, time and relative time, and leading arguments.
    # Few pairs cross chunk borders: their rows are patched in numpy, and their arguments
    # taken from one more chunk, so that each column is copied once (a replace_with_mask of
    # the strings would copy them again).
    partner = np.full(count, -1, np.int64)
    partner[exit_half] = entry
    taken_partner = partner[source]
    at = np.flatnonzero(taken_partner >= 0)
    numbers = ("line", "time", "relative")
    if len(at) == 0 and np.array_equal(source, np.arange(count)):
        # Rows in order, none to patch (a log of one process, mostly): no copy at all.
        names = [name for name in table.column_names if name not in numbers and name != "args"]
        texts = ["args"] if "args" in table.column_names else []
        columns = {name: arrow.one(table[name]) for name in [*names, *numbers, *texts]}
        return _lone_marked(columns, is_lone), table.take(arrow.array(np.sort(held)))
    taken = arrow.array(source)
    texts = ["args"] if "args" in table.column_names else []
    out = table.drop_columns([*numbers, *texts]).take(taken)
    columns = {name: arrow.one(out[name]) for name in out.column_names}
    for name in numbers:
        values = arrow.values(table[name], fill=None if name == "line" else np.nan)
        patched = values[source]
        patched[at] = values[taken_partner[at]]
        columns[name] = arrow.array(patched)
    if not texts:
        return _lone_marked(columns, is_lone), table.take(arrow.array(np.sort(held)))
    args = table["args"]
    if len(at):
        head = arrow.one(args.take(arrow.array(taken_partner[at])))
        tail = arrow.one(args.take(arrow.array(source[at])))
        both = _joined(head, tail).cast(args.type)
        args = pa.chunked_array([*args.chunks, both], args.type)
        taken = source.copy()
        taken[at] = count + np.arange(len(at))
        taken = arrow.array(taken)
    columns["args"] = arrow.one(args.take(taken))
    return _lone_marked(columns, is_lone), table.take(arrow.array(np.sort(held)))


def _joined(head: pa.Array, tail: pa.Array) -> pa.Array:
    """Each ``head`` (null: none) and ``tail`` joined: a split call's arguments."""
    return pc.binary_join_element_wise(pc.coalesce(head, _NOTHING), tail, _NOTHING)


_NOTHING = arrow.from_python([""], pa.string())[0]


def _lone_marked(columns: dict[str, pa.Array], is_lone: np.ndarray) -> pa.Table:
    """The arranged rows, the calls that never resumed marked as whole calls that did not
    return."""
    if is_lone.any():
        lone_mask = arrow.array(is_lone)
        false, whole = arrow.scalar(False, pa.bool_()), arrow.scalar(codes.WHOLE, pa.int8())
        columns["returned"] = pc.if_else(lone_mask, false, columns["returned"])
        columns["code"] = pc.if_else(lone_mask, whole, columns["code"])
    return pa.table(columns)

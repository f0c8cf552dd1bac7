"""The vectorized engine: the reference parser's frames and profiles of one plain log, at C speed.

``iter_batches(path)`` yields exactly the rows of the reference's ``table.read_trace`` (as
record batches, ``read_frame`` as its frame) and ``count_file(path)`` exactly its
``counts.count_trace`` Profile, but lines are classified in
bulk: the log is read in chunks of whole lines (``chunks``), on all cores when it is big, and
a compiled scan (``_linescan.pyx``; where it is not built, numpy byte arithmetic, ``kernels``:
8 bytes at a time in uint64 lanes) reads the prefix, syscall name, result and duration of
each line of the layouts of ``strace [-f] -o FILE [-ttt|-tt|-r] [-T] [-y]`` (``scan``). A
profile needs numpy alone (``counts``); a frame's text columns are cut out of each chunk as
Arrow strings (``chunk_table``, ``_texts.pyx``), its split calls joined (``join``), and the
tables turned into record batches as they come (``batches``).

Exactness comes first: any line the fast checks do not classify with certainty (signals,
exits, messages, notes after the result, escaped or non-ASCII bytes, other prefix layouts...)
goes through the reference ``lines.parse_line``; split calls are joined per pid with vectorized
numpy operations that reproduce ``stream.iter_events``. The few states whose handling is not
vectorized (a ``<... resumed>`` half whose name differs from its pid's pending call,
``superseded by execve``, pid-less split calls, events with and without a pid in one log (a
stderr trace: the reference gives pid-less lines the only live pid), a call line cut by a raw
newline) raise FastPathUnsupported: ``table.read_trace`` and ``counts.count_trace`` then read
the log with the reference parser.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from syscall_parse._fast.chunks import CHUNK_BYTES, PROFILE_CHUNK_BYTES
from syscall_parse._fast.counts import count_chunks

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    import pandas as pd
    import pyarrow as pa

    from syscall_parse.counts import Profile

__all__ = ["count_file", "iter_batches", "read_frame"]


def iter_batches(
    path: str | os.PathLike[str] | Sequence[tuple[int, Path]],
    *,
    workers: int | None = None,
    chunk_bytes: int | None = None,
) -> Iterator[tuple[pa.RecordBatch, int]]:
    """The record batches of the plain log ``path`` or of the ``-ff`` set of ``(tid, path)``
    pairs (rows and values of the reference's frame, in its order), each with the count of
    unparsed lines it covers, built on ``workers`` processes (default: all cores for logs of
    16 MB and more, this process for smaller ones) from pieces of about ``chunk_bytes``
    (default: ``CHUNK_BYTES`` for a log, ``ff.PIECE_BYTES`` for a set). Raises
    FastPathUnsupported for the states of the module docstring (and of ``ff``'s), as soon as a
    piece shows one.
    """
    # Arrow loads with the first batch: the count path never needs it.
    if isinstance(path, list | tuple):
        from syscall_parse._fast.ff import PIECE_BYTES, iter_ff_batches

        return iter_ff_batches(path, workers, chunk_bytes or PIECE_BYTES)
    from syscall_parse._fast.batches import iter_batches as batches

    return batches(Path(path), workers, chunk_bytes or CHUNK_BYTES)


def read_frame(
    path: str | os.PathLike[str] | Sequence[tuple[int, Path]],
    *,
    workers: int | None = None,
    chunk_bytes: int | None = None,
) -> pd.DataFrame:
    """The frame of ``iter_batches`` (the reference's, with ``attrs["unparsed_lines"]``)."""
    from syscall_parse.frames import batches_to_frame

    unparsed = 0

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal unparsed
        for batch, lines in iter_batches(path, workers=workers, chunk_bytes=chunk_bytes):
            unparsed += lines
            yield batch

    frame = batches_to_frame(batches())
    frame.attrs["unparsed_lines"] = unparsed
    return frame


def count_file(
    path: str | os.PathLike[str] | Sequence[tuple[int, Path]],
    *,
    workers: int | None = None,
    chunk_bytes: int = PROFILE_CHUNK_BYTES,
) -> Profile:
    """The ``Profile`` of the plain log ``path``, equal to the reference's, counted on
    ``workers`` processes (as for ``read_frame``) in pieces of about ``chunk_bytes``: memory
    stays bounded by a few pieces per worker, whatever the size of the log. Raises
    FastPathUnsupported for the states of the module docstring. A ``-ff`` set is counted over
    its merged rows (``ff.count_ff``: it loads Arrow, and streams as ``ff`` says).
    """
    if isinstance(path, list | tuple):
        from syscall_parse._fast.ff import count_ff

        return count_ff(path, workers, chunk_bytes)
    return count_chunks(Path(path), workers, chunk_bytes)

"""Which engine reads a log: the vectorized one (``_fast``) or the reference parser.

Both give the same events; the fast engine reads one plain, uncompressed file or the frame of
a ``-ff`` set, and the reference everything else (``-``, compressed logs, a ``-ff`` set's
counts) and whatever asks for what only it gives (the list of unparsed lines, strict errors).
``fast_path`` makes that choice; ``table.read_trace`` and ``counts.count_trace`` hold the
fallback: with ``"auto"`` a log the fast engine turns down part-way (``FastPathUnsupported``:
a rare state it does not reproduce) is read again by the reference; with ``"fast"`` that error
is raised.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from syscall_parse.errors import TraceError
from syscall_parse.inputs import COMPRESSED, ff_set

__all__ = ["ENGINES", "Engine", "FastPathUnsupported", "fast_path"]

Engine = Literal["auto", "reference", "fast"]
ENGINES: tuple[Engine, ...] = ("auto", "reference", "fast")

Source = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


class FastPathUnsupported(TraceError):
    """The fast engine cannot read this input exactly; the reference parser can."""


def _plain_path(source: Source) -> Path | None:
    """The path of a plain log file (one readable, uncompressed file), or None: then the
    reference reads the source (``-``, ``-ff`` sets and prefixes, compressed files) or
    raises its InputError (missing, directory, unreadable)."""
    if isinstance(source, list | tuple) and len(source) == 1:
        source = source[0]
    if isinstance(source, list | tuple) or str(source) == "-":
        return None
    path = Path(source)
    if not path.is_file() or not os.access(path, os.R_OK):
        return None
    if path.suffix in COMPRESSED:
        return None
    return path


def _readable_ff_set(source: Source) -> list[tuple[int, Path]] | None:
    """The ``(tid, path)`` pairs of a ``-ff`` set whose files are all readable, or None."""
    pairs = ff_set(source)
    if pairs is None or not all(os.access(path, os.R_OK) for _, path in pairs):
        return None
    return pairs


def fast_path(
    source: Source, engine: Engine, *, reference_only: bool = False
) -> Path | list[tuple[int, Path]] | None:
    """The log the fast engine should read for this request (a plain file, or the
    ``(tid, path)`` pairs of a ``-ff`` set), or None for the reference.

    ``reference_only``: the caller asks for what only the reference gives. Raises ValueError for
    an unknown engine and FastPathUnsupported when ``engine="fast"`` cannot be honoured.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "reference":
        return None
    path = None if reference_only else _plain_path(source) or _readable_ff_set(source)
    if path is None and engine == "fast":
        why = "unparsed lines or strict errors" if reference_only else "this input"
        raise FastPathUnsupported(f"the fast engine does not give {why}: use the reference")
    return path

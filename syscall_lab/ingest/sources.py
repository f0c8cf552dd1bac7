"""What an ingest reads: the sources named on its command line, found and labelled.

A source is one log (plain or compressed), one ``-ff`` set (``PREFIX.PID`` files joined by their
prefix), or one ADFA-LD trace. ``find_sources`` turns the command line's arguments into sources:

- a file is a log, labelled with the name of its folder (``unlabelled`` for ``/``); a path
  that is no file but the prefix of ``-ff`` files is that set;
- a folder is searched recursively, and every regular file in it is a source (files named
  ``PREFIX.PID`` with one prefix, two or more, are one ``-ff`` set), labelled with the name of
  the first folder below the argument (the argument's own name for the files directly in it);
- a capture run folder (it holds ``metadata.json``) gives one source, the logs its metadata
  names (strace's ``trace.log*``, or the eBPF observer's log),
  labelled with the run's label, condition, repeat and run id (the folder's name); its own
  other files (``metadata.json``, ``stdout.txt``, ``stderr.txt``...) are not sources;
- an experiment folder (it holds ``experiment.json``) gives its ``runs/`` run folders; its
  ``datasets/`` tables and report files are not logs;
- an ADFA-LD folder (it holds the three ``*_Data_Master`` folders) gives one source per trace
  file: label ``normal`` (condition ``train`` or ``validation``: its split) or ``attack``
  (condition: the attack type, run: its attack folder, ``Hydra_FTP_3``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from syscall_lab.capture.metadata import METADATA_FILE, read_metadata
from syscall_lab.errors import SyscallLabError
from syscall_parse.errors import InputError, TraceError
from syscall_parse.inputs import ff_files, ff_name

__all__ = ["FORMS", "UNLABELLED", "IngestUsageError", "Source", "find_sources"]

FORMS = ("strace", "adfa")
"""How a source is read: strace output (any form the parser reads) or an ADFA-LD trace."""


UNLABELLED = "unlabelled"
"""The label of a log whose folder has no name (the root folder)."""


class IngestUsageError(SyscallLabError):
    """A command line that names nothing to ingest, or a source that does not exist."""


@dataclass(frozen=True, slots=True)
class Source:
    """One source: ``key`` names it (its absolute path; a ``-ff`` set's prefix), ``paths`` are
    its files in the order they are read, ``form`` one of ``FORMS``; ``error``, when found
    unreadable (a run folder's ``metadata.json``, an ADFA-LD trace outside an attack folder),
    is why: the ingest records it as failed."""

    key: str
    paths: tuple[str, ...]
    form: str
    label: str
    condition: str | None = None
    run: str | None = None
    repeat: int | None = None
    error: str | None = None


def _grouped(files: Sequence[Path]) -> list[tuple[str, tuple[str, ...]]]:
    """``(key, paths)`` of files of one folder, by key: ``PREFIX.PID`` files sharing a prefix
    (two or more) as one ``-ff`` set keyed by the prefix (``PREFIX.*`` when a file is named
    ``PREFIX`` too), in pid order; any other file alone, keyed by its path."""
    sets: dict[Path, list[tuple[int, Path]]] = {}
    groups = []
    for path in files:
        named = ff_name(path.name)
        if named is None:
            groups.append((str(path), (str(path),)))
        else:
            prefix, pid = named
            sets.setdefault(path.parent / prefix, []).append((pid, path))
    names = {path.name for path in files}
    for prefix, members in sets.items():
        if len(members) == 1:
            groups.append((str(members[0][1]), (str(members[0][1]),)))
        else:
            key = f"{prefix}.*" if prefix.name in names else str(prefix)
            groups.append((key, tuple(str(path) for _, path in sorted(members))))
    return sorted(groups)


def _run_source(folder: Path) -> Source | None:
    try:
        metadata = read_metadata(folder)
    except TraceError as exc:
        path = str(folder / METADATA_FILE)
        return Source(str(folder), (path,), "strace", folder.name, error=str(exc))
    logs = [folder / name for name in metadata.logs]
    if not logs:
        return None
    key = str(folder / logs[0].name) if len(logs) == 1 else str(folder / "trace.log")
    return Source(
        key, tuple(str(log) for log in logs), "strace", metadata.label,
        metadata.condition, folder.name, metadata.repeat,
    )  # fmt: skip


def _adfa_sources(root: Path) -> Iterator[Source]:
    from syscall_lab.detect.adfa import ADFA_LABELS, ADFA_SPLITS, attack_type

    for split, folder in ADFA_SPLITS.items():
        label = ADFA_LABELS[split]
        for path in sorted((root / folder).rglob("*.txt")):
            if label != ADFA_LABELS["attack"]:
                yield Source(str(path), (str(path),), "adfa", label, split)
                continue
            try:
                kind = attack_type(path.parent)
            except TraceError as exc:
                yield Source(str(path), (str(path),), "adfa", label, error=str(exc))
            else:
                yield Source(str(path), (str(path),), "adfa", label, kind, path.parent.name)


def _is_adfa(folder: Path) -> bool:
    from syscall_lab.detect.adfa import ADFA_SPLITS

    return all((folder / name).is_dir() for name in ADFA_SPLITS.values())


def _folder_sources(root: Path, skip: Path | None) -> Iterator[Source]:
    from syscall_lab.experiment.store import EXPERIMENT_FILE

    if _is_adfa(root):
        yield from _adfa_sources(root)
        return
    for here, dirs, names in os.walk(root):
        folder = Path(here)
        dirs.sort()
        if skip is not None and folder.resolve() == skip:
            dirs.clear()
            continue
        if (folder / METADATA_FILE).is_file():
            dirs.clear()
            source = _run_source(folder)
            if source is not None:
                yield source
            continue
        if (folder / EXPERIMENT_FILE).is_file():
            dirs[:] = ["runs"] if "runs" in dirs else []
            continue
        if _is_adfa(folder):
            dirs.clear()
            yield from _adfa_sources(folder)
            continue
        relative = folder.relative_to(root).parts
        label = relative[0] if relative else root.resolve().name or UNLABELLED
        files = [folder / name for name in names if (folder / name).is_file()]
        for key, paths in _grouped(files):
            yield Source(key, paths, "strace", label)


def find_sources(
    arguments: Sequence[str], *, skip: str | os.PathLike[str] | None = None
) -> list[Source]:
    """The sources of the command line's ``arguments`` (see the module's rules), each once,
    in the order found. ``skip``: a folder never searched (the dataset being written).

    Raises IngestUsageError for an argument that is neither a file, a folder nor a ``-ff``
    prefix. A run folder whose ``metadata.json`` cannot be read, or an ADFA-LD trace whose
    attack folder is not named ``<type>_<run>``, is a source with its ``error``.
    """
    skip_path = Path(skip).resolve() if skip is not None else None
    found: dict[str, Source] = {}
    for argument in arguments:
        path = Path(argument).absolute()
        if argument == "-":
            raise IngestUsageError("'-' (standard input) cannot be ingested: name files")
        if path.is_dir():
            sources = list(_folder_sources(path, skip_path))
        elif path.is_file():
            sources = [Source(str(path), (str(path),), "strace", path.parent.name or UNLABELLED)]
        else:
            try:
                paths = tuple(str(file) for _, file in ff_files(path) if file.is_file())
            except InputError:
                paths = ()
            if not paths:
                raise IngestUsageError(f"{argument}: no such file or folder, nor -ff files")
            sources = [Source(str(path), paths, "strace", path.parent.name or UNLABELLED)]
        for source in sources:
            found.setdefault(source.key, source)
    if not found:
        raise IngestUsageError(f"no source found in {', '.join(arguments)}")
    return list(found.values())

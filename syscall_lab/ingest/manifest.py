"""A dataset's manifest: what was ingested from which source, and whether a source must be read
again.

``DATASET/manifest.json`` holds ``{"format_version": 1, "sources": [ENTRY...]}``, entries sorted
by source, each an ``Entry`` (see docs/ingest.md). It is written atomically. A source is read
again unless its entry says it was ingested, from the same bytes (size and SHA-256 of its files
in order), with the same labels, and its part is still there.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from syscall_lab.ingest.sources import Source
from syscall_parse.atomic import write_text
from syscall_parse.errors import InputError

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST_FILE",
    "STATUSES",
    "Entry",
    "checksum",
    "read_manifest",
    "unchanged",
    "write_manifest",
]

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
STATUSES = ("ingested", "failed")

_BLOCK = 1 << 20


@dataclass(frozen=True, slots=True)
class Entry:
    """One source in the manifest: the source's names, its files' total ``size`` and
    ``checksum``, the ``events`` and ``unparsed`` lines read, ``status`` (one of ``STATUSES``),
    ``error`` (one line, when failed) and ``part``, its Parquet file relative to the dataset
    (None when failed)."""

    source: str
    paths: tuple[str, ...]
    form: str
    label: str
    condition: str | None
    run: str | None
    repeat: int | None
    size: int
    checksum: str
    events: int
    unparsed: int
    status: str
    error: str | None = None
    part: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {', '.join(STATUSES)}")

    @classmethod
    def failed(cls, source: Source, error: str, size: int = 0, checksum: str = "") -> Entry:
        """The entry of ``source`` that could not be read: its names, the ``size`` and
        ``checksum`` of its files when known, and ``error``'s first line."""
        return cls(
            source.key, source.paths, source.form, source.label, source.condition, source.run,
            source.repeat, size, checksum, 0, 0, "failed", error.splitlines()[0],
        )  # fmt: skip

    def names(self) -> Source:
        """The source this entry was made from."""
        return Source(
            self.source, self.paths, self.form, self.label, self.condition, self.run, self.repeat
        )


def checksum(paths: Iterable[str]) -> tuple[int, str]:
    """``(size, "sha256:HEX")`` of files read in order; InputError when one cannot be read."""
    digest = hashlib.sha256()
    size = 0
    for path in paths:
        try:
            with open(path, "rb") as stream:
                while block := stream.read(_BLOCK):
                    digest.update(block)
                    size += len(block)
        except OSError as exc:
            raise InputError(f"{path}: {exc.strerror or exc}") from exc
    return size, f"sha256:{digest.hexdigest()}"


def unchanged(previous: Entry | None, source: Source, size: int, check: str, dataset: Path) -> bool:
    """Whether ``source``, now of ``size`` bytes and checksum ``check``, was ingested as it is
    (``previous``: its entry in the manifest) and its part is still in ``dataset``."""
    return (
        previous is not None
        and previous.status == "ingested"
        and previous.names() == source
        and (previous.size, previous.checksum) == (size, check)
        and previous.part is not None
        and (dataset / previous.part).is_file()
    )


def read_manifest(dataset: Path) -> dict[str, Entry]:
    """The entries of ``dataset``'s manifest by source (none when it has no manifest yet);
    InputError when it cannot be read or is of another format."""
    path = dataset / MANIFEST_FILE
    if not path.exists():
        return {}
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if stored.get("format_version") != FORMAT_VERSION:
            raise InputError(
                f"{path}: format_version {stored.get('format_version')!r}, "
                f"expected {FORMAT_VERSION}"
            )
        entries = [Entry(**{**item, "paths": tuple(item["paths"])}) for item in stored["sources"]]
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InputError(f"cannot read manifest {path}: {exc}") from exc
    return {entry.source: entry for entry in entries}


def write_manifest(dataset: Path, entries: Mapping[str, Entry]) -> None:
    """Write ``entries`` as ``dataset``'s manifest, atomically, sorted by source."""
    document = {
        "format_version": FORMAT_VERSION,
        "sources": [dataclasses.asdict(entries[key]) for key in sorted(entries)],
    }
    write_text(dataset / MANIFEST_FILE, json.dumps(document, indent=1) + "\n")

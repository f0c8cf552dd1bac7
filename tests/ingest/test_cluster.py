"""Ingest through a real ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1: the
same rows as a local ingest, and every source ingested once when a worker is killed mid-way."""

from __future__ import annotations

import json
import shutil

import pyarrow.parquet as pq
import pytest

from syscall_lab.cli import main
from syscall_lab.ingest.cluster import dask_client, worker_count
from syscall_lab.ingest.manifest import read_manifest
from syscall_lab.ingest.run import ingest
from syscall_lab.ingest.sources import find_sources

pytestmark = [pytest.mark.strace, pytest.mark.slow]


def _rows(dataset):
    """Each source's part read back, by source, and the manifest entries without timings."""
    entries = read_manifest(dataset)
    return {key: pq.read_table(dataset / e.part) for key, e in entries.items()}, entries


def test_scheduler_ingest_gives_the_rows_of_a_local_ingest(
    corpus, adfa_sample, tmp_path, capsys, dask_processes, local_client
):
    """``ingest --scheduler`` through the real cluster writes the manifest and the very rows
    of an ingest on a local cluster, and a rerun through it skips every source."""
    sources = [str(corpus), str(adfa_sample)]
    status = main(["ingest", *sources, "-o", str(tmp_path / "remote"),
                   "--scheduler", dask_processes.address, "--json"])  # fmt: skip
    summary = json.loads(capsys.readouterr().out)
    ingest(find_sources(sources), tmp_path / "local", local_client)
    remote_parts, remote = _rows(tmp_path / "remote")
    local_parts, local = _rows(tmp_path / "local")
    assert 0 == status
    assert 2 == summary["workers"]
    assert len(local) == summary["ingested"]
    assert local == remote
    assert local_parts.keys() == remote_parts.keys()
    for key, table in local_parts.items():
        assert table.equals(remote_parts[key]), key
    main(["ingest", *sources, "-o", str(tmp_path / "remote"),
          "--scheduler", dask_processes.address, "--json"])  # fmt: skip
    again = json.loads(capsys.readouterr().out)
    assert (0, len(local)) == (again["ingested"], again["skipped"])


def test_a_worker_killed_mid_ingest_leaves_every_source_ingested_once(
    corpus, tmp_path, dask_processes
):
    """One of the two workers is killed (SIGKILL to its process group) after the first
    sources are done: the other finishes the work; every source is ingested once, with its
    rows, and the dataset holds one part per source."""
    many = tmp_path / "many"
    for copy in range(40):
        shutil.copytree(corpus, many / f"copy{copy:02d}")
    sources = find_sources([str(many)])
    killed = []

    def kill_once(outcome) -> None:
        if not killed:
            dask_processes.kill_worker(1)
            killed.append(outcome)

    with dask_client(dask_processes.address) as client:
        summary = ingest(sources, tmp_path / "ds", client, progress=kill_once)
        assert 1 == worker_count(client)
    entries = read_manifest(tmp_path / "ds")
    assert (len(sources), 0) == (summary.ingested, summary.failed)
    assert {s.key for s in sources} == {k for k, e in entries.items() if e.status == "ingested"}
    parts = sorted((tmp_path / "ds").glob("label=*/part-*.parquet"))
    assert sorted(tmp_path / "ds" / e.part for e in entries.values()) == parts
    assert sum(e.events for e in entries.values()) == sum(
        pq.ParquetFile(p).metadata.num_rows for p in parts
    )
    assert [] == list((tmp_path / "ds").rglob("*.tmp"))

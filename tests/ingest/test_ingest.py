"""Ingest on a local Dask cluster: every source's rows exactly as the parser reads them, a rerun
that skips what did not change, a corrupt source failed alone, and the command's exit statuses."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from syscall_lab.cli import main
from syscall_lab.detect.adfa import load_adfa
from syscall_lab.ingest.manifest import read_manifest
from syscall_lab.ingest.run import ingest
from syscall_lab.ingest.sources import find_sources
from syscall_lab.ingest.worker import NAME_COLUMNS
from syscall_parse.batches import read_batches
from syscall_parse.counts import count_trace
from syscall_parse.errors import TraceError
from syscall_parse.schema import COLUMNS

pytestmark = pytest.mark.strace

ROOT = Path(__file__).resolve().parents[2]


def _plain(table: pa.Table) -> pa.Table:
    """``table`` with its dictionary columns decoded, so tables compare by their values."""
    return pa.table(
        {
            name: column.cast(column.type.value_type)
            if pa.types.is_dictionary(column.type)
            else column
            for name, column in zip(table.column_names, table.columns, strict=True)
        }
    )


def test_parts_hold_each_source_rows_as_the_parser_reads_them(corpus, tmp_path, local_client):
    """Each source's part holds exactly the rows ``read_batches`` gives for its files, in
    order, with its names; the manifest counts them and names the part under its label."""
    summary = ingest(find_sources([str(corpus)]), tmp_path / "ds", local_client)
    entries = read_manifest(tmp_path / "ds")
    assert (6, 6, 0, 0) == (summary.sources, summary.ingested, summary.skipped, summary.failed)
    assert sum(entry.events for entry in entries.values()) == summary.events
    for entry in entries.values():
        part = pq.read_table(tmp_path / "ds" / entry.part)
        expected = pa.Table.from_batches(list(read_batches(list(entry.paths))))
        assert _plain(expected) == _plain(part.select(list(COLUMNS)))
        assert {entry.source} == set(part["source"].to_pylist())
        assert entry.events == part.num_rows
        assert entry.part.startswith(f"label={entry.label}/")
        assert [*COLUMNS, *NAME_COLUMNS] == part.column_names
    ff = entries[str(corpus / "other" / "shell.log")]
    assert count_trace(list(ff.paths)).events == ff.events
    assert 2 <= len(ff.paths)


def test_rerun_skips_unchanged_and_reads_changed_sources_once(corpus_copy, tmp_path, local_client):
    """A second run skips every source; after one log changes, only that one is read again,
    and its part is replaced: no duplicate rows."""
    dataset = tmp_path / "ds"
    ingest(find_sources([str(corpus_copy)]), dataset, local_client)
    again = ingest(find_sources([str(corpus_copy)]), dataset, local_client)
    assert (0, 6, 0, 0) == (again.ingested, again.skipped, again.failed, again.events)
    log = corpus_copy / "normal" / "cat.log"
    log.write_text(log.read_text() + log.read_text().splitlines()[0] + "\n")
    changed = ingest(find_sources([str(corpus_copy)]), dataset, local_client)
    assert (1, 5) == (changed.ingested, changed.skipped)
    entry = read_manifest(dataset)[str(log)]
    assert count_trace(log).events == entry.events
    assert 6 == len(list(dataset.glob("label=*/part-*.parquet")))
    assert entry.events == pq.read_table(dataset / entry.part).num_rows


def test_corrupt_sources_fail_alone(corpus_copy, tmp_path, capsys):
    """A cut gzip and a binary file are failed, each named on stderr with its error, the
    others ingested: exit status 1, and the manifest says which failed and why."""
    good = (corpus_copy / "normal" / "ls-again.log.gz").read_bytes()
    cut, binary = corpus_copy / "normal" / "cut.log.gz", corpus_copy / "other" / "binary.log"
    cut.write_bytes(good[: len(good) // 2])
    binary.write_bytes(gzip.compress(bytes(range(256)) * 64))
    dataset = tmp_path / "ds"
    status = main(["ingest", str(corpus_copy), "-o", str(dataset), "--workers", "1", "--json"])
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert 1 == status
    assert (8, 6, 2) == (summary["sources"], summary["ingested"], summary["failed"])
    failed = {e.source: e.error for e in read_manifest(dataset).values() if e.status == "failed"}
    assert {str(cut), str(binary)} == set(failed)
    assert all(f"failed: {error}" in err for error in failed.values())
    assert "Compressed file ended" in failed[str(cut)]
    assert "not strace output" in failed[str(binary)]
    assert 6 == len(list(dataset.glob("label=*/part-*.parquet")))


def test_a_bad_run_folder_or_adfa_file_fails_alone(corpus_copy, adfa_sample, tmp_path, capsys):
    """A run folder whose metadata.json cannot be read and a stray file directly in ADFA-LD's
    Attack_Data_Master are failed sources, named on stderr and in the manifest; the others are
    ingested. The ADFA-LD evaluation of that dataset is refused, as of the folder itself."""
    run = corpus_copy / "run-broken"
    run.mkdir()
    (run / "metadata.json").write_text("{not json")
    shutil.copy(corpus_copy / "normal" / "ls.log", run / "trace.log")
    adfa = Path(shutil.copytree(adfa_sample, tmp_path / "adfa", symlinks=True))
    stray = adfa / "Attack_Data_Master" / "stray.txt"
    stray.write_text("5 6\n")
    dataset = tmp_path / "ds"
    argv = ["ingest", str(corpus_copy), str(adfa), "-o", str(dataset), "--workers", "1"]
    status = main([*argv, "--json"])
    out, err = capsys.readouterr()
    summary = json.loads(out)
    failed = {e.source: e.error for e in read_manifest(dataset).values() if e.status == "failed"}
    assert 1 == status
    assert {str(run), str(stray)} == set(failed)
    assert (2, summary["sources"] - 2) == (summary["failed"], summary["ingested"])
    assert all(f"failed: {error}" in err for error in failed.values())
    assert "cannot read run metadata" in failed[str(run)]
    assert "not <type>_<run>" in failed[str(stray)]
    with pytest.raises(TraceError, match="not <type>_<run>"):
        load_adfa(adfa)
    assert 2 == main(["evaluate", "adfa-ld", str(dataset), "--detector", "stide"])
    err = capsys.readouterr().err
    assert 1 == len(err.splitlines())
    assert "1 ADFA-LD traces failed" in err
    assert str(stray) in err


def test_a_url_output_is_refused(corpus, tmp_path, monkeypatch, capsys):
    """``-o s3://...``: one line, exit status 2, and no local ``s3:`` folder made."""
    monkeypatch.chdir(tmp_path)
    assert 2 == main(["ingest", str(corpus), "-o", "s3://bucket/ds"])
    err = capsys.readouterr().err
    assert 1 == len(err.splitlines())
    assert "not a URL" in err
    assert [] == list(tmp_path.iterdir())


def test_a_killed_write_leaves_no_part(corpus, tmp_path, local_client):
    """A temporary part left by a killed writer is never read as a part and is removed by the
    next ingest, which writes the part whole."""
    dataset = tmp_path / "ds"
    sources = find_sources([str(corpus / "normal" / "ls.log")])
    (dataset / "label=normal").mkdir(parents=True)
    leftover = dataset / "label=normal" / ".part-0123.parquet.abc.tmp"
    leftover.write_bytes(b"PAR1 half written")
    summary = ingest(sources, dataset, local_client)
    assert not leftover.exists()
    assert 1 == summary.ingested
    assert [] == list(dataset.rglob("*.tmp"))


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["ingest", "{corpus}"], id="no-output"),
        pytest.param(["ingest", "-o", "{tmp}/ds"], id="no-source"),
        pytest.param(["ingest", "{corpus}", "-o", "{tmp}/ds", "--workers", "0"], id="workers-0"),
        pytest.param(
            [
                "ingest",
                "{corpus}",
                "-o",
                "{tmp}/ds",
                "--workers",
                "1",
                "--scheduler",
                "tcp://127.0.0.1:1",
            ],
            id="both",
        ),
    ],
)
def test_usage_errors_exit_2(argv, corpus, tmp_path):
    """A command line that cannot run is argparse's usage error: exit status 2."""
    with pytest.raises(SystemExit) as raised:
        main([arg.format(corpus=corpus, tmp=tmp_path) for arg in argv])
    assert 2 == raised.value.code


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["ingest", "{tmp}/nothere", "-o", "{tmp}/ds"],
            "nothere: no such file",
            id="missing-source",
        ),
        pytest.param(["ingest", "-", "-o", "{tmp}/ds"], "standard input", id="stdin"),
        pytest.param(
            ["ingest", "{corpus}", "-o", "{corpus}/normal/ls.log"],
            "not a folder",
            id="output-is-a-file",
        ),
        pytest.param(
            ["profile", "{corpus}/normal/ls.log", "--by", "label"],
            "apply to a dataset",
            id="by-without-dataset",
        ),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(argv, message, corpus, tmp_path, capsys):
    """A source or output that cannot be used: one line on stderr, exit status 2, nothing
    written."""
    status = main([arg.format(corpus=corpus, tmp=tmp_path) for arg in argv])
    err = capsys.readouterr().err
    assert 2 == status
    assert 1 == len(err.splitlines())
    assert message in err
    assert not Path(tmp_path, "ds").exists()


@pytest.mark.slow
def test_sigterm_mid_ingest_leaves_a_manifest_of_every_part(
    corpus, tmp_path, processes_with, capsys
):
    """``syscall-lab ingest`` sent SIGTERM once its first parts are in place stops as on
    Ctrl-C (exit status 130): its manifest lists exactly the parts on disk, it leaves no
    process behind, and a rerun reads only the sources it had not finished."""
    many = tmp_path / "many"
    for copy in range(60):
        shutil.copytree(corpus, many / f"copy{copy:02d}")
    dataset = tmp_path / "ds"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "syscall_lab", "ingest", str(many), "-o", str(dataset)]
    process = subprocess.Popen(
        [*command, "--workers", "1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 600
        while not list(dataset.glob("label=*/part-*.parquet")) and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert 130 == process.returncode, err
    parts = {p.relative_to(dataset).as_posix() for p in dataset.glob("label=*/part-*.parquet")}
    entries = read_manifest(dataset)
    assert parts == {e.part for e in entries.values() if e.status == "ingested"}
    assert 0 < len(parts) < 360
    assert [] == processes_with(str(dataset))
    status = main(["ingest", str(many), "-o", str(dataset), "--workers", "1", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert 0 == status
    assert (len(parts), 360 - len(parts)) == (summary["skipped"], summary["ingested"])
    assert [] == list(dataset.rglob("*.tmp"))

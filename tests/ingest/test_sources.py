"""Which files an ingest reads and how it labels them: folders, -ff sets, capture run folders
(labels from their metadata), experiment folders (their runs, not their tables), ADFA-LD."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from syscall_lab.capture.run import capture_command
from syscall_lab.ingest.sources import IngestUsageError, Source, find_sources

pytestmark = pytest.mark.strace


def test_a_folder_gives_every_file_labelled_by_its_first_folder(corpus, tmp_path):
    """Plain and compressed logs each a source, the -ff files one source under their prefix,
    labels from the first folder below the argument; the dataset folder is never searched."""
    dataset = corpus / "normal" / "ds"
    (dataset / "label=x").mkdir(parents=True)
    (dataset / "label=x" / "part-1.parquet").write_bytes(b"PAR1")
    try:
        sources = find_sources([str(corpus)], skip=dataset)
    finally:
        shutil.rmtree(dataset)
    by_key = {s.key: s for s in sources}
    shell = by_key[str(corpus / "other" / "shell.log")]
    assert sorted(str(p) for p in (corpus / "other").glob("shell.log.*")) == sorted(shell.paths)
    assert [int(p.rsplit(".", 1)[1]) for p in shell.paths] == sorted(
        int(p.rsplit(".", 1)[1]) for p in shell.paths
    )
    assert {
        str(corpus / "normal" / name): "normal"
        for name in ("cat.log", "ls-again.log.gz", "ls.log", "python.log")
    } | {str(corpus / "other" / "missing.log"): "other", shell.key: "other"} == {
        s.key: s.label for s in sources
    }


def test_a_log_and_a_prefix_named_directly(corpus):
    """A file is one source labelled by its folder; an -ff prefix, the set."""
    log, prefix = corpus / "normal" / "ls.log", corpus / "other" / "shell.log"
    sources = find_sources([str(log), str(prefix)])
    assert Source(str(log), (str(log),), "strace", "normal") == sources[0]
    assert (str(prefix), "other") == (sources[1].key, sources[1].label)
    assert 2 <= len(sources[1].paths)


def test_run_and_experiment_folders_give_their_logs_with_their_metadata(strace, tmp_path):
    """A capture run folder gives its trace log with the run's label, condition, repeat and id;
    an experiment folder gives its runs/ and never its tables or its own files."""
    experiment = tmp_path / "experiment"
    result = capture_command(
        [sys.executable, "-c", "pass"], label="tiny", out_dir=experiment / "runs", repeat=3,
        condition="tiny-condition", measure_untraced=False,
    )  # fmt: skip
    (experiment / "experiment.json").write_text(json.dumps({"format_version": 1}))
    (experiment / "datasets" / "tiny").mkdir(parents=True)
    (experiment / "datasets" / "tiny" / f"{result.run_dir.name}.csv").write_text("line\n1\n")
    (result.run_dir / "stdout.txt").write_text("output of the program\n")
    expected = [
        Source(
            str(result.run_dir / "trace.log"),
            (str(result.run_dir / "trace.log"),),
            "strace",
            "tiny",
            "tiny-condition",
            result.run_dir.name,
            3,
        )
    ]
    assert expected == find_sources([str(experiment)])
    assert expected == find_sources([str(result.run_dir)])


def test_adfa_layout_gives_labelled_traces(adfa_sample):
    """ADFA-LD: normal traces labelled by split, attack traces by type and attack folder."""
    sources = find_sources([str(adfa_sample)])
    assert 40 == sum(s.label == "normal" for s in sources)
    assert {"train": 20, "validation": 20} == {
        split: sum(s.condition == split for s in sources) for split in ("train", "validation")
    }
    attack = [s for s in sources if s.label == "attack"]
    assert attack
    assert all(s.run is not None and s.run.startswith(f"{s.condition}_") for s in attack)
    assert {"adfa"} == {s.form for s in sources}


@pytest.mark.parametrize(
    ("argument", "message"),
    [("-", "standard input"), ("{tmp}/none", "no such file or folder"), ("{tmp}", "no source")],
)
def test_nothing_to_read_is_a_usage_error(argument, message, tmp_path):
    """'-', a missing path and an empty folder: IngestUsageError, saying which."""
    with pytest.raises(IngestUsageError, match=message):
        find_sources([argument.format(tmp=tmp_path)])


def test_a_plain_log_beside_its_ff_set_stays_its_own_source(tmp_path):
    """A plain ``trace`` beside ``trace.PID`` files is one source and the set another (keyed
    ``trace.*``, as its key cannot be the plain file's path)."""
    for name in ("trace", "trace.12", "trace.7"):
        (tmp_path / "logs" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "logs" / name).write_text("")
    logs = tmp_path / "logs"
    expected = [
        (str(logs / "trace"), (str(logs / "trace"),)),
        (str(logs / "trace.*"), (str(logs / "trace.7"), str(logs / "trace.12"))),
    ]
    assert expected == [(s.key, s.paths) for s in find_sources([str(logs)])]

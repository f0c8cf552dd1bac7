"""A dataset read back: profiles by source equal to ``count_trace`` of each log, by label their
sums, n-grams per label, traces for the detectors, and ADFA-LD's evaluation from its dataset
equal to the one from its folder."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from syscall_lab.cli import main
from syscall_lab.detect.adfa import load_adfa, load_adfa_dataset
from syscall_lab.ingest.dataset import ngram_counts, profile_dataset, read_traces
from syscall_lab.ingest.manifest import read_manifest
from syscall_lab.ingest.run import ingest
from syscall_lab.ingest.sources import find_sources
from syscall_parse.counts import count_trace
from syscall_parse.table import read_trace

pytestmark = pytest.mark.strace


@pytest.fixture(scope="module")
def dataset(corpus, adfa_sample, tmp_path_factory, local_client):
    """The corpus and the ADFA-LD sample ingested into one dataset."""
    path = tmp_path_factory.mktemp("dataset") / "ds"
    ingest(find_sources([str(corpus), str(adfa_sample)]), path, local_client)
    return path


def _calls(paths) -> tuple[str, ...]:
    frame = read_trace(list(paths))
    return tuple(frame.loc[frame["kind"] == "syscall", "syscall"].astype(str))


def test_profile_by_source_counts_each_log_as_count_trace_does(dataset, corpus, local_client):
    """Per source: the calls, errors, unreturned calls, events and unparsed lines of
    ``count_trace`` of its files; the -T seconds to rounding."""
    profiles = profile_dataset(dataset, local_client, by="source")
    logs = {k: e for k, e in read_manifest(dataset).items() if e.form == "strace"}
    assert 6 == len(logs)
    for key, entry in logs.items():
        expected = count_trace(list(entry.paths))
        actual = profiles[key]
        assert expected.counts() == actual.counts(), key
        assert (expected.events, expected.unparsed) == (actual.events, actual.unparsed)
        assert expected.unreturned == actual.unreturned
        for (name, want), (_, got) in zip(expected.syscalls, actual.syscalls, strict=True):
            assert want.seconds == pytest.approx(got.seconds), name


def test_profile_by_label_sums_its_sources(dataset, local_client):
    """A label's calls per syscall are the sums over its sources."""
    by_label = profile_dataset(dataset, local_client, by="label")
    by_source = profile_dataset(dataset, local_client, by="source")
    entries = read_manifest(dataset)
    assert ["attack", "normal", "other"] == list(by_label)
    for label, profile in by_label.items():
        sums: Counter[str] = Counter()
        for key, source in by_source.items():
            if entries[key].label == label:
                sums.update({name: c.calls for name, c in source.syscalls})
        assert dict(sums) == {name: c.calls for name, c in profile.syscalls}, label
        assert sum(e.events for e in entries.values() if e.label == label) == profile.events


def test_ngrams_per_label_count_each_source_sequence(dataset, local_client):
    """Trigram counts per label equal the trigrams of each source's calls (read by the parser
    for logs), never spanning two sources."""
    counts = ngram_counts(dataset, local_client, 3)
    expected: dict[str, Counter[tuple[str, ...]]] = {}
    for entry in read_manifest(dataset).values():
        if entry.form == "strace":
            calls = _calls(entry.paths)
        else:
            calls = tuple(line for line in _adfa_names(entry.paths[0]))
        grams = expected.setdefault(entry.label, Counter())
        grams.update(zip(calls, calls[1:], calls[2:], strict=False))
    assert expected == counts


def _adfa_names(path: str) -> tuple[str, ...]:
    from syscall_lab.detect.adfa import read_adfa_trace

    return read_adfa_trace(Path(path))


def test_traces_are_each_source_calls_in_order(dataset):
    """``read_traces`` gives each log's syscall names in the parser's order, sorted by source
    (the ``normal`` label holds logs and ADFA-LD's normal traces)."""
    traces = read_traces(dataset, labels=("normal", "other"))
    entries = read_manifest(dataset)
    assert sorted(k for k, e in entries.items() if e.label in ("normal", "other")) == [
        t.source for t in traces
    ]
    logs = [trace for trace in traces if entries[trace.source].form == "strace"]
    assert 6 == len(logs)
    for trace in logs:
        assert _calls(entries[trace.source].paths) == trace.calls


def test_adfa_from_its_dataset_is_the_adfa_folder(dataset, adfa_sample):
    """The ADFA-LD splits read from the dataset are the folder's traces, in its order."""
    raw = load_adfa(adfa_sample)
    stored = load_adfa_dataset(dataset)
    assert (raw.train, raw.validation, raw.attack) == (
        stored.train,
        stored.validation,
        stored.attack,
    )


def test_evaluate_from_a_dataset_gives_the_numbers_of_the_folder(dataset, adfa_sample, capsys):
    """``evaluate adfa-ld DATASET`` prints the very numbers of ``evaluate adfa-ld DIR``."""
    common = ["--detector", "stide", "--resamples", "50", "--json"]
    assert 0 == main(["evaluate", "adfa-ld", str(adfa_sample), *common])
    raw = json.loads(capsys.readouterr().out)
    assert 0 == main(["evaluate", "adfa-ld", str(dataset), *common])
    stored = json.loads(capsys.readouterr().out)
    for document in (raw, stored):
        for detector in document["detectors"].values():
            del detector["fit_seconds"], detector["score_seconds"]
        del document["dataset"]["path"]
    assert raw == stored
    assert 20 == stored["dataset"]["train"]


def test_profile_command_on_a_dataset(dataset, capsys, local_client):
    """``profile DATASET --by label --json --scheduler ADDRESS``: one group per label, its
    counts in the shape of ``profile LOG --json``, with the dataset's totals."""
    address = local_client.scheduler.address
    assert 0 == main(["profile", str(dataset), "--by", "label", "--json", "--scheduler", address])
    document = json.loads(capsys.readouterr().out)
    entries = read_manifest(dataset)
    assert "label" == document["by"]
    assert ["attack", "normal", "other"] == sorted(document["groups"])
    assert len(entries) == document["sources"]
    assert sum(e.events for e in entries.values()) == document["events"]
    assert {"syscalls", "events", "unparsed", "unreturned"} == set(document["groups"]["normal"])


def test_profile_table_of_a_dataset_writes_its_totals_as_the_other_commands(
    dataset, capsys, local_client
):
    """The table's last line gives the totals with thousands separators (``number``)."""
    address = local_client.scheduler.address
    assert 0 == main(["profile", str(dataset), "--scheduler", address])
    entries = read_manifest(dataset).values()
    events = sum(e.events for e in entries)
    unparsed = sum(e.unparsed for e in entries)
    assert events >= 1000
    expected = f"3 labels, {events:,} events, {unparsed:,} unparsed lines"
    assert expected == capsys.readouterr().out.splitlines()[-1]


def test_the_documented_readers_read_every_row_with_its_label(dataset):
    """Each call docs/ingest.md gives to read a dataset with other tools, run as written:
    every ingested row, ``label`` a column, ``manifest.json`` passed over."""
    import dask.dataframe
    import pyarrow.dataset

    text = (Path(__file__).resolve().parents[2] / "docs" / "ingest.md").read_text()
    block = text.split("```python\n", 1)[1].split("```", 1)[0]
    calls = block.splitlines()
    entries = read_manifest(dataset).values()
    expected: Counter[str] = Counter()
    for entry in entries:
        expected[entry.label] += entry.events
    assert 2 == len(calls)
    for call in calls:
        frame = eval(call, {"pyarrow": pyarrow, "dask": dask, "DATASET": str(dataset)})
        rows = frame.to_table().to_pandas() if hasattr(frame, "to_table") else frame.compute()
        assert expected == Counter(rows["label"].astype(str).tolist()), call

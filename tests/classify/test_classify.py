"""Tests of the resource classifier: features, model file, labels of real traces, the commands.

The labelled tests train on real captures of our four workloads (2 runs each, scale 1) and
classify held-out captures of the workloads and of programs outside the project (dd, awk, a
Python mmap loop, stress-ng, ls, cat), all traced with real strace.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from syscall_lab.capture.ebpf import EbpfObserver, ebpf_unavailable
from syscall_lab.capture.run import capture_command, capture_condition, python_executable
from syscall_lab.capture.strace import StraceObserver, StraceOptions
from syscall_lab.classify.features import FEATURES, ClassifyError, trace_features
from syscall_lab.classify.model import (
    CLASSES,
    ResourceModel,
    classify_trace,
    fit_model,
    load_model,
)
from syscall_lab.classify.training import cache_path, default_model, train_model, training_runs
from syscall_lab.cli import main
from syscall_parse.errors import InputError
from syscall_parse.table import read_trace

# Real strace -f -ttt -T -y lines (values chosen so every feature is known exactly).
FEATURE_LOG = """\
100 1700000001.000000 mmap(NULL, 4194304, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000 <0.000010>
100 1700000001.000100 write(3</tmp/x>, "\\0\\0"..., 1048576) = 1048576 <0.001000>
100 1700000001.500000 fsync(3</tmp/x>) = 0 <0.010000>
100 1700000001.600000 brk(NULL) = 0x1000000 <0.000001>
100 1700000001.600005 execve("/nope", ["nope"], 0x7ffd5d1e0b18 /* 1 var */) = -1 ENOENT (No such file or directory) <0.000002>
100 1700000001.600010 brk(0x1100000) = 0x1100000 <0.000001>
100 1700000001.600012 execve("/bin/true", ["true"], 0x7ffd5d1e0b18 /* 1 var */) = 0 <0.000001>
100 1700000001.600014 brk(NULL) = 0x9000000 <0.000001>
100 1700000001.600020 mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000400000 <0.000010>
"""  # noqa: E501 - strace lines are long

OUTSIDE = [
    pytest.param(
        ["dd", "if=/dev/zero", "of={tmp}/dd.out", "bs=1M", "count=32", "conv=fsync"], "io",
        id="dd-fsync-io",
    ),
    pytest.param(["awk", "BEGIN{{for(i=0;i<3e6;i++)s+=i}}"], "cpu", id="awk-loop-cpu"),
    pytest.param(
        [python_executable(), "-c", "sum(i * i for i in range(2 * 10**6))"], "cpu",
        id="python-loop-cpu",
    ),
    pytest.param(
        [python_executable(), "-c",
         "import mmap\nfor _ in range(100):\n m = mmap.mmap(-1, 1 << 22)\n"
         " m[::4096] = b'x' * 1024\n m.close()"],
        "memory", id="python-mmap-memory",
    ),
    pytest.param(
        ["stress-ng", "--brk", "1", "--brk-ops", "5000", "--timeout", "10s", "-q"], "memory",
        id="stress-ng-brk-memory", marks=pytest.mark.stress_ng,
    ),
    pytest.param(["ls", "-l", "/etc"], "normal", id="ls-normal"),
    pytest.param(["cat", "/etc/os-release"], "normal", id="cat-normal"),
]  # fmt: skip


@pytest.fixture(scope="session")
def training_dir(strace: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run folders of our four workloads, 2 runs each at scale 1, interleaved."""
    folder = tmp_path_factory.mktemp("train")
    for repeat in range(2):
        for condition in CLASSES:
            result = capture_condition(
                condition, repeat=repeat, out_dir=folder, measure_untraced=False
            )
            assert result.complete
    return folder


@pytest.fixture(scope="session")
def model(training_dir: Path) -> ResourceModel:
    return train_model(training_dir)


@pytest.fixture(scope="session")
def held_out(strace: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One new run of each workload: condition -> its log."""
    folder = tmp_path_factory.mktemp("held-out")
    return {
        condition: capture_condition(
            condition, repeat=9, out_dir=folder, measure_untraced=False
        ).logs[0]
        for condition in CLASSES
    }


@pytest.fixture(scope="session")
def outside_dir(strace: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outside")


@pytest.mark.strace
@pytest.mark.parametrize("condition", CLASSES)
def test_held_out_workload_label(
    model: ResourceModel, held_out: dict[str, Path], condition: str
) -> None:
    """A new run of each workload gets its condition's label."""
    assert condition == classify_trace(model, held_out[condition]).label


@pytest.mark.strace
@pytest.mark.parametrize(("argv", "expected"), OUTSIDE)
def test_outside_program_label(
    model: ResourceModel, outside_dir: Path, argv: list[str], expected: str
) -> None:
    """Programs that are not our workloads, in other languages, get the resource they stress."""
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    command = [arg.format(tmp=outside_dir) for arg in argv]
    result = capture_command(command, label=Path(argv[0]).name, out_dir=outside_dir,
                     measure_untraced=False)  # fmt: skip
    assert 0 == result.metadata.exit_status
    classification = classify_trace(model, result.logs[0])
    assert expected == classification.label, classification.scores


@pytest.mark.strace
def test_ff_prefix_is_one_trace(model: ResourceModel, outside_dir: Path) -> None:
    """A strace -ff set (one log per process) is classified whole, from its prefix."""
    script = f"dd if=/dev/zero of={outside_dir}/ff.out bs=1M count=32 conv=fsync; ls /"
    separate = StraceOptions(separate_files=True)
    result = capture_command(
        ["sh", "-c", script],
        label="ff",
        out_dir=outside_dir,
        observer=StraceObserver(separate),
        measure_untraced=False,
    )
    assert len(result.logs) >= 2  # sh and dd at least (a shell may exec ls in its place)
    prefix = result.run_dir / "trace.log"
    assert "io" == classify_trace(model, prefix).label


@pytest.mark.strace
def test_scores_sum_to_one_and_label_is_argmax(
    model: ResourceModel, held_out: dict[str, Path]
) -> None:
    """Scores are a distribution over the classes and the label is the best score."""
    for log in held_out.values():
        result = classify_trace(model, log)
        assert set(CLASSES) == set(result.scores)
        assert math.isclose(1.0, sum(result.scores.values()), rel_tol=1e-12)
        assert all(0.0 <= p <= 1.0 for p in result.scores.values())
        assert max(result.scores, key=result.scores.__getitem__) == result.label


@pytest.mark.strace
@pytest.mark.ebpf
def test_training_leaves_out_ebpf_runs(training_dir: Path, tmp_path: Path) -> None:
    """A run of the eBPF observer among the run folders is not trained on: its log has neither
    mmap's flags nor the bytes moved, which the features read."""
    reason = ebpf_unavailable(probe=True)
    if reason is not None:
        pytest.skip(f"eBPF tracing is unavailable: {reason}")
    folder = tmp_path / "mixed"
    shutil.copytree(training_dir, folder)
    ebpf_run = capture_condition(
        "memory", out_dir=folder, observer=EbpfObserver(), measure_untraced=False
    )
    assert ebpf_run.complete
    trained = {logs[0].parent for _, logs in training_runs(folder)}
    assert (8, False) == (len(trained), ebpf_run.run_dir in trained)


def test_model_round_trip(model: ResourceModel, tmp_path: Path) -> None:
    """A saved model loads back equal and scores the same."""
    path = model.save(tmp_path / "model.json")
    loaded = load_model(path)
    assert model.to_dict() == loaded.to_dict()
    features = np.linspace(-1.0, 1.0, len(FEATURES))
    np.testing.assert_array_equal(model.scores(features), loaded.scores(features))
    assert [] == [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_features_of_known_lines(tmp_path: Path) -> None:
    """Every feature of a small log, computed by hand."""
    log = tmp_path / "trace.log"
    log.write_text(FEATURE_LOG)
    gap = 1.5 - (1.0001 + 0.001)
    wall = 1.60003 - 1.0
    expected = [
        math.log10(gap),
        gap / wall,
        # 4 MiB anonymous mmap + 1 MiB brk growth (over a failed exec); not the new image's
        # heap, nor the PROT_NONE reservation
        math.log10(1 + 4 + 1),
        math.log10(1 + 5),  # two mmap, three brk
        math.log10(1 + 1),  # 1 MiB written
        (0.001 + 0.01) / wall,  # inside write and fsync
        math.log10(1 + 1),  # one fsync
    ]
    np.testing.assert_allclose(expected, trace_features(read_trace(log)), rtol=1e-6)


def test_trace_without_timestamps_is_an_error(tmp_path: Path) -> None:
    log = tmp_path / "trace.log"
    log.write_text('100 read(3, "x", 1) = 1\n100 exit_group(0) = ?\n')
    with pytest.raises(ClassifyError, match="no timestamps"):
        trace_features(read_trace(log), where=str(log))


def _vectors(offset: float) -> list[tuple[str, np.ndarray]]:
    return [
        (label, np.arange(len(FEATURES), dtype=np.float64) * (k + 1) + offset)
        for k, label in enumerate(CLASSES)
    ]


def test_fit_needs_every_class() -> None:
    with pytest.raises(ClassifyError, match="no training runs of io"):
        fit_model([pair for pair in _vectors(0.0) if pair[0] != "io"])


def test_fit_centroids_label_their_own_class() -> None:
    """Each class's training vector is nearest its own centroid."""
    model = fit_model(_vectors(0.0) + _vectors(0.1))
    for label, vector in _vectors(0.05):
        assert label == CLASSES[int(np.argmax(model.scores(vector)))]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"format_version": 99}, "format_version 99", id="version"),
        pytest.param({"centroids": [[0.0]]}, "centroids must be", id="centroid-shape"),
        pytest.param({"scale": [0.0] * len(FEATURES)}, "scale must be positive", id="scale"),
        pytest.param({"features": ["x"]}, "features or classes", id="features"),
        pytest.param({"runs": None}, "malformed", id="runs"),
    ],
)
def test_bad_model_file(tmp_path: Path, change: dict[str, object], message: str) -> None:
    model = fit_model(_vectors(0.0) + _vectors(0.1))
    path = tmp_path / "model.json"
    path.write_text(json.dumps(model.to_dict() | change))
    with pytest.raises(InputError, match=message):
        load_model(path)


def test_model_file_not_json(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text("not json")
    with pytest.raises(InputError, match="not a classifier model file"):
        load_model(path)


@pytest.mark.strace
def test_train_and_classify_commands(
    training_dir: Path, held_out: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """`train` writes a model; `classify --json` prints one JSON object per LOG, in order."""
    path = tmp_path / "model.json"
    assert 0 == main(["train", str(training_dir), "-o", str(path)])
    assert "normal 2, cpu 2, memory 2, io 2" in capsys.readouterr().out
    logs = [str(held_out[c]) for c in CLASSES]
    assert 0 == main(["classify", "--json", "--model", str(path), *logs])
    objects = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert logs == [o["trace"] for o in objects]
    assert list(CLASSES) == [o["label"] for o in objects]
    assert all(["label", "scores", "trace"] == sorted(o) for o in objects)
    assert all(list(CLASSES) == list(o["scores"]) for o in objects)
    assert 0 == main(["classify", "--model", str(path), logs[0]])
    table = capsys.readouterr().out
    assert "label" in table
    assert logs[0] in table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["classify", "--model", "{model}", "{tmp}/nosuch.log"], "no such file",
                     id="missing-log"),
        pytest.param(["classify", "--model", "{model}", "{tmp}/text.txt"], "not strace output",
                     id="not-a-trace"),
        pytest.param(["classify", "--model", "{tmp}/text.txt", "{tmp}/text.txt"],
                     "not a classifier model file", id="bad-model"),
        pytest.param(["classify", "--model", "{tmp}/nosuch.json", "{tmp}/text.txt"],
                     "no such model file", id="missing-model"),
        pytest.param(["train", "{tmp}", "-o", "{tmp}/m.json"], "no complete strace run",
                     id="train-no-runs"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str], message: str
) -> None:
    """Bad input: exit status 2 and one line on stderr, no traceback."""
    model = tmp_path / "model.json"
    fit_model(_vectors(0.0)).save(model)
    (tmp_path / "text.txt").write_text("hello\nworld\n")
    status = main([arg.format(tmp=tmp_path, model=model) for arg in args])
    err = capsys.readouterr().err
    assert 2 == status
    assert 1 == len(err.splitlines())
    assert message in err


@pytest.mark.strace
def test_default_model_is_built_once_and_cached(
    strace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a model, one is built from a fresh capture, cached, then reused."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    said: list[str] = []
    model, path = default_model(repeats=1, say=said.append)
    assert tmp_path / "syscall-lab" / path.name == path == cache_path()
    assert dict.fromkeys(CLASSES, 1) == dict(model.runs)
    assert any("cached the model" in line for line in said)
    said.clear()
    again, _ = default_model(repeats=1, say=said.append)
    assert model.to_dict() == again.to_dict()
    assert [f"using the cached model {path}"] == said

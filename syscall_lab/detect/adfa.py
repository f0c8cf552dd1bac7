"""Load the ADFA-LD host-intrusion data set (Creech & Hu 2013) as traces of syscall names.

Research use only: the project reads the data where it lies and never copies it. A trace file
is one line of i386 syscall numbers; they are mapped to names with the i386 table so that
ADFA-LD and our x86-64 strace captures share one vocabulary.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from syscall_lab.detect.base import Detector
from syscall_lab.detect.evaluation import DetectionResult, evaluate_scores
from syscall_parse.errors import InputError
from syscall_parse.syscall_table import syscall_name

__all__ = [
    "ADFA_LABELS",
    "ADFA_SPLITS",
    "PUBLISHED",
    "AdfaDataset",
    "AdfaTrace",
    "BenchmarkRun",
    "PublishedResult",
    "adfa_caption",
    "adfa_table",
    "attack_type",
    "benchmark_adfa",
    "default_adfa_dir",
    "load_adfa",
    "load_adfa_dataset",
    "read_adfa_trace",
    "render_adfa_table",
]

# Folder of each split, in the order of the usual protocol: train, test normal, test attack.
ADFA_SPLITS = {
    "train": "Training_Data_Master",
    "validation": "Validation_Data_Master",
    "attack": "Attack_Data_Master",
}

ADFA_LABELS = {"train": "normal", "validation": "normal", "attack": "attack"}
"""The label of each split's traces (as ``syscall-lab ingest`` stores them; a normal trace's
condition is its split, an attack trace's its attack type)."""

# Attack folder name => type: "Hydra_FTP_3" => "Hydra_FTP".
_ATTACK_FOLDER = re.compile(r"^(?P<type>[A-Za-z_]+?)_(?P<run>\d+)$")


@dataclass(frozen=True, slots=True)
class AdfaTrace:
    """One ADFA-LD trace: its path relative to the data set root, split, attack type and calls."""

    path: str
    split: str
    attack: str | None
    calls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AdfaDataset:
    """The three splits of ADFA-LD, each sorted by path."""

    root: Path
    train: tuple[AdfaTrace, ...]
    validation: tuple[AdfaTrace, ...]
    attack: tuple[AdfaTrace, ...]

    @property
    def attack_types(self) -> tuple[str, ...]:
        """The sorted attack types (six in ADFA-LD)."""
        return tuple(sorted({t.attack for t in self.attack if t.attack is not None}))


def default_adfa_dir() -> Path:
    """``$ADFA_LD_DIR``, else ``<repo>/../shared/data/adfa-ld``."""
    env = os.environ.get("ADFA_LD_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "adfa-ld"


def attack_type(folder: Path) -> str:
    """The attack type of an attack folder: ``Hydra_FTP_3`` => ``Hydra_FTP``; InputError when
    its name is not ``<type>_<run>``."""
    match = _ATTACK_FOLDER.match(folder.name)
    if match is None:
        raise InputError(f"{folder}: attack folder name is not <type>_<run>")
    return match["type"]


def read_adfa_trace(path: Path) -> tuple[str, ...]:
    """The syscall names of one ADFA-LD trace file (i386 numbers separated by spaces)."""
    text = path.read_text(encoding="ascii", errors="strict")
    try:
        numbers = [int(token) for token in text.split()]
    except ValueError as exc:
        raise InputError(
            f"{path}: not an ADFA-LD trace (expected syscall numbers): {exc}"
        ) from None
    return tuple(syscall_name(number, "i386") for number in numbers)


def load_adfa(root: Path | str) -> AdfaDataset:
    """Read every trace of the ADFA-LD folder ``root``; InputError if it is not one."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: not a directory (expected the ADFA-LD folder)")
    missing = [folder for folder in ADFA_SPLITS.values() if not (root / folder).is_dir()]
    if missing:
        raise InputError(f"{root}: not an ADFA-LD folder, missing {', '.join(missing)}")
    splits: dict[str, list[AdfaTrace]] = {split: [] for split in ADFA_SPLITS}
    for split, folder in ADFA_SPLITS.items():
        for path in sorted((root / folder).rglob("*.txt")):
            attack = attack_type(path.parent) if split == "attack" else None
            relative = path.relative_to(root).as_posix()
            splits[split].append(AdfaTrace(relative, split, attack, read_adfa_trace(path)))
    empty = [ADFA_SPLITS[split] for split, traces in splits.items() if not traces]
    if empty:
        raise InputError(f"{root}: no trace files in {', '.join(empty)}")
    return AdfaDataset(
        root, tuple(splits["train"]), tuple(splits["validation"]), tuple(splits["attack"])
    )


def load_adfa_dataset(dataset: Path | str) -> AdfaDataset:
    """ADFA-LD as ``syscall-lab ingest`` stored it in the dataset folder ``dataset``: the
    same traces, in the same order, as :func:`load_adfa` of the folder it was ingested from.
    InputError when ``dataset`` is no dataset, holds no ADFA-LD trace of some split, or lists
    ADFA-LD traces that failed (the folder would not load either: the numbers would differ)."""
    from syscall_lab.ingest.dataset import read_traces
    from syscall_lab.ingest.manifest import read_manifest

    root = Path(dataset)
    folders = set(ADFA_SPLITS.values())
    failed = [
        entry.source
        for entry in read_manifest(root).values()
        if entry.form == "adfa" and entry.status == "failed"
    ]
    if failed:
        raise InputError(
            f"{root}: {len(failed)} ADFA-LD traces failed to ingest (see its manifest), "
            f"so it is not the whole data set: {', '.join(failed[:3])}"
            + (", ..." if len(failed) > 3 else "")
        )
    splits: dict[str, list[AdfaTrace]] = {split: [] for split in ADFA_SPLITS}
    for trace in read_traces(root, labels=set(ADFA_LABELS.values())):
        parts = Path(trace.source).parts
        within = [i for i, part in enumerate(parts) if part in folders]
        if not within:
            continue
        relative = Path(*parts[within[-1] :]).as_posix()
        if trace.label == ADFA_LABELS["attack"]:
            splits["attack"].append(AdfaTrace(relative, "attack", trace.condition, trace.calls))
        elif ADFA_LABELS.get(trace.condition or "") == trace.label:
            splits[trace.condition].append(AdfaTrace(relative, trace.condition, None, trace.calls))
    empty = [ADFA_SPLITS[split] for split, traces in splits.items() if not traces]
    if empty:
        raise InputError(f"{root}: no ADFA-LD traces of {', '.join(empty)} in this dataset")
    ordered = {
        split: tuple(sorted(traces, key=lambda t: Path(t.path).parts))
        for split, traces in splits.items()
    }
    return AdfaDataset(root, ordered["train"], ordered["validation"], ordered["attack"])


@dataclass(frozen=True, slots=True)
class PublishedResult:
    """A published ADFA-LD result to print beside ours (None: not reported)."""

    method: str
    source: str
    auc: float | None
    far_at_90: float | None


# Published anchors for the same protocol (train 833 normal; test validation vs attacks).
PUBLISHED = (
    PublishedResult("STIDE", "Creech & Hu 2014", None, 0.23),
    PublishedResult("semantic ELM", "Creech & Hu 2014", None, 0.13),
    PublishedResult("LSTM ensemble", "Kim et al. 2016", 0.928, 0.16),
)


@dataclass(frozen=True, slots=True)
class BenchmarkRun:
    """One detector fitted on the ADFA-LD training traces and scored on the test traces."""

    detector: str
    settings: str
    result: DetectionResult
    fit_seconds: float
    score_seconds: float


def benchmark_adfa(
    dataset: AdfaDataset,
    detectors: Sequence[Detector],
    *,
    resamples: int = 1000,
    seed: int = 0,
) -> tuple[BenchmarkRun, ...]:
    """Fit each detector on the training traces; evaluate validation (normal) vs attack traces."""
    train = [t.calls for t in dataset.train]
    normal = [t.calls for t in dataset.validation]
    attack = [t.calls for t in dataset.attack]
    types = [t.attack or "" for t in dataset.attack]
    runs = []
    for detector in detectors:
        start = time.perf_counter()
        detector.fit(train)
        fitted = time.perf_counter()
        normal_scores = detector.score_many(normal)
        attack_scores = detector.score_many(attack)
        scored = time.perf_counter()
        result = evaluate_scores(
            normal_scores, attack_scores, types, resamples=resamples, seed=seed
        )
        runs.append(
            BenchmarkRun(detector.name, repr(detector), result, fitted - start, scored - fitted)
        )
    return tuple(runs)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}%"


def adfa_table(runs: Sequence[BenchmarkRun], *, published: bool = True) -> pd.DataFrame:
    """Our runs, then the published anchors: one row per detector, cells formatted as text
    (AUC with its interval, rates in percent, detection at 10% false alarms per attack type)."""
    attack_types = sorted({a.attack for run in runs for a in run.result.per_attack})
    headers = ["detector", "AUC [95% CI]", "FAR@90", "TPR@1", "TPR@10"]
    headers += [f"{a}@10" for a in attack_types]
    rows = []
    for run in runs:
        r = run.result
        per_type = {a.attack: a.tpr_at_10 for a in r.per_attack}
        rows.append(
            [
                run.detector,
                f"{r.auc:.3f} [{r.auc_ci[0]:.3f}, {r.auc_ci[1]:.3f}]",
                _percent(r.far_at_90),
                _percent(r.tpr_at_1),
                _percent(r.tpr_at_10),
                *(_percent(per_type.get(a)) for a in attack_types),
            ]
        )
    if published:
        for anchor in PUBLISHED:
            auc_text = "" if anchor.auc is None else f"{anchor.auc:.3f}"
            rows.append(
                [
                    f"{anchor.method} ({anchor.source}, published)",
                    auc_text,
                    _percent(anchor.far_at_90),
                    *([""] * (2 + len(attack_types))),
                ]
            )
    return pd.DataFrame(rows, columns=headers, dtype=object)


def adfa_caption(dataset: AdfaDataset) -> str:
    """What :func:`adfa_table` of a benchmark on ``dataset`` shows, with its trace counts."""
    return (
        f"ADFA-LD: trained on {len(dataset.train)} normal traces, tested on "
        f"{len(dataset.validation)} normal against {len(dataset.attack)} attack traces; "
        "ours beside the published results"
    )


def render_adfa_table(runs: Sequence[BenchmarkRun], *, published: bool = True) -> str:
    """:func:`adfa_table` as a plain-text table (tabulate)."""
    table = adfa_table(runs, published=published)
    return tabulate(table.values.tolist(), headers=list(table.columns), disable_numparse=True)

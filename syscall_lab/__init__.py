"""syscall_lab: everything that uses the parser, in the order of the pipeline.

capture (programs under strace, one folder per run) -> experiment (the conditions of
:mod:`syscall_lab.conditions` over repeated, interleaved runs) -> analyse (per-run tables,
statistics) -> detect (anomaly detectors and their evaluation) -> report (markdown and figures);
classify and the ``syscall-lab`` command line sit on top. The names below load their module on
first use (PEP 562), so the command line starts without pandas, scipy or matplotlib.
"""

from __future__ import annotations

import importlib

# The module of each public name.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "analyse.phase": ("PhaseError", "PhaseMarkers", "cut_to_phase", "find_markers"),
    "analyse.stats": (
        "Comparison",
        "DetectableShift",
        "Distance",
        "Equivalence",
        "Shift",
        "compare_conditions",
        "compare_tables",
        "detectable_shift",
        "distribution_distance",
        "equivalence",
        "share_differences",
    ),
    "analyse.tables": (
        "AnalysisError",
        "count_table",
        "ngram_table",
        "share_table",
        "timing_table",
    ),
    "capture.ambient": ("Ambient",),
    "capture.metadata": ("Environment", "RunMetadata", "collect_metadata", "read_metadata"),
    "capture.run": (
        "CaptureResult",
        "capture_command",
        "capture_condition",
        "capture_series",
        "workload_command",
    ),
    "capture.strace": ("StraceOptions",),
    "classify.features": ("ClassifyError", "trace_features"),
    "classify.model": (
        "Classification",
        "ResourceModel",
        "classify_trace",
        "fit_model",
        "load_model",
    ),
    "classify.training": ("default_model", "train_model"),
    "conditions": ("Condition", "ConditionError", "condition_named"),
    "detect.adfa": ("AdfaDataset", "AdfaTrace", "benchmark_adfa", "load_adfa"),
    "detect.base": ("Detector", "DetectorError"),
    "detect.ensemble": ("Ensemble",),
    "detect.evaluation": ("DetectionResult", "evaluate_scores"),
    "detect.neighbours": ("FrequencyKnn", "NgramKnn"),
    "detect.ngram": ("NgramModel",),
    "detect.on_conditions": (
        "AmbientFalseAlarms",
        "ConditionSeparation",
        "ExperimentDetection",
        "detect_on_conditions",
    ),
    "detect.registry": ("load_detector", "make_detector"),
    "detect.stide": ("Stide", "TStide"),
    "errors": ("CaptureError", "SyscallLabError"),
    "experiment.analysis": ("ExperimentAnalysis", "analyse_experiment", "find_shift"),
    "experiment.dataset": ("ExperimentData", "ExperimentError", "ExperimentSettings", "Run"),
    "experiment.findings": ("Finding", "findings"),
    "experiment.store": ("load_experiment", "run_experiment"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "AdfaDataset",
    "AdfaTrace",
    "Ambient",
    "AmbientFalseAlarms",
    "AnalysisError",
    "CaptureError",
    "CaptureResult",
    "Classification",
    "ClassifyError",
    "Comparison",
    "Condition",
    "ConditionError",
    "ConditionSeparation",
    "DetectableShift",
    "DetectionResult",
    "Detector",
    "DetectorError",
    "Distance",
    "Ensemble",
    "Environment",
    "Equivalence",
    "ExperimentAnalysis",
    "ExperimentData",
    "ExperimentDetection",
    "ExperimentError",
    "ExperimentSettings",
    "Finding",
    "FrequencyKnn",
    "NgramKnn",
    "NgramModel",
    "PhaseError",
    "PhaseMarkers",
    "ResourceModel",
    "Run",
    "RunMetadata",
    "Shift",
    "Stide",
    "StraceOptions",
    "SyscallLabError",
    "TStide",
    "analyse_experiment",
    "benchmark_adfa",
    "capture_command",
    "capture_condition",
    "capture_series",
    "classify_trace",
    "collect_metadata",
    "compare_conditions",
    "compare_tables",
    "condition_named",
    "count_table",
    "cut_to_phase",
    "default_model",
    "detect_on_conditions",
    "detectable_shift",
    "distribution_distance",
    "equivalence",
    "evaluate_scores",
    "find_markers",
    "find_shift",
    "findings",
    "fit_model",
    "load_adfa",
    "load_detector",
    "load_experiment",
    "load_model",
    "make_detector",
    "ngram_table",
    "read_metadata",
    "run_experiment",
    "share_differences",
    "share_table",
    "timing_table",
    "trace_features",
    "train_model",
    "workload_command",
]


def __getattr__(name: str) -> object:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

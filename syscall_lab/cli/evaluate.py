"""``syscall-lab evaluate``: the anomaly detectors measured on ADFA-LD."""

from __future__ import annotations

import argparse

_EVALUATE_EPILOG = """\
protocol (ADFA-LD): fit on Training_Data_Master (833 normal traces), score
Validation_Data_Master (4,372 normal) and Attack_Data_Master (746 attacks, 6 types).
Metrics: ROC AUC with a stratified-bootstrap 95% interval (fixed seed), false alarms at
90% detection (FAR@90), detection at 1% and 10% false alarms (TPR@1, TPR@10), and
TPR@10 per attack type. Rates are fractions in JSON, percentages in the table.
Detector settings were chosen on normal training traces only, never on attacks.

--json prints one object:
  {"dataset": {"name": "ADFA-LD", "path": DIR, "train": 833, "validation": 4372,
               "attack": 746, "attack_types": [...]},
   "detectors": {NAME: {"settings": "Stide(n=6)", "auc": float,
                        "auc_ci": [low, high], "far_at_90": float,
                        "tpr_at_1": float, "tpr_at_10": float,
                        "per_attack": {TYPE: {"traces": int, "tpr_at_1": float,
                                              "tpr_at_10": float}},
                        "fit_seconds": float, "score_seconds": float}},
   "published": [{"method", "source", "auc", "far_at_90"}],
   "resamples": int, "seed": int}
DIR may also be a dataset written by `syscall-lab ingest` from the ADFA-LD folder:
the same traces, the same numbers. A missing or malformed DIR is a one-line error and
exit status 2.
"""


def add_evaluate(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    from syscall_lab.detect.registry import DETECTORS

    parser = sub.add_parser(
        "evaluate",
        help="measure the anomaly detectors on a public benchmark (ADFA-LD)",
        description="Fit every detector (or one) on the benchmark's normal training traces and "
        "report how well it separates attacks from normal test traces, beside published results.",
        epilog=_EVALUATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("benchmark", choices=["adfa-ld"], help="the benchmark")
    parser.add_argument(
        "dir",
        metavar="DIR",
        help="the ADFA-LD folder (holds *_Data_Master), or a dataset ingested from it",
    )
    parser.add_argument(
        "--detector",
        choices=sorted(DETECTORS),
        metavar="NAME",
        help=f"only this detector, one of: {', '.join(sorted(DETECTORS))} (default: all)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (shape below)")
    parser.add_argument(
        "--resamples", type=int, default=1000, help="bootstrap resamples for the AUC interval"
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    return parser


def run_evaluate(args: argparse.Namespace) -> int:
    import json

    from syscall_lab.detect.adfa import (
        PUBLISHED,
        benchmark_adfa,
        load_adfa,
        load_adfa_dataset,
        render_adfa_table,
    )
    from syscall_lab.detect.registry import DETECTORS, make_detector
    from syscall_lab.ingest.dataset import is_dataset

    names = [args.detector] if args.detector else list(DETECTORS)
    dataset = load_adfa_dataset(args.dir) if is_dataset(args.dir) else load_adfa(args.dir)
    runs = benchmark_adfa(
        dataset, [make_detector(n) for n in names], resamples=args.resamples, seed=args.seed
    )
    if not args.json:
        print(render_adfa_table(runs))
        return 0
    document = {
        "dataset": {
            "name": "ADFA-LD",
            "path": str(dataset.root),
            "train": len(dataset.train),
            "validation": len(dataset.validation),
            "attack": len(dataset.attack),
            "attack_types": list(dataset.attack_types),
        },
        "detectors": {
            run.detector: {
                "settings": run.settings,
                **run.result.to_dict(),
                "fit_seconds": run.fit_seconds,
                "score_seconds": run.score_seconds,
            }
            for run in runs
        },
        "published": [
            {"method": p.method, "source": p.source, "auc": p.auc, "far_at_90": p.far_at_90}
            for p in PUBLISHED
        ],
        "resamples": args.resamples,
        "seed": args.seed,
    }
    print(json.dumps(document, indent=2))
    return 0

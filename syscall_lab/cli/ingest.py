"""``syscall-lab ingest``: logs, run folders, experiments and ADFA-LD into a Parquet dataset, on
a local Dask cluster or an existing one."""

from __future__ import annotations

import argparse
import re
import sys

_INGEST_EPILOG = """\
A SOURCE is a strace log (plain, .gz, .xz, .bz2, .zst), the prefix of -ff files, or a
folder searched recursively: every regular file is a source (PREFIX.PID files are one -ff
set), labelled by the first folder below SOURCE; a run folder (metadata.json) gives its
trace.log* with its label, condition, repeat and run id; an experiment folder its runs/;
an ADFA-LD folder one source per trace (label normal or attack). DATASET gets
label=LABEL/part-*.parquet (one per source, written atomically) and manifest.json.
A second run skips the sources ingested unchanged (same checksum).

--json prints one object:
  {"sources": N, "ingested": N, "skipped": N, "failed": N, "events": N,
   "unparsed": N, "seconds": S, "workers": N}
(events and unparsed: read by this run). Exit status: 0 every source ingested or
skipped; 1 some failed (named on stderr and in the manifest); 2 usage error.
"""


# 's3://bucket/x', 'gcs://...', 'file://...': an fsspec URL, which the ingest does not write.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def add_ingest(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "ingest",
        help="ingest logs, runs and corpora into a Parquet dataset (Dask)",
        description="Read every source into one Parquet dataset, hive-partitioned by label,\n"
        "with a manifest, on a local Dask cluster or the one at --scheduler.",
        epilog=_INGEST_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("sources", nargs="+", metavar="SOURCE", help="logs and folders to read")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="DATASET",
        help="the dataset folder (a local or shared filesystem path, not a URL)",
    )
    engine = parser.add_mutually_exclusive_group()
    engine.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="an existing Dask scheduler, tcp://HOST:PORT (its workers must see the paths)",
    )
    engine.add_argument(
        "--workers",
        type=_positive,
        metavar="N",
        help="processes of the local cluster (default: the core count)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser


def _progress_bar():
    """A rich progress bar on stderr (a no-op off a terminal): sources, events, rate."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("ingesting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[events]:,} events, {task.fields[rate]:,.0f} events/s"),
        console=Console(stderr=True),
        disable=not sys.stderr.isatty(),
        transient=True,
    )
    return bar


def run_ingest(args: argparse.Namespace) -> int:
    import json
    import time
    from pathlib import Path

    from syscall_lab.formatting import number, seconds
    from syscall_lab.ingest.cluster import dask_client
    from syscall_lab.ingest.run import ingest
    from syscall_lab.ingest.sources import IngestUsageError, find_sources
    from syscall_lab.ingest.worker import Outcome

    if _URL.match(args.output):
        raise IngestUsageError(
            f"{args.output}: -o takes a folder path (a shared filesystem for a cluster), not a URL"
        )
    dataset = Path(args.output)
    if dataset.exists() and not dataset.is_dir():
        raise NotADirectoryError(20, "not a folder", str(dataset))
    sources = find_sources(args.sources, skip=dataset)
    bar = _progress_bar()
    with bar, dask_client(args.scheduler, args.workers) as client:
        task = bar.add_task("ingest", total=len(sources), events=0, rate=0.0)
        start = time.perf_counter()
        events = 0

        def progress(outcome: Outcome) -> None:
            nonlocal events
            events += 0 if outcome.skipped else outcome.entry.events
            rate = events / max(time.perf_counter() - start, 1e-9)
            bar.update(task, advance=1, events=events, rate=rate)

        summary = ingest(sources, dataset, client, progress=progress)
    for entry in summary.failures:
        print(f"syscall-lab ingest: failed: {entry.error}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary.to_json(), indent=2))
    else:
        print(
            f"{dataset}: {summary.ingested} ingested, {summary.skipped} skipped, "
            f"{summary.failed} failed of {summary.sources} sources; "
            f"{number(summary.events)} events, {number(summary.unparsed)} unparsed lines read "
            f"in {seconds(summary.seconds)} on {summary.workers} workers"
        )
    return 1 if summary.failed else 0

"""The parser as users meet it, on every log shape of ``shapes.py``: lines per second of the
whole ``syscall-lab parse LOG -o OUT.parquet``, ``-o OUT.csv`` and ``profile --json`` commands
(interpreter start, imports, workers and writing included), their peak memory, and
strace-process-tree on the same log where it applies; ``read_trace`` (the library call) on the
first shape; and the three commands on a 10M-line log made of copies of the first shape's log.

Usage: ``python benchmarks/suite.py [--logs DIR] [--lines 1400000] [--repeat 3]
[--memory-lines 10000000] [--shapes NAME ...] [--extra LOG ...]`` (``--extra``: logs no
shape captures, such as a large ``-ff`` set, measured after the shapes). Logs are captured into
``--logs`` (kept there and reused by later runs). The results go to
``benchmarks/results/suite-UTCTIME.json`` (never overwritten) with the machine, the load average
after each run and every run's time; the best of ``--repeat`` counts. ``--markdown FILE...``
prints the table of saved results instead (the shapes of several runs on one code in one
table).
strace-process-tree must be installed in the interpreter's environment for its column
(``pip install strace-process-tree``; it is no dependency of the project).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from measure import measure_command, measure_read_trace, measured_code
from shapes import SHAPES, Shape, capture, count_lines, repeat_log

from syscall_parse.atomic import write_text

__all__ = ["commands", "main", "render", "run_suite"]

FORMAT_VERSION = 1
RESULTS = Path(__file__).with_name("results")
ROOT = Path(__file__).resolve().parents[1]


def _metadata(argv: list[str]) -> dict[str, object]:
    """The machine and software a result was measured on."""
    strace = subprocess.run(["strace", "-V"], capture_output=True, text=True, check=False)
    code = measured_code()
    commit = subprocess.run(
        ["git", "-C", code, "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "argv": argv,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "strace": strace.stdout.splitlines()[0] if strace.stdout else None,
        "code": code,
        "commit": commit.stdout.strip() or None,
        "load_before": os.getloadavg(),
    }


def commands(log: Path, out: Path) -> dict[str, list[str]]:
    """The three measured commands on ``log``, writing under ``out``."""
    cli = [sys.executable, "-m", "syscall_lab"]
    return {
        "parquet": [*cli, "parse", str(log), "-o", str(out / "events.parquet")],
        "csv": [*cli, "parse", str(log), "-o", str(out / "events.csv")],
        "profile": [*cli, "profile", "--json", str(log)],
    }


def _process_tree() -> list[str] | None:
    """The strace-process-tree command beside this interpreter, or None."""
    script = Path(sys.executable).with_name("strace-process-tree")
    return [str(script)] if script.exists() else None


def _log(shape: Shape, logs: Path, lines: int) -> Path:
    """The shape's log in ``logs``, captured if absent or shorter than ``lines``."""
    directory = logs / shape.name
    log = directory / ("trace" if "-ff" in shape.options else "trace.log")
    if (log.exists() or list(directory.glob("trace.*"))) and count_lines(log) >= lines:
        return log
    return capture(shape, directory, lines)


def _measure_log(log: Path, repeat: int, tree: bool) -> dict[str, object]:
    lines = count_lines(log)
    row: dict[str, object] = {"lines": lines, "bytes": _size(log)}
    with tempfile.TemporaryDirectory(prefix="suite-") as out:
        for name, command in commands(log, Path(out)).items():
            row[name] = measure_command(command, repeat)
    process_tree = _process_tree()
    if tree and process_tree is not None:
        try:
            row["strace-process-tree"] = measure_command([*process_tree, str(log)], repeat)
        except subprocess.CalledProcessError as error:
            row["strace-process-tree"] = {"error": error.stderr.strip().splitlines()[-1]}
    return row


def _size(log: Path) -> int:
    files = [log] if log.is_file() else log.parent.glob(f"{log.name}.*")
    return sum(file.stat().st_size for file in files)


def run_suite(
    logs: Path, lines: int, repeat: int, memory_lines: int, names: list[str], extra: list[Path]
):
    """Measure every shape in ``names``, the memory log if ``memory_lines``, and the ``extra``
    logs (each named by its folder); the result."""
    shapes = {shape.name: shape for shape in SHAPES}
    result: dict[str, object] = {"format_version": FORMAT_VERSION, "shapes": {}}
    for name in names:
        shape = shapes[name]
        log = _log(shape, logs, lines)
        row = _measure_log(log, repeat, shape.process_tree)
        row.update(what=shape.what, options=" ".join(shape.options))
        if shape is SHAPES[0]:
            row["read_trace"] = measure_read_trace(log, repeat)
        result["shapes"][name] = row  # type: ignore[index]
        print(render_row(name, row), flush=True)
    if memory_lines:
        first = _log(SHAPES[0], logs, lines)
        big = logs / "memory" / "trace.log"
        if not big.exists() or count_lines(big) < memory_lines:
            big.parent.mkdir(parents=True, exist_ok=True)
            repeat_log(first, big, memory_lines)
        row = _measure_log(big, 1, tree=False)
        row.update(what="copies of the first shape's log, pids and times renumbered",
                   options=SHAPES[0].name)  # fmt: skip
        result["shapes"]["10M lines"] = row  # type: ignore[index]
        print(render_row("10M lines", row), flush=True)
    for log in extra:
        row = _measure_log(log, repeat, tree=False)
        row.update(what=f"given: {log}", options="")
        result["shapes"][log.parent.name] = row  # type: ignore[index]
        print(render_row(log.parent.name, row), flush=True)
    return result


def _rate(row: dict, name: str) -> str:
    if name not in row:
        return ""
    if "error" in row[name]:
        return "fails"
    return f"{row['lines'] / row[name]['seconds'] / 1e6:.2f}M"


def _memory(row: dict, name: str) -> str:
    if name not in row:
        return ""
    return f"{row[name]['peak_mb']:.0f} / {row[name]['tree_pss_mb']:.0f}"


_HEADERS = (
    "| shape | lines | parse -> Parquet | CPU µs/line | MB | parse -> CSV | CPU µs/line | MB "
    "| profile | CPU µs/line | MB | strace-process-tree |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def _cpu(row: dict, name: str) -> str:
    """CPU seconds (user + system of the command's whole process tree) per line, in µs: the
    figure load changes least."""
    if name not in row or "error" in row[name]:
        return ""
    return f"{row[name]['cpu_seconds'] / row['lines'] * 1e6:.2f}"


def render_row(name: str, row: dict) -> str:
    """One shape's line of the table: lines/s of each command, its CPU time per line and its
    memory (largest process / sampled PSS of the whole tree, MB)."""
    cells = [f"`{name}`", f"{row['lines']:,}"]
    for command in ("parquet", "csv", "profile"):
        cells += [_rate(row, command), _cpu(row, command), _memory(row, command)]
    cells.append(_rate(row, "strace-process-tree"))
    return "| " + " | ".join(cells) + " |"


def render(result: dict) -> str:
    """The markdown table of a result, with the machine and load it was measured on."""
    meta = result["metadata"]
    loads = [
        run[1]
        for row in result["shapes"].values()
        for key, value in row.items()
        if isinstance(value, dict) and "runs" in value
        for run in value["runs"]
    ]
    lines = [
        f"Measured {meta['utc']} on {meta['cpus']} cores ({meta['cpu']}), "
        f"{meta['memory_gb']} GB, Linux {meta['kernel']}, Python {meta['python']}, "
        f"{meta['strace']}; load average {min(loads):.2f}-{max(loads):.2f} during the runs "
        f"(machine shared); best of {meta['repeat']}.",
        "",
        _HEADERS,
        *(render_row(name, row) for name, row in result["shapes"].items()),
    ]
    first = next(iter(result["shapes"].values()))
    if "read_trace" in first:
        read = first["read_trace"]
        lines += [
            "",
            f"`read_trace` -> DataFrame on the first shape: "
            f"{first['lines'] / read['seconds'] / 1e6:.2f}M lines/s, peak "
            f"{read['peak_mb']:.0f} MB ({read['peak_mb'] - read['imports_mb']:.0f} MB over the "
            f"imports) for a frame of {read['frame_mb']:.0f} MB.",
        ]
    return "\n".join(lines)


def merge(results: list[dict]) -> dict:
    """Results of runs on one code, as one (the first one's metadata, every run's shapes)."""
    shapes = {name: row for result in results for name, row in result["shapes"].items()}
    return {**results[0], "shapes": shapes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logs", type=Path, default=Path(tempfile.gettempdir()) / "suite-logs")
    parser.add_argument("--lines", type=int, default=1_400_000, help="least lines per log")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command; the best counts")
    parser.add_argument("--memory-lines", type=int, default=10_000_000,
                        help="lines of the memory log (0: none)")  # fmt: skip
    parser.add_argument("--shapes", nargs="*", default=[shape.name for shape in SHAPES],
                        choices=[shape.name for shape in SHAPES])  # fmt: skip
    parser.add_argument("--extra", type=Path, nargs="*", default=[],
                        help="more logs (a file or -ff prefix), named by their folder")  # fmt: skip
    parser.add_argument("--label", default="", help="added to the result's file name")
    parser.add_argument("--markdown", type=Path, nargs="+",
                        help="print the table of saved results, their shapes in one")  # fmt: skip
    args = parser.parse_args(argv)
    if args.markdown is not None:
        print(render(merge([json.loads(path.read_text()) for path in args.markdown])))
        return 0
    if shutil.which("strace") is None:
        parser.error("strace is not installed")
    metadata = _metadata(sys.argv if argv is None else argv)
    result = run_suite(
        args.logs, args.lines, args.repeat, args.memory_lines, args.shapes, args.extra
    )
    metadata.update(repeat=args.repeat, load_after=os.getloadavg())
    result = {"format_version": FORMAT_VERSION, "metadata": metadata, **result}
    RESULTS.mkdir(exist_ok=True)
    stamp = metadata["utc"].replace(":", "").replace("+0000", "Z")  # type: ignore[union-attr]
    path = RESULTS / f"suite-{stamp}{'-' + args.label if args.label else ''}.json"
    write_text(path, json.dumps(result, indent=1) + "\n")
    print(render(result))
    print(f"saved {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Real material for the ingest tests: logs of real programs under strace, a capture run folder,
a small ADFA-LD layout linked to the real traces, a local Dask cluster, and a real
``dask scheduler`` with two ``dask worker`` processes on 127.0.0.1 (each in its own process
group, stopped at the end of the module whatever happens)."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADFA = Path(os.environ.get("ADFA_LD_DIR", ROOT.parent / "shared" / "data" / "adfa-ld"))

# Small commands whose logs make the corpus: each traced once, with different strace flags.
_COMMANDS = {
    "ls": (["-tt", "-T"], ["ls", "-la", "/"]),
    "cat": (["-f"], ["cat", "/etc/hostname"]),
    "python": (["-f", "-ttt"], [sys.executable, "-c", "import json; print(json.dumps([1]))"]),
    "missing": (["-r"], ["ls", "/no/such/path"]),
}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory, strace: str) -> Path:
    """A folder of real strace logs: ``normal/`` holds plain logs and a gzip-compressed one,
    ``other/`` a ``-ff`` set of a shell and its children and a log of failing calls."""
    root = tmp_path_factory.mktemp("corpus")
    (root / "normal").mkdir()
    (root / "other").mkdir()
    for name, (options, command) in _COMMANDS.items():
        folder = root / ("other" if name == "missing" else "normal")
        log = folder / f"{name}.log"
        subprocess.run(
            [strace, *options, "-o", str(log), "--", *command],
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        assert log.stat().st_size > 0
    with (root / "normal" / "ls.log").open("rb") as plain:
        (root / "normal" / "ls-again.log.gz").write_bytes(gzip.compress(plain.read()))
    subprocess.run(
        [strace, "-ff", "-o", str(root / "other" / "shell.log"), "--",
         "sh", "-c", "ls / > /dev/null; cat /etc/hostname > /dev/null"],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    assert len(list((root / "other").glob("shell.log.*"))) >= 2
    return root


@pytest.fixture
def corpus_copy(corpus: Path, tmp_path: Path) -> Path:
    """A copy of ``corpus`` the test may change."""
    return Path(shutil.copytree(corpus, tmp_path / "corpus"))


@pytest.fixture(scope="session")
def adfa_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ADFA-LD folder of 20 training, 20 validation and 3 attack folders' traces, linked
    (not copied) to the real data set's files."""
    if not ADFA.is_dir():
        pytest.skip(f"ADFA-LD not found in {ADFA}")
    root = tmp_path_factory.mktemp("adfa")
    for folder, pick in (
        ("Training_Data_Master", 20),
        ("Validation_Data_Master", 20),
    ):
        (root / folder).mkdir()
        for path in sorted((ADFA / folder).glob("*.txt"))[:pick]:
            (root / folder / path.name).symlink_to(path)
    for attack in sorted((ADFA / "Attack_Data_Master").iterdir())[::20][:3]:
        (root / "Attack_Data_Master" / attack.name).mkdir(parents=True)
        for path in sorted(attack.glob("*.txt")):
            (root / "Attack_Data_Master" / attack.name / path.name).symlink_to(path)
    return root


@pytest.fixture(scope="module")
def local_client() -> Iterator[object]:
    """A client of a local Dask cluster of two worker processes, stopped at the end of the
    module: its threads must not run beside other packages' tests (memory tracing)."""
    from syscall_lab.ingest.cluster import dask_client

    with dask_client(workers=2) as client:
        yield client


@dataclass
class DaskProcesses:
    """A real ``dask scheduler`` and its ``dask worker`` processes, each a process group."""

    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def kill_worker(self, index: int) -> None:
        """SIGKILL one worker's whole process group (its nanny and its worker process)."""
        os.killpg(self.workers[index].pid, signal.SIGKILL)
        self.workers[index].wait(timeout=60)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


@pytest.fixture(scope="module")
def dask_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskProcesses]:
    """``dask scheduler`` on a free port of 127.0.0.1 (the OS picks it; the scheduler file
    says which) and two ``dask worker`` processes of one thread, all stopped at the end."""
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    dask = [sys.executable, "-m", "dask"]
    processes: list[subprocess.Popen[bytes]] = []

    def start(*argv: str) -> subprocess.Popen[bytes]:
        log = (folder / f"{len(processes)}.log").open("wb")
        process = subprocess.Popen(
            [*dask, *argv], cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        processes.append(process)
        return process

    try:
        scheduler = start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                          "--scheduler-file", str(scheduler_file))  # fmt: skip
        deadline = time.monotonic() + 120
        while not scheduler_file.exists() and time.monotonic() < deadline:
            assert scheduler.poll() is None, (folder / "0.log").read_text()
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        cluster = DaskProcesses(address, scheduler)
        for _ in range(2):
            cluster.workers.append(
                start(
                    "worker",
                    address,
                    "--host",
                    "127.0.0.1",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--local-directory",
                    str(folder),
                    "--death-timeout",
                    "60",
                )
            )
        yield cluster
    finally:
        for process in reversed(processes):
            _stop(process)

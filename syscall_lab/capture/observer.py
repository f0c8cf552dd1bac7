"""Who watches a captured command: strace, or the eBPF observer in one of its modes.

:func:`~syscall_lab.capture.run.capture_command` does what every run does (its folder, metadata,
ambient load, untraced timing, clean-up); an :class:`Observer` does what differs: it finds its
tracer (or says why it cannot trace here), builds its command line from the run folder, runs the
command under it, and names the logs it left (even when the run failed).

| observer | record | logs |
|---|---|---|
| ``strace`` | :class:`~syscall_lab.capture.strace.StraceObserver` (its ``StraceOptions``) | ``trace.log``, or ``trace.log.PID`` with ``-ff`` |
| ``ebpf`` events | :class:`~syscall_lab.capture.ebpf.EbpfObserver` ``mode="events"`` | ``ebpf-events.log`` (a line per call) |
| ``ebpf`` counts | :class:`~syscall_lab.capture.ebpf.EbpfObserver` ``mode="counts"`` | ``ebpf-counts.log`` (counts kept in the kernel) |
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from syscall_lab.capture.ebpf import EbpfObserver
from syscall_lab.capture.metadata import ObserverInfo
from syscall_lab.capture.strace import StraceObserver, StraceOptions

__all__ = ["OBSERVERS", "OBSERVER_CHOICES", "Observer", "make_observer"]

OBSERVERS: tuple[str, ...] = ("strace", "ebpf")
"""The observers by name; strace is the default (it alone decodes arguments and paths)."""

OBSERVER_CHOICES: dict[str, tuple[str, ...]] = {
    "auto": ("strace", "ebpf"),
    "both": ("strace", "ebpf"),
    "strace": ("strace",),
    "ebpf": ("ebpf",),
}
"""The observers of ``syscall-lab run --observer`` and ``pytest --syscall-observer``: ``auto``
is both where eBPF is available, else strace alone (the report says why); ``both`` and
``ebpf`` need eBPF."""


class Observer(Protocol):
    """What a capture asks of its observer."""

    def prepare(self) -> tuple[str, ObserverInfo]:
        """The tracer's path and the observer's facts; CaptureError when it cannot trace here."""
        ...

    def argv(self, tracer: str, run_dir: Path, command: Sequence[str]) -> tuple[str, ...]:
        """The tracer's command line of a run into ``run_dir``, as known before the run."""
        ...

    def logs(self, run_dir: Path) -> tuple[Path, ...]:
        """The logs a run into ``run_dir`` left, in reading order, even a failed run's."""
        ...

    def observe(
        self,
        tracer: str,
        command: Sequence[str],
        run_dir: Path,
        env: Mapping[str, str],
        timeout: float,
        info: ObserverInfo,
    ) -> tuple[dict[str, object], ObserverInfo]:
        """Run ``command`` under the tracer: the outcome fields of its metadata, and ``info``
        with what the run found out."""
        ...


def make_observer(
    name: str,
    *,
    ebpf_mode: str = "events",
    strace_options: StraceOptions | None = None,
) -> Observer:
    """The observer named ``name`` (one of :data:`OBSERVERS`); ValueError for another name."""
    if name == "strace":
        return StraceObserver(strace_options or StraceOptions())
    if name == "ebpf":
        return EbpfObserver(ebpf_mode)  # type: ignore[arg-type]
    raise ValueError(f"unknown observer {name!r}: one of {', '.join(OBSERVERS)}")

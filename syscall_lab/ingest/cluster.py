"""The Dask cluster an ingest or a dataset's profile runs on: a local cluster of processes on
this machine (the default), or an existing one by its scheduler's address.

Workers must see the sources and the dataset at the same paths as this process (one machine, or
a shared filesystem). A local cluster's workers are stopped with it, whatever ends the block.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from syscall_lab.errors import SyscallLabError

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["WORKER_WAIT_SECONDS", "dask_client", "worker_count"]

WORKER_WAIT_SECONDS = 60
"""How long a cluster given by address may take to have a worker."""


def worker_count(client: Client) -> int:
    """The workers the cluster has now."""
    return len(client.scheduler_info(n_workers=-1)["workers"])


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Client]:
    """A client of the cluster at ``scheduler`` (``tcp://HOST:PORT``), or of a local cluster of
    ``workers`` processes of one thread each (default: the core count), stopped at the end.

    Raises SyscallLabError when the scheduler has no worker within ``WORKER_WAIT_SECONDS``,
    and OSError when it cannot be reached.
    """
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler, timeout="10s") as client:
            try:
                client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
            except TimeoutError:
                raise SyscallLabError(
                    f"no worker joined the scheduler {scheduler} in {WORKER_WAIT_SECONDS} s"
                ) from None
            yield client
        return
    with (
        LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: never a clash with another cluster
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client

"""Tasks on a Dask cluster (``dask.distributed``): a local cluster sized to the machine, or any running scheduler.

A scheduler address reaches whatever cluster runs it: ``dask-scheduler`` plus ``dask-worker`` processes by hand,
or a Slurm/PBS allocation from ``dask-jobqueue`` (``SLURMCluster(...).scheduler_address``). Each worker process
keeps one resource cache (:func:`ase_lcom.execution.worker_resource`), so a model or calculator is built once per
worker, not per task. A task whose worker dies is run again on another worker by the scheduler (up to its
``allowed-failures`` setting, 3 by default); what finished before is already with the caller.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

from ase_lcom.execution import ExecutionError, Executor, Item, Outcome, Result, in_worker_process

LOCAL = "local"
"""The address meaning "start a LocalCluster on this machine"."""


class DaskExecutor(Executor):
    """Tasks on a Dask cluster.

    Parameters
    ----------
    address
        ``"local"`` (default) starts a ``LocalCluster`` of ``workers`` processes (default: the machine's cores)
        with one thread each, closed with the executor; ``tcp://HOST:PORT`` (or any scheduler address Dask reads)
        connects to a running scheduler, left running on close.
    workers
        Worker processes of a local cluster.
    threads_per_worker
        Threads each worker gives torch and BLAS (one is right for many small relaxations).
    retries
        Extra attempts for a task that raised (a task's own exception is reported after them; a dead worker's
        tasks are rescheduled by Dask whatever this is).
    """

    def __init__(self, address: str = LOCAL, workers: int | None = None, threads_per_worker: int = 1,
                 retries: int = 0) -> None:
        if workers is not None and workers < 1:
            raise ExecutionError(f"Dask workers must be at least 1, got {workers}")
        if threads_per_worker < 1 or retries < 0:
            raise ExecutionError(f"threads per worker must be at least 1 and retries at least 0, got "
                                 f"{threads_per_worker} and {retries}")
        if address != LOCAL and "://" not in address:
            raise ExecutionError(f"Dask scheduler address {address!r} is not 'local' or PROTOCOL://HOST:PORT "
                                 f"(e.g. tcp://10.0.0.1:8786)")
        self.address = address
        self.workers = workers or os.cpu_count() or 1
        self.threads_per_worker = threads_per_worker
        self.retries = retries
        self._client: Any = None
        self._cluster: Any = None

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` (the cluster starts or is connected to on first use)."""
        if self._client is None:
            try:
                from distributed import Client, LocalCluster
            except ImportError as exc:
                raise ExecutionError("Dask execution needs the 'distributed' package: pip install "
                                     "'dask[distributed]'") from exc
            if self.address == LOCAL:
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=logging.CRITICAL)
                self._client = Client(self._cluster)
            else:
                try:
                    self._client = Client(self.address, timeout=30)
                except OSError as exc:
                    raise ExecutionError(f"no Dask scheduler reachable at {self.address}: {exc}") from exc
        return self._client

    def map_unordered(self, function: Callable[[Item], Result], items: Iterable[Item]) -> Iterator[Outcome]:
        from distributed import as_completed

        client = self.client
        source = iter(items)
        in_flight = 2 * max(1, len(client.scheduler_info().get("workers", {})) or self.workers)
        pending: dict[Any, Any] = {}

        def submit(count: int) -> list[Any]:
            futures = []
            for item in islice(source, count):
                future = client.submit(in_worker_process, function, item, self.threads_per_worker, pure=False,
                                       retries=self.retries)
                pending[future] = item
                futures.append(future)
            return futures

        finished = as_completed(submit(in_flight))
        try:
            for future in finished:
                item = pending.pop(future)
                if future.status == "error":
                    error = future.exception()
                    if not isinstance(error, Exception):
                        raise error
                    yield Outcome(item, error=error)
                else:
                    yield Outcome(item, result=future.result())
                finished.update(submit(1))
        finally:
            for future in pending:  # the caller stopped early: queued tasks are dropped
                future.cancel()

    def close(self, cancel: bool = False) -> None:
        client, self._client = self._client, None
        cluster, self._cluster = self._cluster, None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

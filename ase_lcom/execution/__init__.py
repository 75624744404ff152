"""How batch jobs run: a task function mapped over items by an executor, in this process or in worker processes.

A job (dataset generation, benchmark rows, reference energies) writes one module-level function of one item
and hands it, with its items, to an :class:`Executor`; results come back as they finish, each paired with its
item, and a task that raised comes back with its exception while the others go on. The job never knows where
its tasks ran, so another executor (a Dask cluster, :mod:`ase_lcom.execution.dask_cluster`) serves it unchanged.

What a task needs that is expensive to build (a calculator, a model) it asks for with :func:`worker_resource`
or :func:`worker_calculator`: built once per worker process (or per :class:`SerialExecutor`) and reused by every
later task there.

Examples
--------
>>> from functools import partial
>>> with ProcessExecutor(workers=4) as executor:  # doctest: +SKIP
...     for outcome in executor.map_unordered(partial(relax_task, fmax=0.05), tasks):
...         store.append(outcome.get())
"""

from __future__ import annotations

import abc
import concurrent.futures
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import Any, Generic, TypeVar

from ase_lcom.errors import LCOMError

Item = TypeVar("Item")
Result = TypeVar("Result")
Resource = TypeVar("Resource")


class ExecutionError(LCOMError, ValueError):
    """An executor cannot be built with the settings given."""


@dataclass(frozen=True)
class Outcome(Generic[Item, Result]):
    """One finished task: its item and either its result or the exception it raised."""

    item: Item
    result: Result | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def get(self) -> Result:
        """The result, or the task's exception raised here."""
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class Executor(abc.ABC):
    """Runs a task function over items. Use it as a context manager: leaving the block releases its workers
    (and stops them at once when the block is left by an exception)."""

    @abc.abstractmethod
    def map_unordered(self, function: Callable[[Item], Result], items: Iterable[Item]) -> Iterator[Outcome]:
        """``function(item)`` for every item, yielded as each finishes (in any order).

        An exception raised by a task is caught and returned in its :class:`Outcome`; the other tasks go on.
        Errors of the executor itself (a worker process killed) are raised. ``function`` and the items must be
        picklable for executors that run tasks in other processes: use module-level functions, and
        ``functools.partial`` for fixed arguments.
        """

    def close(self, cancel: bool = False) -> None:  # noqa: B027  (an executor without workers has nothing to do)
        """Release the workers; with ``cancel``, stop running tasks instead of waiting for them."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close(cancel=exc_type is not None)


# ------------------------------------------------------------------------------------------- worker resources
_PROCESS_RESOURCES: dict[Hashable, Any] | None = None
"""The resource cache of this process when it is a :class:`ProcessExecutor` worker."""

_SCOPED_RESOURCES: dict[Hashable, Any] | None = None
"""The resource cache of the :class:`SerialExecutor` running a task in this process right now."""


def worker_resource(key: Hashable, factory: Callable[[], Resource]) -> Resource:
    """An object built by ``factory()`` once per worker and reused by the later tasks of that worker.

    Inside a task of a :class:`ProcessExecutor` the cache is the worker process's; inside a task of a
    :class:`SerialExecutor` it is that executor's. Called outside any task, it builds a new object each time.
    ``key`` names the object: equal keys must mean interchangeable objects.
    """
    cache = _SCOPED_RESOURCES if _SCOPED_RESOURCES is not None else _PROCESS_RESOURCES
    if cache is None:
        return factory()
    if key not in cache:
        cache[key] = factory()
    return cache[key]


def worker_calculator(name: str, **options: Any) -> Any:
    """The ASE calculator ``get_calculator(name, **options)`` of this worker (see :func:`worker_resource`).

    Raises
    ------
    CalculatorError
        Unknown name, package not installed, bad option or missing weights.
    """
    from ase_lcom.calculators import get_calculator

    key = ("calculator", name.lower(), tuple(sorted((k, repr(v)) for k, v in options.items())))
    return worker_resource(key, lambda: get_calculator(name, **options))


@contextmanager
def _scoped_resources(cache: dict[Hashable, Any]) -> Iterator[None]:
    global _SCOPED_RESOURCES
    saved, _SCOPED_RESOURCES = _SCOPED_RESOURCES, cache
    try:
        yield
    finally:
        _SCOPED_RESOURCES = saved


# ------------------------------------------------------------------------------------------------ executors
class SerialExecutor(Executor):
    """Every task in this process, one after the other, in the order of the items (deterministic)."""

    def __init__(self) -> None:
        self._resources: dict[Hashable, Any] = {}

    def map_unordered(self, function: Callable[[Item], Result], items: Iterable[Item]) -> Iterator[Outcome]:
        for item in items:
            with _scoped_resources(self._resources):
                try:
                    outcome = Outcome(item, result=function(item))
                except Exception as exc:
                    outcome = Outcome(item, error=exc)
            yield outcome

    def close(self, cancel: bool = False) -> None:
        self._resources.clear()


def _init_worker(threads: int) -> None:
    """:class:`ProcessExecutor` worker setup: :func:`_setup_worker`, and Ctrl-C left to the parent (which stops
    the workers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _setup_worker(threads)


def _setup_worker(threads: int) -> None:
    """A worker process's own resource cache and ``threads`` threads for torch and for BLAS/OpenMP."""
    global _PROCESS_RESOURCES
    from threadpoolctl import threadpool_limits

    for variable in _THREAD_VARIABLES:  # read by torch, OpenMP and BLAS when they load later in this process
        os.environ[variable] = str(threads)
    threadpool_limits(limits=threads)  # the libraries loaded already
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    _PROCESS_RESOURCES = {}


_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class ProcessExecutor(Executor):
    """Tasks in ``workers`` local worker processes (started with ``spawn``: torch and ``fork`` do not mix).

    The workers start on the first :meth:`map_unordered` and serve every later one until :meth:`close`, so
    their cached resources (:func:`worker_resource`) outlive a single map.

    Parameters
    ----------
    workers
        Worker processes.
    threads_per_worker
        Threads each worker gives torch and the BLAS behind numpy/scipy. One is right for many small tasks:
        the small (3x3) solves of a cell relaxation slow down a hundredfold when several processes' thread
        pools compete for the cores.
    context
        ``spawn`` or ``forkserver``.
    """

    def __init__(self, workers: int, threads_per_worker: int = 1, context: str = "spawn") -> None:
        if workers < 1 or threads_per_worker < 1:
            raise ExecutionError(f"workers and threads per worker must be at least 1, got {workers} and "
                                 f"{threads_per_worker}")
        if context not in ("spawn", "forkserver"):
            raise ExecutionError(f"process start method must be spawn or forkserver, got {context!r}")
        self.workers = workers
        self.threads_per_worker = threads_per_worker
        self.context = context
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def _start(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context(self.context), initializer=_init_worker,
                initargs=(self.threads_per_worker,))
        return self._pool

    def map_unordered(self, function: Callable[[Item], Result], items: Iterable[Item]) -> Iterator[Outcome]:
        pool = self._start()
        pending: dict[concurrent.futures.Future, Any] = {}
        source = iter(items)

        def submit(count: int) -> None:
            for item in islice(source, count):
                pending[pool.submit(function, item)] = item

        submit(2 * self.workers)  # a few queued per worker keeps them busy without pickling every item at once
        try:
            while pending:
                finished, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in finished:
                    item = pending.pop(future)
                    error = future.exception()
                    if isinstance(error, BrokenProcessPool):
                        raise error
                    if error is not None and not isinstance(error, Exception):
                        raise error
                    yield Outcome(item, error=error) if error is not None else Outcome(item, result=future.result())
                submit(len(finished))
        finally:
            for future in pending:  # the caller stopped early: queued tasks are dropped
                future.cancel()

    def close(self, cancel: bool = False) -> None:
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        if cancel:
            # the public API only waits for running tasks; an interrupted job should stop at once
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=cancel)


def in_worker_process(function: Callable[[Item], Result], item: Item, threads: int) -> Result:
    """Run one task in a worker process of a cluster engine: the first task there sets the process up as
    :class:`ProcessExecutor` workers are (a resource cache, ``threads`` threads), later ones reuse it."""
    if _PROCESS_RESOURCES is None and _SCOPED_RESOURCES is None:
        _setup_worker(threads)
    return function(item)


def executor_for(workers: int, threads_per_worker: int = 1, dask: str | None = None) -> Executor:
    """A :class:`SerialExecutor` for ``workers <= 1``, else a :class:`ProcessExecutor` of that size; with
    ``dask`` (``"local"`` or a scheduler address) a :class:`~ase_lcom.execution.dask_cluster.DaskExecutor`
    (a local cluster of ``workers`` processes)."""
    if dask is not None:
        from ase_lcom.execution.dask_cluster import DaskExecutor

        return DaskExecutor(dask, workers=workers if workers >= 1 else None, threads_per_worker=threads_per_worker)
    return SerialExecutor() if workers <= 1 else ProcessExecutor(workers, threads_per_worker)

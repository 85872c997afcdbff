"""Where jobs run: a local process pool by default, a Dask cluster when one is named.

An executor takes ``(function, *args)`` and calls ``on_done(exception_or_None)`` when the call
ends. Both run `api.jobs.execute_job`, which reads and writes the job's state in the database
itself, so the process that submitted a job does not need to outlive it.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Protocol

Done = Callable[[BaseException | None], None]


class Executor(Protocol):
    """Runs a picklable call somewhere else."""

    def submit(self, fn: Callable[..., Any], *args: Any, on_done: Done) -> None:
        """Start ``fn(*args)``; call ``on_done`` with its exception (or None) when it ends."""
        ...

    def shutdown(self) -> None:
        """Stop taking work; release resources."""
        ...


class LocalPool:
    """A process pool (``spawn``ed, so it is safe under threaded servers), created on first use.

    Parameters
    ----------
    workers : int
        Processes in the pool.
    """

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _get(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn")
                )
            return self._pool

    def submit(self, fn: Callable[..., Any], *args: Any, on_done: Done) -> None:
        try:
            future = self._get().submit(fn, *args)
        except RuntimeError:  # a broken pool: start a new one once
            with self._lock:
                self._pool = None
            future = self._get().submit(fn, *args)

        def _done(f: Future[Any]) -> None:
            if f.cancelled():  # shut down before it started: it stays queued for recovery
                return
            on_done(f.exception())

        future.add_done_callback(_done)

    def shutdown(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None


class DaskExecutor:
    """A Dask ``distributed`` cluster at ``address`` (``tcp://host:8786``).

    Its workers must be able to import ipvalue and reach the database.
    """

    def __init__(self, address: str) -> None:
        self.address = address
        self._client: Any = None
        self._futures: set[Any] = set()
        self._lock = threading.Lock()

    def _get(self) -> Any:
        with self._lock:
            if self._client is None:
                from distributed import Client

                self._client = Client(self.address, set_as_default=False, timeout=10)
            return self._client

    def submit(self, fn: Callable[..., Any], *args: Any, on_done: Done) -> None:
        from distributed import fire_and_forget

        future = self._get().submit(fn, *args, pure=False)
        fire_and_forget(future)
        with self._lock:
            self._futures.add(future)

        def _done(f: Any) -> None:
            with self._lock:
                self._futures.discard(f)
            try:
                exc = f.exception() if f.status == "error" else None
            except Exception as err:  # cancelled or lost
                exc = err
            if f.status == "cancelled" and exc is None:
                exc = RuntimeError("the Dask task was cancelled")
            on_done(exc)

        future.add_done_callback(_done)

    def shutdown(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


def make_executor(dask_scheduler: str | None, workers: int) -> Executor:
    """The Dask executor when a scheduler is named, else a local pool."""
    if dask_scheduler:
        return DaskExecutor(dask_scheduler)
    return LocalPool(workers)

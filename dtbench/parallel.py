"""Independent jobs side by side in worker processes, shared by training runs and data making.

Small models use CPU threads poorly, so two 1-thread processes side by side finish about twice
as fast as two 2-thread jobs in a row on a 2-core machine; each worker gets cores // jobs torch
threads. A failing job does not stop the others: every job that can finish does, then the
first error is raised (`Outcomes`, which the Ray launcher uses too).

Workers never outlive the parent: each asks the kernel for SIGKILL when its parent dies
(Linux's parent-death signal) and also checks its parent every second; Ctrl-C and SIGTERM
reach the parent, which stops every worker at once instead of waiting for the queued jobs.
Work a stopped worker had begun resumes from its checkpoint on the next call.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Generic, TypeVar

import torch

T = TypeVar("T")
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class Outcomes(Generic[T]):
    """Results of jobs as they finish, in any order: every job is attempted, errors are kept
    until all are done, then the first is raised (`results`)."""

    def __init__(self, items: Sequence[T],
                 on_result: Callable[[T, Any], None] | None = None) -> None:
        self.items, self.on_result = list(items), on_result
        self.done: dict[int, Any] = {}
        self.errors: list[BaseException] = []

    def record(self, i: int, get: Callable[[], Any]) -> None:
        """Job `i` finished: `get()` returns its result or raises its error."""
        try:
            self.done[i] = get()
        except Exception as exc:  # noqa: BLE001 - kept; raised once every job is done
            self.errors.append(exc)
            return
        if self.on_result is not None:
            self.on_result(self.items[i], self.done[i])

    def results(self) -> list[Any]:
        """Every result in item order, or the first error."""
        if self.errors:
            raise self.errors[0]
        return [self.done[i] for i in range(len(self.items))]


def map_in_processes(fn: Callable[[T], Any], items: Sequence[T], jobs: int,
                     on_result: Callable[[T, Any], None] | None = None) -> list[Any]:
    """[fn(item) for item in items], `jobs` at a time in spawned processes; `fn` must pickle
    (a module-level function or a functools.partial of one). Results come back in item order;
    `on_result(item, result)` is called as each one finishes. With one job (or one item) they
    run here, in order, with the same error handling."""
    outcomes = Outcomes(items, on_result)
    if jobs <= 1 or len(items) <= 1:
        for i, item in enumerate(items):
            outcomes.record(i, lambda item=item: fn(item))
        return outcomes.results()
    threads = max(1, (os.cpu_count() or 1) // jobs)
    _quiet_resource_tracker()
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(items)),
                               mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(threads, os.getpid()))
    try:
        futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
        for future in as_completed(futures):
            outcomes.record(futures[future], future.result)
    except BaseException:  # Ctrl-C, SIGTERM (errors.Terminated): stop now, not after the queue
        _stop(pool)
        raise
    pool.shutdown(wait=True)
    return outcomes.results()


def _quiet_resource_tracker() -> None:
    """Workers stopped by Ctrl-C leave the pool's queue semaphores to multiprocessing's resource
    tracker, which cleans them and warns in a traceback-like block; the tracker process takes
    its warning filters from sys.warnoptions, so the notice is filtered there."""
    quiet = "ignore:resource_tracker:UserWarning"
    if quiet not in sys.warnoptions:
        sys.warnoptions.append(quiet)


def _init_worker(threads: int, parent: int) -> None:
    """A worker: `threads` torch threads, dies with its parent, leaves Ctrl-C to the parent."""
    torch.set_num_threads(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us (a terminal's Ctrl-C
    # reaches the whole process group)
    # Linux: SIGKILL when the parent dies, even by SIGKILL; elsewhere the watcher below does it
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before we got here
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Terminate the running jobs (they resume on the next call) and cancel the queued ones.
    The workers go first and the executor's own shutdown runs in a daemon thread: a signal can
    land while the executor holds its locks or spawns a worker, and stopping must never wait
    on them."""
    processes = list(getattr(pool, "_processes", {}).values())  # the executor's own record
    for process in processes:
        if process.is_alive():
            process.terminate()
    threading.Thread(target=pool.shutdown, kwargs={"wait": False, "cancel_futures": True},
                     daemon=True).start()
    deadline = time.monotonic() + 5
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()

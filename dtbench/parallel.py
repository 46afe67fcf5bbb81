"""Independent jobs side by side in worker processes, shared by training runs and data making.

Small models use CPU threads poorly, so two 1-thread processes side by side finish about twice
as fast as two 2-thread jobs in a row on a 2-core machine; each worker gets cores // jobs torch
threads. A failing job does not stop the others: every job that can finish does, then the
first error is raised (`Outcomes`, which the Ray launcher uses too).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Generic, TypeVar

import torch

T = TypeVar("T")


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
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(items)),
                               mp_context=multiprocessing.get_context("spawn"),
                               initializer=torch.set_num_threads, initargs=(threads,))
    with pool:
        futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
        for future in as_completed(futures):
            outcomes.record(futures[future], future.result)
    return outcomes.results()

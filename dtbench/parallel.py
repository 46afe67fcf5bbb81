"""Independent jobs side by side in worker processes, shared by training runs and data making.

Small models use CPU threads poorly, so two 1-thread processes side by side finish about twice
as fast as two 2-thread jobs in a row on a 2-core machine; each worker gets cores // jobs torch
threads. A failing job does not stop the others: every job that can finish does, then the
first error is raised.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

import torch

T = TypeVar("T")


def map_in_processes(fn: Callable[[T], Any], items: Sequence[T], jobs: int,
                     on_result: Callable[[T, Any], None] | None = None) -> list[Any]:
    """[fn(item) for item in items], `jobs` at a time in spawned processes; `fn` must pickle
    (a module-level function or a functools.partial of one). Results come back in item order;
    `on_result(item, result)` is called as each one finishes. With one job (or one item) they
    run here, in order, with the same error handling."""
    done: dict[int, Any] = {}
    errors: list[BaseException] = []
    if jobs <= 1 or len(items) <= 1:
        for i, item in enumerate(items):
            try:
                done[i] = fn(item)
            except Exception as exc:  # noqa: BLE001 - re-raised once the others are done
                errors.append(exc)
                continue
            if on_result is not None:
                on_result(item, done[i])
        if errors:
            raise errors[0]
        return [done[i] for i in range(len(items))]
    threads = max(1, (os.cpu_count() or 1) // jobs)
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(items)),
                               mp_context=multiprocessing.get_context("spawn"),
                               initializer=torch.set_num_threads, initargs=(threads,))
    with pool:
        futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
        for future in as_completed(futures):
            i = futures[future]
            try:
                done[i] = future.result()
            except Exception as exc:  # keep the other jobs going; raise once they are done
                errors.append(exc)
                continue
            if on_result is not None:
                on_result(items[i], done[i])
    if errors:
        raise errors[0]
    return [done[i] for i in range(len(items))]

"""Run a function over many items in worker processes with a progress bar."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed

from ..runtime import progress_bar


def _single_threaded(fn, item):
    import torch

    torch.set_num_threads(1)  # one process per core: intra-op threads would oversubscribe
    return fn(item)


def map_with_progress(
    fn: Callable, items: Iterable, workers: int | None = None, desc: str = "", progress: bool = True
) -> Iterator:
    """Yield ``fn(item)`` for every item, in completion order, over ``workers`` processes (default: all cores).

    ``fn`` must be picklable and should catch its own expected errors and return them as values.
    """
    items = list(items)
    workers = min(workers or os.cpu_count() or 1, max(len(items), 1))
    with progress_bar(total=len(items), desc=desc, enabled=progress) as bar:
        if workers == 1:
            for item in items:
                yield fn(item)
                bar.update()
            return
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for fut in as_completed([pool.submit(_single_threaded, fn, it) for it in items]):
                yield fut.result()
                bar.update()

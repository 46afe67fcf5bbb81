"""Files written atomically: readers (and a rerun after a crash) see the old file or the new
one, never half of one. Every result, checkpoint and cache in dtbench is written this way."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_write(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` to write; it replaces `path` in one step when the
    block succeeds and is removed when it fails. The name is unique per process, so processes
    writing the same file at once (two runs caching one dataset) cannot trip over each other;
    it keeps the suffix, so writers that add one (numpy's .npz) name it as given."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path, payload: Any, indent: int = 2, sort_keys: bool = False) -> None:
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=indent, sort_keys=sort_keys, default=str)
                       + "\n")


def copy_atomically(source: Path, target: Path) -> None:
    """Copy `source` to `target` so that `target` is whole or absent, never half-copied."""
    import shutil

    with atomic_write(target) as tmp:
        shutil.copy2(source, tmp)


def set_aside(path: Path, why: str) -> Path:
    """Rename an unreadable file to `<name>.bad-<n>` (kept for inspection, out of the way of a
    fresh start) and say so in one line on stderr; returns the new path."""
    import sys

    n = 1
    while (aside := path.with_name(f"{path.name}.bad-{n}")).exists():
        n += 1
    path.replace(aside)
    print(f"dtbench: {path} could not be read ({why}); kept as {aside.name}, starting that "
          "file afresh", file=sys.stderr)
    return aside

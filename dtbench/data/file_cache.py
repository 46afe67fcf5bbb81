"""Small values derived from large data files (a checksum, a checkpoint's last frames), computed
once and kept in dtbench's cache folder, keyed by the file's path, size and modification time,
so a file replaced under the same name is read afresh and the data folders are never written."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dtbench.atomic import atomic_write, write_json
from dtbench.runtime import PROJECT_ROOT


def cache_dir() -> Path:
    """`$DTBENCH_CACHE_DIR`, default `data/cache` in the project (git ignores `data/`)."""
    return Path(os.environ.get("DTBENCH_CACHE_DIR", PROJECT_ROOT / "data" / "cache"))


def file_key(path: Path) -> str:
    """A name for this version of the file: its resolved path, size and mtime, hashed."""
    path = Path(path).resolve()
    info = path.stat()
    return hashlib.sha1(f"{path}|{info.st_size}|{info.st_mtime_ns}".encode()).hexdigest()[:20]


def cached_array(kind: str, path: Path, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """`compute()` for this version of `path`, from the cache when it is there. An unreadable
    cache entry is computed again (the cache only ever saves time)."""
    entry = cache_dir() / kind / f"{file_key(path)}.npy"
    if entry.is_file():
        try:
            return np.load(entry, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            entry.unlink(missing_ok=True)
    value = compute()
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(entry) as tmp:
            np.save(tmp, value, allow_pickle=False)
    except OSError:  # a read-only cache folder costs time, not correctness
        pass
    return value


def cached_json(kind: str, path: Path, compute: Callable[[], object]) -> object:
    """As `cached_array`, for a small JSON value (a checksum)."""
    entry = cache_dir() / kind / f"{file_key(path)}.json"
    if entry.is_file():
        try:
            return json.loads(entry.read_text())
        except (OSError, ValueError):
            entry.unlink(missing_ok=True)
    value = compute()
    remember_json(kind, path, value)
    return value


def remember_json(kind: str, path: Path, value: object) -> None:
    """Put a value known for this version of `path` in the cache (a download's checksum)."""
    entry = cache_dir() / kind / f"{file_key(path)}.json"
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        write_json(entry, value)
    except OSError:
        pass

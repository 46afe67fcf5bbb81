"""What a run trained on, exactly: each data file's name, size and sha256, and one digest over
them, recorded in the run's config.json and result.json. A finished run whose data has changed
since (another file under the same dataset name) is *stale* (`dtbench.runs.stale`).

Checksums are computed once per version of a file (path, size, mtime) and cached; a download
puts the checksum it computed in the cache and in a manifest beside the data
(`dtbench-manifest.json`), which is checked here whenever the file is used again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dtbench.data.file_cache import cached_json, remember_json
from dtbench.errors import DTBenchError

MANIFEST = "dtbench-manifest.json"
CHUNK = 1 << 22


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256(path: Path) -> str:
    """The file's sha256, from the cache when this version of it was hashed before."""
    return str(cached_json("sha256", path, lambda: sha256_file(path)))


def remember_sha256(path: Path, value: str) -> None:
    remember_json("sha256", path, value)


def read_manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """{file name: {"size", "sha256", "url"}} of the downloads into `folder` ({} if none)."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
        return {str(k): dict(v) for k, v in data.items()}
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise DTBenchError(f"{path} is corrupt ({type(exc).__name__}); delete it and download "
                           "the data again with `dtbench data download`") from None


def file_identity(path: Path) -> dict[str, Any]:
    """Name, size and sha256 of one data file, checked against its download manifest."""
    path = Path(path)
    size, value = path.stat().st_size, sha256(path)
    listed = read_manifest(path.parent).get(path.name)
    if listed is not None and (listed.get("sha256"), listed.get("size")) != (value, size):
        raise DTBenchError(f"{path} is not the file that was downloaded (sha256 or size differs "
                           f"from {path.parent / MANIFEST}); download it again with "
                           "`dtbench data download`")
    return {"path": str(path), "size": size, "sha256": value}


def data_identity(dataset_id: str, files: Sequence[Path]) -> dict[str, Any]:
    """The identity of a dataset: its id, its files and a digest of (file name, sha256)
    pairs, which does not depend on where the files are."""
    files = sorted(Path(f) for f in files)
    if not files:
        raise DTBenchError(f"dataset {dataset_id}: no data files to identify")
    records = [file_identity(f) for f in files]
    base = Path(os.path.commonpath([f.parent for f in files]))
    names = [str(f.relative_to(base)) for f in files]
    digest = hashlib.sha256(json.dumps(
        [dataset_id, *[(name, r["sha256"]) for name, r in zip(names, records, strict=True)]]
    ).encode())
    return {"id": dataset_id, "files": records, "digest": digest.hexdigest()[:16]}

"""Downloads of published data files (D4RL HDF5, DQN-replay checkpoints) over HTTP(S).

A file is fetched to `<name>.part` beside its place and renamed once it is complete and
verified, so dtbench never reads half a file; an interrupted download resumes from the part
file with an HTTP Range request. Each finished file's size, sha256 and URL go into the folder's
manifest (`dtbench.data.identity.MANIFEST`), against which every later use checks it. Every
failure (offline, a missing file, a full disk, a corrupt file) is one `DTBenchError` line
naming the file and what to do.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dtbench.atomic import write_json
from dtbench.data.identity import MANIFEST, read_manifest, remember_sha256, sha256
from dtbench.errors import DTBenchError

CHUNK = 1 << 20
TIMEOUT_S = 60.0  # per socket operation: a stalled server fails, a slow one does not


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset on a data host."""

    url: str
    """Where it is served."""
    path: Path
    """Where dtbench reads it."""
    verify: Callable[[Path], None] | None = None
    """Raises ValueError (or OSError) when the downloaded bytes are not a usable file of their
    format."""


def download(files: Sequence[RemoteFile], progress: bool = True,
             echo: Callable[[str], None] = print) -> list[str]:
    """Fetch each file that is not already here and verified; one line per file."""
    lines = []
    for remote in files:
        listed = read_manifest(remote.path.parent).get(remote.path.name)
        if remote.path.is_file() and listed is not None:
            if listed.get("sha256") != sha256(remote.path):
                raise DTBenchError(f"{remote.path} differs from the file downloaded there "
                                   f"({remote.path.parent / MANIFEST}); delete it and run the "
                                   "command again")
            lines.append(f"{remote.path}: present (sha256 as downloaded)")
            continue
        if remote.path.is_file():  # put there by hand: verify it and adopt it
            _verified(remote, remote.path)
            _record(remote, remote.path.stat().st_size, sha256(remote.path))
            lines.append(f"{remote.path}: present (verified, now in the manifest)")
            continue
        size = fetch(remote, progress)
        lines.append(f"{remote.path}: downloaded ({size:,} bytes, verified)")
        echo(lines[-1])
    return lines


def fetch(remote: RemoteFile, progress: bool = True) -> int:
    """Download one file (resuming a part file), verify it, move it into place; its size."""
    part = remote.path.with_name(remote.path.name + ".part")
    try:
        remote.path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DTBenchError(f"cannot make {remote.path.parent} ({exc.strerror}); give a "
                           "folder you can write in") from None
    have = part.stat().st_size if part.is_file() else 0
    digest = hashlib.sha256()
    if have:
        with open(part, "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
    request = urllib.request.Request(remote.url, headers={"Range": f"bytes={have}-"} if have
                                     else {})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)  # noqa: S310 - our URLs
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the part file is already whole
            return _finish(remote, part, have, digest.hexdigest())
        raise DTBenchError(f"{remote.url}: the server answered {exc.code} ({exc.reason}) for "
                           f"{remote.path.name}; check the address (its base URL is a setting, "
                           "see `dtbench data download --help`)") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DTBenchError(f"cannot reach {remote.url} for {remote.path.name} ({reason}); "
                           "check the network and run the command again"
                           + (" (it resumes)" if have else "")) from None
    with response:
        if have and response.status != 206:  # the server ignored the range: start again
            have, digest = 0, hashlib.sha256()
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        bar = _bar(remote.path.name, total, have, progress)
        try:
            with open(part, "ab" if have else "wb") as out:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    have += len(chunk)
                    bar.update(len(chunk))
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DTBenchError(f"the disk is full writing {part}; free space and run the "
                                   "command again (it resumes)") from None
            if isinstance(exc, PermissionError):
                raise DTBenchError(f"cannot write {part} ({exc.strerror}); give a folder you "
                                   "can write in") from None
            raise _interrupted(remote, part, have, total, exc) from None
        except http.client.HTTPException as exc:  # IncompleteRead: the server hung up
            raise _interrupted(remote, part, have, total, exc) from None
        finally:
            bar.close()
    if total is not None and have < total:
        raise _interrupted(remote, part, have, total, "the connection closed early")
    return _finish(remote, part, have, digest.hexdigest())


def _interrupted(remote: RemoteFile, part: Path, have: int, total: int | None,
                 why: object) -> DTBenchError:
    of = f" of {total:,}" if total else ""
    return DTBenchError(f"the download of {remote.path.name} stopped after {have:,}{of} bytes "
                        f"({why}); run the command again: it resumes from {part.name}")


def _finish(remote: RemoteFile, part: Path, size: int, value: str) -> int:
    _verified(remote, part)
    part.replace(remote.path)
    remember_sha256(remote.path, value)
    _record(remote, size, value)
    return size


def _verified(remote: RemoteFile, path: Path) -> None:
    """Run the format check; a file that fails it is deleted (it is not the data)."""
    if remote.verify is None:
        return
    try:
        remote.verify(path)
    except (ValueError, OSError, KeyError, EOFError) as exc:
        path.unlink(missing_ok=True)
        raise DTBenchError(f"{remote.url}: the downloaded {remote.path.name} is corrupt "
                           f"({' '.join(str(exc).split())[:120]}); deleted it - download it "
                           "again, or check the data host") from None


def _record(remote: RemoteFile, size: int, value: str) -> None:
    manifest_path = remote.path.parent / MANIFEST
    manifest = read_manifest(remote.path.parent)
    manifest[remote.path.name] = {"size": size, "sha256": value, "url": remote.url}
    write_json(manifest_path, dict(sorted(manifest.items())))


def _bar(name: str, total: int | None, initial: int, progress: bool):  # noqa: ANN202
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024,
                desc=name, disable=not progress, leave=False)


def verify_hdf5(keys: Sequence[str]) -> Callable[[Path], None]:
    """A check that the file opens as HDF5 and holds `keys`."""

    def check(path: Path) -> None:
        import h5py

        try:
            with h5py.File(path, "r") as f:
                missing = [k for k in keys if k not in f]
        except Exception as exc:  # noqa: BLE001 - h5py raises many kinds for a bad file
            raise ValueError(f"not an HDF5 file: {type(exc).__name__}") from None
        if missing:
            raise ValueError(f"no {', '.join(missing)} in the file")

    return check


def verify_gzip_npy(path: Path) -> None:
    """A gzipped `.npy` array that decompresses to its end (dopamine's checkpoint files)."""
    import gzip
    import zlib

    import numpy as np

    try:
        with gzip.open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = {(1, 0): np.lib.format.read_array_header_1_0,
                    (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read is None:
                raise ValueError(f"unsupported .npy version {version}")
            shape, _, dtype = read(f)
            want = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            got = 0
            while chunk := f.read(CHUNK * 16):
                got += len(chunk)
        if got != want:
            raise ValueError(f"{got:,} bytes of array data, its header says {want:,}")
    except (zlib.error, EOFError, gzip.BadGzipFile) as exc:
        raise ValueError(f"does not decompress: {exc}") from None

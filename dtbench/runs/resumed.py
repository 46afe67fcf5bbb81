"""Where a run was trained: a run stopped in one session may resume in another, on another CPU
kind, and its config.json, rewritten at each start, records only the last machine. The
launchers keep the earlier identities beside it, and `runs.compare` expects no same bits from a
run trained on two machines. Not imported by the executor, so no run's fingerprint depends on
it."""

from __future__ import annotations

import json
from pathlib import Path

from filelock import FileLock, Timeout

from dtbench.atomic import write_json
from dtbench.contract import RunSpec
from dtbench.hardware import identity
from dtbench.runs.results import CONFIG, RESULT
from dtbench.runs.triage import LOCK
from dtbench.runtime import resolve_device

EARLIER_HARDWARE = "hardware_earlier.json"  # a list of identities, oldest first


def keep_earlier_hardware(spec: RunSpec, results_root: Path, device: str = "auto") -> None:
    """Before an unfinished run resumes on `device`, keep the hardware identity its config.json
    recorded when that differs from this process's (another CPU kind, ISA setting, thread
    count or device). A run another process holds (its lock) is left alone: that process is
    the one training it."""
    folder = spec.folder(results_root)
    if (folder / RESULT).exists():
        return
    try:
        earlier = json.loads((folder / CONFIG).read_text())["environment"]["hardware"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # never started, or started by a dtbench that recorded no identity
    lock = FileLock(folder / LOCK)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return
    try:
        if earlier == identity(str(resolve_device(device))):
            return
        path = folder / EARLIER_HARDWARE
        try:
            kept = json.loads(path.read_text()) if path.exists() else []
        except ValueError:
            kept = []  # a damaged record: start it again rather than stop the run
        if earlier not in kept:
            write_json(path, [*kept, earlier])
    finally:
        lock.release()


def trained_on_one_machine(folder: Path) -> bool:
    """Whether a run folder records no earlier hardware than its config.json's."""
    return not (folder / EARLIER_HARDWARE).exists()

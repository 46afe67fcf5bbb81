"""Where a run was trained: a run stopped in one session may resume in another, on another CPU
kind, and its config.json, rewritten at each start, records only the last machine. The
launchers keep the earlier identities beside it, and `runs.compare` expects no same bits from a
run trained on two machines. Not imported by the executor, so no run's fingerprint depends on
it."""

from __future__ import annotations

import json
from pathlib import Path

from dtbench.atomic import write_json
from dtbench.contract import RunSpec
from dtbench.hardware import identity
from dtbench.runs.results import CONFIG, RESULT

EARLIER_HARDWARE = "hardware_earlier.json"  # a list of identities, oldest first


def keep_earlier_hardware(spec: RunSpec, results_root: Path) -> None:
    """Before an unfinished run resumes, keep the hardware identity its config.json recorded
    when that differs from this process's (another CPU kind, ISA setting or thread count)."""
    folder = spec.folder(results_root)
    if (folder / RESULT).exists():
        return
    try:
        earlier = json.loads((folder / CONFIG).read_text())["environment"]["hardware"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # never started, or started by a dtbench that recorded no identity
    if earlier == identity(earlier.get("device", "cpu")):
        return
    path = folder / EARLIER_HARDWARE
    kept = json.loads(path.read_text()) if path.exists() else []
    if earlier not in kept:
        write_json(path, [*kept, earlier])


def trained_on_one_machine(folder: Path) -> bool:
    """Whether a run folder records no earlier hardware than its config.json's."""
    return not (folder / EARLIER_HARDWARE).exists()

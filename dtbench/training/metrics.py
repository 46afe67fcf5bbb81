"""metrics.csv of a DT run: one row per `train.log_every` steps (mean loss, lr, gradient norm
and the seconds of sampling and updating per step), appended as training goes and trimmed back
to the checkpoint a resumed run starts from."""

from __future__ import annotations

import csv
from pathlib import Path

from dtbench.atomic import atomic_write

METRICS = "metrics.csv"
FIELDS = ("step", "loss", "lr", "grad_norm", "sample_s", "update_s")


def start(path: Path, resumed_at: int) -> None:
    """An empty file for a run from scratch; for a resumed one, the rows up to its checkpoint,
    rewritten in one atomic step (a kill at any moment leaves the old file or the trimmed
    one). Rows a kill cut short are dropped."""
    rows = []
    if resumed_at and path.exists():
        with path.open(newline="") as f:
            rows = [r for r in csv.DictReader(f)
                    if _whole(r) and int(r["step"]) <= resumed_at]
    _write(path, rows)


def append(path: Path, row: dict[str, float]) -> None:
    """One row (`step` and the FIELDS' values), floats to 6 significant digits."""
    if not path.exists():
        _write(path, [])
    with path.open("a", newline="") as f:
        csv.DictWriter(f, FIELDS).writerow({k: (f"{v:.6g}" if isinstance(v, float) else v)
                                            for k, v in row.items()})


def _whole(row: dict[str, str | None]) -> bool:
    return all(row.get(k) not in (None, "") for k in FIELDS) and row["step"].isdigit()


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with atomic_write(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)

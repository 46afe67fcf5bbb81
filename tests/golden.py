"""The golden regression grid: a few small runs whose every number is committed in
tests/golden.json, so that a change which moves a training or evaluation number fails CI
with the old and new values (tests/test_golden.py).

The grid covers DT and a d3rlpy baseline, discrete and continuous actions, dense and delayed
rewards: Key-to-Door DT and CQL (its own random walks), and Hopper DT (dense and delayed) and
BC on a seeded D4RL-format file, all on the `smoke` profile with a few more steps.

When a change is meant to move numbers, regenerate the file in the same commit (and the
committed results it moves):

    .venv/bin/python -m tests.golden --update
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

GOLDEN = Path(__file__).with_name("golden.json")
# (task, dataset, algo, variant); each run: seed 0, profile smoke, OVERRIDES
RUNS = (("keydoor", "random-1k", "dt", "dense"), ("keydoor", "random-1k", "cql", "dense"),
        ("mujoco/hopper", "d4rl-medium", "dt", "dense"),
        ("mujoco/hopper", "d4rl-medium", "dt", "delayed"),
        ("mujoco/hopper", "d4rl-medium", "bc", "dense"))
OVERRIDES = {"train.steps": 60, "train.log_every": 10, "baseline.steps": 60,
             "baseline.log_every": 10, "eval.episodes": 3}
# numbers compared: every target's summary and every logged training loss
SUMMARY = ("return_mean", "return_std", "score_mean", "score_std", "length_mean")


def write_hopper_d4rl(path: Path) -> Path:
    """A D4RL-format Hopper file from a fixed seed (numpy's PCG64: the same bytes anywhere)."""
    rng = np.random.default_rng(0)
    lengths = [40, 35, 50, 30]
    n = sum(lengths)
    ends = np.cumsum(lengths) - 1
    with h5py.File(path, "w") as f:
        f["observations"] = rng.normal(size=(n, 11)).astype(np.float32)
        f["next_observations"] = rng.normal(size=(n, 11)).astype(np.float32)
        f["actions"] = rng.uniform(-1, 1, size=(n, 3)).astype(np.float32)
        f["rewards"] = rng.uniform(0, 3, size=n).astype(np.float32)
        terminals = np.zeros(n, bool)
        terminals[ends[:-1]] = True
        timeouts = np.zeros(n, bool)
        timeouts[ends[-1]] = True
        f["terminals"] = terminals
        f["timeouts"] = timeouts
        f["infos/qpos"] = np.zeros((n, 6))
        f["metadata/algorithm"] = "SAC"
    return path


def machine() -> dict[str, Any]:
    """What exact equality depends on: the hardware identity (`dtbench.hardware`: the code
    paths, BLAS, torch build and threads), and the CPU model too until bit-identity across CPU
    models is checked (docs/implementation-details.md, Reproducing)."""
    from dtbench import hardware

    identity = hardware.identity()
    return {key: identity[key] for key in ("cpu", *hardware.MATCH_KEYS) if key != "device"}


def compute(work: Path) -> dict[str, Any]:
    """Run the golden grid in `work` (data and results there) and return its numbers."""
    from dtbench import api
    from dtbench.runs import make_datasets

    d4rl = work / "d4rl"
    d4rl.mkdir(parents=True, exist_ok=True)
    write_hopper_d4rl(d4rl / "hopper_medium-v2.hdf5")
    saved = {k: os.environ.get(k) for k in ("DTBENCH_D4RL_DIR", "MINARI_DATASETS_PATH")}
    os.environ["DTBENCH_D4RL_DIR"] = str(d4rl)
    os.environ["MINARI_DATASETS_PATH"] = str(work / "minari")
    numbers: dict[str, Any] = {}
    try:
        for task, dataset, algo, variant in RUNS:
            if task == "keydoor":
                make_datasets(task, [dataset], budget="smoke")
            (result,) = api.train(task, [dataset], algos=[algo], seeds=[0], profile="smoke",
                                  variant=variant, overrides=OVERRIDES,
                                  results_root=work / "results", echo=lambda line: None,
                                  stack_seeds=False)
            from dtbench.contract import RunSpec

            spec = RunSpec.from_dict(result["spec"])
            metrics = pd.read_csv(spec.folder(work / "results") / "metrics.csv")
            loss = [float(x) for x in metrics["loss"]] if "loss" in metrics else []
            numbers[f"{task} {dataset} {algo} {variant}"] = {
                "targets": [{k: t[k] for k in ("target_return", *SUMMARY)}
                            for t in result["targets"]],
                "loss": loss,
            }
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return numbers


def differences(old: dict[str, Any], new: dict[str, Any], rtol: float) -> list[str]:
    """One line per number that moved (beyond `rtol`; 0: any change), old and new value."""
    lines = []
    for run in sorted(set(old) | set(new)):
        if run not in old or run not in new:
            lines.append(f"{run}: {'added' if run in new else 'removed'}")
            continue
        a, b = old[run], new[run]
        pairs = [(f"loss[{i}]", x, y) for i, (x, y) in enumerate(zip(a["loss"], b["loss"],
                                                                      strict=False))]
        if len(a["loss"]) != len(b["loss"]):
            lines.append(f"{run}: {len(a['loss'])} logged losses, now {len(b['loss'])}")
        for ta, tb in zip(a["targets"], b["targets"], strict=False):
            pairs += [(f"target {ta['target_return']} {k}", ta[k], tb[k]) for k in SUMMARY]
        if len(a["targets"]) != len(b["targets"]):
            lines.append(f"{run}: {len(a['targets'])} targets, now {len(b['targets'])}")
        for name, x, y in pairs:
            same = x == y if rtol == 0 else bool(np.isclose(x, y, rtol=rtol, atol=1e-9))
            if not same:
                lines.append(f"{run}: {name} was {x!r}, now {y!r}")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--update", action="store_true", help=f"rewrite {GOLDEN.name}")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as work:
        numbers = compute(Path(work))
    if a.update:
        GOLDEN.write_text(json.dumps({"machine": machine(), "runs": numbers}, indent=1) + "\n")
        print(f"wrote {GOLDEN}")
    else:
        old = json.loads(GOLDEN.read_text())["runs"]
        print("\n".join(differences(old, numbers, 0.0)) or "no number moved")


if __name__ == "__main__":
    main()

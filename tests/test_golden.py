"""The golden regression test: the small fixed grid of tests/golden.py must give the numbers
committed in tests/golden.json. Exactly, on the kind of CPU, torch build and thread count the
file was written on; elsewhere to a relative 1e-4 (floating-point sums round differently on
other CPUs, far below what any change of the training code moves). A change that is meant to
move numbers updates the file in the same commit: `python -m tests.golden --update`."""

from __future__ import annotations

import json

import pytest

from tests import golden


@pytest.fixture(scope="module")
def committed():
    return json.loads(golden.GOLDEN.read_text())


def _tolerance(committed) -> float:
    return 0.0 if committed["machine"] == golden.machine() else 1e-4


def test_the_golden_grid_gives_the_committed_numbers(tmp_path, committed):
    moved = golden.differences(committed["runs"], golden.compute(tmp_path),
                               _tolerance(committed))
    assert not moved, ("training or evaluation numbers moved (if meant, run `python -m "
                       "tests.golden --update` and regenerate the results it moves):\n"
                       + "\n".join(moved[:20]))


def test_a_changed_training_step_fails_the_golden_test(tmp_path, committed, monkeypatch):
    """The golden test can fail: one line of the training loop changed (the lr schedule's
    multiplier 1% lower) moves DT's logged losses, and the differences name them."""
    import dtbench.training.optim

    real = dtbench.training.optim.lr_multiplier
    monkeypatch.setattr(dtbench.training.optim, "lr_multiplier",
                        lambda step, cfg, tokens: 0.99 * real(step, cfg, tokens))
    monkeypatch.setattr(golden, "RUNS", golden.RUNS[:1])  # Key-to-Door DT only
    moved = golden.differences({k: v for k, v in committed["runs"].items()
                                if k.startswith("keydoor random-1k dt")},
                               golden.compute(tmp_path), _tolerance(committed))
    assert moved and all(line.startswith("keydoor random-1k dt dense: loss[") for line in moved)

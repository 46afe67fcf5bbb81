"""Which code made a run (`dtbench.runs.code`): a run records the fingerprint of the source
that determines its numbers; editing the training loop changes DT's fingerprint and not the
d3rlpy baselines', editing a report changes none, and `dtbench report` / `suite --stale` mark
the runs the edited code did not make."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dtbench import api
from dtbench.runs.code import fingerprint

ROOT = Path(__file__).resolve().parents[1]


def _copy_of_the_code(tmp_path: Path) -> Path:
    copy = tmp_path / "checkout"
    for package in ("dtbench", "baselines"):
        shutil.copytree(ROOT / package, copy / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _in(copy: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True,
                          text=True, timeout=300)


def _fingerprints(copy: Path) -> dict[str, str]:
    out = _in(copy, "-c", "import json; from dtbench.runs.code import fingerprint; "
              "print(json.dumps({a: fingerprint(a, 'keydoor') for a in ('dt', 'cql', "
              "'random')}))")
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_training_loop_edit_changes_dts_fingerprint_only(tmp_path):
    copy = _copy_of_the_code(tmp_path)
    before = _fingerprints(copy)
    assert before == {a: fingerprint(a, "keydoor") for a in before}  # the copy is this code
    _edit(copy / "dtbench" / "report" / "keydoor.py", '"""Key-to-Door table', '"""The table')
    assert _fingerprints(copy) == before  # a report never moves a number
    loop = copy / "dtbench" / "training" / "loop.py"
    # a comment, a docstring and the layout of a line change no number
    _edit(loop, "        scheduler.step()\n", "        scheduler.step(  )  # a comment\n")
    _edit(loop, '"""The one training loop', '"""The single training loop')
    assert _fingerprints(copy) == before
    _edit(loop, "        scheduler.step(  )  # a comment\n",
          "        scheduler.step()\n        scheduler.step()\n")  # code: the lr moves faster
    after = _fingerprints(copy)
    assert after["dt"] != before["dt"]
    assert after["cql"] == before["cql"] and after["random"] == before["random"]


def test_a_data_makers_edit_changes_no_fingerprint_its_data_digest_does_the_work(tmp_path):
    """A domain's `generate` module makes data that runs know by its digest, so editing the
    recipe leaves every fingerprint of the domain as it was (the runs on data it remakes go
    stale through their data identity); the modules a run executes still count."""
    copy = _copy_of_the_code(tmp_path)
    probe = ("import json; from dtbench.runs.code import fingerprint; "
             "print(json.dumps({a: fingerprint(a, 'mujoco') for a in ('dt', 'cql')}))")

    def mujoco_fingerprints() -> dict[str, str]:
        out = _in(copy, "-c", probe)
        assert out.returncode == 0, out.stderr[-2000:]
        return json.loads(out.stdout.strip().splitlines()[-1])

    before = mujoco_fingerprints()
    assert before == {a: fingerprint(a, "mujoco") for a in before}
    _edit(copy / "dtbench" / "domains" / "mujoco" / "generate.py",
          "sac_steps=30_000", "sac_steps=40_000")
    assert mujoco_fingerprints() == before
    _edit(copy / "dtbench" / "domains" / "mujoco" / "__init__.py",
          "from __future__ import annotations\n", "from __future__ import annotations\nX = 1\n")
    after = mujoco_fingerprints()
    assert after["dt"] != before["dt"] and after["cql"] != before["cql"]


def test_the_code_text_keeps_code_and_drops_comments_docstrings_and_layout():
    from dtbench.runs.code import code_text

    base = code_text(b'"""Module."""\ndef f(x):\n    """Doc."""\n    return x + 1\n')
    assert code_text(b"def f(x):  # why\n    return (x +\n            1)\n") == base
    assert code_text(b"def f(x):\n    return x + 2\n") != base
    field = code_text(b"class A:\n    x: int = 1  # why\n")
    assert code_text(b'class A:\n    x: int = 1\n    """Why."""\n') == field  # attribute doc
    assert code_text(b"def f(x):\n    return 'x + 1'\n") != base  # a string that is code


def test_runs_made_by_other_code_are_marked_and_listed(tmp_path):
    """Runs record their fingerprint and commit; after an edit of the training loop, the
    report marks DT's cell (not the baselines') and `suite --stale` lists DT's run only."""
    results = tmp_path / "results"
    from dtbench.runs import make_datasets

    make_datasets("keydoor", ["random-1k"], budget="smoke")
    for algo in ("dt", "random"):
        api.train("keydoor", ["random-1k"], algos=[algo], profile="smoke",
                  results_root=results, echo=lambda line: None, stack_seeds=False)
    folder = results / "runs/keydoor/keydoor/random-1k/dense"
    config = json.loads(next(folder.glob("dt/smoke/seed0/config.json")).read_text())
    assert config["code"]["fingerprint"] == fingerprint("dt", "keydoor")
    assert set(config["code"]) == {"fingerprint", "commit", "dirty"}
    api.report(["keydoor"], "smoke", results)
    assert "†" not in (results / "keydoor.md").read_text()
    import pandas as pd

    assert pd.read_csv(results / "runs.csv")["code_current"].all()

    copy = _copy_of_the_code(tmp_path)
    _edit(copy / "dtbench" / "training" / "loop.py", "        scheduler.step()\n",
          "        scheduler.step()\n        scheduler.step()\n")
    out = _in(copy, "-m", "dtbench", "report", "keydoor", "-p", "smoke", "--results",
              str(results))
    assert out.returncode == 0, out.stderr[-2000:]
    table = (results / "keydoor.md").read_text()
    row = next(line for line in table.splitlines() if line.startswith("| 1K"))
    cells = row.split(" | ")
    assert "†" in cells[1]  # DT (ours)
    assert "†" not in cells[5]  # Random (ours)
    assert "other training code or settings than the current" in table
    runs = pd.read_csv(results / "runs.csv")
    assert dict(zip(runs["algo"], runs["code_current"], strict=True)) == {"dt": False,
                                                                           "random": True}
    out = _in(copy, "-m", "dtbench", "suite", "keydoor", "-p", "smoke", "-d", "random-1k",
              "-s", "0", "--results", str(results), "--stale")
    assert out.returncode == 0, out.stderr[-2000:]
    stale = [line for line in out.stdout.splitlines() if line.startswith("stale: code")]
    assert len(stale) == 1 and " dt seed=0" in stale[0]


def test_a_profile_value_is_compared_by_value_so_the_probes_that_chose_it_stay_current(
        tmp_path):
    """Adopting a tuned lr in a domain's profiles module changes no fingerprint; it makes stale
    the runs whose resolved settings it changes (DT at the profile's lr), not a probe that set
    the lr itself, nor a baseline (whose settings are its own section)."""
    results = tmp_path / "results"
    from dtbench.runs import make_datasets

    make_datasets("keydoor", ["random-1k"], budget="smoke")
    quiet = {"profile": "smoke", "results_root": results, "echo": lambda line: None}
    api.train("keydoor", ["random-1k"], algos=["dt", "random"], stack_seeds=False, **quiet)
    api.train("keydoor", ["random-1k"], algos=["dt"], overrides={"train.lr": 2e-3},
              stack_seeds=False, **quiet)
    copy = _copy_of_the_code(tmp_path)
    before = _fingerprints(copy)
    _edit(copy / "dtbench" / "domains" / "keydoor" / "profiles.py",
          '"train.steps": 4, "train.batch_size": 4, "train.lr": 1e-3,',
          '"train.steps": 4, "train.batch_size": 4, "train.lr": 2e-3,')
    assert _fingerprints(copy) == before
    out = _in(copy, "-m", "dtbench", "suite", "keydoor", "-p", "smoke", "-d", "random-1k",
              "-a", "dt", "-a", "random", "-s", "0", "--results", str(results), "--stale")
    assert out.returncode == 0, out.stderr[-2000:]
    stale = [line for line in out.stdout.splitlines() if line.startswith("stale:")]
    assert len(stale) == 1 and "settings changed" in stale[0] and "train.lr" in stale[0]
    assert " dt seed=0" in stale[0] and "@" not in stale[0].split("(")[0]
    out = _in(copy, "-m", "dtbench", "report", "keydoor", "-p", "smoke", "--results",
              str(results))
    assert out.returncode == 0, out.stderr[-2000:]
    import pandas as pd

    runs = pd.read_csv(results / "runs.csv")
    current = {(a, o if isinstance(o, str) else ""): c for a, o, c in
               zip(runs["algo"], runs["overrides"], runs["code_current"], strict=True)}
    assert current == {("dt", ""): False, ("dt", "train.lr=0.002"): True, ("random", ""): True}


def test_rerun_stale_remakes_missing_data_for_the_runs_it_reruns(tmp_path):
    """A finished run other code made (here: one that recorded another fingerprint) is run again
    with --rerun-stale, and the data it needs is made first even though no run was unfinished
    when the suite planned (the old folder is kept under stale/)."""
    import shutil

    from dtbench.data import minari_io
    from dtbench.suite import Choice

    results = tmp_path / "results"
    choice = Choice(algos=("random",), seeds=(0,))
    said = []
    api.suite(["keydoor"], "smoke", choice, results, echo=said.append)
    (result_path,) = results.glob("runs/**/result.json")
    result = json.loads(result_path.read_text())
    result["code_fingerprint"] = "0" * 16  # as a run made by other code
    result_path.write_text(json.dumps(result))
    shutil.rmtree(minari_io.dataset_dir("dtbench/keydoor/random-1k-v1"))
    said.clear()
    api.suite(["keydoor"], "smoke", choice, results, echo=said.append)
    assert any("made by other code" in line for line in said)  # counted, kept finished
    said.clear()
    assert api.suite(["keydoor"], "smoke", choice, results, rerun_stale=True,
                     echo=said.append) == 1
    assert any(line.startswith("making missing data") for line in said)
    assert json.loads(result_path.read_text())["code_fingerprint"] == fingerprint("random",
                                                                                 "keydoor")
    assert list((results / "stale").glob("*/runs/**/result.json"))


def test_compare_says_bit_identical_consistent_or_differs(tmp_path):
    """`dtbench compare`: the same runs trained twice are bit-identical; other seeds are judged
    against every reference seed of the cell by a t-test (Holm-corrected): within the
    reference's spread they are consistent, far outside it they differ; comparing a folder
    with itself is refused."""
    import shutil

    from dtbench.runs.compare import comparison_lines
    from dtbench.suite import Choice

    choice = Choice(algos=("dt", "random"), seeds=(0,))
    for name in ("mine", "reference"):
        api.suite(["keydoor"], "smoke", choice, tmp_path / name, echo=lambda line: None)
    rows = api.compare(["keydoor"], "smoke", choice, tmp_path / "mine", tmp_path / "reference")
    assert [r.verdict for r in rows] == ["bit-identical", "bit-identical"]
    assert all(r.identities_match for r in rows)  # the same machine and settings

    def seeds(root, scores):
        """The random cell's runs at these headline scores, one seed each."""
        (template,) = (root / "runs").glob("**/random/smoke/seed0")
        for seed, score in enumerate(scores):
            folder = template.parent / f"seed{seed}"
            if folder != template:
                shutil.copytree(template, folder, dirs_exist_ok=True)
            result = json.loads((folder / "result.json").read_text())
            result["spec"]["seed"] = seed
            result["targets"][0]["score_mean"] = score
            (folder / "result.json").write_text(json.dumps(result))

    seeds(tmp_path / "reference", [4.0, 6.0, 5.0, 3.0, 7.0])
    cells = Choice(algos=("random",), seeds=(0, 1))
    for scores, verdict in (([5.5, 4.0], "consistent"), ([40.0, 41.0], "differs")):
        seeds(tmp_path / "mine", scores)
        (row,) = api.compare(["keydoor"], "smoke", cells, tmp_path / "mine",
                             tmp_path / "reference")
        assert (row.verdict, row.seeds, row.reference_seeds) == (verdict, 2, 5), row
        assert row.reference == 5.0 and "Holm p = " in row.detail
    lines = "\n".join(comparison_lines([row], tmp_path / "mine", tmp_path / "reference"))
    assert "1 cells: 0 bit-identical, 0 consistent, 1 differs" in lines and "t-test" in lines
    assert not row.other_data
    for folder in (tmp_path / "mine" / "runs").glob("**/random/smoke/seed*"):  # regenerated data
        result = json.loads((folder / "result.json").read_text())
        (folder / "result.json").write_text(json.dumps({**result, "data_digest": "0" * 16}))
    (row,) = api.compare(["keydoor"], "smoke", cells, tmp_path / "mine", tmp_path / "reference")
    assert row.other_data and "your data is not the reference's" in row.detail
    out = _in(ROOT, "-m", "dtbench", "compare", "keydoor", "-p", "smoke", "--results",
              str(tmp_path / "mine"), "--reference", str(tmp_path / "mine"))
    assert out.returncode == 2 and "both" in out.stderr and "Traceback" not in out.stderr

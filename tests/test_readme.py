"""No number in README.md or results/README.md is copied by hand: their headline blocks are
what the committed tables give now, every number and verdict in them is its table's (and a
changed table makes these tests fail), the hand-written text around them quotes no result, and
every table's caption opens with at most three sentences before its Settings footnote."""

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from dtbench.report import mujoco_bench, readme
from dtbench.report.build import TABLES
from dtbench.report.cells import PIPELINE_CHECKS
from dtbench.report.collected import Collected
from dtbench.report.graph import ALGOS as GRAPH_ALGOS
from dtbench.report.keydoor import OUR_ALGOS as KEYDOOR_ALGOS
from dtbench.report.table import sentences
from dtbench.runtime import PROJECT_ROOT, REFERENCE_DIR

# each README with its headline block, and the folder prefix of the block's links
READMES = ((PROJECT_ROOT / "README.md", "results/"), (REFERENCE_DIR / "README.md", ""))
DECIMAL = re.compile(r"-?\d+\.\d+")
SOURCES = ("keydoor.md", "graph.md", "graph-stitch.md", "claims.md", "mujoco-bench.md")
REGENERATE = "stale: run `dtbench report --results results` (README.md's block is rewritten)"


def _block(path: Path) -> str:
    block = readme.between(path.read_text(), readme.HEADLINE)
    assert block is not None, f"{path} has no headline block"
    return block


@pytest.mark.parametrize("path, link", READMES, ids=lambda v: str(v))
def test_each_readmes_headline_is_what_the_committed_tables_give_now(path, link):
    assert _block(path) == readme.headline(REFERENCE_DIR, link), REGENERATE


def _source_cell(root: Path, link_target: str, label: str, column: int) -> str:
    """The table cell a headline cell quotes, found by the row's link and label and the
    column's algorithm: Key-to-Door's '(ours)' column of the dataset's row, a graph table's
    goal-reached column of the method's row."""
    algo = readme.COLUMNS[column][0]
    header, rows = readme.read_table(root / link_target)
    if link_target == "keydoor.md":
        row = next(r for r in rows if f", {r[0]}:" in label)
        return row[header.index(f"{dict(KEYDOOR_ALGOS)[algo]} (ours)")]
    row = next(r for r in rows if r[0] == dict(GRAPH_ALGOS)[algo])
    return row[header.index(readme.GOAL)]


def _cell_mismatches(block: str, root: Path) -> list[str]:
    """Headline cells whose numbers are not their table cell's (the mean and the interval,
    without the sample std), and seed counts the block states that the cells do not have."""
    wrong, seeds = [], set()
    for line in block.splitlines():
        if not line.startswith("| ["):
            continue
        label, *cells = [c.strip() for c in line.strip().strip("|").split("|")]
        target = re.search(r"\]\(([^)]*)\)", label)[1].split("/")[-1]
        if target == "mujoco-bench.md":
            wrong += _tier_mismatches(root, label, cells)
            continue
        for column, cell in enumerate(cells):
            source = _source_cell(root, target, label, column)
            numbers = DECIMAL.findall(source)
            expected = [numbers[0], *numbers[2:]] if " ± " in source else numbers
            if DECIMAL.findall(cell) != expected:
                wrong.append(f"{label} / {readme.COLUMNS[column][1]}: {cell} vs {source}")
            seeds.update(int(n) for n in re.findall(r"\(n=(\d+)\)", source))
    stated = re.search(r"\(n = (\d+)(?: to (\d+))? seeds per cell\)", block)
    if seeds and (stated is None or {int(stated[1]), int(stated[2] or stated[1])}
                  != {min(seeds), max(seeds)}):
        wrong.append(f"seeds per cell: the cells have {sorted(seeds)}")
    return wrong


def _tier_mismatches(root: Path, label: str, cells: list[str]) -> list[str]:
    """Headline cells of the MuJoCo tier whose numbers (mean, interval, n) or data scores are
    not its table's row of that dataset and method."""
    header, rows = readme.read_table(root / "mujoco-bench.md")
    name = re.match(r"\[([^\]]+)\]", label)[1]
    group, finals, data = None, {}, None
    for row in rows:
        group = row[0] or group
        if group == name:
            finals[row[2]] = row[header.index("Final (headline)")]
            data = row[1] or data
    wrong = [] if cells[-1] == data else [f"{name} data: {cells[-1]} vs {data}"]
    for method, cell in zip(readme.tier_methods(), cells, strict=False):
        source = finals.get(method, "not run")
        numbers = DECIMAL.findall(source)
        expected = [numbers[0], *numbers[2:]] if " ± " in source else numbers
        n_of = [re.findall(r"\(n=(\d+)\)", c) for c in (cell, source)]
        if DECIMAL.findall(cell) != expected or n_of[0] != n_of[1]:
            wrong.append(f"{name} / {method}: {cell} vs {source}")
    return wrong


def _claim_mismatches(block: str, root: Path) -> list[str]:
    """Claim lines whose verdicts are not claims.md's for that cell, dataset, rewards and
    method."""
    header, rows = readme.read_table(root / "claims.md")
    verdict_of = {tuple(r[header.index(k)] for k in ("Cell", "Dataset", "Rewards", "Versus")):
                  r[header.index("Verdict")] for r in rows}
    words = {said: start for start, said in readme.VERDICTS}
    wrong, quoted = [], set()
    for line in block.splitlines():
        match = re.match(r"^- (?P<cell>.+), (?P<data>[\w-]+)(?: \((?P<rewards>\w+) rewards\))?"
                         r": DT (?P<parts>.+)\.$", line)
        if match is None:
            continue
        for part in match["parts"].split("; "):
            said = next(w for w in words if part.startswith(w + " "))
            for versus in part.removeprefix(said + " ").split(", "):
                key = (match["cell"], match["data"], match["rewards"] or "dense", versus)
                quoted.add(key)
                if key not in verdict_of or not verdict_of[key].startswith(words[said]) or (
                        not words[said] and verdict_of[key].startswith(("DT ", "not resolved"))):
                    wrong.append(f"{key}: '{said}' vs {verdict_of.get(key)!r}")
    wrong += [f"{key}: not quoted" for key in set(verdict_of) - quoted]
    return wrong


def test_every_number_and_verdict_in_the_headline_is_its_tables():
    block = _block(PROJECT_ROOT / "README.md")
    assert _cell_mismatches(block, REFERENCE_DIR) == []
    assert _claim_mismatches(block, REFERENCE_DIR) == []


def _altered(line_start: str, old: str, new: str, path: Path) -> None:
    lines = path.read_text().splitlines(keepends=True)
    i = next(i for i, line in enumerate(lines) if line.startswith(line_start) and old in line)
    lines[i] = lines[i].replace(old, new, 1)
    path.write_text("".join(lines))


def test_a_changed_table_number_or_verdict_fails_the_checks(tmp_path):
    """The checks above can fail: a copy of the tables with one DT mean moved, or one verdict
    turned, no longer agrees with README.md's block."""
    block = _block(PROJECT_ROOT / "README.md")
    for name in SOURCES:
        shutil.copy(REFERENCE_DIR / name, tmp_path / name)
    assert _cell_mismatches(block, tmp_path) == []
    header, rows = readme.read_table(tmp_path / "keydoor.md")
    dt = rows[0][header.index("DT (ours)")]
    mean = DECIMAL.findall(dt)[0]
    _altered(f"| {rows[0][0]} |", f"| {mean} ", f"| {float(mean) + 1:.1f} ",
             tmp_path / "keydoor.md")
    assert _cell_mismatches(block, tmp_path), "a moved mean went unnoticed"
    assert readme.headline(tmp_path, "results/") != block
    _altered("| keydoor/keydoor |", "| DT higher |", "| not resolved |", tmp_path / "claims.md")
    assert _claim_mismatches(block, tmp_path), "a turned verdict went unnoticed"


def test_the_mujoco_tier_enters_the_headline_once_its_table_has_runs(tmp_path):
    """Without tier runs the headline has no tier block; with some, each tier cell is its
    table's (mean, interval, n; the data's scores), and a moved number is caught."""
    for name in SOURCES:
        shutil.copy(REFERENCE_DIR / name, tmp_path / name)
    # the tier's table as the report writes it before any run, whatever the reference holds
    no_runs = Collected.of_table(pd.DataFrame(), "paper", tmp_path)
    empty = mujoco_bench.tier_table(no_runs).markdown()
    (tmp_path / "mujoco-bench.md").write_text(empty)
    assert "MuJoCo benchmark tier" not in readme.headline(tmp_path, "results/")
    text = empty.replace(
        "| hopper medium-replay | - | DT | not run |",
        "| hopper medium-replay | 13.4 / 93.6 | DT | 40.8 ± 0.8 [39.1, 42.5] (n=5) |", 1)
    (tmp_path / "mujoco-bench.md").write_text(text)
    block = readme.headline(tmp_path, "results/")
    row = next(line for line in block.splitlines() if line.startswith("| [hopper medium-replay]"))
    assert row == ("| [hopper medium-replay](results/mujoco-bench.md) | 40.8 [39.1, 42.5] (n=5) | "
                   "not run | not run | not run | not run | 13.4 / 93.6 |")
    assert _cell_mismatches(block, tmp_path) == []
    _altered("| hopper medium-replay |", "40.8 ±", "41.8 ±", tmp_path / "mujoco-bench.md")
    assert _cell_mismatches(block, tmp_path), "a moved tier mean went unnoticed"


def _hand_written(path: Path) -> str:
    """README.md without its generated block; results/README.md's hand-written notes."""
    text = path.read_text()
    if path.parent == REFERENCE_DIR:
        return readme.between(text, readme.NOTES) or ""
    return text.replace(_block(path), "")


@pytest.mark.parametrize("path", [p for p, _ in READMES], ids=str)
def test_hand_written_text_quotes_no_result(path):
    """A score is printed with a decimal; the hand-written text has none (a version like
    2.8.1 is no score), so it cannot quote one that a rerun would change."""
    found = re.findall(r"(?<![\w.])\d+\.\d+(?![\w.])", _hand_written(path))
    assert found == [], f"{path}: {found}; link to the table or put it in the headline"


def test_the_readme_names_the_pipeline_checks_the_report_marks():
    """README.md's 'Pipeline checks' bullet names exactly the domains that are pipeline checks
    at profile quick (`cells.PIPELINE_CHECKS`, which the tables' titles follow)."""
    names = {"keydoor": "Key-to-Door", "graph": "graph", "mujoco": "MuJoCo", "atari": "Atari"}
    text = (PROJECT_ROOT / "README.md").read_text()
    bullet = text.split("- **Pipeline checks**")[1].split("\n- **")[0]
    named = {d for d, name in names.items() if name in bullet.split("At that budget")[0]}
    assert named == set(PIPELINE_CHECKS["quick"])


def test_sentences_are_counted_at_a_stop_before_a_capital():
    assert sentences("One. Two, e.g. `make`. Three (Chen et al. 2021, d3rlpy 2.8.1).") == 3
    assert sentences("Pipeline check: no claim. 'Data used' says which data") == 2
    assert sentences("") == 0


def _paragraphs(path: Path) -> list[str]:
    return path.read_text().split("\n\n")


@pytest.mark.parametrize("name", TABLES)
def test_each_committed_tables_caption_opens_with_at_most_three_sentences(name):
    """The paragraph after the title, before the table, is the opening: one to three
    sentences; the first paragraph after the table is the Settings footnote."""
    title, opening, table, after, *_ = _paragraphs(REFERENCE_DIR / f"{name}.md")
    assert title.startswith("# ") and table.startswith("|"), name
    assert 1 <= sentences(opening) <= 3, opening
    assert after.startswith("Settings"), after[:80]


@pytest.mark.parametrize("profile", ["quick", "paper"])
def test_every_tables_caption_has_that_shape_without_runs(profile, tmp_path):
    collected = Collected.of_table(pd.DataFrame(), profile, tmp_path)
    for name, build in TABLES.items():
        table = build(collected)
        assert 1 <= sentences(table.caption) <= 3, (name, table.caption)
        paragraphs = table.settings.split("\n")
        assert paragraphs and all(p.startswith("Settings") for p in paragraphs), name
        assert table.full_caption().startswith(f"{table.caption} Settings"), name

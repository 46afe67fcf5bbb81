"""The layers of pyproject.toml's import-linter contract hold, and no import cycle is left."""

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import networkx as nx

ROOT = Path(__file__).resolve().parent.parent


def _import_graph() -> nx.DiGraph:
    graph = grimp.build_graph("dtbench", "baselines")
    return nx.DiGraph([(m, n) for m in graph.modules
                       for n in graph.find_modules_directly_imported_by(m)])


def test_no_import_cycle_among_dtbench_modules():
    cycles = [sorted(c) for c in nx.strongly_connected_components(_import_graph()) if len(c) > 1]
    assert cycles == []


def test_the_registry_and_the_contract_import_no_plugin():
    graph = _import_graph()
    below = nx.descendants(graph, "dtbench.registry") | nx.descendants(graph, "dtbench.contract")
    plugins = {m for m in graph if m.startswith(("dtbench.domains", "dtbench.algos",
                                                 "baselines", "dtbench.runs"))}
    assert below & plugins == set()


def test_the_layers_contract_passes_and_catches_an_upward_import(tmp_path):
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    out = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and "1 kept, 0 broken" in out.stdout, out.stdout
    # the same contract over a copy whose registry imports the runs: broken
    shutil.copytree(ROOT / "dtbench", tmp_path / "dtbench")
    shutil.copytree(ROOT / "baselines", tmp_path / "baselines")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    registry = tmp_path / "dtbench" / "registry.py"
    registry.write_text(registry.read_text() + "\nfrom dtbench.runs import run  # noqa\n")
    out = subprocess.run([lint], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 1 and "dtbench.registry -> dtbench.runs" in out.stdout, out.stdout

"""A package outside the repository that registers a baseline through the `dtbench.plugins`
entry-point group appears in `dtbench list` and runs, with no edit to dtbench."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

PLUGIN = '''
"""A third-party baseline: d3rlpy's BC under another name."""


def bc_config(cfg, parts):
    import d3rlpy

    return d3rlpy.algos.DiscreteBCConfig(
        batch_size=cfg.batch_size, learning_rate=cfg.lr,
        encoder_factory=parts["encoder_factory"], observation_scaler=parts["observation_scaler"])


def register():
    from baselines import register_d3rlpy

    register_d3rlpy("bc-plugin", discrete=bc_config, description="BC from a plug-in package")
'''

PYPROJECT = '''
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "dtbench-test-plugin"
version = "0.0.1"

[project.entry-points."dtbench.plugins"]
bc-plugin = "dtbench_test_plugin:register"
'''


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory):
    """The plug-in package built and installed (pip, no network) into a folder of its own."""
    root = tmp_path_factory.mktemp("plugin")
    source, site = root / "src", root / "site"
    source.mkdir()
    (source / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (source / "dtbench_test_plugin.py").write_text(textwrap.dedent(PLUGIN))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--no-build-isolation", "--target", str(site), str(source)], check=True)
    return site


def _dtbench(*args, site, minari):
    env = {**os.environ, "PYTHONPATH": str(site), "MINARI_DATASETS_PATH": str(minari)}
    return subprocess.run([sys.executable, "-m", "dtbench", *args], capture_output=True,
                          text=True, env=env, timeout=300)


@pytest.mark.slow
def test_an_installed_plugin_baseline_is_listed_and_runs(installed_plugin, isolated_minari,
                                                         tmp_path):
    out = _dtbench("list", site=installed_plugin, minari=isolated_minari)
    assert out.returncode == 0, out.stderr
    assert "  bc-plugin: BC from a plug-in package [discrete]" in out.stdout.splitlines()
    # and it is not there without the package
    plain = _dtbench("list", site=tmp_path, minari=isolated_minari)
    assert "bc-plugin" not in plain.stdout
    assert _dtbench("data", "make", "keydoor", "-d", "random-1k", site=installed_plugin,
                    minari=isolated_minari).returncode == 0
    out = _dtbench("train", "keydoor", "-d", "random-1k", "-a", "bc-plugin", "-p", "smoke",
                   "--results", str(tmp_path / "results"), site=installed_plugin,
                   minari=isolated_minari)
    assert out.returncode == 0, out.stderr
    folder = tmp_path / "results/runs/keydoor/keydoor/random-1k/dense/bc-plugin/smoke/seed0"
    result = json.loads((folder / "result.json").read_text())
    assert result["spec"]["algo"] == "bc-plugin" and result["targets"][0]["episodes"] == 4
    assert (folder / "metrics.csv").read_text().startswith("step,")  # it trained


def test_a_broken_plugin_is_one_line_naming_it(installed_plugin, isolated_minari, tmp_path):
    broken = tmp_path / "site"
    subprocess.run(["cp", "-r", str(installed_plugin), str(broken)], check=True)
    (broken / "dtbench_test_plugin.py").write_text("def register():\n    raise RuntimeError('x')\n")
    out = _dtbench("list", site=broken, minari=isolated_minari)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [
        "dtbench: error: plug-in 'bc-plugin' (dtbench_test_plugin:register) failed to load: "
        "RuntimeError: x; fix or uninstall dtbench-test-plugin"]

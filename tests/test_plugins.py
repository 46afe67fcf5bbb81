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
        batch_size=cfg.batch_size, learning_rate=cfg.bc_lr,
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
    path = os.pathsep.join(filter(None, (str(site), os.environ.get("PYTHONPATH"))))
    env = {**os.environ, "PYTHONPATH": path, "MINARI_DATASETS_PATH": str(minari)}
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


# libraries that registering a domain or an algorithm must not import (the runs import them)
HEAVY = ("torch", "transformers", "d3rlpy", "ray", "ale_py", "minari", "h5py", "cv2")


def _fresh(code: str) -> subprocess.CompletedProcess:
    """`code` run by a fresh interpreter, which has called no `plugins.load()`."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)


def test_the_registry_registers_the_built_ins_on_its_first_lookup():
    out = _fresh(f"""
        import sys
        from dtbench import registry

        domain, task = registry.resolve("mujoco/hopper")
        print(domain.name, task.env_id, registry.get_algo("dt").name,
              registry.get_domain("keydoor").name)
        print(sorted(m for m in {HEAVY!r} if m in sys.modules))
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["mujoco Hopper-v5 dt keydoor", "[]"]


def test_an_unknown_name_lists_the_registered_ones_without_set_up():
    out = _fresh("""
        from dtbench.registry import get_algo, get_domain
        from dtbench.errors import DTBenchError

        for lookup in (get_domain, get_algo):
            try:
                lookup("nosuch")
            except DTBenchError as exc:
                print(exc)
    """)
    assert out.returncode == 0, out.stderr
    domains, algos = out.stdout.splitlines()
    assert domains == "unknown domain 'nosuch'; known: atari, graph, keydoor, mujoco"
    assert algos.startswith("unknown algorithm 'nosuch'; known: bc, bc-paper, bc10")
    assert "(none)" not in out.stdout


def test_dt_names_the_files_training_writes():
    from dtbench import training
    from dtbench.algos import dt

    assert (dt.CHECKPOINT, dt.METRICS) == (training.CHECKPOINT, training.METRICS)

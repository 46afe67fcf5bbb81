"""The CLI: one clear line and exit code 2 for bad input; list and a smoke run work."""

import subprocess
import sys


def _dtbench(*args, env_dir):
    import os

    env = {**os.environ, "MINARI_DATASETS_PATH": str(env_dir)}
    return subprocess.run([sys.executable, "-m", "dtbench", *args], capture_output=True,
                          text=True, env=env, timeout=300)


def test_list_shows_domains_datasets_algorithms(isolated_minari):
    out = _dtbench("list", env_dir=isolated_minari)
    assert out.returncode == 0
    assert "keydoor/keydoor" in out.stdout and "random-10k" in out.stdout
    assert "dt:" in out.stdout and "random:" in out.stdout


def test_bad_input_is_one_line_and_exit_2(isolated_minari, tmp_path):
    cases = [
        (("train", "nodomain", "-d", "x"),
         "unknown domain 'nodomain'; known: atari, graph, keydoor, mujoco"),
        (("train", "keydoor", "-d", "nope"), "unknown dataset"),
        (("train", "keydoor", "-d", "random-1k", "-a", "zzz"), "unknown algorithm 'zzz'"),
        (("train", "keydoor", "-d", "random-1k", "--results", str(tmp_path)),
         "dtbench data make keydoor"),
        (("train", "keydoor", "-d", "random-1k", "--set", "train.nope=1"), "unknown setting"),
        (("eval", "keydoor", "-d", "random-1k", "--set", "train.steps=3"),
         "dtbench eval changes only how a run is evaluated"),
    ]
    for args, message in cases:
        out = _dtbench(*args, env_dir=isolated_minari)
        assert out.returncode == 2, (args, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, out.stderr)


def test_make_data_then_smoke_train_and_report(isolated_minari, tmp_path):
    assert _dtbench("data", "make", "keydoor", "-d", "random-1k",
                    env_dir=isolated_minari).returncode == 0
    out = _dtbench("train", "keydoor", "-d", "random-1k", "-p", "smoke", "-s", "0",
                   "--results", str(tmp_path), env_dir=isolated_minari)
    assert out.returncode == 0, out.stderr
    assert "success rate (%)" in out.stdout and (tmp_path / "runs.csv").exists()
    out = _dtbench("report", "keydoor", "-p", "smoke", "--results", str(tmp_path),
                   env_dir=isolated_minari)
    assert out.returncode == 0 and "71.8" in out.stdout and "(n=1)" in out.stdout

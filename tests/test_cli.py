"""The CLI: one clear line and exit code 2 for bad input; list and a smoke run work."""

import subprocess
import sys
import textwrap

import pytest

from dtbench.cli import main

COMMANDS = [("train",), ("eval",), ("suite",), ("critic",), ("list",), ("report",),
            ("data", "make"), ("data", "pick"), ("data", "info")]


def _dtbench(*args, env_dir):
    import os

    env = {**os.environ, "MINARI_DATASETS_PATH": str(env_dir)}
    return subprocess.run([sys.executable, "-m", "dtbench", *args], capture_output=True,
                          text=True, env=env, timeout=300)


def _in_process(args, capsys, monkeypatch):
    """(exit code, stderr lines) of `dtbench *args`, run in this process (fast)."""
    monkeypatch.setattr(sys, "argv", ["dtbench", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    return exit_.value.code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("args", [
    ("--help",), ("list",), ("list", "--settings"), ("train", "--no-such-option"),
    ("train", "keydoor", "-d", "random-1k", "--set", "train.lrr=1"),
    ("train", "keydoor", "-d", "random-1k", "-p", "smoke", "--set", "train.batch_size=0"),
    ("suite", "keydoor", "--set", "model.context_len=x"),
], ids=" ".join)
def test_help_list_and_usage_errors_import_no_heavy_library(args):
    """What `dtbench --help`, `list` and a usage or settings error import (not how long they
    take): none of the libraries that only training, evaluating or reporting needs."""
    code = textwrap.dedent(f"""
        import sys
        from dtbench.cli import main

        sys.argv = ["dtbench", *{args!r}]
        try:
            main()
        except SystemExit as exc:
            code = exc.code
        heavy = ("torch", "transformers", "d3rlpy", "ray", "pandas", "matplotlib", "minari")
        print("exit", code, "heavy", sorted(m for m in heavy if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    last = out.stdout.strip().splitlines()[-1]
    assert last == f"exit {0 if args[0] in ('--help', 'list') else 2} heavy []", out.stderr


def test_list_shows_domains_datasets_algorithms(isolated_minari):
    out = _dtbench("list", env_dir=isolated_minari)
    assert out.returncode == 0
    assert "keydoor/keydoor" in out.stdout and "random-10k" in out.stdout
    assert "dt:" in out.stdout and "random:" in out.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_usage_error_is_one_line_and_the_usage(command, capsys, monkeypatch):
    code, lines = _in_process([*command, "--no-such-option"], capsys, monkeypatch)
    assert code == 2 and len(lines) == 2, lines
    assert lines[0] == "dtbench: error: No such option: --no-such-option"
    assert lines[1].startswith(f"Usage: dtbench {' '.join(command)} [OPTIONS]")


@pytest.mark.parametrize("args, message", [
    (("train", "--task", "x"), "No such option: --task"),
    (("train", "keydoor"), "Missing option '--dataset' / '-d'."),
    (("suite",), "Missing argument"),
    (("critic", "--seed", "x"), "Invalid value for '--seed'"),
    (("nosuch",), "No such command 'nosuch'."),
], ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_missing_and_malformed_arguments_are_usage_errors(args, message, capsys, monkeypatch):
    code, lines = _in_process(list(args), capsys, monkeypatch)
    assert code == 2 and len(lines) == 2 and message in lines[0], lines


@pytest.mark.parametrize("setting, message", [
    ("eval.greedy=ture", "setting eval.greedy=ture: expected true or false"),
    ("train.schedule=cosin", "setting train.schedule=cosin: expected one of constant, cosine"),
    ("train.steps=2.5", "setting train.steps=2.5: expected a whole number"),
    ("train.lr=abc", "setting train.lr=abc: expected a number"),
    ("eval.target_returns=a,b", "setting eval.target_returns=a,b: expected a number"),
    ("train.betas=0.9", "setting train.betas=0.9: expected 2 comma-separated values"),
    ("train.nope=1", "unknown setting 'train.nope'"),
    ("steps", "--set expects section.field=value"),
])
def test_bad_settings_are_one_line_naming_key_value_and_what_is_accepted(
        setting, message, capsys, monkeypatch, tmp_path):
    code, lines = _in_process(["train", "keydoor", "-d", "random-1k", "-p", "smoke", "--set",
                               setting, "--results", str(tmp_path)], capsys, monkeypatch)
    assert code == 2 and len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "runs").exists()  # nothing ran


def test_bad_input_is_one_line_and_exit_2(isolated_minari, tmp_path):
    cases = [
        (("train", "nodomain", "-d", "x"),
         "unknown domain 'nodomain'; known: atari, graph, keydoor, mujoco"),
        (("train", "keydoor", "-d", "nope"), "unknown dataset"),
        (("train", "keydoor", "-d", "random-1k", "-a", "zzz"), "unknown algorithm 'zzz'"),
        (("train", "keydoor", "-d", "random-1k", "--results", str(tmp_path)),
         "dtbench data make keydoor"),
        (("eval", "keydoor", "-d", "random-1k", "--set", "train.steps=3"),
         "dtbench eval changes only how a run is evaluated"),
        (("train", "keydoor", "--task", "x"), "No such option: --task"),
    ]
    for args, message in cases:
        out = _dtbench(*args, env_dir=isolated_minari)
        assert out.returncode == 2, (args, out.stderr)
        assert "Traceback" not in out.stderr
        lines = out.stderr.strip().splitlines()
        assert message in lines[0] and len(lines) <= 2, (args, out.stderr)


def test_make_data_then_smoke_train_and_report(isolated_minari, tmp_path):
    assert _dtbench("data", "make", "keydoor", "-d", "random-1k",
                    env_dir=isolated_minari).returncode == 0
    out = _dtbench("train", "keydoor", "-d", "random-1k", "-p", "smoke", "-s", "0",
                   "--results", str(tmp_path), env_dir=isolated_minari)
    assert out.returncode == 0, out.stderr
    printed = [line for line in out.stdout.splitlines() if "success rate (%)" in line]
    assert len(printed) == 1 and (tmp_path / "runs.csv").exists()
    result = (tmp_path / "runs/keydoor/keydoor/random-1k/dense/dt/smoke/seed0/result.json")
    import json

    score = json.loads(result.read_text())["targets"][0]["score_mean"]
    assert printed[0].endswith(f"success rate (%) {score:.1f} (return {score / 100:.2f}, "
                               "4 episodes)")
    out = _dtbench("report", "keydoor", "-p", "smoke", "--results", str(tmp_path),
                   env_dir=isolated_minari)
    # the DT cell of the 1K row holds this run's score, n=1
    row = next(line for line in out.stdout.splitlines() if line.startswith("| 1K"))
    assert out.returncode == 0 and f"{score:.1f} (n=1)" in row


HELP = [(), ("data",), *COMMANDS, ("tune",), ("compare",), ("promote",), ("data", "download")]


def _help_texts(command: tuple[str, ...]) -> list[str]:
    """Every help text `dtbench *command --help` shows: the command's, and its subcommands'
    short ones (a group) or its parameters' (a command)."""
    import typer

    from dtbench.cli import app

    node = typer.main.get_command(app)
    for name in command:
        node = node.commands[name]
    texts = [node.help]
    if hasattr(node, "commands"):
        texts += [sub.get_short_help_str(limit=1000) for sub in node.commands.values()]
    else:
        texts += [param.help for param in node.params if getattr(param, "help", None)]
    return texts


@pytest.mark.parametrize("command", HELP, ids=lambda c: " ".join(c) or "dtbench")
def test_help_texts_are_whole_sentences_wrapped_at_80_columns(command, capsys, monkeypatch):
    """Each help text is written as whole sentences (a capital first, a full stop last) and
    shows whole at 80 columns: wrapped between words, never cut ('...', '…'), and a command
    list shows each command's first sentence."""
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(sys, "argv", ["dtbench", *command, "--help"])
    with pytest.raises(SystemExit) as exit_:
        main()
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    assert all(len(line) <= 80 for line in out.splitlines()), out
    assert "…" not in out and "..." not in out.replace("]...", "]").replace("}...", "}")
    shown = " ".join(out.split())
    for text in _help_texts(command):
        assert text[0].isupper() and text.endswith("."), text
        assert " ".join(text.split()) in shown, text

"""The hardware identity a run records and the AVX2 pin dtbench sets before torch loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from dtbench import hardware
from dtbench.runs import compare

CAPABILITY = ("import dtbench, json, os, torch; print(json.dumps({'capability': "
              "torch.backends.cpu.get_cpu_capability(), 'aten': os.environ.get("
              "'ATEN_CPU_CAPABILITY'), 'isa': dtbench.hardware.identity()['isa']}))")


def _fresh_interpreter(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in hardware.PINNED
             and k != hardware.CHOICE}
    out = subprocess.run([sys.executable, "-c", CAPABILITY], env={**clean, **env},
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_importing_dtbench_pins_torch_to_avx2_unless_native_is_asked_for():
    pinned = _fresh_interpreter()
    assert pinned == {"capability": "AVX2", "aten": "avx2", "isa": "pinned"}
    native = _fresh_interpreter(DTBENCH_CPU_ISA="native")
    assert native["aten"] is None and native["isa"] == "chosen by the libraries"
    assert _fresh_interpreter(ATEN_CPU_CAPABILITY="default")["capability"] == "DEFAULT"


def test_identities_match_on_code_paths_and_threads_not_on_the_cpu_model_when_pinned():
    mine = hardware.identity()
    assert mine["cpu"] and mine["cpu_widest_isa"] in ("AVX512", "AVX2", "older", "unknown")
    other_cpu = {**mine, "cpu": mine["cpu"] + " v2", "cpu_widest_isa": "AVX512"}
    assert hardware.matches(mine, other_cpu)  # pinned: the model does not matter
    assert not hardware.matches(mine, {**mine, "torch_threads": mine["torch_threads"] + 1})
    native = {**mine, "isa": "chosen by the libraries"}
    assert not hardware.matches(native, {**native, "cpu": "Intel Xeon"})
    assert hardware.matches(native, dict(native))


def test_the_same_bits_are_expected_only_on_cpus_of_one_vendor():
    """Pinned alike, an AVX-512 EPYC and an AVX2 one are expected to agree to the bit; an EPYC
    and a Xeon are not (measured: docs/implementation-details.md, Reproducing)."""
    epyc = {**hardware.identity(), "cpu": "AMD EPYC 9R14", "cpu_widest_isa": "AVX512"}
    assert compare.cpu_vendor(epyc) == "AMD"
    assert compare.same_bits_expected(epyc, {**epyc, "cpu": "AMD EPYC", "cpu_widest_isa": "AVX2"})
    xeon = {**epyc, "cpu": "Intel(R) Xeon(R) Processor"}
    assert compare.cpu_vendor(xeon) == "Intel"
    assert hardware.matches(epyc, xeon) and not compare.same_bits_expected(epyc, xeon)
    assert not compare.same_bits_expected(xeon, {**xeon, "torch_threads": 99})


def test_a_run_resumed_on_other_hardware_keeps_the_earlier_identity(tmp_path):
    """config.json is rewritten at each start, so before an unfinished run resumes the
    launcher keeps the identity it recorded when that differs from this process's; compare
    then expects no same bits from it. A finished run, or one on the same hardware, is left
    alone."""
    from dtbench.contract import RunSpec
    from dtbench.runs import resumed

    spec = RunSpec("mujoco", "hopper", "bench-medium-replay", "dt", 0, "paper", "dense", ())
    folder = spec.folder(tmp_path)
    folder.mkdir(parents=True)
    here = hardware.identity("cpu")
    (folder / "config.json").write_text(json.dumps({"environment": {"hardware": here}}))
    resumed.keep_earlier_hardware(spec, tmp_path)
    assert resumed.trained_on_one_machine(folder)
    other = {**here, "cpu": "AMD EPYC 7R13", "isa": "pinned"}
    (folder / "config.json").write_text(json.dumps({"environment": {"hardware": other}}))
    resumed.keep_earlier_hardware(spec, tmp_path)
    resumed.keep_earlier_hardware(spec, tmp_path)  # kept once
    assert json.loads((folder / resumed.EARLIER_HARDWARE).read_text()) == [other]
    assert not resumed.trained_on_one_machine(folder)
    reference = tmp_path / "reference"
    twin = spec.folder(reference)
    twin.mkdir(parents=True)
    (twin / "config.json").write_text(json.dumps({"environment": {"hardware": other}}))
    assert compare._identity_match(spec, 0, reference, reference) is True
    assert compare._identity_match(spec, 0, tmp_path, reference) is False
    (folder / "result.json").write_text("{}")
    (folder / "config.json").write_text(json.dumps({"environment": {"hardware": here}}))
    resumed.keep_earlier_hardware(spec, tmp_path)  # finished: nothing more is kept
    assert json.loads((folder / resumed.EARLIER_HARDWARE).read_text()) == [other]


def test_the_local_launcher_keeps_the_earlier_identity_before_a_run_resumes(tmp_path,
                                                                          monkeypatch):
    """The launcher, not only the function, keeps the record: a run stopped on another CPU
    kind and resumed through `launch` ends up with its earlier identity kept."""
    from dtbench import launchers
    from dtbench.contract import RunSpec
    from dtbench.runs import resumed

    spec = RunSpec("mujoco", "hopper", "bench-medium-replay", "dt", 0, "paper", "dense", ())
    folder = spec.folder(tmp_path)
    folder.mkdir(parents=True)
    other = {**hardware.identity("cpu"), "cpu": "AMD EPYC 7R13", "isa": "pinned"}
    (folder / "config.json").write_text(json.dumps({"environment": {"hardware": other}}))
    monkeypatch.setattr(launchers, "run", lambda specs, **options: [{} for _ in specs])
    launchers.launch([spec], tmp_path, jobs=1, device="cpu", progress=False)
    assert json.loads((folder / resumed.EARLIER_HARDWARE).read_text()) == [other]

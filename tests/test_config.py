"""Typed settings: overrides parsed once against the dataclass field types, stored as data."""

import pytest

from dtbench.config import Settings, parse_overrides, setting_types, value_text
from dtbench.contract import RunSpec, overrides_label
from dtbench.errors import DTBenchError


@pytest.mark.parametrize("key, text, value", [
    ("train.steps", "100", 100),
    ("train.steps", "1_000", 1000),
    ("train.lr", "3e-4", 3e-4),
    ("train.lr", "1", 1.0),
    ("eval.greedy", "false", False),
    ("eval.greedy", "True", True),
    ("eval.target_returns", "3600,1800", (3600.0, 1800.0)),
    ("eval.target_returns", "", ()),
    ("train.betas", "0.9,0.95", (0.9, 0.95)),
    ("baseline.hidden_units", "64,64", (64, 64)),
    ("train.schedule", "cosine", "cosine"),
    ("model.activation", "gelu_new", "gelu_new"),
])
def test_text_is_parsed_into_the_field_type(key, text, value):
    parsed = parse_overrides({key: text})[key]
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize("key, value", [
    ("eval.target_returns", (1.0, 2.0)),  # a tuple from Python (once a bare ValueError '(1.0')
    ("eval.target_returns", [1, 2]),
    ("train.steps", 10),
    ("train.lr", 1),
    ("model.condition_on_return", False),
])
def test_python_values_are_accepted_and_normalised(key, value):
    settings = Settings().override({key: value})
    section, name = key.split(".")
    stored = getattr(getattr(settings, section), name)
    assert stored == (tuple(float(v) for v in value) if isinstance(value, (tuple, list))
                      else value)


@pytest.mark.parametrize("key, value, message", [
    ("eval.greedy", "ture", "setting eval.greedy=ture: expected true or false"),
    ("train.steps", "2.5", "setting train.steps=2.5: expected a whole number"),
    ("train.steps", True, "setting train.steps=True: expected a whole number"),
    ("train.schedule", "cosin", "setting train.schedule=cosin: expected one of constant, cosine"),
    ("train.lr", "abc", "setting train.lr=abc: expected a number"),
    ("train.betas", "0.9", "setting train.betas=0.9: expected 2 comma-separated values"),
    ("eval.target_returns", "a,b", "setting eval.target_returns=a,b: expected a number"),
    ("train.nope", "1", "unknown setting 'train.nope'"),
    ("nope", "1", "unknown setting 'nope'"),
    ("baseline.lr", "1e-3", "setting baseline.lr was split: set baseline.bc_lr (BC), "
                            "baseline.pbc_lr (%BC) or baseline.discrete_cql_lr (DiscreteCQL) "
                            "instead"),
])
def test_bad_values_are_one_clear_error(key, value, message):
    with pytest.raises(DTBenchError) as error:
        Settings().override({key: value})
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_a_spec_stores_typed_overrides_and_names_one_folder_for_equal_settings(tmp_path):
    text = RunSpec("keydoor", "keydoor", "random-1k", overrides=(("eval.return_scale", "1"),
                                                                 ("model.context_len", "5")))
    typed = RunSpec("keydoor", "keydoor", "random-1k",
                    overrides=tuple({"model.context_len": 5, "eval.return_scale": 1.0}.items()))
    assert text == typed and text.overrides == (("eval.return_scale", 1.0),
                                                ("model.context_len", 5))
    assert text.folder(tmp_path) == typed.folder(tmp_path)
    assert text.algo_label == "dt@eval.return_scale=1,model.context_len=5"
    assert RunSpec.from_dict(text.to_dict()) == text  # through result.json and back


def test_value_text_is_short_and_distinct():
    assert [value_text(v) for v in (True, 1.0, 0.1, 1e-4, 8, (1.0, 2.5))] == \
        ["true", "1", "0.1", "0.0001", "8", "1,2.5"]
    assert value_text(1.0000001) != value_text(1.0)
    assert overrides_label((("a.b", 1), ("c.d", False))) == "a.b=1,c.d=false"


def test_every_setting_is_listed_with_its_type():
    types = setting_types()
    assert types["train.steps"] == "int" and types["eval.greedy"] == "bool"
    assert types["train.schedule"] == "Literal['constant', 'cosine', 'cosine-tokens']"
    assert len(types) == sum(len(getattr(Settings(), s).__dataclass_fields__)
                             for s in ("model", "train", "eval", "baseline"))


def test_every_field_has_its_doc_and_every_number_its_range_beside_it():
    import dataclasses
    import typing

    from dtbench.config import SECTIONS, setting_docs

    docs = setting_docs()
    for section, cls in SECTIONS.items():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            key = f"{section}.{f.name}"
            assert f.metadata["doc"] and "\n" not in docs[key], key
            numeric = hints[f.name] in (int, float) or typing.get_args(hints[f.name])[:1] in (
                (int,), (float,))
            # target returns are any reals (negative ones too: Pong)
            assert (f.metadata["range"] is not None) == (numeric and key != "eval.target_returns"
                                                         ), key
    assert docs["train.lr"] == "greater than 0; peak learning rate (AdamW)"
    assert docs["train.betas"].startswith("each between 0 and 1; ")


def test_bc_percent_bc_and_discrete_cql_learn_at_their_own_rates():
    """BC's, %BC's and DiscreteCQL's learning rates are three settings, tuned apart."""
    from baselines.builtin import bc, discrete_bc, discrete_cql, discrete_percent_bc, percent_bc
    from dtbench.config import BaselineConfig

    cfg = BaselineConfig(bc_lr=1e-3, pbc_lr=3e-3, discrete_cql_lr=6.25e-5)
    parts = {"encoder_factory": None, "observation_scaler": None}
    assert bc(cfg, parts).learning_rate == discrete_bc(cfg, parts).learning_rate == 1e-3
    assert percent_bc(cfg, parts).learning_rate == 3e-3
    assert discrete_percent_bc(cfg, parts).learning_rate == 3e-3
    assert discrete_cql(cfg, parts).learning_rate == 6.25e-5


def test_each_baseline_reads_every_setting_its_d3rlpy_config_depends_on():
    """`Algo.reads` names the settings a run is compared on: changing a BaselineConfig field
    that a built-in baseline does not list must leave its d3rlpy config as it was (else a run
    made with another value would pass as current)."""
    import dataclasses

    from baselines.builtin import (
        CQL_READS,
        SHARED,
        bc,
        cql,
        discrete_bc,
        discrete_cql,
        discrete_percent_bc,
        percent_bc,
    )
    from dtbench.config import BaselineConfig

    parts = {"encoder_factory": None, "observation_scaler": None}
    reads = {"cql": CQL_READS, "bc": (*SHARED, "baseline.bc_lr"),
             "bc10": (*SHARED, "baseline.pbc_lr")}
    factories = {"cql": (cql, discrete_cql), "bc": (bc, discrete_bc),
                 "bc10": (percent_bc, discrete_percent_bc)}
    base = BaselineConfig()
    for algo, made in factories.items():
        for f in dataclasses.fields(BaselineConfig):
            if f"baseline.{f.name}" in reads[algo]:
                continue
            value = getattr(base, f.name)
            other = dataclasses.replace(base, **{f.name: (value * 2 if not isinstance(
                value, tuple) else (*value, 8))})
            for factory in made:
                assert factory(other, parts) == factory(base, parts), (algo, f.name)

"""Config loading: typos with did-you-mean, types, choices, overrides, _base_, YAML errors,
dump round-trip, hash, transform validation, and docs coverage of every schema key."""
from pathlib import Path

import pytest

from paddle_repro.config import ConfigError, config_hash, dump_config, load_config
from paddle_repro.config_schema import SCHEMA, markdown_tables

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = """\
Global:
  epochs: 2
Arch:
  name: shufflenetv2_x0_5
  num_classes: 10
Optimizer:
  weight_decay: 1e-5
  lr:
    name: multistep
    milestones: [1, 2]
DataLoader:
  dataset:
    name: synthetic
  Train:
    batch_size: 16
    transforms:
      - RandomCrop: {size: 32, padding: 4}
      - ToTensor: null
"""


def _write(tmp_path, text, name="cfg.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_minimal_config_fills_defaults(tmp_path):
    cfg = load_config(_write(tmp_path, MINIMAL))
    assert cfg["Global"]["epochs"] == 2 and cfg["Global"]["seed"] == 42
    assert cfg["Optimizer"]["weight_decay"] == 1e-5  # YAML 1.2 float, not the string "1e-5"
    assert cfg["Optimizer"]["lr"]["milestones"] == [1, 2]
    assert cfg["Optimizer"]["lr"]["gamma"] == 0.1
    assert cfg["DataLoader"]["Eval"]["batch_size"] == 128
    assert cfg["Arch"] == {"name": "shufflenetv2_x0_5", "num_classes": 10}  # open section kept
    assert cfg["Metric"]["topk"] == [1, 5]


def test_defaults_are_copies(tmp_path):
    a = load_config(_write(tmp_path, MINIMAL))
    a["Metric"]["topk"].append(10)
    b = load_config(_write(tmp_path, MINIMAL))
    assert b["Metric"]["topk"] == [1, 5]


def test_typo_says_did_you_mean_and_names_file(tmp_path):
    path = _write(tmp_path, MINIMAL.replace("  epochs: 2", "  epoch: 2"))
    with pytest.raises(ConfigError) as e:
        load_config(path)
    msg = str(e.value)
    assert "Global.epoch" in msg and "did you mean `epochs`?" in msg.lower() and str(path) in msg


def test_unknown_section(tmp_path):
    with pytest.raises(ConfigError, match="(?i)did you mean `Optimizer`"):
        load_config(_write(tmp_path, MINIMAL + "Optimiser: {}\n"))


def test_wrong_type_names_expected_and_given(tmp_path):
    with pytest.raises(ConfigError, match=r"Global\.epochs.*expected int, got str '2'"):
        load_config(_write(tmp_path, MINIMAL.replace("epochs: 2", "epochs: '2'")))
    with pytest.raises(ConfigError, match=r"expected bool"):
        load_config(_write(tmp_path, MINIMAL), ["DataLoader.Train.shuffle=3"])
    with pytest.raises(ConfigError, match=r"expected int, got bool"):  # bool is not an int
        load_config(_write(tmp_path, MINIMAL), ["Global.epochs=true"])


def test_int_accepted_for_float(tmp_path):
    cfg = load_config(_write(tmp_path, MINIMAL), ["Optimizer.lr.learning_rate=1"])
    assert cfg["Optimizer"]["lr"]["learning_rate"] == 1


def test_choices_enforced(tmp_path):
    with pytest.raises(ConfigError, match=r"Optimizer\.name.*`adamw` is not one of.*did you mean `adam`"):
        load_config(_write(tmp_path, MINIMAL), ["Optimizer.name=adamw"])


def test_required_key(tmp_path):
    with pytest.raises(ConfigError, match=r"Arch\.name.*required"):
        load_config(_write(tmp_path, MINIMAL.replace("  name: shufflenetv2_x0_5\n", "")))


@pytest.mark.parametrize("bad, match", [
    ("Global.epochs", "expected `Section.key=value`"),
    ("=3", "empty key path"),
    ("Global..epochs=3", "empty key path"),
    ("Global.epohcs=3", "did you mean `epochs`"),
    ("Globl.epochs=3", "did you mean `Global`"),
    ("DataLoader.Train.transforms.7.Resize.size=3", "not a valid index"),
    ("DataLoader.Train.transforms.0.Resize.size=3", "unknown key"),
    ("Global.epochs.x=3", "not a section or list"),
    ("Global.epochs=[1", "not valid YAML"),
])
def test_bad_overrides(tmp_path, bad, match):
    with pytest.raises(ConfigError, match="(?i)" + match.replace("[", r"\[").replace(".", r"\.")):
        load_config(_write(tmp_path, MINIMAL), [bad])


def test_overrides_with_list_index_and_open_sections(tmp_path):
    cfg = load_config(_write(tmp_path, MINIMAL), [
        "Global.epochs=5",
        "DataLoader.Train.transforms.0.RandomCrop.size=[28,28]",
        "DataLoader.Train.transforms.1.ToTensor.data_format=CHW",  # null entry gets kwargs
        "Arch.width_mult=0.5",                                     # open section: new kwarg
        "Global.checkpoint=null",
        "Optimizer.lr.learning_rate=2.5e-3",
        "Loss.name=label_smoothing",                               # key absent from the file
    ])
    assert cfg["Global"]["epochs"] == 5
    assert cfg["DataLoader"]["Train"]["transforms"][0] == {"RandomCrop": {"size": [28, 28], "padding": 4}}
    assert cfg["DataLoader"]["Train"]["transforms"][1] == {"ToTensor": {"data_format": "CHW"}}
    assert cfg["Arch"]["width_mult"] == 0.5
    assert cfg["Global"]["checkpoint"] is None
    assert cfg["Optimizer"]["lr"]["learning_rate"] == 2.5e-3
    assert cfg["Loss"]["name"] == "label_smoothing"


def test_override_error_reaches_validation_with_source(tmp_path):
    with pytest.raises(ConfigError, match=r"override `-o Global\.seed=abc`.*expected int"):
        load_config(_write(tmp_path, MINIMAL), ["Global.seed=abc"])


def test_base_merge(tmp_path):
    (tmp_path / "base").mkdir()
    _write(tmp_path / "base", MINIMAL, "common.yaml")
    child = _write(tmp_path, "_base_: base/common.yaml\nGlobal:\n  seed: 7\n"
                   "Optimizer:\n  lr:\n    milestones: [5]\nArch:\n  name: alexnet\n")
    cfg = load_config(child)
    assert cfg["Global"] == {**cfg["Global"], "epochs": 2, "seed": 7}     # merged key by key
    assert cfg["Optimizer"]["lr"] == {**cfg["Optimizer"]["lr"], "name": "multistep",
                                      "milestones": [5]}                   # lists replaced
    assert cfg["Optimizer"]["weight_decay"] == 1e-5
    assert cfg["Arch"] == {"name": "alexnet", "num_classes": 10}


def test_error_in_base_names_base_file(tmp_path):
    _write(tmp_path, MINIMAL.replace("batch_size: 16", "batch_sise: 16"), "common.yaml")
    child = _write(tmp_path, "_base_: common.yaml\nGlobal: {seed: 1}\n")
    with pytest.raises(ConfigError, match=r"common\.yaml.*did you mean `batch_size`"):
        load_config(child)


def test_missing_base_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yaml does not exist"):
        load_config(_write(tmp_path, "_base_: nope.yaml\n"))


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = _write(tmp_path, "Global:\n  epochs: 2\n  seed: [1\nArch: {name: x}\n")
    with pytest.raises(ConfigError, match=r"YAML syntax error in .*cfg\.yaml line 4"):
        load_config(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.yaml")


def test_bad_transform_in_config(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown transform `RandomCorp`.*did you mean `RandomCrop`.*"
                                          r"valid transforms: Resize"):
        load_config(_write(tmp_path, MINIMAL.replace("RandomCrop", "RandomCorp")))
    with pytest.raises(ConfigError, match=r"bad arguments for `RandomCrop`.*valid arguments: size"):
        load_config(_write(tmp_path, MINIMAL), ["DataLoader.Train.transforms.0.RandomCrop.pad=2"])


def test_dump_round_trip_and_hash(tmp_path):
    cfg = load_config(_write(tmp_path, MINIMAL), ["Arch.width_mult=0.5"])
    out = dump_config(cfg, tmp_path / "deep" / "dir" / "config.yaml")
    again = load_config(out)
    assert again == cfg
    assert config_hash(again) == config_hash(cfg) and len(config_hash(cfg)) == 12
    cfg["Global"]["seed"] += 1
    assert config_hash(again) != config_hash(cfg)


def _schema_keys(node, prefix=""):
    for k, v in node.items():
        if isinstance(v, dict):
            yield from _schema_keys(v, prefix + k + ".")
        else:
            yield prefix + k


def test_docs_tables_are_generated_from_the_schema():
    doc = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    assert markdown_tables() in doc, "docs/config.md is stale: paste markdown_tables() output"
    missing = [k for k in _schema_keys(SCHEMA) if "`%s`" % k not in doc]
    assert not missing, "keys not in docs/config.md: %s" % missing


def test_repository_configs_load():
    paths = [p for p in sorted((ROOT / "configs").rglob("*.yaml"))
             if not p.name.startswith("_") and "table" not in p.name]
    assert paths
    for p in paths:
        cfg = load_config(p)
        assert cfg["Arch"]["name"], p

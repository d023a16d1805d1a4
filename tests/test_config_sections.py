"""Sections chosen by their ``name`` (issue 26 items 1 and 3): each registry entry owns its
config keys, a resolved config holds the chosen builders' keys and no other's, a config in
the old flat form still loads (one warning, unless a later layer switched the builder), and
the config layer does not import engine."""
import ast
import glob
import logging
import os

import pytest
import yaml

from paddle_repro.builders.lr_schedules import LR_SCHEDULE, SCHEDULES, build_lr
from paddle_repro.builders.optimizers import OPTIMIZER
from paddle_repro.config import ConfigError, load_config, with_defaults
from paddle_repro.config_fields import Field
from paddle_repro.data.datasets import DATASET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "paddle_repro")
MINIMAL = {"Arch": {"name": "shufflenetv2_x0_5"}, "DataLoader": {"dataset": {"name": "cifar10"}}}

# every key the flat Optimizer.lr section of older versions held (config.yaml before this change)
OLD_FLAT_LR = {"name": "cosine", "learning_rate": 0.1, "by": "epoch", "milestones": [30, 60, 90],
               "gamma": 0.1, "T_max": "auto", "eta_min": 0.0, "warmup_steps": 0,
               "warmup_start_lr": 0.0, "warmup_epochs": 0, "metric": "train_loss", "mode": "min",
               "factor": 0.1, "patience": 10, "threshold": 1e-4, "cooldown": 0, "min_lr": 0.0}


def _load(tmp_path, raw, overrides=()):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_config(path, list(overrides))


def test_a_resolved_section_holds_the_chosen_builders_keys_only(tmp_path):
    raw = {**MINIMAL, "Optimizer": {"name": "adam", "lr": {"name": "cosine"}},
           "Loss": {"name": "cross_entropy"}}
    cfg = _load(tmp_path, raw)
    assert set(cfg["Optimizer"]["lr"]) == {"name", "learning_rate", "by", "warmup_steps",
                                           "warmup_start_lr", "warmup_epochs", "T_max", "eta_min"}
    assert set(cfg["Optimizer"]) == {"name", "weight_decay", "grad_clip", "beta1", "beta2",
                                     "epsilon", "lr"}
    assert cfg["Loss"] == {"name": "cross_entropy"}  # no smoothing that does nothing
    assert "num_classes" not in cfg["DataLoader"]["dataset"]  # synthetic's keys


def test_a_key_of_an_unchosen_builder_is_dropped_with_one_warning(tmp_path, caplog):
    raw = {**MINIMAL, "Optimizer": {"name": "adam", "momentum": 0.5}}
    with caplog.at_level(logging.WARNING, logger="paddle_repro"):
        cfg = _load(tmp_path, raw)
    assert "momentum" not in cfg["Optimizer"]
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "Optimizer.momentum" in lines[0] and "Optimizer.name=momentum" in lines[0]


def test_switching_the_builder_in_a_later_layer_drops_the_old_keys_silently(tmp_path, caplog):
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump({**MINIMAL, "Optimizer": {"name": "adam", "beta1": 0.8,
                                                             "lr": {"name": "plateau", "patience": 1}}}))
    child = tmp_path / "child.yaml"
    child.write_text(yaml.safe_dump({"_base_": "base.yaml", "Optimizer": {"name": "momentum"}}))
    with caplog.at_level(logging.WARNING, logger="paddle_repro"):
        cfg = load_config(child, ["Optimizer.lr.name=cosine"])
    assert caplog.records == []
    assert "beta1" not in cfg["Optimizer"] and "patience" not in cfg["Optimizer"]["lr"]
    assert cfg["Optimizer"]["momentum"] == 0.9


def test_an_old_flat_config_yaml_reads_as_todays_sections(tmp_path):
    cfg = _load(tmp_path, {**MINIMAL, "Optimizer": {"lr": {"name": "cosine"}}})
    old = yaml.safe_load(yaml.safe_dump(cfg))
    old["Optimizer"]["lr"] = dict(OLD_FLAT_LR)
    old["Optimizer"].update(beta1=0.9, beta2=0.999, epsilon=1e-8)  # the old flat Optimizer
    old["Loss"]["smoothing"] = 0.1
    assert with_defaults(old) == cfg


def test_a_key_no_builder_reads_is_still_an_error_with_a_suggestion(tmp_path):
    with pytest.raises(ConfigError, match="patiance.*did you mean `patience`"):
        _load(tmp_path, {**MINIMAL, "Optimizer": {"lr": {"name": "plateau", "patiance": 2}}})
    with pytest.raises(ConfigError, match="Optimizer.lr.name.*cosin.*did you mean `cosine`"):
        _load(tmp_path, {**MINIMAL, "Optimizer": {"lr": {"name": "cosin"}}})


def test_range_checks_live_with_their_builder_and_name_the_key(tmp_path):
    cases = [({"lr": {"name": "multistep", "gamma": 1.5}}, "Optimizer.lr.gamma"),
             ({"lr": {"name": "plateau", "factor": 0}}, "Optimizer.lr.factor"),
             ({"name": "momentum", "momentum": 1.0}, "Optimizer.momentum"),
             ({"name": "adam", "beta2": 1.0}, "Optimizer.beta2"),
             ({"weight_decay": -1}, "Optimizer.weight_decay")]
    for section, key in cases:
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            _load(tmp_path, {**MINIMAL, "Optimizer": section})
    with pytest.raises(ConfigError, match=r"Loss\.smoothing"):
        _load(tmp_path, {**MINIMAL, "Loss": {"name": "label_smoothing", "smoothing": 1.0}})
    with pytest.raises(ConfigError, match=r"DataLoader\.dataset\.root.*required"):
        _load(tmp_path, {**MINIMAL, "DataLoader": {"dataset": {"name": "image_folder"}}})


def test_builders_called_with_a_partial_dict_use_the_declared_defaults():
    controller = build_lr({"name": "plateau"}, epochs=3, steps_per_epoch=1)
    assert controller.scheduler.patience == SCHEDULES["plateau"].fields["patience"].default
    assert LR_SCHEDULE.fill({"name": "multistep"})["milestones"] == [30, 60, 90]
    assert OPTIMIZER.fill({})["momentum"] == 0.9
    assert DATASET.fill({"name": "synthetic"})["train_size"] == 500


def test_every_default_has_one_home():
    """No module besides the entries spells a builder key's default: the old *_DEFAULTS
    copies are gone, and no builder reads its section with ``.get(key, default)``."""
    owned = {k for choice in (LR_SCHEDULE, OPTIMIZER, DATASET) for k in choice.all_keys()}
    # `name`: read with the Choice's default; `num_classes`: also an Arch keyword (the model's)
    owned = (owned | {"smoothing"}) - {"name", "num_classes"}
    for path in glob.glob(os.path.join(PACKAGE, "**", "*.py"), recursive=True):
        text = open(path, encoding="utf-8").read()
        for old in ("LOSS_DEFAULTS", "LR_DEFAULTS", "OPTIMIZER_DEFAULTS"):
            assert old not in text, f"{path} still has {old}"
        for node in ast.walk(ast.parse(text)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "get" and len(node.args) == 2
                    and isinstance(node.args[0], ast.Constant) and node.args[0].value in owned
                    and not (isinstance(node.args[1], ast.Constant) and node.args[1].value is None)):
                raise AssertionError(f"{path}:{node.lineno} reads {node.args[0].value!r} with its "
                                     "own default; the entry's Field holds it")


def test_shipped_configs_name_no_key_of_an_unchosen_builder(caplog):
    with caplog.at_level(logging.WARNING, logger="paddle_repro"):
        for path in sorted(glob.glob(os.path.join(ROOT, "configs", "**", "*.yaml"), recursive=True)):
            name = os.path.basename(path)
            if name.startswith("_") or name.startswith("table"):
                continue
            load_config(path)
    assert [r.getMessage() for r in caplog.records if "ignored" in r.getMessage()] == []


def _imports(path):
    tree = ast.parse(open(path, encoding="utf-8").read())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
    return names


@pytest.mark.parametrize("module", ["config.py", "config_schema.py", "config_fields.py",
                                    "builders/__init__.py", "builders/losses.py",
                                    "builders/lr_schedules.py", "builders/optimizers.py",
                                    "builders/notebook_metrics.py", "data/datasets.py"])
def test_the_config_layer_and_the_builders_do_not_import_engine(module):
    bad = [n for n in _imports(os.path.join(PACKAGE, module)) if "engine" in n.split(".")]
    assert bad == [], f"{module} imports {bad}"

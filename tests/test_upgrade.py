"""Runs survive an upgrade of the suite (issue 26 items 1 and 2): a config written before a key
existed compares as if it held that key's default ("absent = default"), on resume and in
reproduce's finished-run check; the keys that cannot change a recipe are one list."""
import yaml

from paddle_repro.builders.lr_schedules import LR_SCHEDULE
from paddle_repro.builders.optimizers import OPTIMIZER
from paddle_repro.config import RECIPE_NEUTRAL_KEYS, dump_config, flatten_config, with_defaults
from paddle_repro.config_fields import Field
from paddle_repro.engine import checkpoint
from paddle_repro.engine.resume_check import MAY_CHANGE, check_resume_config
from paddle_repro.engine.trainer import train
from paddle_repro.reproduce.plan import run_state
from paddle_repro.reproduce.recipe import config_diff, recipe_hash
from tests.test_trainer import tiny_cfg

QUICK = ["Global.throughput=false"]
# The keys the last round added (EMA, accumulation, bf16, clipping): a config.yaml written
# before them lacks every one.
ADDED_LAST_ROUND = (("Global", "update_freq"), ("Global", "amp_dtype"), ("EMA",),
                    ("Optimizer", "grad_clip"))


def _older_version(cfg):
    """``cfg`` as a version without the last round's keys would have written it."""
    old = yaml.safe_load(yaml.safe_dump(cfg))
    for path in ADDED_LAST_ROUND:
        parent = old
        for part in path[:-1]:
            parent = parent[part]
        parent.pop(path[-1])
    return old


def test_an_absent_key_equals_its_default_but_not_another_value(tmp_path):
    cfg = tiny_cfg(tmp_path)
    old = _older_version(cfg)
    assert "update_freq" not in old["Global"] and "EMA" not in old
    assert with_defaults(old) == cfg
    assert recipe_hash(old) == recipe_hash(cfg) and config_diff(old, cfg) == []
    other = tiny_cfg(tmp_path, overrides=["Global.update_freq=2"])
    assert config_diff(old, other) == ["Global.update_freq"]  # a non-default value still counts


def test_one_list_of_keys_that_cannot_change_a_recipe(tmp_path):
    assert set(RECIPE_NEUTRAL_KEYS) <= set(MAY_CHANGE)
    cfg = tiny_cfg(tmp_path)
    flat = flatten_config(cfg)
    assert set(RECIPE_NEUTRAL_KEYS) <= set(flat)  # each names a real key
    moved = tiny_cfg(tmp_path, "elsewhere", ["DataLoader.Train.num_workers=2", "Global.progress_bar=true"])
    assert recipe_hash(moved) == recipe_hash(cfg)
    assert recipe_hash(tiny_cfg(tmp_path, overrides=["Global.epochs=2"])) != recipe_hash(cfg)


def _resume_with_saved_config_as(tmp_path, monkeypatch, rewrite):
    """Trains 1 of 2 epochs, then resumes with the checkpoint's config as ``rewrite`` makes it
    (what an older version would have saved); returns the resumed run's summary."""
    cfg = tiny_cfg(tmp_path, "run", QUICK + ["Global.epochs=2"])
    train(cfg, stop_after_epoch=1)
    real_load = checkpoint.load

    def load_as_an_older_version_wrote_it(prefix):
        ck = real_load(prefix)
        ck["state"]["config"] = rewrite(ck["state"]["config"])
        return ck

    monkeypatch.setattr(checkpoint, "load", load_as_an_older_version_wrote_it)
    return train(tiny_cfg(tmp_path, "run", QUICK + ["Global.epochs=2", "Global.resume=auto"]))


def test_a_run_written_before_the_last_rounds_keys_resumes(tmp_path, monkeypatch):
    summary = _resume_with_saved_config_as(tmp_path, monkeypatch, _older_version)
    assert summary["finished"] and summary["epochs_completed"] == 2


def test_a_finished_table_run_is_still_finished_after_an_upgrade(tmp_path):
    cfg = tiny_cfg(tmp_path, "run", QUICK)
    train(cfg)
    run_dir = tmp_path / "run"
    dump_config(_older_version(cfg), run_dir / "config.yaml")  # as the older version wrote it
    assert "update_freq" not in (run_dir / "config.yaml").read_text()
    assert run_state(str(run_dir), cfg) == "finished"


def _flat_form(cfg):
    """``cfg`` as versions before name-chosen sections wrote it: every optimizer's and every
    schedule's keys, and Loss.smoothing whatever the loss."""
    old = yaml.safe_load(yaml.safe_dump(cfg))
    for choice, section in ((OPTIMIZER, old["Optimizer"]), (LR_SCHEDULE, old["Optimizer"]["lr"])):
        for key, field in choice.all_keys().items():
            if isinstance(field, Field):
                section.setdefault(key, field.default)
    old["Loss"].setdefault("smoothing", 0.1)
    return old


def test_a_run_written_before_sections_were_per_builder_resumes_and_is_finished(tmp_path, monkeypatch):
    cfg = tiny_cfg(tmp_path, "run", QUICK + ["Global.epochs=2"])
    assert "patience" not in cfg["Optimizer"]["lr"]  # today's form: multistep's keys only
    summary = _resume_with_saved_config_as(tmp_path, monkeypatch, _flat_form)
    assert summary["finished"] and summary["epochs_completed"] == 2
    run_dir = tmp_path / "run"
    dump_config(_flat_form(cfg), run_dir / "config.yaml")
    assert "patience" in (run_dir / "config.yaml").read_text()
    assert run_state(str(run_dir), cfg) == "finished"


def test_a_longer_resume_of_a_schedule_without_cosine_keys_is_accepted(tmp_path, caplog):
    """check_resume_config reads T_max only when the schedule is cosine (a multistep section
    no longer holds it)."""
    saved = tiny_cfg(tmp_path)
    longer = tiny_cfg(tmp_path, overrides=["Global.epochs=3"])
    assert "T_max" not in longer["Optimizer"]["lr"]
    changes = check_resume_config(saved, longer, "run/latest", epochs_done=1)
    assert [k for k, _, _ in changes] == ["Global.epochs"]

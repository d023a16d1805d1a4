"""The run folder's layout (``paddle_repro/run_layout.py``) keeps the names older runs have.

Run folders written before the names moved into one module must still read back: these are
the literal names the modules wrote, pinned, so a change of value is a deliberate act.
"""
import ast
from pathlib import Path

from paddle_repro import run_layout as L

ROOT = Path(__file__).resolve().parents[1]


def test_file_and_checkpoint_names_are_the_ones_runs_have():
    assert L.RUN_FILES == ("config.yaml", "metrics.jsonl", "train_steps.jsonl", "summary.json",
                           "eval.json", "per_class_acc.json", "report_extra.json", "gallery.png",
                           "confusion.png", "curves_loss.png", "curves_acc.png", "train.log")
    assert L.RUN_DERIVED_FILES == ("eval.json", "summary.json", "report_extra.json",
                                   "per_class_acc.json", "confusion.png", "gallery.png",
                                   "curves_loss.png", "curves_acc.png")
    assert L.CHECKPOINTS == ("latest", "best_model", "final_model", "latest.prev",
                             "best_model.prev", "final_model.prev")
    assert L.CHECKPOINT_SUFFIXES == (".pdparams", ".pdopt", ".pdstates")
    assert (L.VDL_DIR, L.VDL_FILE, L.LOCK_FILE, L.INFERENCE_DIR) == (
        "vdl", "vdlrecords.train.log", ".lock", "inference")
    assert L.epoch_checkpoint(7) == "epoch_7"
    assert L.FIGURE_CHECKPOINTS == ("best_model", "final_model", "latest")


def test_record_keys_are_the_ones_runs_have():
    assert (L.EPOCH, L.STEP, L.LR, L.TRAIN_LOSS, L.TRAIN_TOP1, L.EPOCH_TIME_S) == (
        "epoch", "step", "lr", "train_loss", "train_top1", "epoch_time_s")
    assert L.VAL_KEYS == ("val_loss", "val_top1", "val_top5")
    assert (L.VAL_LOSS_NB, L.VAL_TOP1_NB, L.VAL_TOP5_NB) == ("val_loss_nb", "val_top1_nb", "val_top5_nb")
    assert (L.VAL_LOSS_EMA, L.VAL_TOP1_EMA, L.VAL_TOP5_EMA) == (
        "val_loss_ema", "val_top1_ema", "val_top5_ema")
    assert (L.BEST_VAL_TOP1, L.BEST_VAL_TOP1_NB, L.BEST_EPOCH, L.FINISHED, L.FINAL) == (
        "best_val_top1", "best_val_top1_nb", "best_epoch", "finished", "final")
    assert L.GRAD_CLIPPED_STEPS == "grad_clipped_steps"


def test_the_layout_imports_nothing():
    """Every layer imports it, so it may import no module of the package (nor anything)."""
    tree = ast.parse((ROOT / "paddle_repro" / "run_layout.py").read_text(encoding="utf-8"))
    assert [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))] == []

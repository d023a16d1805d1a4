"""What a resume may change: the new config against the one the checkpoint was trained with.

A resume continues a run: same model, data, loss, optimizer and schedule. Without this
check a changed learning rate was silently ignored (the restored scheduler state brings the
old one back) while config.yaml recorded the new one. Now every difference is one of:

* **applied**, with a log line: keys that do not change what the run computes, or that the
  user changes on purpose and the trainer honours exactly (``Global.epochs``: extend or
  shorten the run; how often to evaluate, save and log; device, workers, progress bar);
* **refused**, as a ``ConfigError`` listing each key with its saved and new value: every
  other key (the model, the data and its transforms, batch size, loss, optimizer, the whole
  LR schedule, seed, AMP, EMA, metrics). The message says how to train on with other
  settings: a new run that starts from the checkpoint's weights.

Checkpoints written before configs were saved in them (no ``config`` key) are not checked.
A saved config is read with today's defaults for the keys it lacks (``config.with_defaults``),
so upgrading the suite mid-run does not turn every newly added key into a refusal.
"""
import logging

from ..config import ABSENT, RECIPE_NEUTRAL_KEYS, config_changes, with_defaults
from ..errors import ConfigError

log = logging.getLogger("paddle_repro")

# Keys a resume may change: those that cannot change the recipe, plus those the trainer
# honours exactly when a user changes them on purpose.
MAY_CHANGE = RECIPE_NEUTRAL_KEYS + (
    "Global.checkpoint", "Global.epochs", "Global.eval_interval", "Global.save_interval",
    "Global.log_interval", "Global.device", "Global.throughput", "Global.keep_epoch_checkpoints",
    "Global.save_inference_dir", "Global.image_shape",
    "DataLoader.dataset.data_file", "DataLoader.dataset.root",
    # the Eval split is read, never trained on: its batch size changes no weight
    "DataLoader.Eval.batch_size",
)


def check_resume_config(saved, new, prefix, epochs_done):
    """Logs the changes a resume applies; raises ``ConfigError`` for the ones it cannot.

    Args:
        saved: the resolved config stored in the checkpoint (None: not checked).
        new: the resolved config of this invocation.
        prefix: the checkpoint resumed from (for the messages).
        epochs_done: epochs the checkpoint has completed.
    Returns:
        The applied changes, [(key, saved value, new value)].
    """
    if not saved:
        return []
    if new["Global"]["epochs"] < epochs_done:
        raise ConfigError(f"config error at `Global.epochs`: {prefix} has already trained "
                          f"{epochs_done} epochs, more than the {new['Global']['epochs']} asked; "
                          f"resume with Global.epochs >= {epochs_done}.")
    changes = config_changes(with_defaults(saved, f"{prefix}'s saved config"), new)
    refused = [c for c in changes if c[0] not in MAY_CHANGE]
    if refused:
        lines = "; ".join(f"{k}: {_show(old)} in the checkpoint, {_show(now)} now"
                          for k, old, now in refused)
        raise ConfigError(
            f"config error at `Global.resume`: {prefix} was trained with other settings, and a "
            f"resume continues that run as it was: {lines}. Resume with the saved settings (drop "
            "those overrides), or start a new run from its weights with the new ones: "
            f"-o Global.checkpoint={prefix}.pdparams -o Global.output_dir=<new folder> "
            "(a fresh schedule and optimizer state).")
    for key, old, now in changes:
        if key not in ("Global.resume", "Global.overwrite"):
            log.info(f"Resume: {key} changed from {_show(old)} to {_show(now)} (applied)")
    lr = new["Optimizer"]["lr"]
    if any(k == "Global.epochs" for k, _, _ in changes) and (
            lr["name"] == "cosine" and lr["T_max"] == "auto" or lr["warmup_epochs"]):
        log.warning("Resume: the LR schedule's length follows Global.epochs (cosine T_max: auto "
                    "or warmup_epochs), so from here on its lr differs from a run that had "
                    f"{new['Global']['epochs']} epochs from the start.")
    return changes


def _show(value):
    return value if value is ABSENT else repr(value)

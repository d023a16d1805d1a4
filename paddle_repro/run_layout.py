"""The run folder's layout: every file name a run folder holds, and the record keys read back.

A run folder (``Global.output_dir``) is the contract between the modules that write it
(``engine``: trainer, logger, summary, checkpoints; ``inference.run_outputs``; ``report``'s
figures) and the ones that read it back (``report``, ``reproduce``, ``inference``,
``deploy``, ``launch``). Each name is written here once, so a reader and a writer cannot
drift apart; docs/architecture.md ("Files a run writes") describes the formats.

Pure constants and tiny helpers: this module imports nothing from the package, so every
layer (config, engine, report, ...) may import it without creating a cycle.
"""

# --- files of a run folder -------------------------------------------------------------
CONFIG_FILE = "config.yaml"              # the resolved config, written when training starts
METRICS_FILE = "metrics.jsonl"           # one record per epoch (keys below)
TRAIN_STEPS_FILE = "train_steps.jsonl"   # one record every Global.log_interval batches
SUMMARY_FILE = "summary.json"            # "what did this run give?" (engine/summary.py)
EVAL_FILE = "eval.json"                  # tools/eval.py (engine/eval_run.py)
PER_CLASS_ACC_FILE = "per_class_acc.json"  # report/confusion.py, from the run's weights
REPORT_EXTRA_FILE = "report_extra.json"  # FLOPs (inference/run_outputs.py)
TRAIN_LOG_FILE = "train.log"             # the console log of the run
GALLERY_FILE = "gallery.png"
CONFUSION_FILE = "confusion.png"
CURVES_LOSS_FILE = "curves_loss.png"     # learning curves, refreshed every epoch
CURVES_ACC_FILE = "curves_acc.png"
VDL_DIR = "vdl"                          # VisualDL's log folder ...
VDL_FILE = "vdlrecords.train.log"        # ... and its one file there
LOCK_FILE = ".lock"                      # held while a run writes the folder (engine/run_folder.py)
INFERENCE_DIR = "inference"              # tools/export_model.py's default folder in the run

# --- checkpoints: <prefix><suffix>, the prefix being a name below --------------------------
WEIGHTS_SUFFIX = ".pdparams"             # the model's state_dict (loadable like the notebooks')
OPTIMIZER_SUFFIX = ".pdopt"
STATE_SUFFIX = ".pdstates"               # training state; written last, so it marks a whole one
CHECKPOINT_SUFFIXES = (WEIGHTS_SUFFIX, OPTIMIZER_SUFFIX, STATE_SUFFIX)
LATEST = "latest"                        # every Global.save_interval epochs; resume=auto's
BEST_MODEL = "best_model"                # the best epoch by Metric.best_by
FINAL_MODEL = "final_model"              # a finished run's last weights
CHECKPOINT_NAMES = (LATEST, BEST_MODEL, FINAL_MODEL)
PREV = ".prev"                           # the previous checkpoint's files while a save switches
CHECKPOINTS = CHECKPOINT_NAMES + tuple(name + PREV for name in CHECKPOINT_NAMES)
EPOCH_CHECKPOINT_GLOB = "epoch_*"        # Global.keep_epoch_checkpoints: epoch_<N>
# The weights a finished run's figures (gallery, per-class accuracy) use, preferred first.
FIGURE_CHECKPOINTS = (BEST_MODEL, FINAL_MODEL, LATEST)

# What a run writes (trainer, tools/eval.py, report figures): removed by Global.overwrite.
RUN_FILES = (CONFIG_FILE, METRICS_FILE, TRAIN_STEPS_FILE, SUMMARY_FILE, EVAL_FILE,
             PER_CLASS_ACC_FILE, REPORT_EXTRA_FILE, GALLERY_FILE, CONFUSION_FILE,
             CURVES_LOSS_FILE, CURVES_ACC_FILE, TRAIN_LOG_FILE)
# Written after training from the run's checkpoints or records: stale once a fresh run starts.
RUN_DERIVED_FILES = (EVAL_FILE, SUMMARY_FILE, REPORT_EXTRA_FILE, PER_CLASS_ACC_FILE,
                     CONFUSION_FILE, GALLERY_FILE, CURVES_LOSS_FILE, CURVES_ACC_FILE)

# --- record keys: metrics.jsonl (one per epoch) and train_steps.jsonl ----------------------
EPOCH = "epoch"                          # 1-based
STEP = "step"                            # global step (optimizer steps)
LR = "lr"
TRAIN_LOSS = "train_loss"                # the epoch's mean, accumulated in train mode
TRAIN_TOP1 = "train_top1"
VAL_PREFIX = "val_"
VAL_LOSS = "val_loss"                    # val_*: absent on epochs not evaluated
VAL_TOP1 = "val_top1"
VAL_TOP5 = "val_top5"
VAL_KEYS = (VAL_LOSS, VAL_TOP1, VAL_TOP5)
NB_SUFFIX = "_nb"                        # the notebook's definition (Metric.notebook_val)
EMA_SUFFIX = "_ema"                      # the EMA weights, evaluated alike (EMA.decay)
VAL_LOSS_NB, VAL_TOP1_NB, VAL_TOP5_NB = (k + NB_SUFFIX for k in VAL_KEYS)
VAL_LOSS_EMA, VAL_TOP1_EMA, VAL_TOP5_EMA = (k + EMA_SUFFIX for k in VAL_KEYS)
GRAD_CLIPPED_STEPS = "grad_clipped_steps"  # with Optimizer.grad_clip only
EPOCH_TIME_S = "epoch_time_s"
# train_steps.jsonl (with STEP, EPOCH, LR); also eval.json's loss and accuracies
LOSS = "loss"
TOP1 = "top1"
TOP5 = "top5"

# --- summary.json keys other modules read back ---------------------------------------------
FINISHED = "finished"
BEST_BY = "best_by"
BEST_VALUE = "best_value"
BEST_EPOCH = "best_epoch"
BEST_PREFIX = "best_"                    # best_<val key>: that key on the best epoch
BEST_VAL_TOP1 = BEST_PREFIX + VAL_TOP1
BEST_VAL_TOP1_NB = BEST_PREFIX + VAL_TOP1_NB
FINAL = "final"                          # the last epoch's train and val numbers
PARAMS = "params"
TRAINABLE_PARAMS = "trainable_params"
THROUGHPUT_IMG_S = "throughput_img_s"
WALL_TIME_S = "wall_time_s"                # this process only (a resumed run: its last session)
TRAIN_TIME_S = "train_time_s"              # every epoch of metrics.jsonl, earlier sessions included
DEVICE = "device"
VERSIONS = "versions"
MACHINE = "machine"
SEED = "seed"

# --- eval.json, per_class_acc.json and report_extra.json keys read back ----------------
CLASS_NAMES = "class_names"
PER_CLASS_ACC = "per_class_acc"
CHECKPOINT = "checkpoint"                # the weights evaluated
FLOPS = "flops"
FLOPS_NOT_COUNTED = "flops_not_counted"  # layer types of a user's module without a FLOPs rule


def epoch_checkpoint(epoch):
    """The checkpoint prefix name kept for ``epoch`` (``Global.keep_epoch_checkpoints``)."""
    return f"epoch_{epoch}"

"""The configuration schema: every section, key, type, default and meaning.

This table is what a YAML config may say. ``config.py`` validates against it (unknown keys
are errors with a "did you mean"), fills defaults, and ``docs/config.md`` is generated from /
checked against it. Fields are ``config_fields.Field``s.

The sections whose keys depend on a ``name`` are assembled from the registries that own
them (``config_fields.Choice``): ``Loss`` (``builders/losses.py``), ``Optimizer`` and its
``lr`` (``builders/optimizers.py``, ``builders/lr_schedules.py``) and ``DataLoader.dataset``
(``data/datasets.py``). Each entry declares its keys next to its builder, so a resolved
config holds the chosen entry's keys and no other's.

Two places are *open* and validated elsewhere, because their keys depend on a name:
``Arch`` (every key but ``name`` is a keyword argument of the model builder, checked
against its signature by ``paddle_repro.models.build_model``) and each transform entry
(checked by ``paddle_repro.data.transforms``).
"""
from .builders.losses import LOSS
from .builders.notebook_metrics import NOTEBOOK_VAL
from .builders.optimizers import OPTIMIZER
from .config_fields import NONE, NUM, REQUIRED, Choice, Field  # noqa: F401 - REQUIRED: config.py
from .data.datasets import DATASET
from .run_layout import VAL_TOP1, VAL_TOP1_EMA, VAL_TOP1_NB

GLOBAL = {
    "output_dir": Field((str,), "output/run", "Folder for config.yaml, metrics, logs, checkpoints."),
    "epochs": Field((int,), 1, "Number of training epochs."),
    "seed": Field((int,), 42, "Seeds paddle, numpy, random and loader workers."),
    "device": Field((str,), "auto", "gpu | cpu | auto. gpu without a GPU warns and uses cpu.",
                    ("gpu", "cpu", "auto")),
    "log_interval": Field((int,), 10, "Sample the train loss every N batches (notebooks: 10)."),
    "eval_interval": Field((int,), 1, "Evaluate every N epochs (and always after the last)."),
    "save_interval": Field((int,), 1, "Write the `latest` checkpoint every N epochs."),
    "checkpoint": Field((str, NONE), None, "Weights to load before training/eval/predict."),
    "resume": Field((str, NONE), None, "`auto` (latest in output_dir) or a checkpoint prefix."),
    "overwrite": Field((bool,), False, "Let a fresh run replace the run already in output_dir "
                       "(its files are removed first); otherwise that is refused."),
    "image_shape": Field((list,), [3, 32, 32], "C,H,W of one input: summary, FLOPs, throughput."),
    "to_static": Field((bool,), False, "Wrap the model in paddle.jit.to_static."),
    "amp": Field((str, NONE), None, "Automatic mixed precision on GPU: O1 | O2 | null.",
                 ("O1", "O2", None)),
    "throughput": Field((bool,), True, "Measure eval throughput (img/s) at the end of training."),
    "progress_bar": Field((bool,), True, "Show a tqdm bar on long loops (off when not a TTY)."),
    "keep_epoch_checkpoints": Field((bool,), False, "Also keep `epoch_<N>` weights+optimizer of "
                                    "every epoch (the NAM notebook's ModelCheckpoint(save_freq=1))."),
    # -- beyond the notebooks (strong recipes); the defaults change nothing --
    "update_freq": Field((int,), 1, "Gradient accumulation: one optimizer + schedule step per N "
                         "batches, loss scaled by 1/N (PaddleClas's update_freq)."),
    "amp_dtype": Field((str,), "float16", "Global.amp's dtype: float16 (loss scaling) | bfloat16 "
                       "(no scaling).", ("float16", "bfloat16")),
    # --- export / deploy (tools/export_model.py, tools/infer.py; paddle_repro/deploy) ---
    "save_inference_dir": Field((str, NONE), None, "tools/export_model.py: folder for the "
                                "inference program + inference.yml; null = <output_dir>/inference."),
    # --- end export / deploy ---
}

ARCH = {
    "name": Field((str,), REQUIRED, "Model registry key, e.g. alexnet_condconv, resnet50_nam."),
    # every other key: keyword argument of the builder (open section)
}

SPLIT = {
    "batch_size": Field((int,), 128, "Images per batch (per process under data parallel)."),
    "shuffle": Field((bool,), False, "Shuffle every epoch."),
    "drop_last": Field((bool,), False, "Drop the last incomplete batch."),
    "sampler": Field((str,), "random", "Shuffle order: random (paddle.io.DataLoader's "
                     "RandomSampler, global numpy RNG, reseeded every epoch from Global.seed) | "
                     "distributed (paddle.io.DistributedBatchSampler, which paddle.Model.fit used "
                     "even in one process, as notebook 003 ran: epoch e's order is "
                     "np.random.RandomState(e), the same for every Global.seed). Data parallel "
                     "always uses the distributed one.", ("random", "distributed")),
    "num_workers": Field((int,), 0, "Loader worker processes."),
    "transforms": Field((list,), [], "List of {Name: {kwargs}} applied in order to uint8 RGB HWC "
                        "images; must include ToTensor or ToArray; [] = ToTensor only."),
    "num_samples": Field((int, NONE), None, "Class-balanced subset of N images: each class's "
                         "images shuffled with a fixed RNG (seed 0, never Global.seed), classes "
                         "taken round-robin, so paired runs see the same images; null = all."),
    "pipeline": Field((str,), "paddle", "paddle (paddle.vision transforms + DataLoader, faithful) "
                      "| batched (numpy/cv2 batch path, faster).", ("paddle", "batched")),
    "mixup_alpha": Field(NUM, 0.0, "Train only: real batch mixup with Beta(alpha, alpha); "
                         "0 = off (the ACmix notebook's MixupImage was a no-op)."),
}

DATALOADER = {
    "dataset": DATASET,
    "Train": SPLIT,
    "Eval": SPLIT,
}

METRIC = {
    "topk": Field((list,), [1, 5], "Top-k accuracies to report."),
    # How the notebook computed its val numbers (builders/notebook_metrics.py): recorded as
    # val_*_nb beside the true per-sample metrics; null = record none.
    "notebook_val": Field((str, NONE), None, "batch_mean (000/002: mean of batch accuracies, "
                          "sum of batch-mean losses / n * batch) | paddle_model (003: "
                          "paddle.Model.evaluate) | mean_of_batches (004: means of batch "
                          "accuracies and batch-mean losses) | counts (correct / total).",
                          (*NOTEBOOK_VAL, None)),
    "best_by": Field((str,), VAL_TOP1, "Record that picks best_model (strictly greater wins, "
                     "as the notebooks): val_top1 (true top-1) | val_top1_nb (the notebook's) | "
                     "val_top1_ema (the EMA weights, saved as best_model).",
                     (VAL_TOP1, VAL_TOP1_NB, VAL_TOP1_EMA)),
}

EMA = {
    "decay": Field(NUM + (NONE,), None, "EMA of the weights (BN buffers included, as timm's "
                   "ModelEmaV2), updated after every optimizer step and evaluated every epoch "
                   "(val_*_ema); null = off. E.g. 0.9998."),
}

SCHEMA = {
    "Global": GLOBAL,
    "Arch": ARCH,
    "Loss": LOSS,
    "Optimizer": OPTIMIZER,
    "DataLoader": DATALOADER,
    "Metric": METRIC,
    "EMA": EMA,
}

OPEN_SECTIONS = {("Arch",)}  # key paths whose extra keys are validated elsewhere


def _fmt_default(field):
    if field.default is REQUIRED:
        return "**required**"
    if field.default is None:
        return "`null`"
    if isinstance(field.default, bool):
        return "`%s`" % str(field.default).lower()
    return "`%s`" % (field.default,)


def _fmt_types(field):
    names = ["null" if t is NONE else t.__name__ for t in field.types]
    if "int" in names and "float" in names:
        names = ["number"] + [n for n in names if n not in ("int", "float")]
    text = " \\| ".join(names)
    if field.choices:
        text += " (one of %s)" % ", ".join("null" if c is None else str(c) for c in field.choices)
    return text


def _row(path, key, field, only=None):
    doc = field.doc.replace("|", "\\|")
    if only:
        doc = "(`name`: %s) %s" % (", ".join(only), doc)
    return "| `%s.%s` | %s | %s | %s |" % (path, key, _fmt_types(field), _fmt_default(field), doc)


def markdown_tables():
    """The reference tables of docs/config.md, generated from SCHEMA (kept in sync by a test).

    Returns:
        str: one Markdown table per section, each key written as its full dotted path; in a
        section chosen by ``name``, a key read by some entries only says which.
    """
    blocks = []

    def section(path, node):
        rows = ["### `%s`" % path, "", "| key | type | default | meaning |", "| --- | --- | --- | --- |"]
        nested = []
        if isinstance(node, Choice):
            owned = [(k, f) for e in node.entries.values() for k, f in e.fields.items()]
            fields = list(node.keys_of(next(iter(node.entries))).items())[:1] + list(node.common.items())
            seen = set()
            for key, field in fields:
                if isinstance(field, (dict, Choice)):
                    nested.append((key, field))
                else:
                    rows.append(_row(path, key, field))
            for key, field in owned:
                if (key, id(field)) not in seen:
                    seen.add((key, id(field)))
                    rows.append(_row(path, key, field, [n for n, e in node.entries.items()
                                                        if e.fields.get(key) is field]))
        else:
            for key, field in node.items():
                if isinstance(field, (dict, Choice)):
                    nested.append((key, field))
                    continue
                rows.append(_row(path, key, field))
        if len(rows) > 4:
            blocks.append("\n".join(rows))
        for key, sub in nested:
            section("%s.%s" % (path, key), sub)

    for name, node in SCHEMA.items():
        section(name, node)
    return "\n\n".join(blocks) + "\n"

"""Input-pipeline speed of each recipe: images/s per loader worker, paddle vs batched path.

For each reproduction's training transforms (read from its config, so the benchmark follows
the configs) this times, in one process and interleaved (paddle, batched, paddle, ...):

* ``paddle``: the project's faithful path, ``build_loader`` with ``pipeline: paddle``
  (paddle.vision transforms per image + ``paddle.io.DataLoader``);
* ``batched``: ``pipeline: batched`` (``paddle_repro/data/batched/``);
* for the CondConv and ACmix recipes also the notebook's literal code path (seeds 000 and
  002): ``paddle.vision`` ``Compose`` (``ToTensor`` making a Paddle tensor per image) on
  ``paddle.vision.datasets.Cifar10`` (cv2 backend) + ``DataLoader``. The ACmix notebook's
  ``paddlex.transforms.MixupImage()`` is left out: on a bare image it returns the image
  unchanged (RECIPES.md), and paddlex is not a dependency. The NAM and ShuffleNetV2
  notebooks' loaders were not plain paddle.vision (PIL backend with their own classes;
  PyTorch), so they have no such row.

The target row of the issue compares ``batched`` with ``paddle``, the project's own
per-image path, which is already leaner than the notebooks' code (its ``ToTensor`` returns
an ndarray); the notebook column shows what a user of the notebook's code gains.

``--workers 0`` (default) measures one in-process worker: the images/s ONE loader worker
delivers. The recipe's loader has ``num_workers`` of them; at best it scales linearly, so
"recipe workers x per-worker rate" against the model's training images/s
(``bench_models``) says whether a run is input-bound on this machine. With ``--workers k``
(k > 0) each pass includes the loader's worker start-up (processes for ``paddle``, threads
for ``batched``), which a full 50,000-image epoch amortises; prefer workers 0 for rates.

Images: the real CIFAR-10 sample in ``../shared/data`` when present, else a synthetic
CIFAR-format archive; all recipes' inputs are 32x32 RGB, so the NAM (CIFAR-100) recipe is
timed on the same images.

Paddle and the package are imported inside functions on purpose: ``harness.configure_threads``
must set the thread and MKL variables before Paddle's first import (harness.py).
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for _p in (str(ROOT), str(ROOT / "benchmarks")):  # the package and the harness, from anywhere
    if _p not in sys.path:
        sys.path.insert(0, _p)

import harness  # noqa: E402
SAMPLE = ROOT.parent / "shared" / "data" / "cifar-10-python-exact-mini.tar.gz"

# (recipe, config, model key in bench_models for the training rate)
RECIPES = [
    ("condconv", "configs/condconv/alexnet_condconv.yaml", "alexnet_condconv"),
    ("acmix", "configs/acmix/alexnet_acmix.yaml", "alexnet_acmix"),
    ("nam", "configs/nam/resnet50_nam.yaml", "resnet50_nam"),
    ("shufflenetv2", "configs/shufflenetv2/x0_5.yaml", "shufflenetv2_x0_5"),
]


def data_file():
    """(path, description) of the CIFAR-10-format archive the benchmark reads."""
    if SAMPLE.is_file():
        return str(SAMPLE), "real CIFAR-10 sample (../shared/data)"
    from paddle_repro.data import write_synthetic_cifar
    path = Path(tempfile.gettempdir()) / "paddle_repro_bench" / "synthetic-cifar-10.tar.gz"
    if not path.is_file():
        write_synthetic_cifar(path, train_size=4096, test_size=256, seed=0)
    return str(path), "synthetic CIFAR-10-format archive"


def _epoch_rate(loader):
    """Images/s of one pass over ``loader`` (time to the last batch in hand)."""
    n, t0 = 0, time.perf_counter()
    for x, _ in loader:
        n += int(x.shape[0])
    return n / (time.perf_counter() - t0)


def notebook_train_transforms(recipe):
    """The train ``Compose`` of seed 000 (condconv) or 002 (acmix), as written there (less
    002's no-op paddlex MixupImage); None for recipes whose notebook loader was not this."""
    import paddle.vision.transforms as T
    if recipe == "condconv":
        return T.Compose([T.Resize((130, 130)), T.RandomResizedCrop(128),
                          T.RandomHorizontalFlip(0.5), T.ToTensor(),
                          T.Normalize(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))])
    if recipe == "acmix":
        return T.Compose([T.Resize((130, 130)),
                          T.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2),
                          T.RandomResizedCrop(128, scale=(0.6, 1.0)),
                          T.RandomHorizontalFlip(0.5), T.RandomRotation(20), T.ToTensor(),
                          T.Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))])
    return None


def notebook_loader(tfm, path, batch_size, num_workers, num_samples):
    """A notebook's train loader, literally: ``tfm`` on Cifar10(cv2) + DataLoader."""
    import paddle
    ds = paddle.vision.datasets.Cifar10(data_file=path, mode="train", transform=tfm,
                                        backend="cv2", download=False)
    ds = paddle.io.Subset(ds, list(range(min(num_samples, len(ds)))))
    return paddle.io.DataLoader(ds, batch_size=batch_size, shuffle=True, drop_last=True,
                                num_workers=num_workers)


def bench_recipe(recipe, cfg_path, workers, num_samples, repeats, path):
    """One row: per-worker images/s of each path for a recipe's training transforms."""
    from paddle_repro.config import load_config
    from paddle_repro.data import build_loader
    cfg = load_config(str(ROOT / cfg_path))
    dl = cfg["DataLoader"]
    dataset_cfg = dict(dl["dataset"], name="cifar10", data_file=path, allow_unofficial=True)
    split = dict(dl["Train"], num_workers=workers, num_samples=num_samples)
    loaders = {"paddle": build_loader(dataset_cfg, split, "train", seed=0),
               "batched": build_loader(dataset_cfg, dict(split, pipeline="batched"), "train", 0)}
    tfm = notebook_train_transforms(recipe)
    if tfm is not None:
        loaders["notebook"] = notebook_loader(tfm, path, split["batch_size"], workers,
                                              num_samples)
    for loader in loaders.values():  # warm-up pass: file cache, LUTs, first-touch memory
        _epoch_rate(loader)
    rates = {k: [] for k in loaders}
    for _ in range(repeats):
        for k, loader in loaders.items():
            rates[k].append(_epoch_rate(loader))
    row = {"recipe": recipe, "config": cfg_path, "batch_size": split["batch_size"],
           "workers_timed": workers, "recipe_workers": dl["Train"]["num_workers"],
           "transforms": [next(iter(e)) if isinstance(e, dict) else e
                          for e in dl["Train"]["transforms"]]}
    for k, r in rates.items():
        row[f"{k}_img_s"] = float(np.median(r))
    # Ratios per round (passes run back to back), then their median: this VM's speed drifts
    # by up to ~1.5x over seconds, which a ratio of two separate medians would carry.
    row["speedup"], (row["speedup_min"], row["speedup_max"]) = harness.median_of_ratios(
        rates["batched"], rates["paddle"])
    if "notebook" in rates:
        row["speedup_vs_notebook"] = harness.median_of_ratios(rates["batched"],
                                                              rates["notebook"])[0]
    return row


def run(quick=False, workers=(0,), model_rates=None, log=print):
    """Rows for every recipe and worker count; ``model_rates``: {model key: train img/s}."""
    path, source = data_file()
    num_samples = 2048 if quick else 4096
    repeats = 5 if quick else 9
    out = {"data": source, "num_samples": num_samples, "rows": []}
    for recipe, cfg_path, model_key in RECIPES:
        for w in workers:
            row = bench_recipe(recipe, cfg_path, w, num_samples, repeats, path)
            if model_rates and model_key in model_rates:
                row["model"], row["model_train_img_s"] = model_key, model_rates[model_key]
            out["rows"].append(row)
            log(f"{recipe} (workers={w}): paddle {row['paddle_img_s']:.0f}, batched "
                f"{row['batched_img_s']:.0f} img/s ({row['speedup']:.2f}x)")
    return out


def _spread(row):
    """The " (lo-hi)" of the per-round ratios, when the row has them (older JSON does not)."""
    if "speedup_min" not in row:
        return ""
    return f" ({row['speedup_min']:.2f}-{row['speedup_max']:.2f})"


def markdown(res):
    """Tables for benchmarks/RESULTS.md."""
    lines = [f"Images: {res['data']}, {res['num_samples']} per pass; rates are medians of "
             f"passes; ratios are medians of the per-round ratios (each round runs every path "
             f"once, back to back), with their min-max.", "",
             "| recipe | batch | workers timed | paddle path img/s | batched img/s | "
             "batched / paddle (min-max) | notebook code img/s | batched / notebook |",
             "|---|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        nb = (f"{r['notebook_img_s']:.0f} | {r['speedup_vs_notebook']:.2f}x"
              if "notebook_img_s" in r else "- | -")
        lines.append(f"| {r['recipe']} | {r['batch_size']} | {r['workers_timed'] or 'in-process'} "
                     f"| {r['paddle_img_s']:.0f} | {r['batched_img_s']:.0f} | "
                     f"{r['speedup']:.2f}x{_spread(r)} | {nb} |")
    rated = [r for r in res["rows"] if "model_train_img_s" in r and r["workers_timed"] == 0]
    if rated:
        lines += ["", "Input-bound check (this CPU): can the recipe's loader, at best "
                  "`recipe workers x per-worker rate`, feed the model's training step?", "",
                  "| recipe | model train img/s | per-worker paddle / batched img/s | recipe "
                  "workers | workers needed (paddle / batched) | verdict |",
                  "|---|---|---|---|---|---|"]
        for r in rated:
            need_p = r["model_train_img_s"] / r["paddle_img_s"]
            need_b = r["model_train_img_s"] / r["batched_img_s"]
            verdict = ("compute-bound either way" if need_p <= r["recipe_workers"]
                       else "input-bound with the paddle path")
            lines.append(f"| {r['recipe']} | {r['model_train_img_s']:.1f} | "
                         f"{r['paddle_img_s']:.0f} / {r['batched_img_s']:.0f} | "
                         f"{r['recipe_workers']} | {need_p:.2f} / {need_b:.2f} | {verdict} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--workers", default="0", help="comma-separated loader worker counts")
    p.add_argument("--json", help="also write the results to this JSON file")
    harness.add_machine_args(p)
    args = p.parse_args(argv)
    harness.configure_threads(args.threads, args.stock_mkl, args.stock_malloc)  # the same set-up as the tools
    res = run(args.quick, [int(w) for w in args.workers.split(",")])
    res["env"] = harness.environment()
    print(harness.format_header(res["env"]))
    print(markdown(res))
    harness.write_json(args.json, res)


if __name__ == "__main__":
    main()

"""Every reproduction config loads strictly, says what RECIPES.md says, and trains at toy scale."""
import glob
import math
import os

import numpy as np
import paddle
import pytest

from paddle_repro.config import load_config

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
REPROS = ("condconv", "acmix", "nam", "shufflenetv2")
CONFIGS = sorted(p for r in REPROS for p in glob.glob(os.path.join(ROOT, "configs", r, "*.yaml"))
                 if not os.path.basename(p).startswith(("_", "table")))


def cfg_of(repro, name, overrides=()):
    return load_config(os.path.join(ROOT, "configs", repro, name + ".yaml"), list(overrides))


def test_all_reproduction_configs_are_found():
    names = {os.path.relpath(p, os.path.join(ROOT, "configs")) for p in CONFIGS}
    assert {"condconv/alexnet_condconv.yaml", "condconv/alexnet_bn.yaml", "acmix/alexnet_acmix.yaml",
            "acmix/alexnet.yaml", "acmix/alexnet_acmix_mixup.yaml", "acmix/alexnet_mixup.yaml",
            "nam/resnet50_nam.yaml", "nam/resnet50_imagenet.yaml", "nam/resnet50_fair.yaml",
            "nam/resnet50_nam_sparsity.yaml", "shufflenetv2/x0_5.yaml", "shufflenetv2/x1_0.yaml",
            "shufflenetv2/x1_5.yaml", "shufflenetv2/x2_0.yaml"} <= names


def _diff(a, b, prefix=""):
    if isinstance(a, dict) and isinstance(b, dict):
        return {k for key in set(a) | set(b) for k in _diff(a.get(key), b.get(key), f"{prefix}{key}.")}
    return set() if a == b else {prefix[:-1]}


@pytest.mark.parametrize("repro, with_, without, allowed", [
    ("condconv", "alexnet_condconv", "alexnet_bn", {"Arch.name"}),
    ("acmix", "alexnet_acmix", "alexnet", {"Arch.name"}),
    ("acmix", "alexnet_acmix_mixup", "alexnet_mixup", {"Arch.name"}),
    ("acmix", "alexnet_acmix", "alexnet_acmix_mixup", {"DataLoader.Train.mixup_alpha"}),
    ("nam", "resnet50_nam", "resnet50_fair", {"Arch.name"}),
    ("nam", "resnet50_nam", "resnet50_imagenet", {"Arch.name", "Arch.num_classes"}),
    ("nam", "resnet50_nam", "resnet50_nam_sparsity", {"Arch.nam_lambda"}),
    # strong-recipe tables (table_strong.yaml): the same discipline
    ("condconv", "strong_alexnet_condconv", "strong_alexnet_bn", {"Arch.name"}),
    ("acmix", "strong_alexnet_acmix", "strong_alexnet", {"Arch.name"}),
    ("nam", "strong_resnet50_nam", "strong_resnet50", {"Arch.name"}),
    ("nam", "strong_resnet50_nam", "strong_resnet50_nam_sparsity", {"Arch.nam_lambda"}),
    ("shufflenetv2", "strong_x0_5", "strong_x1_0", {"Arch.name"}),
])
def test_pairs_differ_only_where_the_paper_needs(repro, with_, without, allowed):
    diff = _diff(cfg_of(repro, with_), cfg_of(repro, without)) - {"Global.output_dir"}
    assert diff == allowed


def test_condconv_recipe():
    c = cfg_of("condconv", "alexnet_condconv")
    assert c["Global"]["epochs"] == 100 and c["Global"]["seed"] == 42
    assert c["Global"]["image_shape"] == [3, 128, 128] and c["Global"]["device"] == "gpu"
    assert c["Loss"] == {"name": "label_smoothing", "smoothing": 0.1}
    o = c["Optimizer"]
    assert (o["name"], o["weight_decay"]) == ("sgd", 1e-5)
    assert {k: o["lr"][k] for k in ("name", "learning_rate", "milestones", "gamma", "by")} == {
        "name": "multistep", "learning_rate": 0.1, "milestones": [30, 60, 90], "gamma": 0.1, "by": "epoch"}
    t, e = c["DataLoader"]["Train"], c["DataLoader"]["Eval"]
    assert (t["batch_size"], t["shuffle"], t["drop_last"], t["num_workers"]) == (512, True, True, 4)
    assert (e["batch_size"], e["shuffle"], e["drop_last"], e["num_workers"]) == (512, False, False, 4)
    assert [list(x)[0] for x in t["transforms"]] == ["Resize", "RandomResizedCrop",
                                                     "RandomHorizontalFlip", "ToTensor", "Normalize"]


def test_acmix_recipe():
    c = cfg_of("acmix", "alexnet_acmix")
    assert c["Global"]["epochs"] == 50
    o = c["Optimizer"]
    assert (o["name"], o["weight_decay"]) == ("adam", 1e-5)
    assert (o["lr"]["name"], o["lr"]["learning_rate"], o["lr"]["by"]) == ("cosine", 0.001, "step")
    assert o["lr"]["T_max"] == 50000 // 128 * 50 == 19500
    t = c["DataLoader"]["Train"]
    assert (t["batch_size"], t["drop_last"], t["num_workers"], t["mixup_alpha"]) == (128, True, 2, 0.0)
    names = [list(x)[0] for x in t["transforms"]]
    assert names[:4] == ["Resize", "ColorJitter", "MixupImage", "RandomResizedCrop"]
    assert t["transforms"][3]["RandomResizedCrop"]["scale"] == [0.6, 1.0]
    assert cfg_of("acmix", "alexnet_acmix_mixup")["DataLoader"]["Train"]["mixup_alpha"] == 1.5


def test_nam_recipe():
    c = cfg_of("nam", "resnet50_nam")
    assert c["Global"]["epochs"] == 90 and c["Global"]["image_shape"] == [3, 32, 32]
    lr = c["Optimizer"]["lr"]
    assert (lr["name"], lr["learning_rate"], lr["T_max"], lr["by"]) == ("cosine", 0.01, 90, "epoch")
    assert (lr["warmup_steps"], lr["warmup_start_lr"]) == (2000, 0.0)
    assert (c["Optimizer"]["name"], c["Optimizer"]["momentum"], c["Optimizer"]["weight_decay"]) == (
        "momentum", 0.9, 5e-4)
    assert c["Loss"]["name"] == "cross_entropy" and c["DataLoader"]["dataset"]["name"] == "cifar100"
    assert c["DataLoader"]["Train"]["batch_size"] == 256 and not c["DataLoader"]["Train"]["drop_last"]
    assert cfg_of("nam", "resnet50_imagenet")["Arch"] == {"name": "resnet50_imagenet", "num_classes": 1000}
    assert cfg_of("nam", "resnet50_nam_sparsity")["Arch"]["nam_lambda"] == 1e-4


def test_shufflenet_recipe_is_the_executed_notebooks():
    # seeds/004_executed_notebook_cells.txt: optim.Adam(lr=1e-1), no augmentation, shuffled
    # drop_last test loader, ReduceLROnPlateau on the train loss, 20 epochs.
    for width in ("x0_5", "x1_0", "x1_5", "x2_0"):
        c = cfg_of("shufflenetv2", width)
        lr = c["Optimizer"]["lr"]
        assert (lr["name"], lr["metric"], lr["factor"], lr["patience"], lr["min_lr"]) == (
            "plateau", "train_loss", 0.94, 1, 1e-6)
        assert (lr["threshold"], lr["cooldown"], lr["learning_rate"]) == (1e-4, 0, 0.1)
        opt = c["Optimizer"]
        assert (opt["name"], opt["beta1"], opt["beta2"], opt["epsilon"], opt["weight_decay"]) == (
            "adam", 0.9, 0.999, 1e-8, 0.0)
        assert c["Loss"]["name"] == "torch_cross_entropy" and c["Global"]["epochs"] == 20
        train, test = c["DataLoader"]["Train"], c["DataLoader"]["Eval"]
        assert [list(t) for t in train["transforms"]] == [["ToTensor"], ["Normalize"]]
        assert (train["batch_size"], train["shuffle"], train["drop_last"]) == (128, True, True)
        assert (test["batch_size"], test["shuffle"], test["drop_last"]) == (128, True, True)
        assert c["Metric"]["notebook_val"] == "mean_of_batches"


def test_shufflenet_blog_variant_is_the_blogs_code():
    c = cfg_of("shufflenetv2", "x0_5_blog")
    opt = c["Optimizer"]
    assert (opt["name"], opt["momentum"], opt["weight_decay"], opt["use_nesterov"]) == (
        "momentum", 0.9, 5e-4, False)
    assert [list(t)[0] for t in c["DataLoader"]["Train"]["transforms"]] == [
        "RandomCrop", "RandomHorizontalFlip", "ToTensor", "Normalize"]
    assert c["DataLoader"]["Eval"]["shuffle"] is False
    assert c["Optimizer"]["lr"] == cfg_of("shufflenetv2", "x0_5")["Optimizer"]["lr"]


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp("synthetic"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: os.path.relpath(p, os.path.join(ROOT, "configs")))
def test_config_trains_two_steps_at_toy_scale(path, synthetic_root):
    """The config's own transforms/model/loss/optimizer/schedule, on 4 synthetic images."""
    from paddle_repro.data import build_dataset, build_loader
    from paddle_repro.builders.losses import build_loss
    from paddle_repro.builders.lr_schedules import build_lr
    from paddle_repro.builders.optimizers import build_optimizer
    from paddle_repro.models import build_model_from_config
    classes = 100 if load_config(path)["DataLoader"]["dataset"]["name"] == "cifar100" else 10
    cfg = load_config(path, [
        "DataLoader.dataset.name=synthetic", f"DataLoader.dataset.root={synthetic_root}/{classes}",
        f"DataLoader.dataset.num_classes={classes}", "DataLoader.dataset.train_size=100",
        "DataLoader.dataset.test_size=50", "DataLoader.Train.num_samples=4",
        "DataLoader.Train.batch_size=2", "DataLoader.Train.num_workers=0",
        "DataLoader.Eval.num_samples=2", "DataLoader.Eval.num_workers=0"])
    dl = cfg["DataLoader"]
    image, _ = build_dataset(dl["dataset"], dl["Eval"], "test")[0]
    assert list(np.asarray(image).shape) == cfg["Global"]["image_shape"]
    paddle.seed(0)
    loader = build_loader(dl["dataset"], dl["Train"], "train", seed=0)
    model = build_model_from_config(cfg)
    loss_fn = build_loss(cfg["Loss"])
    lr = build_lr(cfg["Optimizer"]["lr"], cfg["Global"]["epochs"], len(loader))
    opt = build_optimizer(cfg["Optimizer"], model.parameters(), lr.scheduler)
    model.train()
    steps = 0
    for images, labels in loader:
        assert list(images.shape[1:]) == cfg["Global"]["image_shape"]
        logits = model(images)
        assert logits.shape[-1] == cfg["Arch"]["num_classes"]
        loss = loss_fn(logits, labels)
        reg = getattr(model, "regularization_loss", lambda: None)()
        if reg is not None:
            loss = loss + reg
        loss.backward()
        opt.step()
        opt.clear_grad()
        lr.after_step()
        assert math.isfinite(float(loss))
        steps += 1
    assert steps == 2

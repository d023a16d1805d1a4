"""oneDNN in the exported predictor: same logits as without it and as dygraph, per family.

Tolerance: |logits - dygraph logits| <= ``onednn.RTOL`` (1e-4) of the dygraph logits' largest
magnitude, at batch 1 and 3. oneDNN sums in another order than the plain kernels and fuses
conv+BN(+ReLU), so it is not bit-identical; Paddle 3.3.1 and 2.6.2 measured <= 3e-6 for
every family.
BatchNorm statistics and affines are randomised first (a fresh BN is the identity, which
would leave the conv+BN fusion untested). Inputs are the smallest each network takes:
AlexNets need 128x128 (their classifier reads 3x3x128 features), ShuffleNetV2 32x32 (its
final 4x4 pool), ResNet50-NAM runs at 16x16. Also: the export's choice is recorded in
inference.yml and read back, an older inference.yml without it works, the tools' flags
override it, and ``tools/infer.py``'s batches give the results of batch 1.
"""
import json
import os

import cv2
import numpy as np
import paddle
import pytest
import yaml

from paddle_repro.deploy import InferenceModelError, onednn
from paddle_repro.deploy.export import choose_onednn, export_model, save_program
from paddle_repro.deploy.files import META_FILE, PARAMS_FILE
from paddle_repro.deploy.meta import build_meta, read_meta, sha256_of, write_meta
from paddle_repro.deploy.predictor import InferenceModel
from paddle_repro.models import build_model
from test_export import _demo_cfg, _demo_checkpoint  # the demo config, a random checkpoint

FAMILIES = [  # (registry name, input [C, H, W]): one per model family of the suite
    ("shufflenetv2_x0_5", (3, 32, 32)),
    ("alexnet_bn", (3, 128, 128)),
    ("alexnet_condconv", (3, 128, 128)),
    ("alexnet_acmix", (3, 128, 128)),
    ("resnet50_nam", (3, 16, 16)),
]
DEMO_TRANSFORMS = [{"ToTensor": None}, {"Normalize": {"mean": [0.5] * 3, "std": [0.5] * 3}}]


def _randomise_bn(model, seed=0):
    """Non-trivial running statistics and affines in every BatchNorm (in place)."""
    rng = np.random.RandomState(seed)
    for layer in model.sublayers():
        if isinstance(layer, (paddle.nn.BatchNorm2D, paddle.nn.BatchNorm1D)):
            c = layer.weight.shape[0]
            layer._mean.set_value(rng.normal(0, 0.2, c).astype("float32"))
            layer._variance.set_value(rng.uniform(0.5, 2.0, c).astype("float32"))
            layer.weight.set_value(rng.uniform(0.5, 1.5, c).astype("float32"))
            layer.bias.set_value(rng.normal(0, 0.2, c).astype("float32"))


def _export(folder, name, shape, predictor=None, transforms=()):
    """A random-init ``name`` saved to ``folder``; returns the dygraph model (eval mode)."""
    paddle.seed(0)
    model = build_model(name, num_classes=10)
    _randomise_bn(model)
    model.eval()
    program = save_program(model, str(folder), shape)
    write_meta(str(folder), build_meta(name, "0" * 64, os.path.basename(program), shape,
                                       list(transforms), [f"c{i}" for i in range(10)],
                                       params_sha256=sha256_of(os.path.join(folder, PARAMS_FILE)),
                                       predictor=predictor))
    return model


def _dygraph(model, x):
    with paddle.no_grad():
        return model(paddle.to_tensor(x)).numpy()


@pytest.mark.parametrize("name,shape", FAMILIES, ids=[f[0] for f in FAMILIES])
def test_onednn_equals_plain_and_dygraph(name, shape, tmp_path):
    model = _export(tmp_path, name, shape)
    probe = np.random.RandomState(0).rand(2, *shape).astype("float32")
    section = choose_onednn(str(tmp_path), name, probe, _dygraph(model, probe))
    # every family passes on the Paddle versions checked; if one stops passing, record it in
    # onednn.KNOWN_OFF and docs/deploy.md with the version and the error
    assert section["onednn"], section["onednn_note"]
    on, off = InferenceModel(str(tmp_path), onednn=True), InferenceModel(str(tmp_path), onednn=False)
    assert on.onednn and not off.onednn
    for batch in (1, 3):
        x = np.random.RandomState(10 + batch).rand(batch, *shape).astype("float32")
        ref = _dygraph(model, x)
        got_on, got_off = on.logits(x), off.logits(x)
        assert onednn.relative_error(got_on, ref) <= onednn.RTOL
        assert onednn.relative_error(got_on, got_off) <= onednn.RTOL
        assert onednn.relative_error(got_off, ref) <= 1e-5  # the plain program: tests/test_export.py


def test_recorded_choice_and_overrides(tmp_path):
    name, shape = "shufflenetv2_x0_5", (3, 32, 32)
    _export(tmp_path, name, shape, predictor=onednn.predictor_section(False, "off: a reason"))
    assert InferenceModel(str(tmp_path)).onednn is False  # the recorded choice
    assert InferenceModel(str(tmp_path), onednn=True).onednn is True  # the caller's override
    meta = read_meta(str(tmp_path))
    del meta["Predictor"]  # an inference.yml written before the key existed
    write_meta(str(tmp_path), meta)
    old = InferenceModel(str(tmp_path))
    assert old.onednn is onednn.DEFAULT_ON and "no Predictor.onednn" in old.onednn_note
    assert old.logits(np.zeros((2,) + shape, "float32")).shape == (2, 10)
    meta["Predictor"] = {"onednn": "yes"}
    write_meta(str(tmp_path), meta)
    with pytest.raises(InferenceModelError, match="Predictor.onednn must be true or false"):
        InferenceModel(str(tmp_path))


def test_a_failing_onednn_predictor_is_recorded_off(tmp_path, monkeypatch):
    name, shape = "alexnet_bn", (3, 128, 128)
    model = _export(tmp_path, name, shape)
    probe = np.random.RandomState(0).rand(2, *shape).astype("float32")
    reference = _dygraph(model, probe)
    real = InferenceModel.logits

    def broken(self, x):
        if self.onednn:
            raise RuntimeError("(PreconditionNotMet) a oneDNN primitive failed\n  [stack]")
        return real(self, x)
    monkeypatch.setattr(InferenceModel, "logits", broken)
    section = choose_onednn(str(tmp_path), name, probe, reference)
    assert section["onednn"] is False and "a oneDNN primitive failed" in section["onednn_note"]
    monkeypatch.undo()
    wrong = choose_onednn(str(tmp_path), name, probe, reference * 1.01)  # 1% off: not rounding
    assert wrong["onednn"] is False and "differ" in wrong["onednn_note"]
    monkeypatch.setattr(onednn, "KNOWN_OFF", {name: "off: known bad"})
    assert choose_onednn(str(tmp_path), name, probe, reference)["onednn_note"] == "off: known bad"


def test_export_records_the_choice(tmp_path):
    cfg = _demo_cfg(tmp_path, **{"Global.checkpoint": _demo_checkpoint(tmp_path)})
    out = export_model(cfg)
    with open(os.path.join(out["folder"], META_FILE), encoding="utf-8") as f:
        recorded = yaml.safe_load(f)["Predictor"]
    assert recorded == out["predictor"] and recorded["onednn"] is True
    assert recorded["onednn_note"].startswith("on: oneDNN logits equal")
    assert InferenceModel(out["folder"]).onednn is True
    forced = export_model(cfg, onednn="off")
    assert forced["predictor"]["onednn"] is False
    assert InferenceModel(out["folder"]).onednn is False


def _images(folder, n):
    rng = np.random.RandomState(0)
    paths = []
    for i in range(n):
        paths.append(str(folder / f"img_{i:02d}.png"))
        cv2.imwrite(paths[-1], rng.randint(0, 256, (32, 32, 3), dtype=np.uint8))
    return paths


@pytest.mark.parametrize("flag", ["--onednn", "--no-onednn"])
def test_infer_batches_give_the_results_of_batch_one(flag, tmp_path):
    from tools.infer import main as infer_main  # here: importing a tool runs its start-up lines
    model_dir = tmp_path / "model"
    _export(model_dir, "shufflenetv2_x0_5", (3, 32, 32), transforms=DEMO_TRANSFORMS)
    images = tmp_path / "images"
    images.mkdir()
    _images(images, 11)
    results = {}
    for batch in (1, 4, 16):  # 4: a last batch of 3; 16: one batch larger than the folder
        out = tmp_path / f"b{batch}.json"
        infer_main(["--model_dir", str(model_dir), "--input", str(images), "--topk", "3",
                    "--batch_size", str(batch), "--output", str(out), flag])
        results[batch] = json.loads(out.read_text())
    one = results[1]
    assert len(one) == 11
    for batch in (4, 16):
        assert [r["image"] for r in results[batch]] == [r["image"] for r in one]
        for a, b in zip(results[batch], one):
            assert [t["class_id"] for t in a["topk"]] == [t["class_id"] for t in b["topk"]]
            np.testing.assert_allclose([t["prob"] for t in a["topk"]],
                                       [t["prob"] for t in b["topk"]], rtol=1e-5)

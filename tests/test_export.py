"""Export + Paddle Inference: predictor logits equal dygraph eval logits, for every model.

rtol 1e-5 holds for every model (atol 1e-5 of the logits' scale, because random-init
ShuffleNets give logits ~1e-4): most programs match dygraph bit for bit; CondConv's export
formulation (per_expert) differs from the notebook's grouped conv by float rounding (~1e-6).
Models 101/152 layers deep are marked ``heavy`` and run with PADDLE_REPRO_HEAVY_TESTS=1.
"""
import json
import os

import cv2
import numpy as np
import paddle
import pytest

from paddle_repro.cli.infer import main as infer_main
from paddle_repro.config import load_config
from paddle_repro.data import build_dataset
from paddle_repro.deploy import ExportError, InferenceModelError
from paddle_repro.deploy.export import export_model, save_program
from paddle_repro.deploy.meta import build_meta, write_meta
from paddle_repro.deploy.predictor import InferenceModel, load_image
from paddle_repro.engine.eval_run import run_eval
from paddle_repro.inference.model import build_trained_model
from paddle_repro.models import MODELS, WeightsError, build_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMOKE = {"alexnet_condconv", "alexnet_acmix", "resnet18_nam", "shufflenetv2_x0_5"}  # one per family + traps
HEAVY = {n for n in MODELS.builtin() if "101" in n or "152" in n}
heavy_skip = pytest.mark.skipif(not os.environ.get("PADDLE_REPRO_HEAVY_TESTS"),
                                reason="101/152-layer ResNets: set PADDLE_REPRO_HEAVY_TESTS=1")


def _shape(name):
    if name.startswith("alexnet"):
        return (3, 128, 128)  # the classifier expects 3x3x128 features
    return (3, 64, 64) if name == "resnet50_imagenet" else (3, 32, 32)


def _params():
    out = []
    for n in MODELS.builtin():  # the package's models: a user's registered ones are theirs
        marks = [pytest.mark.smoke] if n in SMOKE else []
        marks += [heavy_skip] if n in HEAVY else []
        out.append(pytest.param(n, marks=marks))
    return out


def _export(model, folder, name, shape):
    program = save_program(model, folder, shape)
    write_meta(folder, build_meta(name, "0" * 64, os.path.basename(program), shape, [],
                                  [str(i) for i in range(10)]))
    return InferenceModel(str(folder), onednn=False)  # the plain kernels; oneDNN: test_onednn.py


@pytest.mark.parametrize("name", _params())
def test_predictor_equals_dygraph_eval(name, tmp_path):
    paddle.seed(0)
    model = build_model(name, num_classes=10)
    model.eval()
    shape = _shape(name)
    predictor = _export(model, tmp_path, name, shape)
    for batch in (1, 7):  # one program, two batch sizes: the batch is not baked in
        x = np.random.RandomState(batch).rand(batch, *shape).astype("float32")
        with paddle.no_grad():
            ref = model(paddle.to_tensor(x)).numpy()
        got = predictor.logits(x)
        assert got.shape == ref.shape
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())
    if name.startswith("alexnet_condconv"):  # export must not change the dygraph layer
        assert all(getattr(l, "impl", "auto") == "auto" for l in model.sublayers())


@pytest.mark.smoke
def test_acmix_other_size_is_a_clear_error(tmp_path):
    model = build_model("alexnet_acmix", num_classes=10)
    predictor = _export(model, tmp_path, "alexnet_acmix", (3, 128, 128))
    with pytest.raises(InferenceModelError, match=r"exported for inputs \[N, 3, 128, 128\]"):
        predictor.logits(np.zeros((1, 3, 96, 96), "float32"))


def _demo_cfg(tmp_path, **extra):
    over = [f"Global.output_dir={tmp_path}/run", f"DataLoader.dataset.root={tmp_path}/data",
            "DataLoader.dataset.test_size=40", "Global.throughput=false"]
    over += [f"{k}={v}" for k, v in extra.items()]
    return load_config(os.path.join(ROOT, "configs/demo/synthetic_quick.yaml"), over)


def _demo_checkpoint(tmp_path, name="shufflenetv2_x0_5", seed=0):
    paddle.seed(seed)
    path = str(tmp_path / f"{name}_{seed}.pdparams")
    paddle.save(build_model(name, num_classes=10).state_dict(), path)
    return path


@pytest.mark.smoke
def test_demo_export_then_infer_equals_eval(tmp_path):
    cfg = _demo_cfg(tmp_path, **{"Global.checkpoint": _demo_checkpoint(tmp_path)})
    out = export_model(cfg)
    assert out["max_abs_diff"] < 1e-4
    ds = build_dataset(cfg["DataLoader"]["dataset"], cfg["DataLoader"]["Eval"], "test")
    images = ds.raw_images(range(len(ds)))
    paths = []
    for i, img in enumerate(images):  # the Eval images as PNG files: same pixels
        paths.append(str(tmp_path / f"img_{i:03d}.png"))
        cv2.imwrite(paths[-1], cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(os.path.basename(p) for p in paths) + "\n")
    infer_main(["--model_dir", out["folder"], "--input", str(listing), "--topk", "3",
                "--batch_size", "7", "--output", str(tmp_path / "preds.json")])
    preds = json.loads((tmp_path / "preds.json").read_text())
    assert [p["image"] for p in preds] == paths and len(preds[0]["topk"]) == 3
    predictor = InferenceModel(out["folder"])
    for i in (0, len(ds) - 1):  # preprocessing: file path == eval's dataset path, exactly
        np.testing.assert_array_equal(predictor.preprocess(load_image(paths[i])), ds[i][0])
    model = build_trained_model(cfg, cfg["Global"]["checkpoint"])
    with paddle.no_grad():
        dy_top1 = model(paddle.to_tensor(np.stack([ds[i][0] for i in range(len(ds))]))).argmax(1).numpy()
    assert [p["topk"][0]["class_id"] for p in preds] == dy_top1.tolist()
    acc = np.mean(np.asarray([p["topk"][0]["class_id"] for p in preds]) == ds.labels)
    assert acc == pytest.approx(run_eval(cfg, write=False)["top1"])
    assert preds[0]["topk"][0]["class_name"] == ds.class_names[preds[0]["topk"][0]["class_id"]]


def test_export_refuses_a_folder_holding_another_model(tmp_path):
    cfg = _demo_cfg(tmp_path, **{"Global.checkpoint": _demo_checkpoint(tmp_path)})
    folder = export_model(cfg, verify=False)["folder"]
    before = {n: os.path.getmtime(os.path.join(folder, n)) for n in os.listdir(folder)}
    export_model(cfg, verify=False)  # the same model again: allowed
    other = _demo_cfg(tmp_path, **{"Global.checkpoint": _demo_checkpoint(tmp_path, seed=1)})
    with pytest.raises(ExportError, match="already holds an exported 'shufflenetv2_x0_5'"):
        export_model(other, verify=False)
    assert set(os.listdir(folder)) == set(before)


def test_export_errors_wrong_arch_and_image_shape(tmp_path):
    cfg = _demo_cfg(tmp_path, **{"Global.checkpoint": _demo_checkpoint(tmp_path, "resnet18")})
    with pytest.raises(WeightsError):
        export_model(cfg, verify=False)
    cfg = _demo_cfg(tmp_path, **{"Global.checkpoint": _demo_checkpoint(tmp_path),
                                 "Global.image_shape": "[3,64,64]"})
    with pytest.raises(ExportError, match=r"Set -o Global.image_shape=\[3,32,32\]"):
        export_model(cfg, verify=False)
    assert not os.path.exists(tmp_path / "run" / "inference")


def test_onnx_round_trip_or_clean_skip(tmp_path):
    pytest.importorskip("paddle2onnx", reason="the [onnx] extra is not installed")
    pytest.importorskip("onnxruntime", reason="the [onnx] extra is not installed")
    from paddle_repro.deploy.onnx import convert  # after the importorskips: needs the [onnx] extra
    cfg = _demo_cfg(tmp_path, **{"Global.checkpoint": _demo_checkpoint(tmp_path)})
    folder = export_model(cfg, verify=False)["folder"]
    res = convert(folder)
    assert os.path.isfile(res["path"]) and res["max_abs_diff"] < 1e-4

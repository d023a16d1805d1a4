"""Two-process data parallel on CPU (gloo): rank-0-only files, eval counted exactly once
(both input pipelines)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import paddle
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NORM = {"Normalize": {"mean": [0.5] * 3, "std": [0.5] * 3}}


def _launch(tmp_path, script_args):
    """Runs ``script_args`` in 2 CPU processes (gloo); fails with the worker logs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PADDLE_", "FLAGS_selected"))}
    env.update(OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    env.pop("CUDA_VISIBLE_DEVICES")  # paddle's launcher trips on an empty value
    cmd = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2",
           "--log_dir", str(tmp_path / "log"), *script_args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240, cwd=str(tmp_path))
    except subprocess.TimeoutExpired:
        pytest.fail("2-process run did not finish in 240 s")
    logs = "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted((tmp_path / "log").glob("workerlog.*")))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:] + logs


def test_two_process_data_parallel(tmp_path):
    cfg = {
        "Global": {"output_dir": str(tmp_path / "run"), "epochs": 1, "device": "cpu", "seed": 5,
                   "log_interval": 1, "progress_bar": False, "throughput": False},
        "Arch": {"name": "shufflenetv2_x0_5"},
        "Optimizer": {"name": "momentum", "lr": {"name": "constant", "learning_rate": 0.05}},
        # 21 test images over 2 ranks in batches of 4: DistributedBatchSampler pads one repeat.
        "DataLoader": {
            "dataset": {"name": "synthetic", "root": str(tmp_path / "data"), "train_size": 32,
                        "test_size": 21},
            "Train": {"batch_size": 8, "shuffle": True, "transforms": [{"ToTensor": None}, NORM]},
            "Eval": {"batch_size": 4, "transforms": [{"ToTensor": None}, NORM]}},
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    _launch(tmp_path, [str(ROOT / "tools" / "train.py"), "-c", str(tmp_path / "c.yaml")])

    out = tmp_path / "run"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["finished"] and summary["world_size"] == 2
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 1 and records[0]["step"] == 2  # 32 images / (2 ranks x 8)
    steps = [json.loads(x)["step"] for x in (out / "train_steps.jsonl").read_text().splitlines()]
    assert steps == [1, 2]  # written once, by rank 0

    # The reduced eval equals a single-process pass over all 21 images with the same weights.
    from paddle_repro.config import load_config
    from paddle_repro.engine.eval_run import run_eval
    single = run_eval(load_config(out / "config.yaml", [f"Global.checkpoint={out / 'final_model.pdparams'}",
                                                        "Global.throughput=false"]), write=False)
    assert single["n"] == 21
    assert records[0]["val_top1"] == pytest.approx(single["top1"])
    assert records[0]["val_top5"] == pytest.approx(single["top5"])
    assert records[0]["val_loss"] == pytest.approx(single["loss"], rel=1e-5)
    assert paddle.load(str(out / "final_model.pdparams"))  # readable


# Worker for the batched-pipeline case: the same seeded model on every rank, its own shard of
# the eval split (pipeline: batched), counts summed over ranks by evaluate(distributed=True).
EVAL_WORKER = """
import json, sys
import cv2  # before paddle, as paddle_repro/process.py does (Paddle 2.6 + opencv clash over zlib)
import paddle
sys.path.insert(0, sys.argv[1])
from paddle_repro import runtime
from paddle_repro.data import build_loader
from paddle_repro.engine.evaluate import evaluate
from paddle_repro.builders.losses import build_loss
assert runtime.init_distributed()
ds, split, out = json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
paddle.seed(0)
model = paddle.nn.Sequential(paddle.nn.Conv2D(3, 4, 3), paddle.nn.AdaptiveAvgPool2D(1),
                             paddle.nn.Flatten(), paddle.nn.Linear(4, 10))
loader = build_loader(ds, split, "test", 0, distributed=True)
local = sum(int(y.shape[0]) for _, y in loader)
res = evaluate(paddle.DataParallel(model), loader, build_loss({}), 10, distributed=True)
rank = paddle.distributed.get_rank()
json.dump(dict(res, local=local), open(out + str(rank) + ".json", "w"))
"""


def test_two_process_batched_eval_counts_each_image_once(tmp_path):
    from paddle_repro.data import build_loader
    from paddle_repro.engine.evaluate import evaluate
    from paddle_repro.builders.losses import build_loss

    # 21 test images over 2 ranks in batches of 4 (11 + 10 images, a short last batch each).
    ds = {"name": "synthetic", "root": str(tmp_path / "data"), "train_size": 8, "test_size": 21}
    split = {"batch_size": 4, "pipeline": "batched", "transforms": [{"ToTensor": None}, NORM]}
    build_loader(ds, split, "test", 0)  # writes the synthetic data once, before the launch
    (tmp_path / "w.py").write_text(EVAL_WORKER)
    _launch(tmp_path, [str(tmp_path / "w.py"), str(ROOT), json.dumps(ds), json.dumps(split),
                       str(tmp_path / "res")])
    ranks = [json.loads((tmp_path / f"res{r}.json").read_text()) for r in range(2)]
    assert sorted(r["local"] for r in ranks) == [10, 11]  # disjoint shards, no padded repeat

    paddle.seed(0)  # the same weights, one process, the whole split
    model = paddle.nn.Sequential(paddle.nn.Conv2D(3, 4, 3), paddle.nn.AdaptiveAvgPool2D(1),
                                 paddle.nn.Flatten(), paddle.nn.Linear(4, 10))
    single = evaluate(model, build_loader(ds, split, "test", 0), build_loss({}), 10)
    assert single["n"] == 21
    for res in ranks:  # every rank holds the reduced result
        assert res["n"] == 21
        assert res["top1"] == pytest.approx(single["top1"])
        assert res["top5"] == pytest.approx(single["top5"])
        assert res["loss"] == pytest.approx(single["loss"], rel=1e-5)
        assert res["per_class_acc"] == pytest.approx(single["per_class_acc"])


def test_distributed_eval_refuses_padded_batched_shards():
    from paddle_repro.data.batched.loader import BatchedLoader
    from paddle_repro.engine.evaluate import evaluate

    imgs = np.zeros((3, 8, 8, 3), np.uint8)
    padded = BatchedLoader(imgs, np.zeros(3), [{"ToTensor": None}], num_replicas=2, rank=1)
    with pytest.raises(ValueError, match="padded shards.*pad_shards=False"):
        evaluate(paddle.nn.Flatten(), padded, None, 10, distributed=True)

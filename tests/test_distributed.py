"""Two-process data parallel on CPU (gloo): rank-0-only files, eval counted exactly once."""
import json
import os
import subprocess
import sys
from pathlib import Path

import paddle
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NORM = {"Normalize": {"mean": [0.5] * 3, "std": [0.5] * 3}}


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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PADDLE_", "FLAGS_selected"))}
    env.update(OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    env.pop("CUDA_VISIBLE_DEVICES")  # paddle's launcher trips on an empty value
    cmd = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2",
           "--log_dir", str(tmp_path / "log"), str(ROOT / "tools" / "train.py"), "-c", str(tmp_path / "c.yaml")]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240, cwd=str(tmp_path))
    except subprocess.TimeoutExpired:
        pytest.fail("2-process run did not finish in 240 s")
    logs = "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted((tmp_path / "log").glob("workerlog.*")))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:] + logs

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

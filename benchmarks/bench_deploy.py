"""Exported predictor vs dygraph eval, images/s on CPU (not a test).

    python benchmarks/bench_deploy.py [--models alexnet_condconv ...] [--batches 1 64] \
        [--threads 1] [--repeats 5]

Per model (random init, 10 classes, the input size it needs): dygraph eval under no_grad,
the Paddle Inference predictor without oneDNN, and with oneDNN, at each batch size, all in
one run. The three are timed alternately ``--repeats`` times (one forward each, after a
warm-up) and the medians reported, because the machine may be shared.

Paddle and the package are imported inside functions on purpose: ``harness.configure_threads``
must set the thread and MKL variables before Paddle's first import (harness.py).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import cv2  # noqa: E402,F401  (before paddle: see paddle_repro/process.py)
import numpy as np  # noqa: E402
import paddle  # noqa: E402

from paddle_repro.deploy.export import save_program  # noqa: E402
from paddle_repro.deploy.meta import build_meta, write_meta  # noqa: E402
from paddle_repro.deploy.predictor import InferenceModel  # noqa: E402
from paddle_repro.models import build_model  # noqa: E402

DEFAULT = ["alexnet_condconv", "alexnet_acmix", "resnet50_nam", "resnet50", "shufflenetv2_x1_0"]


def input_shape(name):
    return (3, 128, 128) if name.startswith("alexnet") else (3, 32, 32)


def _time(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT)
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 64])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    paddle.set_device("cpu")
    paddle.set_num_threads(args.threads) if hasattr(paddle, "set_num_threads") else None
    print(f"paddle {paddle.__version__}, {args.threads} thread(s), medians of {args.repeats}\n")
    print("| model | batch | dygraph img/s | predictor img/s | predictor+oneDNN img/s |")
    print("| --- | --- | --- | --- | --- |")
    for name in args.models:
        paddle.seed(0)
        model = build_model(name, num_classes=10)
        model.eval()
        shape = input_shape(name)
        with tempfile.TemporaryDirectory() as folder:
            program = save_program(model, folder, shape)
            write_meta(folder, build_meta(name, "-", os.path.basename(program), shape, [], []))
            plain = InferenceModel(folder, threads=args.threads, onednn=False)
            onednn = InferenceModel(folder, threads=args.threads, onednn=True)
            for batch in args.batches:
                x = np.random.RandomState(0).rand(batch, *shape).astype("float32")
                xt = paddle.to_tensor(x)

                def dygraph():
                    with paddle.no_grad():
                        model(xt).numpy()
                runs = {"dy": dygraph, "plain": lambda: plain.logits(x), "onednn": lambda: onednn.logits(x)}
                for fn in runs.values():
                    fn()  # warm-up (oneDNN primitive creation, allocator)
                times = {k: [] for k in runs}
                for _ in range(args.repeats):
                    for k, fn in runs.items():
                        times[k].append(_time(fn))
                ips = {k: batch / statistics.median(v) for k, v in times.items()}
                print(f"| {name} | {batch} | {ips['dy']:.1f} | {ips['plain']:.1f} | {ips['onednn']:.1f} |",
                      flush=True)


if __name__ == "__main__":
    main()

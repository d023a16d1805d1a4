"""Evaluate weights: ``python tools/eval.py -c cfg.yaml -o Global.checkpoint=run/best_model.pdparams``.

Prints loss, top-1, top-5, per-class accuracy and two throughputs, and writes
``<Global.output_dir>/eval.json``. Logic in ``paddle_repro.engine.eval_run``.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
# Paddle 2.6 + opencv: importing cv2 after paddle segfaults in zlib (inflateReset2) once
# images are decoded; importing it first is harmless everywhere.
import cv2  # noqa: E402,F401

from paddle_repro.cpu_blas import use_avx2_mkl_on_amd  # noqa: E402
from paddle_repro.cpu_memory import keep_freed_memory  # noqa: E402

use_avx2_mkl_on_amd()  # before Paddle's first matmul: see paddle_repro/cpu_blas.py
keep_freed_memory()  # glibc keeps freed activations mapped: see paddle_repro/cpu_memory.py

from paddle_repro.engine.cli import parse_args, run  # noqa: E402


def main(argv=None):
    args = parse_args("Evaluate a paddle_repro checkpoint on the Eval split.", argv)

    def _main():
        from paddle_repro.config import load_config
        from paddle_repro.engine.eval_run import run_eval
        out = run_eval(load_config(args.config, args.override))
        brief = {k: out[k] for k in ("loss", "top1", "top5", "n", "throughput_loader_img_s",
                                     "throughput_model_img_s")}
        print(json.dumps(brief, indent=2))

    run(_main)


if __name__ == "__main__":
    main()

"""Evaluate weights: ``python tools/eval.py -c cfg.yaml -o Global.checkpoint=run/best_model.pdparams``.

Prints loss, top-1, top-5, per-class accuracy and two throughputs, and writes
``<Global.output_dir>/eval.json``. Logic in ``paddle_repro.engine.eval_run``.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

from paddle_repro.process import prepare_process  # noqa: E402

prepare_process()  # first: cv2 before paddle, MKL's AVX2 kernels on AMD, glibc keeps freed memory

from paddle_repro.config import load_config  # noqa: E402
from paddle_repro.engine.cli import parse_args, run  # noqa: E402
from paddle_repro.engine.eval_run import run_eval  # noqa: E402


def main(argv=None):
    args = parse_args("Evaluate a paddle_repro checkpoint on the Eval split.", argv)

    def _main():
        out = run_eval(load_config(args.config, args.override))
        brief = {k: out[k] for k in ("loss", "top1", "top5", "n", "throughput_loader_img_s",
                                     "throughput_model_img_s")}
        print(json.dumps(brief, indent=2))

    run(_main)


if __name__ == "__main__":
    main()

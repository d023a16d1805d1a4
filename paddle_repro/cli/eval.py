"""Evaluate weights: ``paddle-repro-eval -c cfg.yaml -o Global.checkpoint=run/best_model.pdparams``
(or ``python tools/eval.py`` with the same arguments).

Prints loss, top-1, top-5, per-class accuracy and two throughputs, and writes
``<Global.output_dir>/eval.json``. Logic in ``paddle_repro.engine.eval_run``.
"""
import json

from ..config import load_config
from ..engine.eval_run import run_eval
from .args import parse_args
from .runner import run

BRIEF = ("loss", "top1", "top5", "n", "throughput_loader_img_s", "throughput_model_img_s")


def main(argv=None):
    args = parse_args("Evaluate a paddle_repro checkpoint on the Eval split.", argv)

    def work():
        out = run_eval(load_config(args.config, args.override))
        print(json.dumps({k: out[k] for k in BRIEF}, indent=2))

    return run(work)

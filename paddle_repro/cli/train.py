"""Train a model from a config: ``paddle-repro-train -c cfg.yaml [-o Section.key=value ...]``
(or ``python tools/train.py`` with the same arguments).

Multi-GPU / multi-process: ``python -m paddle.distributed.launch --gpus 0,1 tools/train.py -c ...``
(see docs/training.md). All logic lives in ``paddle_repro.engine``; this module parses
arguments and hands the work to ``runner.run``, which maps errors to exit codes.
"""
from ..config import load_config
from ..engine.trainer import train
from .args import parse_args
from .runner import run


def main(argv=None):
    args = parse_args("Train a paddle_repro model.", argv)

    def work():
        cfg = load_config(args.config, args.override)
        summary = train(cfg)
        if summary["finished"]:
            print(f"Finished: best val top-1 {summary['best_val_top1']} at epoch "
                  f"{summary['best_epoch']}; outputs in {cfg['Global']['output_dir']}")

    return run(work)

"""Train a model from a config: ``python tools/train.py -c cfg.yaml [-o Section.key=value ...]``.

Multi-GPU / multi-process: ``python -m paddle.distributed.launch --gpus 0,1 tools/train.py -c ...``
(see docs/training.md). All logic lives in ``paddle_repro.engine``; this file parses
arguments and maps errors to exit codes.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

from paddle_repro.process import prepare_process  # noqa: E402

prepare_process()  # first: cv2 before paddle, MKL's AVX2 kernels on AMD, glibc keeps freed memory

from paddle_repro.config import load_config  # noqa: E402
from paddle_repro.engine.cli import parse_args, run  # noqa: E402
from paddle_repro.engine.trainer import train  # noqa: E402


def main(argv=None):
    args = parse_args("Train a paddle_repro model.", argv)

    def _main():
        cfg = load_config(args.config, args.override)
        summary = train(cfg)
        if summary["finished"]:
            print(f"Finished: best val top-1 {summary['best_val_top1']} at epoch "
                  f"{summary['best_epoch']}; outputs in {cfg['Global']['output_dir']}")

    run(_main)


if __name__ == "__main__":
    main()

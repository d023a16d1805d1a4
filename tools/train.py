"""Train a model from a config: ``python tools/train.py -c cfg.yaml [-o Section.key=value ...]``.

Multi-GPU / multi-process: ``python -m paddle.distributed.launch --gpus 0,1 tools/train.py -c ...``
(see docs/training.md). All logic lives in ``paddle_repro.engine``; this file parses
arguments and maps errors to exit codes.
"""
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
    args = parse_args("Train a paddle_repro model.", argv)

    def _main():
        from paddle_repro.config import load_config
        from paddle_repro.engine.trainer import train
        cfg = load_config(args.config, args.override)
        summary = train(cfg)
        if summary["finished"]:
            print(f"Finished: best val top-1 {summary['best_val_top1']} at epoch "
                  f"{summary['best_epoch']}; outputs in {cfg['Global']['output_dir']}")

    run(_main)


if __name__ == "__main__":
    main()

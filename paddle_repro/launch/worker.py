"""One job's training process: ``python -m paddle_repro.launch.worker -c cfg.yaml [-o ...]``.

The same process set-up and exit codes as ``tools/train.py`` (which a launcher cannot rely
on being installed next to the package on a cluster node).
"""
from paddle_repro.process import prepare_process

prepare_process()  # before the imports below load paddle's kernels: see paddle_repro/process.py

from paddle_repro.config import load_config  # noqa: E402
from paddle_repro.engine.cli import parse_args, run  # noqa: E402
from paddle_repro.engine.trainer import train  # noqa: E402


def main(argv=None):
    args = parse_args("Train one job of a table.", argv)
    run(lambda: train(load_config(args.config, args.override)))


if __name__ == "__main__":
    main()

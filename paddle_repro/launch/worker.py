"""One job's training process: ``python -m paddle_repro.launch.worker -c cfg.yaml [-o ...]``.

The same process set-up and exit codes as ``tools/train.py`` (``paddle_repro.cli.runner.run``),
run as a module: a launcher cannot rely on a checkout's ``tools/`` or the installed commands
being on a cluster node, only on the package.
"""
from paddle_repro.cli.args import parse_args
from paddle_repro.cli.runner import run
from paddle_repro.config import load_config
from paddle_repro.engine.trainer import train


def main(argv=None):
    args = parse_args("Train one job of a table.", argv)
    return run(lambda: train(load_config(args.config, args.override)))


if __name__ == "__main__":
    main()

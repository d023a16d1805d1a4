"""One job's training process: ``python -m paddle_repro.launch.worker -c cfg.yaml [-o ...]``.

The same process set-up and exit codes as ``tools/train.py`` (which a launcher cannot rely
on being installed next to the package on a cluster node).
"""
from paddle_repro.cpu_blas import use_avx2_mkl_on_amd
from paddle_repro.cpu_memory import keep_freed_memory


def main(argv=None):
    use_avx2_mkl_on_amd()
    keep_freed_memory()
    from paddle_repro.config import load_config
    from paddle_repro.engine.cli import parse_args, run
    from paddle_repro.engine.trainer import train
    args = parse_args("Train one job of a table.", argv)
    run(lambda: train(load_config(args.config, args.override)))


if __name__ == "__main__":
    main()

"""Reproduce a notebook's with-vs-without table with one command.

    python tools/reproduce.py configs/condconv/table.yaml [--output DIR] [--seeds 42,43,44]
                              [--quick] [-o Section.key=value ...]

Trains every run of the table spec that is not finished (resuming unfinished ones, skipping
finished ones whose config matches), writes each run's gallery / confusion figures, then
table.md, table.csv, curves_compare.png and throughput.png in --output
(default output/<reproduction>/, output/<reproduction>_quick/ with --quick).
See docs/reproducing_tables.md.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from paddle_repro.cpu_blas import use_avx2_mkl_on_amd  # noqa: E402
from paddle_repro.cpu_memory import keep_freed_memory  # noqa: E402

use_avx2_mkl_on_amd()  # before Paddle's first matmul: see paddle_repro/cpu_blas.py
keep_freed_memory()  # glibc keeps freed activations mapped: see paddle_repro/cpu_memory.py

from paddle_repro.report.errors import user_errors  # noqa: E402


def parse_seeds(text):
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds wants integers separated by commas, got {text!r}")
    if not seeds or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"--seeds wants distinct integers, got {text!r}")
    return seeds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("spec", help="table spec, e.g. configs/condconv/table.yaml")
    parser.add_argument("--output", help="output folder (default output/<reproduction>[_quick])")
    parser.add_argument("--seeds", type=parse_seeds, help="e.g. 42,43,44: mean ± std per run")
    parser.add_argument("--quick", action="store_true",
                        help="apply the spec's `quick` overrides (CPU-sized; said in the table)")
    parser.add_argument("--no-figures", action="store_true",
                        help="skip per-run gallery / confusion / FLOPs")
    parser.add_argument("-o", "--override", action="append", default=[], metavar="KEY=VALUE",
                        help="config override applied to every run, e.g. "
                             "DataLoader.dataset.data_file=cifar-10-python.tar.gz")
    args = parser.parse_args(argv)
    from paddle_repro.report.reproduce import reproduce
    with user_errors():
        paths = reproduce(args.spec, output=args.output, seeds=args.seeds, quick=args.quick,
                          overrides=args.override, figures=not args.no_figures)
    print(open(paths["md"], encoding="utf-8").read())
    return 0


if __name__ == "__main__":
    sys.exit(main())

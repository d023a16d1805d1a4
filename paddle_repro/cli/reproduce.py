"""Reproduce a notebook's with-vs-without table with one command.

    paddle-repro-reproduce configs/condconv/table.yaml [--output DIR] [--seeds 42,43,44]
                           [--quick] [--launcher local|ray] [--jobs N] [--gpus-per-run F]
                           [--ray-address ADDR] [--restart] [-o Section.key=value ...]

(or ``python tools/reproduce.py`` with the same arguments). Trains every run of the table
spec that is not finished (resuming unfinished ones, skipping finished ones whose config
matches), writes each run's gallery / confusion figures, then table.md, table.csv,
curves_compare.png and throughput.png in --output (default output/<reproduction>/,
output/<reproduction>_quick/ with --quick). See docs/reproducing_tables.md.
"""
import argparse

from ..reproduce import reproduce
from .args import add_override_argument, take_overrides
from .runner import run


def parse_seeds(text):
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds wants integers separated by commas, got {text!r}")
    if not seeds or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"--seeds wants distinct integers, got {text!r}")
    return seeds


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("spec", help="table spec, e.g. configs/condconv/table.yaml")
    parser.add_argument("--output", help="output folder (default output/<reproduction>[_quick])")
    parser.add_argument("--seeds", type=parse_seeds, help="e.g. 42,43,44: mean ± std per run")
    parser.add_argument("--quick", action="store_true",
                        help="apply the spec's `quick` overrides (CPU-sized; said in the table)")
    parser.add_argument("--no-figures", action="store_true",
                        help="skip per-run gallery / confusion / FLOPs and the throughput pass")
    parser.add_argument("--launcher", choices=("local", "ray"), default="local",
                        help="local: this machine (default); ray: Ray tasks on a cluster or here")
    parser.add_argument("--jobs", type=int, default=None,
                        help="runs at once (local default 1 = in this process; ray default: all)")
    parser.add_argument("--gpus-per-run", type=float, default=0.0,
                        help="ray: num_gpus of each run (fractional shares a GPU, e.g. 0.5)")
    parser.add_argument("--cpus-per-run", type=float, default=1.0, help="ray: num_cpus of each run")
    parser.add_argument("--ray-address", help="ray: cluster to join (default: a running one, "
                                              "else a local Ray)")
    parser.add_argument("--retries", type=int, default=2,
                        help="times a crashed or killed run is restarted from its latest checkpoint")
    parser.add_argument("--restart", action="store_true",
                        help="retrain runs whose folder holds a different config")
    add_override_argument(parser, "config override applied to every run, e.g. "
                                  "DataLoader.dataset.data_file=cifar-10-python.tar.gz")
    args = take_overrides(parser.parse_args(argv))
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be >= 1")
    if args.retries < 0 or args.gpus_per_run < 0 or args.cpus_per_run <= 0:
        parser.error("--retries and --gpus-per-run must be >= 0, --cpus-per-run > 0")
    return args


def launch_options(args):
    """The launcher's keyword arguments of ``reproduce()`` from the parsed flags."""
    launch = {"launcher": args.launcher, "retries": args.retries}
    if args.launcher == "ray":
        launch.update(n_jobs=args.jobs, gpus_per_run=args.gpus_per_run,
                      cpus_per_run=args.cpus_per_run, address=args.ray_address)
    else:
        launch["n_jobs"] = args.jobs or 1
    return launch


def main(argv=None):
    args = parse(argv)

    def work():
        paths = reproduce(args.spec, output=args.output, seeds=args.seeds, quick=args.quick,
                          overrides=args.override, figures=not args.no_figures,
                          restart=args.restart, **launch_options(args))
        print(open(paths["md"], encoding="utf-8").read())

    return run(work)

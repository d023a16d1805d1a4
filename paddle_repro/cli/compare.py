"""Compare existing runs: the with-vs-without table and one PNG of overlaid curves.

    paddle-repro-compare RUN_DIR [RUN_DIR ...] [--out DIR] [--labels "w/ X,w/o X"]
                         [--group] [--title TEXT] [--no-figures] [--notebook-log CSV]

(or ``python tools/compare.py`` with the same arguments). The first run (or group) is the
`with` run; deltas are it minus each other run. --group treats the seed folders of
tools/reproduce.py (<output>/<run>/seed<N>) as one row per <run>. --notebook-log (e.g.
configs/shufflenetv2/notebook_log.csv) draws a notebook's printed epochs beside the first run
and lists them per epoch in table.md. Never trains. Unless --no-figures, also writes each
run's gallery and confusion figures and measures every run's eval throughput again, one run
at a time (the table's eval img/s), with the process settings the trainer used
(``runner.run`` applies them first).
"""
import argparse

from ..inference.run_outputs import write_run_outputs
from ..inference.throughput import measure_throughputs
from ..report.compare import check_request, compare_runs
from ..report.machine import measured_on
from ..report.runs import load_run
from .runner import run


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", help="run folders (each with summary.json)")
    parser.add_argument("--out", default="output/compare", help="output folder")
    parser.add_argument("--labels", help="comma-separated labels, one per run (or group)")
    parser.add_argument("--group", action="store_true", help="group seed folders by parent")
    parser.add_argument("--title", default="Comparison of runs")
    parser.add_argument("--no-figures", action="store_true",
                        help="skip per-run gallery / confusion / FLOPs and the throughput pass")
    parser.add_argument("--notebook-log", help="CSV of a notebook's printed epochs, drawn "
                        "beside the first run (e.g. configs/shufflenetv2/notebook_log.csv)")
    args = parser.parse_args(argv)
    args.labels = [s.strip() for s in args.labels.split(",")] if args.labels else None
    return args


def main(argv=None):
    args = parse(argv)

    def work():
        check_request(args.runs, args.out, args.labels, args.group)  # before any figure is written
        throughputs = None
        if not args.no_figures:
            for run_dir in args.runs:
                write_run_outputs(run_dir)
            throughputs = measure_throughputs(args.runs)
        summaries = [load_run(d)["summary"] for d in args.runs]
        header = measured_on(summaries, args.runs, cpu_of_runs=False)
        paths = compare_runs(args.runs, args.out, labels=args.labels, group=args.group,
                             title=args.title, header_lines=header,
                             notebook_log=args.notebook_log, throughputs=throughputs)
        print(open(paths["md"], encoding="utf-8").read())
        print("wrote", ", ".join(paths.values()))

    return run(work)

"""One command per table: train every run of a table spec that is not finished, then report.

``reproduce(spec_path, ...)`` is what ``tools/reproduce.py`` calls:

1. plan (:mod:`.plan`): every (run, seed) of the spec becomes a config and a folder
   ``<output>/<run name>/seed<seed>``, each checked -- finished (skipped, when its
   ``config.yaml`` has the same :func:`~.recipe.recipe_hash`), resume, fresh, or refused
   (another config trained there; ``--restart`` retrains it) -- before anything trains;
2. train what is missing (:mod:`.train_runs`), here or through :mod:`paddle_repro.launch`;
3. each run's figures from its trained model (``inference.run_outputs``), and every run's
   eval throughput measured again, one run at a time in this process, so that the column is
   measured alike whichever launcher trained the runs (``inference.throughput``);
4. the table from the run folders (``report``): ``table.md``, ``table.csv``,
   ``curves_compare.png``, ``throughput.png`` in the output folder.
"""
import os
import sys
import time

from paddle_repro.inference.run_outputs import write_run_outputs
from paddle_repro.inference.throughput import measure_throughputs
from paddle_repro.report.machine import machine_lines
from paddle_repro.report.runs import load_run
from paddle_repro.report.spec import load_spec
from paddle_repro.report.table_files import write_table_files
from paddle_repro.report.throughput import method_line
from paddle_repro.reproduce.plan import check_writable, plan_runs, run_state
from paddle_repro.reproduce.train_runs import train_missing


def reproduce(spec_path, output=None, seeds=None, quick=False, overrides=(), train_fn=None,
              figures=True, log=print, restart=False, **launch):
    """Trains what is missing and writes the table. Returns dict of written paths.

    ``figures=False`` skips what needs the trained models: the per-run figures, FLOPs and the
    throughput pass (the eval img/s column then holds the runs' in-training figures, and the
    header says so).

    ``launch``: ``launcher`` ("local" | "ray"), ``n_jobs`` and the launcher's options
    (``retries``, ``gpus_per_run``, ``cpus_per_run``, ``address``; see paddle_repro.launch).
    """
    start = time.time()
    spec = load_spec(spec_path)
    repro = os.path.basename(os.path.dirname(os.path.abspath(spec_path)))
    output = output or os.path.join("output", repro + ("_quick" if quick else ""))
    jobs = plan_runs(spec, output, seeds, quick, overrides)
    states = [run_state(j["run_dir"], j["cfg"], restart) for j in jobs]  # all checked first
    check_writable(output)
    train_missing(jobs, states, output, launch, train_fn, log)
    for job in jobs:
        if figures:
            write_run_outputs(job["run_dir"], figures=spec["figures"])
    measure = figures and "throughput_img_s" in spec["columns"]
    throughputs = measure_throughputs([j["run_dir"] for j in jobs], log=log) if measure else {}
    results = {}
    for job in jobs:
        run = load_run(job["run_dir"])
        if measure:
            run["measured"] = {"throughput_img_s": throughputs[job["run_dir"]]}
        results.setdefault(job["name"], []).append(run)
    summaries = [r["summary"] for rs in results.values() for r in rs]
    names = [f"{name}/{os.path.basename(r['dir'])}" for name, rs in results.items() for r in rs]
    header = machine_lines(quick, spec, time.time() - start, summaries, names)
    if "throughput_img_s" in spec["columns"]:
        header.append(method_line(measure))
    header.append("Command: `" + " ".join([os.path.basename(sys.executable)] + sys.argv) + "`")
    paths = write_table_files(spec, results, output, header)
    log(f"[reproduce] wrote {paths['md']}")
    return paths

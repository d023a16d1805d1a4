"""One command per table: train every run of a table spec that is not finished, then report.

``reproduce(spec_path, ...)`` is what ``tools/reproduce.py`` calls. For every run of the spec
and every seed it resolves the config (``--quick`` overrides, the run's own overrides, the
user's ``-o``, then the seed and the run folder ``<output>/<run name>/seed<seed>``) and:

* skips the run when its folder's ``summary.json`` says ``finished`` and the folder's
  ``config.yaml`` equals the resolved config (compared by :func:`recipe_hash`, which ignores
  the keys that cannot change a run's numbers: ``Global.output_dir``, ``Global.resume``,
  ``Global.progress_bar``, the loaders' ``num_workers``, and ``data_file`` when both paths
  hold the same bytes);
* resumes it (``Global.resume: auto``) when unfinished with a ``latest`` checkpoint;
* trains it from scratch otherwise: a folder that never trained a step (e.g. a first try
  that stopped at "no CIFAR on disk") is simply replaced; a folder holding a *different*
  config that did train is an error listing the differing keys (never silently mixed into
  a table) and offering ``--restart``.

Runs go one after another in this process (``launcher="local"``, ``n_jobs=1``), or in
parallel through :mod:`paddle_repro.launch` (``--jobs N``, ``--launcher ray``); every
launcher writes the same folders and ends in the same aggregation.

Then it writes each run's figures (``run_outputs``) and ``table.md``, ``table.csv``,
``curves_compare.png``, ``throughput.png`` in the output folder.
"""
import hashlib
import json
import os
import platform
import sys
import time

from paddle_repro.report.runs import load_run, read_config, read_json

_VOLATILE = ("output_dir", "resume", "progress_bar", "overwrite")
_VOLATILE_SPLIT = ("num_workers",)  # DataLoader.Train/Eval keys that do not change numbers


class ReproduceError(RuntimeError):
    """A run folder cannot be reused as asked; the message names the folder and the fix."""


def _file_digest(path):
    """sha256 of a data file (None if unreadable), so two paths to one archive compare equal."""
    try:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()
    except (OSError, TypeError):
        return None


def _comparable(cfg):
    cfg = json.loads(json.dumps(cfg, sort_keys=True, default=str))
    for key in _VOLATILE:
        cfg.get("Global", {}).pop(key, None)
    loaders = cfg.get("DataLoader", {})
    for split in ("Train", "Eval"):
        for key in _VOLATILE_SPLIT:
            loaders.get(split, {}).pop(key, None)
    dataset = loaders.get("dataset", {})
    if dataset.get("data_file"):
        digest = _file_digest(dataset["data_file"])
        if digest:  # the same bytes under another path is the same data
            dataset["data_file"] = "sha256:" + digest
    return cfg


def recipe_hash(cfg):
    """sha256[:12] of the resolved config without output_dir / resume / progress_bar."""
    text = json.dumps(_comparable(cfg), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _flatten(d, prefix=""):
    if isinstance(d, dict):
        out = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: d}


def config_diff(a, b):
    """Dotted keys whose values differ between two configs (volatile keys ignored)."""
    fa, fb = _flatten(_comparable(a)), _flatten(_comparable(b))
    return sorted(k for k in set(fa) | set(fb) if fa.get(k, "<absent>") != fb.get(k, "<absent>"))


def _trained_a_step(run_dir):
    return any(os.path.isfile(os.path.join(run_dir, name)) for name in
               ("latest.pdparams", "final_model.pdparams", "best_model.pdparams", "summary.json"))


def run_state(run_dir, cfg, restart=False):
    """``"finished"``, ``"resume"`` or ``"fresh"`` for a planned run folder.

    Args:
        restart: a folder of a different config is retrained from scratch instead of refused.

    Raises:
        ReproduceError: the folder holds a (trained) run of a different config.
    """
    old = read_config(run_dir) if os.path.isdir(run_dir) else None
    if old is None or not _trained_a_step(run_dir):
        return "fresh"  # nothing trained there yet: nothing to lose
    if recipe_hash(old) != recipe_hash(cfg):
        if restart:
            return "restart"
        diff = config_diff(old, cfg)
        raise ReproduceError(
            f"{run_dir} holds a run of a different config (differs in: {', '.join(diff[:10])}). "
            "Pass --restart to retrain it from scratch with this config (its checkpoints are "
            "replaced), or another --output to keep it.")
    summary_path = os.path.join(run_dir, "summary.json")
    if os.path.isfile(summary_path) and read_json(summary_path).get("finished"):
        return "finished"
    if os.path.isfile(os.path.join(run_dir, "latest.pdparams")):
        return "resume"
    return "fresh"


def plan_runs(spec, output, seeds=None, quick=False, overrides=()):
    """Resolves every (run, seed) of a spec into a config and a run folder.

    Returns:
        list of dict(name, label, seed, run_dir, cfg).
    """
    from paddle_repro.config import load_config
    jobs = []
    for run in spec["runs"]:
        base = (list(spec["quick"]) if quick else []) + list(run["overrides"]) + list(overrides)
        run_seeds = seeds or [load_config(run["config_path"], base)["Global"]["seed"]]
        for seed in run_seeds:
            run_dir = os.path.join(output, run["name"], f"seed{seed}")
            cfg = load_config(run["config_path"],
                              base + [f"Global.seed={seed}", f"Global.output_dir={run_dir}"])
            jobs.append({"name": run["name"], "label": run["label"], "seed": seed,
                         "run_dir": run_dir, "cfg": cfg})
    return jobs


def machine_lines(quick, spec, wall_s, summaries):
    """The header of a table: scale, hardware, versions, wall time."""
    import paddle
    from paddle_repro.process import malloc_status, mkl_status
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        pass
    devices = sorted({str(s.get("device")) for s in summaries if s.get("device")})
    lines = []
    if quick:
        lines.append("**QUICK RUN -- not the notebook's scale**: overrides "
                     + ", ".join(f"`{o}`" for o in spec["quick"]) + ".")
    lines.append(f"Measured on: {cpu} ({os.cpu_count()} logical CPUs, OMP_NUM_THREADS="
                 f"{os.environ.get('OMP_NUM_THREADS', 'unset')}, {mkl_status()}, "
                 f"malloc: {malloc_status()}), device "
                 f"{', '.join(devices) or '?'}; Paddle {paddle.__version__}, Python "
                 f"{platform.python_version()}.")
    train_s = sum(s.get("wall_time_s") or 0.0 for s in summaries)
    lines.append(f"Wall time of this command: {wall_s:.0f} s (training wall time summed over "
                 f"runs, including earlier sessions: {train_s:.0f} s).")
    return lines


def _train_missing(jobs, states, output, launch, train_fn, log):
    """Trains the unfinished jobs: in this process, or through a launcher."""
    todo = []
    for job, state in zip(jobs, states):
        log(f"[reproduce] {job['name']} seed {job['seed']}: {state} -> {job['run_dir']}")
        if state == "resume":
            job["cfg"]["Global"]["resume"] = "auto"
        if state in ("restart", "fresh"):  # fresh: at most a never-trained config.yaml is there
            job["cfg"]["Global"]["overwrite"] = True
        if state != "finished":
            todo.append(job)
    launcher, n_jobs = launch.get("launcher", "local"), launch.get("n_jobs", 1)
    if launcher == "local" and n_jobs <= 1:
        if train_fn is None:
            from paddle_repro.engine.trainer import train as train_fn
        for job in todo:
            train_fn(job["cfg"])
        return
    from paddle_repro.launch import Job, run_jobs
    options = {k: v for k, v in launch.items() if k != "launcher"}
    run_jobs([Job(j["name"], j["seed"], j["run_dir"], j["cfg"]) for j in todo], launcher,
             jobs_dir=os.path.join(output, "jobs"), log=log, **options)


def _check_writable(output):
    try:
        os.makedirs(output, exist_ok=True)
    except OSError as err:
        raise ReproduceError(f"cannot create the output folder {output}: {err}; pass a writable "
                             "--output (on a cluster: a path every node sees).") from err
    if not os.access(output, os.W_OK):
        raise ReproduceError(f"the output folder {output} is not writable; pass another --output.")


def reproduce(spec_path, output=None, seeds=None, quick=False, overrides=(), train_fn=None,
              figures=True, log=print, restart=False, **launch):
    """Trains what is missing and writes the table. Returns dict of written paths.

    ``launch``: ``launcher`` ("local" | "ray"), ``n_jobs`` and the launcher's options
    (``retries``, ``gpus_per_run``, ``cpus_per_run``, ``address``; see paddle_repro.launch).
    """
    from paddle_repro.report.compare import plot_overlay
    from paddle_repro.report.run_outputs import write_run_outputs
    from paddle_repro.report.spec import load_spec
    from paddle_repro.report.table import (build_table, render_markdown, render_per_class,
                                           write_csv)
    from paddle_repro.report.throughput import plot_throughput
    start = time.time()
    spec = load_spec(spec_path)
    repro = os.path.basename(os.path.dirname(os.path.abspath(spec_path)))
    output = output or os.path.join("output", repro + ("_quick" if quick else ""))
    jobs = plan_runs(spec, output, seeds, quick, overrides)
    states = [run_state(j["run_dir"], j["cfg"], restart) for j in jobs]  # all checked first
    _check_writable(output)
    _train_missing(jobs, states, output, launch, train_fn, log)
    for job in jobs:
        if figures:
            write_run_outputs(job["run_dir"], figures=spec["figures"])
    results = {}
    for job in jobs:
        results.setdefault(job["name"], []).append(load_run(job["run_dir"]))
    table = build_table(spec, results)
    summaries = [r["summary"] for rs in results.values() for r in rs]
    header = machine_lines(quick, spec, time.time() - start, summaries)
    header.append("Command: `" + " ".join([os.path.basename(sys.executable)] + sys.argv) + "`")
    os.makedirs(output, exist_ok=True)
    paths = {k: os.path.join(output, v) for k, v in (("md", "table.md"), ("csv", "table.csv"),
             ("curves", "curves_compare.png"), ("throughput", "throughput.png"))}
    with open(paths["md"], "w", encoding="utf-8") as f:
        f.write(render_markdown(spec, table, header) + render_per_class(spec, results))
    write_csv(table, paths["csv"])
    plot_overlay([rs[0] for rs in results.values()], [r["label"] for r in spec["runs"]],
                 paths["curves"])
    plot_throughput(table, paths["throughput"])
    log(f"[reproduce] wrote {paths['md']}")
    return paths

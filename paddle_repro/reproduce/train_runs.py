"""Training the planned jobs that are not finished: in this process, or through a launcher.

Runs go one after another in this process (``launcher="local"``, ``n_jobs=1``), or in
parallel through :mod:`paddle_repro.launch` (``--jobs N``, ``--launcher ray``); every
launcher writes the same folders and ends in the same aggregation.
"""
import os

from paddle_repro.engine.trainer import train
from paddle_repro.launch import Job, run_jobs


def train_missing(jobs, states, output, launch, train_fn=None, log=print):
    """Trains the jobs whose state is not ``finished``.

    Args:
        jobs: ``plan.plan_runs``'s dicts (their ``cfg`` gets ``resume`` / ``overwrite`` set).
        states: one ``plan.run_state`` per job.
        output: the table's output folder (launchers keep their job files in ``output/jobs``).
        launch: ``launcher`` ("local" | "ray"), ``n_jobs`` and the launcher's options.
        train_fn: ``cfg -> summary`` used in-process (default the trainer; tests pass a fake).
        log: where the per-job lines go.
    """
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
        for job in todo:
            (train_fn or train)(job["cfg"])
        return
    options = {k: v for k, v in launch.items() if k != "launcher"}
    run_jobs([Job(j["name"], j["seed"], j["run_dir"], j["cfg"]) for j in todo], launcher,
             jobs_dir=os.path.join(output, "jobs"), log=log, **options)

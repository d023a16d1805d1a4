"""``--launcher ray``: each (run, seed) a Ray task with its resource request, on a cluster or here.

``ray.init(address=...)`` joins the cluster named by ``--ray-address``; without it, a cluster
already running on this machine (``ray start --head``, found by ``address="auto"``); with
none, a local Ray is started on this machine for the command's lifetime. Every task runs one
training attempt as a subprocess of the worker, so a killed or pre-empted attempt only loses
what came after its last ``latest`` checkpoint; the driver resubmits it (bounded) with
``Global.resume=auto``. Run folders must be on a path every node sees (a shared file system):
a worker that cannot write there fails with a message naming the path.
"""
import os
import sys

from .jobs import JobFailed, LaunchError, failure_message, run_attempt, should_retry, worker_pythonpath
from .status import StatusLine

CANNOT_WRITE = 3  # the attempt's own code: the worker cannot write the run folder


def _attempt(argv_tail, run_dir, log_path, env, cwd):
    """One training attempt on a Ray worker, started in the driver's working directory
    ``cwd`` when the node has it; returns (exit code, message)."""
    for folder in (os.path.dirname(os.path.abspath(run_dir)), os.path.dirname(os.path.abspath(log_path))):
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as err:
            return CANNOT_WRITE, f"worker cannot create {folder}: {err}"
        if not os.access(folder, os.W_OK):
            return CANNOT_WRITE, (f"worker cannot write {folder}: run folders must be on a path "
                                  "every node sees and can write (a shared file system)")
    return run_attempt([sys.executable] + argv_tail, log_path, env, cwd), ""


def _init(ray, address, num_cpus):
    if address:
        ray.init(address=address, log_to_driver=False)
        return "joined " + address
    try:
        ray.init(address="auto", log_to_driver=False)
        return "joined the running cluster"
    except (ConnectionError, RuntimeError, ValueError):
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
        return f"started a local Ray ({num_cpus} CPUs)"


def run_ray(jobs, jobs_dir, n_jobs=None, retries=2, gpus_per_run=0.0, cpus_per_run=1.0,
            address=None, log=print, poll_s=1.0):
    """Runs ``jobs`` as Ray tasks; retries crashed ones from ``latest``.

    Args:
        jobs: list of ``Job``.
        jobs_dir: where each job's config and log go (must be on the shared path).
        n_jobs: CPUs of a local Ray started here (default: this machine's cores).
        retries: extra attempts for a crashed, killed or pre-empted job.
        gpus_per_run: ``num_gpus`` of each task (fractional shares a GPU, e.g. 0.5).
        cpus_per_run: ``num_cpus`` of each task (also its OMP_NUM_THREADS).
        address: a Ray cluster address (``ray://host:10001`` or ``host:6379``); default auto.

    Raises:
        LaunchError: Ray is not installed. JobFailed: jobs still failing after retries.
    """
    try:
        import ray
    except ImportError as err:
        raise LaunchError("--launcher ray needs Ray, an optional extra: pip install -e \".[ray]\" "
                          f"(or pip install ray); --launcher local needs nothing ({err}).") from err
    started = not ray.is_initialized()
    if started:
        log(f"[reproduce] Ray: {_init(ray, address, n_jobs or os.cpu_count() or 1)}")
    remote = ray.remote(max_retries=0)(_attempt)
    env = {"PYTHONPATH": worker_pythonpath(), "OMP_NUM_THREADS": str(max(1, int(cpus_per_run)))}
    cwd = os.getcwd()  # where a config's custom_imports may live (launch/jobs.py)
    pending, status, messages = {}, StatusLine(jobs, log), {}

    def submit(job):
        config_path, log_path = job.files(jobs_dir)
        job.write_config(jobs_dir)
        job.attempts += 1
        job.state = "running"
        argv_tail = job.command(config_path)[1:]
        ref = remote.options(num_cpus=cpus_per_run, num_gpus=gpus_per_run).remote(
            argv_tail, job.run_dir, log_path, env, cwd)
        pending[ref] = job

    try:
        for job in jobs:
            submit(job)
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1, timeout=poll_s)
            for ref in done:
                job = pending.pop(ref)
                try:
                    code, message = ray.get(ref)
                except ray.exceptions.RayError as err:  # the worker itself died or was pre-empted
                    code, message = -1, f"Ray task failed: {type(err).__name__}"
                job.returncodes.append(code)
                if message:
                    messages[job.key] = message
                if code == 0:
                    job.state = "done"
                elif code != CANNOT_WRITE and should_retry(job, code, retries):
                    log(f"[reproduce] {job.key} ended with {code}; resubmitting from its latest "
                        f"checkpoint (attempt {job.attempts + 1} of {retries + 1})")
                    submit(job)
                else:
                    job.state = "failed"
            status.update()
    finally:
        if started:
            ray.shutdown()
    status.update(force=True)
    failed = [j for j in jobs if j.state == "failed"]
    if failed:
        extra = "".join(f" {k}: {m}." for k, m in messages.items())
        raise JobFailed(failure_message(failed, jobs_dir) + extra)
    return jobs

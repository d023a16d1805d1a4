"""Running a table's (run, seed) jobs: one process, N local processes, or a Ray cluster.

``tools/reproduce.py --launcher local|ray --jobs N`` plans the runs (``paddle_repro.reproduce``)
and hands the unfinished ones to :func:`run_jobs`. Each job is one training process
(``python -m paddle_repro.launch.worker -c <job config>``) writing its usual run folder,
so every launcher ends in the same folders and the same aggregation. A job whose process
dies (killed, pre-empted, out of memory) is started again with ``Global.resume=auto``,
which continues bit-exactly from its ``latest`` checkpoint, up to ``retries`` times; a
user error (exit code 2: bad config, missing data) is not retried.

Ray is an optional extra (``pip install -e ".[ray]"``); the local launcher needs nothing.
"""
from .jobs import Job, JobFailed, LaunchError
from .local import run_local
from .ray_backend import run_ray

LAUNCHERS = {"local": run_local, "ray": run_ray}


def run_jobs(jobs, launcher="local", **options):
    """Runs ``jobs`` (list of :class:`Job`) with the named launcher; see each launcher's options.

    Raises:
        LaunchError: an unknown launcher, Ray missing, or jobs that still failed after retries.
    """
    if launcher not in LAUNCHERS:
        raise LaunchError(f"unknown launcher {launcher!r}; valid: {', '.join(LAUNCHERS)}.")
    return LAUNCHERS[launcher](jobs, **options)


__all__ = ["Job", "JobFailed", "LaunchError", "LAUNCHERS", "run_jobs"]

"""One training job: its resolved config on disk, the command that runs it, its status."""
import os
import subprocess
import sys
from dataclasses import dataclass, field

from ..cli.runner import USER_ERROR_CODE as USER_ERROR  # config/data/weights: retrying cannot help
from ..config import dump_config
from ..errors import UserError
from ..run_layout import METRICS_FILE


class LaunchError(UserError, RuntimeError):
    """The launcher cannot run the jobs as asked; the message names the fix."""


class JobFailed(LaunchError):
    """Jobs still failing after their retries; the message lists them and their logs."""


@dataclass
class Job:
    """A (run, seed) to train: ``cfg`` is its resolved config, ``run_dir`` its folder."""
    name: str
    seed: int
    run_dir: str
    cfg: dict
    resume: bool = False
    attempts: int = 0
    state: str = "queued"  # queued | running | done | failed
    returncodes: list = field(default_factory=list)

    @property
    def key(self):
        return f"{self.name}/seed{self.seed}"

    def files(self, jobs_dir):
        """(config path, log path) of this job under ``jobs_dir``."""
        stem = os.path.join(jobs_dir, f"{self.name}_seed{self.seed}")
        return stem + ".yaml", stem + ".log"

    def write_config(self, jobs_dir):
        path, _ = self.files(jobs_dir)
        os.makedirs(jobs_dir, exist_ok=True)
        dump_config(self.cfg, path)
        return path

    def command(self, config_path, python=None):
        """argv of one attempt; a retry or an unfinished folder continues from ``latest``."""
        argv = [python or sys.executable, "-m", "paddle_repro.launch.worker", "-c", config_path]
        if self.resume or self.attempts > 0:
            argv += ["-o", "Global.resume=auto"]
        return argv

    def epochs_done(self):
        """Epoch records written so far (for the status line)."""
        path = os.path.join(self.run_dir, METRICS_FILE)
        try:
            with open(path, encoding="utf-8") as f:
                return sum(1 for line in f if line.strip())
        except OSError:
            return 0


def run_attempt(argv, log_path, env=None, cwd=None):
    """Runs one attempt as a subprocess, output appended to ``log_path``; returns its exit code.

    ``cwd``: the driver's working directory, where a config's ``custom_imports`` may live; used
    when this machine has it (a shared file system), else the attempt starts where it is.
    """
    os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"$ {' '.join(argv)}\n")
        log.flush()
        return subprocess.call(argv, stdout=log, stderr=subprocess.STDOUT,
                               env=dict(os.environ, **(env or {})),
                               cwd=cwd if cwd and os.path.isdir(cwd) else None)


def package_root():
    """The folder that holds ``paddle_repro`` (put on a worker's PYTHONPATH)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def worker_pythonpath():
    """A training process's PYTHONPATH: the package, then the launching process's own entries,
    so the modules a config's ``custom_imports`` names are found there as they were here
    (the other place they may be, the working directory, the process inherits)."""
    return os.pathsep.join(p for p in (package_root(), os.environ.get("PYTHONPATH")) if p)


def should_retry(job, returncode, retries):
    """A crash or kill is retried (bounded); success and user errors are final."""
    return returncode not in (0, USER_ERROR) and job.attempts <= retries


def failure_message(failed, jobs_dir):
    lines = []
    for job in failed:
        _, log_path = job.files(jobs_dir)
        lines.append(f"{job.key} (exit codes {job.returncodes}; log {log_path}, "
                     f"run folder {job.run_dir})")
    return ("these runs failed after their retries: " + "; ".join(lines)
            + ". Fix what the log says and run the same command again: finished runs are kept, "
            "unfinished ones resume from their latest checkpoint.")

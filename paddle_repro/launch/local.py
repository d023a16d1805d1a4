"""``--launcher local --jobs N``: N training processes at once on this machine.

Devices are split between the processes: with GPUs, process slot k sees GPU ``k % n_gpus``
(``CUDA_VISIBLE_DEVICES``); on a CPU-only machine each process gets
``OMP_NUM_THREADS = cores // N`` (at least 1). Paddle's CPU kernels give the same numbers
at one thread in any process, so on CPU a table trained with ``--jobs 2`` on 2 cores
equals the sequential one (tested); other thread counts may differ in the last bits.
"""
import os
import subprocess
import time

import paddle

from .jobs import JobFailed, failure_message, should_retry, worker_pythonpath
from .status import StatusLine


def _gpu_count():
    try:
        if paddle.device.is_compiled_with_cuda():
            return paddle.device.cuda.device_count()
    except Exception:  # no usable CUDA runtime: a CPU machine
        pass
    return 0


def slot_env(slot, n_slots, n_gpus=None, cpus=None):
    """Environment of process slot ``slot`` of ``n_slots``: its GPU or its share of cores."""
    n_gpus = _gpu_count() if n_gpus is None else n_gpus
    env = {"PYTHONPATH": worker_pythonpath()}
    if n_gpus:
        env["CUDA_VISIBLE_DEVICES"] = str(slot % n_gpus)
    else:
        env["OMP_NUM_THREADS"] = str(max(1, (cpus or os.cpu_count() or 1) // n_slots))
    return env


def run_local(jobs, jobs_dir, n_jobs=1, retries=2, log=print, poll_s=0.5):
    """Runs ``jobs`` as subprocesses, ``n_jobs`` at a time; retries crashed ones from ``latest``.

    Args:
        jobs: list of ``Job``.
        jobs_dir: where each job's config and log go (``<output>/jobs``).
        n_jobs: processes at once.
        retries: extra attempts for a job whose process crashed or was killed.
        log: where status lines go.

    Raises:
        JobFailed: some jobs still failed after their retries.
    """
    queue, running, free = list(jobs), {}, list(range(n_jobs))
    status = StatusLine(jobs, log)
    while queue or running:
        while queue and free:
            job, slot = queue.pop(0), free.pop(0)
            config_path, log_path = job.files(jobs_dir)
            job.write_config(jobs_dir)
            job.attempts += 1
            job.state = "running"
            log_file = open(log_path, "a", encoding="utf-8")
            argv = job.command(config_path)
            log_file.write(f"$ {' '.join(argv)}\n")
            log_file.flush()
            proc = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT,
                                    env=dict(os.environ, **slot_env(slot, n_jobs)))
            running[proc] = (job, slot, log_file)
        time.sleep(poll_s)
        for proc in [p for p in running if p.poll() is not None]:
            job, slot, log_file = running.pop(proc)
            log_file.close()
            free.append(slot)
            job.returncodes.append(proc.returncode)
            if proc.returncode == 0:
                job.state = "done"
            elif should_retry(job, proc.returncode, retries):
                log(f"[reproduce] {job.key} exited with {proc.returncode}; retrying from its "
                    f"latest checkpoint (attempt {job.attempts + 1} of {retries + 1})")
                job.state = "queued"
                queue.insert(0, job)
            else:
                job.state = "failed"
        status.update()
    status.update(force=True)
    failed = [j for j in jobs if j.state == "failed"]
    if failed:
        raise JobFailed(failure_message(failed, jobs_dir))
    return jobs

"""What machine a process runs on: CPU model, logical CPUs, OpenMP threads (stdlib only).

Recorded by every run in ``summary.json`` (``machine``) and read back by the table headers
(``report/machine.py``), so a table says what its runs were measured on even when it is
written elsewhere.
"""
import os
import platform


def cpu_model():
    """The CPU model name (``/proc/cpuinfo``), else ``platform``'s guess."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        return cpu


def available_cpus():
    """CPUs this process may run on (its affinity mask: taskset, cgroup cpusets), else all."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def host_facts():
    """``{"cpu", "logical_cpus", "omp_num_threads"}`` of this process."""
    return {"cpu": cpu_model(), "logical_cpus": os.cpu_count(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "unset")}

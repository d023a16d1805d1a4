"""Benchmark harness: wall-clock timing, peak memory in a fresh subprocess, environment header.

Never imported by tests or the package. Rules it enforces:
- Threads are fixed BEFORE Paddle is imported (``configure_threads``), and the header reports
  ``OMP_NUM_THREADS``/``OMP_WAIT_POLICY``/``MKL_NUM_THREADS`` and the Paddle version, because a
  CPU number without them means nothing (Paddle uses 1 OpenMP thread unless told otherwise).
- Times are medians over repeats after warm-up, with min and max. ``time_interleaved`` runs the
  variants of one comparison round-robin, so load from other processes on a shared machine
  hits all of them alike; only ratios measured within one run are compared, as the median
  of per-round ratios where the raw rounds are kept (``paired_ratio``).
- Peak memory is measured in a FRESH Python process per (case, variant), so caches and
  allocator pools of earlier cases cannot hide or inflate it. Two numbers:
  ``alloc_mb``: Paddle's own host allocator statistics (``host_memory_stat_peak_value``:
  bytes Paddle allocated for tensors), peak during the call minus the amount held before it.
  Exact on Paddle 3.x (the peak is reset before the call). Paddle 2.6 cannot reset the peak,
  so if the setup peaked higher than the call the value is a lower bound (``alloc_exact``
  False). ``rss_mb``: the process's peak RSS (``VmHWM``, reset to the current RSS just before
  the call through ``/proc/self/clear_refs``; not ``ru_maxrss``, which Linux carries over
  fork+exec from the parent) minus its RSS just before the call: what the OS saw, allocator
  caching and library workspaces included. Where the reset is not allowed it is a lower
  bound when the setup peaked higher (``rss_exact`` False).
  The child builds the same inputs and layer before the baseline is read, so neither input
  nor parameter memory is counted.

Targets for ``measure_memory`` are ``"module:function"`` strings importable from the repository
root or ``benchmarks/``; ``function(**kwargs)`` does the setup and returns the zero-argument
callable to measure.
"""
import gc
import importlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def add_machine_args(parser):
    """``--threads N``, ``--stock-mkl`` and ``--stock-malloc``, which every benchmark script
    takes."""
    parser.add_argument("--threads", type=int, default=1, help="OMP/MKL threads (default 1)")
    parser.add_argument("--stock-mkl", action="store_true",
                        help="MKL's stock CPU dispatch (default: AVX2 kernels on AMD, like tools/)")
    parser.add_argument("--stock-malloc", action="store_true",
                        help="glibc's stock malloc (default: freed memory kept, like tools/)")


def write_json(path, obj):
    """``--json``: the results (and environment) of a standalone script run, if asked."""
    if path:
        with open(path, "w") as f:
            json.dump(obj, f, indent=1, default=str)


def configure_threads(threads, stock_mkl=False, stock_malloc=False):
    """Sets the thread variables for this process and its children. Call before importing paddle.

    Also applies what the tools apply, so benchmarks time what ``tools/train.py`` runs:
    ``paddle_repro.process.prepare_process()`` (cv2 first, MKL's AVX2 kernels on AMD CPUs
    unless ``stock_mkl``, glibc keeps freed memory unless ``stock_malloc``). Both
    sides of every comparison share the process, hence the settings. Memory is measured in
    fresh child processes (``measure_memory``), which run glibc's stock malloc.
    """
    if "paddle" in sys.modules:
        raise RuntimeError("configure_threads() must run before paddle is imported: "
                           "OpenMP reads OMP_NUM_THREADS once, at start-up.")
    for var in THREAD_VARS:
        os.environ[var] = str(threads)
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    # imported here, not at the top: ROOT must be on sys.path first (the scripts run from benchmarks/)
    from paddle_repro import process
    if stock_malloc:
        os.environ[process.MALLOC_OPT_OUT] = "0"
    if stock_mkl:
        os.environ[process.MKL_OPT_OUT] = "0"
    return process.prepare_process()["mkl"]


def environment():
    """Dict describing what the numbers were measured with."""
    import numpy
    import paddle
    return {
        "commit": _commit(),
        "python": platform.python_version(), "paddle": paddle.__version__,
        "numpy": numpy.__version__, "machine": platform.machine(),
        "processor": platform.processor() or "?", "cpu_count": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "unset (Paddle uses 1)"),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "unset"),
        "MKL_NUM_THREADS": os.environ.get("MKL_NUM_THREADS", "unset"),
        "cpu": _cpu_model(),
        "MKL dispatch": _mkl_status(),
        "malloc": _malloc_status(),
        "memory_method": "paddle host allocator peak (alloc_mb) + peak-RSS (VmHWM) delta (rss_mb), "
                         "fresh subprocess per measurement",
    }


def _commit():
    """Short hash of the checkout being measured (+ "-dirty" with uncommitted changes)."""
    import subprocess
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, text=True, capture_output=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    return (head or "?") + ("-dirty" if dirty.strip() else "")


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                        "?")
    except OSError:
        return "?"


def _malloc_status():
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    from paddle_repro import process  # after ROOT is on sys.path (see configure_threads)
    return process.malloc_status()


def _mkl_status():
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    from paddle_repro import process  # after ROOT is on sys.path (see configure_threads)
    note = " (stock: --stock-mkl)" if os.environ.get(process.MKL_OPT_OUT) == "0" else ""
    return process.mkl_status() + note


def format_header(env):
    """Markdown lines for the environment dict."""
    return "\n".join(f"- {k}: {v}" for k, v in env.items())


def _summary(seconds):
    ms = [s * 1e3 for s in seconds]
    return {"median_ms": statistics.median(ms), "min_ms": min(ms), "max_ms": max(ms),
            "repeats": len(ms), "samples_ms": ms}


def paired_ratio(num, den):
    """Median and (min, max) of ``num[k] / den[k]`` over rounds k of ``time_interleaved``.

    Both callables of a round run back to back, so the VM's speed drift (up to ~1.5x over
    seconds here) mostly cancels in each round's ratio; a ratio of two separate medians
    would carry it.
    """
    return median_of_ratios(num["samples_ms"], den["samples_ms"])


def median_of_ratios(num, den):
    """Median and (min, max) of ``num[k] / den[k]``: two sequences measured round by round."""
    ratios = [a / b for a, b in zip(num, den)]
    return statistics.median(ratios), (min(ratios), max(ratios))


def time_callable(fn, warmup=2, repeats=10):
    """Median/min/max wall time of ``fn()`` in ms after ``warmup`` untimed calls."""
    return time_interleaved({"fn": fn}, warmup, repeats)["fn"]


def time_interleaved(fns, warmup=2, repeats=10):
    """Times several callables round-robin. Returns {name: {median_ms, min_ms, max_ms, repeats}}."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - t0)
    return {name: _summary(s) for name, s in samples.items()}


def _rss_now_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _rss_peak_mb():
    """Peak RSS of this process image. VmHWM, not ru_maxrss: Linux carries ru_maxrss over
    fork+exec, so a child started by a big parent would report the parent's peak."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _reset_rss_peak():
    """Resets VmHWM to the current RSS (Linux >= 4.0); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _allocator():
    """(current_fn, peak_fn, reset_fn or None) of Paddle's host allocator, or None."""
    try:
        from paddle.base import core
        cur = lambda: core.host_memory_stat_current_value("Allocated", 0) / 2**20  # noqa: E731
        peak = lambda: core.host_memory_stat_peak_value("Allocated", 0) / 2**20  # noqa: E731
        reset = getattr(core, "host_memory_stat_reset_peak_value", None)
        cur(), peak()
        return cur, peak, (lambda: reset("Allocated", 0)) if reset else None
    except (ImportError, AttributeError, RuntimeError):
        return None


def _child(target, kwargs):
    """Runs in the fresh process: setup, baseline, one call, peaks. Prints one JSON line."""
    for path in (ROOT, HERE):
        if path not in sys.path:
            sys.path.insert(0, path)
    module, func = target.split(":")
    run = getattr(importlib.import_module(module), func)(**kwargs)
    gc.collect()
    alloc = _allocator()
    rss_reset = _reset_rss_peak()
    rss0, rss_peak0 = _rss_now_mb(), _rss_peak_mb()
    result = {}
    if alloc:
        cur, peak, reset = alloc
        if reset:
            reset()
        a0, apeak0 = cur(), peak()
    run()
    rss_peak1 = _rss_peak_mb()
    result["rss_mb"] = max(rss_peak1 - rss0, 0.0)
    result["rss_exact"] = rss_reset or rss_peak1 > rss_peak0
    if alloc:
        apeak1 = peak()
        result["alloc_mb"] = max(apeak1 - a0, 0.0)
        result["alloc_exact"] = bool(reset) or apeak1 > apeak0
    print(json.dumps(result))


def measure_memory(target, kwargs, threads=None, timeout=1800):
    """Peak extra memory of one call of the callable built by ``target(**kwargs)``.

    Args:
        target: ``"module:function"``; the function does the setup and returns the callable.
        kwargs: JSON-serialisable keyword arguments for it.
        threads: thread count for the child (default: this process's setting).
        timeout: seconds before the child is killed.

    Returns:
        ``{"alloc_mb", "alloc_exact", "rss_mb", "rss_exact"}`` (alloc_* absent when Paddle has
        no host allocator statistics).

    Raises:
        RuntimeError: the child failed; the message carries its stderr tail.
    """
    env = dict(os.environ)
    if threads is not None:
        env.update({var: str(threads) for var in THREAD_VARS})
    env["PYTHONPATH"] = os.pathsep.join([ROOT, HERE, env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", target,
                           json.dumps(kwargs)], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"memory child for {target}({kwargs}) failed (exit {proc.returncode}):\n"
                           + proc.stderr[-2000:])
    return json.loads(lines[-1])


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], json.loads(sys.argv[3]))
    else:
        sys.exit("harness.py is a library; run benchmarks/bench_layers.py "
                 "(internal use: harness.py --child module:function JSON_KWARGS)")

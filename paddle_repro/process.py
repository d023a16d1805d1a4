"""Process-level CPU settings every tool, launcher worker and benchmark applies first.

``prepare_process()`` does three things, in this order, before Paddle's first kernel runs:

1. **cv2 before paddle.** Paddle 2.6 + opencv: importing cv2 after paddle segfaults in zlib
   (``inflateReset2``) once images are decoded; importing it first is harmless everywhere.
   This module (and the package's ``__init__``) imports it at the top, so importing
   ``paddle_repro.process`` already did it.
2. **MKL's AVX2 kernels on AMD** (``use_avx2_mkl_on_amd``). Paddle's x86 Linux wheels (2.6
   and 3.x) ship MKL 2019.0 Update 5 (``libmklml_intel.so``), which picks its kernels by CPU
   *vendor*: on an AMD CPU it runs a generic SSE path even when the CPU has AVX2 and FMA. The
   undocumented but long-standing switch ``MKL_DEBUG_CPU_TYPE=5`` makes it dispatch the AVX2
   kernels (newer MKLs ignore it; Intel CPUs never need it). Measured on this project's
   2-core AMD EPYC, one thread (benchmarks/RESULTS.md): float32 matmuls about 2.5x faster,
   AlexNet and ResNet50 training steps about 2x. Results differ from the stock path only by
   float rounding (another summation order inside sgemm). MKL reads the variable at its
   first call, so it must be set before the first matmul (after ``import paddle`` is fine).
   A ``MKL_DEBUG_CPU_TYPE`` already set is the user's and left alone;
   ``PADDLE_REPRO_MKL_AVX2=0`` switches this off; it is only set on an AMD CPU whose flags
   include ``avx2`` and ``fma``.
3. **glibc keeps freed memory** (``keep_freed_memory``). A CPU training step allocates and
   frees activations of tens to hundreds of MB; glibc serves every block above 32 MB with a
   fresh ``mmap`` and ``munmap``s it on free, so each step maps, zero-fills and touches the
   same memory again -- slow and jittery on the VMs we measure on. ``M_MMAP_MAX = 0`` (large
   blocks from the heap; glibc still falls back to ``mmap`` when the heap cannot grow) and
   ``M_TRIM_THRESHOLD = 1 GiB`` (the heap's free top is returned only beyond 1 GiB) make the
   next step reuse mapped pages. Measured (benchmarks/RESULTS.md, 1 thread): an
   AlexNet-CondConv step at batch 64 took 792-796 ms instead of 1006-1067 ms; ResNet50-NAM
   and AlexNet-ACmix steps were unchanged within the noise. The cost: up to 1 GiB kept, and
   peak RSS is not given back until exit. Results are unchanged.
   ``PADDLE_REPRO_KEEP_MEMORY=0`` switches it off; without glibc it does nothing.

``mkl_status()`` and ``malloc_status()`` are what ``runtime.versions()`` records in
``summary.json`` (``mkl_dispatch``, ``malloc``) and benchmark headers print.
"""
import ctypes
import os

import cv2  # noqa: F401  (first, before anything imports paddle: see point 1 above)

MKL_OPT_OUT = "PADDLE_REPRO_MKL_AVX2"
MKL_VAR = "MKL_DEBUG_CPU_TYPE"
MALLOC_OPT_OUT = "PADDLE_REPRO_KEEP_MEMORY"
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc's <malloc.h> parameter numbers
TRIM_BYTES = 1 << 30

_malloc_state = "stock glibc malloc (not applied)"


def prepare_process():
    """Applies the process settings (see module doc); call it first thing in a process.

    Returns:
        dict(mkl=<use_avx2_mkl_on_amd's decision>, malloc=<keep_freed_memory's decision>).
    """
    return {"mkl": use_avx2_mkl_on_amd(), "malloc": keep_freed_memory()}


def _switched_off(env, var):
    return env.get(var, "1").strip().lower() in ("0", "false", "no", "off")


def _cpuinfo():
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:  # not Linux: nothing to detect, nothing to do
        return ""


def amd_with_avx2(cpuinfo):
    """True when the first CPU in a ``/proc/cpuinfo`` text is AMD with AVX2 and FMA."""
    fields = {}
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            if fields:
                break  # the end of the first processor's block
            continue
        fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    return fields.get("vendor_id") == "AuthenticAMD" and {"avx2", "fma"} <= flags


def use_avx2_mkl_on_amd(environ=None, cpuinfo=None):
    """Sets ``MKL_DEBUG_CPU_TYPE=5`` when it helps and nobody said otherwise.

    Args:
        environ: the environment to read and change (default ``os.environ``).
        cpuinfo: ``/proc/cpuinfo`` text (default: read it).

    Returns:
        What was decided, for logs: ``"set (AMD CPU with AVX2)"``, ``"user's value <v>"``,
        ``"off (PADDLE_REPRO_MKL_AVX2=0)"`` or ``"not needed (not an AMD CPU with AVX2)"``.
    """
    env = os.environ if environ is None else environ
    if MKL_VAR in env:
        return f"user's value {env[MKL_VAR]!r}"
    if _switched_off(env, MKL_OPT_OUT):
        return f"off ({MKL_OPT_OUT}={env[MKL_OPT_OUT]})"
    if not amd_with_avx2(_cpuinfo() if cpuinfo is None else cpuinfo):
        return "not needed (not an AMD CPU with AVX2)"
    env[MKL_VAR] = "5"
    return "set (AMD CPU with AVX2)"


def mkl_status(environ=None):
    """One line for run logs and benchmark headers: the dispatch MKL will use."""
    env = os.environ if environ is None else environ
    value = env.get(MKL_VAR)
    return f"{MKL_VAR}={value}" if value is not None else f"{MKL_VAR} unset (MKL's own dispatch)"


def _glibc():
    """The C library if it is glibc (it has ``mallopt`` and ``gnu_get_libc_version``)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    if not (hasattr(libc, "mallopt") and hasattr(libc, "gnu_get_libc_version")):
        return None
    return libc


def keep_freed_memory(environ=None, libc=None):
    """Applies the two ``mallopt`` settings unless switched off.

    Args:
        environ: environment to read (default ``os.environ``).
        libc: object with ``mallopt(param, value) -> int`` (default: glibc via ctypes).

    Returns:
        What was decided, for logs (also what ``malloc_status()`` reports afterwards).
    """
    global _malloc_state
    env = os.environ if environ is None else environ
    if _switched_off(env, MALLOC_OPT_OUT):
        _malloc_state = f"stock glibc malloc ({MALLOC_OPT_OUT}={env[MALLOC_OPT_OUT]})"
        return _malloc_state
    libc = _glibc() if libc is None else libc
    if libc is None:
        _malloc_state = "not applied (not glibc)"
        return _malloc_state
    ok = (libc.mallopt(M_MMAP_MAX, 0) == 1
          and libc.mallopt(M_TRIM_THRESHOLD, TRIM_BYTES) == 1)
    _malloc_state = ("keeps freed memory (M_MMAP_MAX=0, M_TRIM_THRESHOLD=1GiB)" if ok
                     else "not applied (mallopt refused)")
    return _malloc_state


def malloc_status():
    """One line for run logs and benchmark headers: what ``keep_freed_memory`` decided."""
    return _malloc_state

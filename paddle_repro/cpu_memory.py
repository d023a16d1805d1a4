"""Keep freed memory in the process (glibc) instead of handing it back to the OS every step.

A CPU training step allocates and frees activations of tens to hundreds of MB (AlexNet-CondConv
at batch 64, the CondConv recipe's 100 MB input batch). glibc serves every block above 32 MB
with a fresh ``mmap`` and returns it with ``munmap`` on free, so each step maps, zero-fills and
touches the same amount of memory again. On the VMs we measure on, that first touch is slow
and its cost swings from step to step. Two ``mallopt`` settings make glibc serve large blocks
from its heap and keep up to 1 GiB of freed memory there, so the next step reuses mapped pages:

- ``M_MMAP_MAX = 0``: no ``mmap`` for large blocks (the heap grows instead; glibc still falls
  back to ``mmap`` when the heap cannot grow);
- ``M_TRIM_THRESHOLD = 1 GiB``: free memory at the heap's top is returned to the OS only
  beyond 1 GiB.

Measured (docs/performance.md, fresh processes, alternating, 1 thread): an AlexNet-CondConv
training step at batch 64 took 792-796 ms instead of 1006-1067 ms; ResNet50-NAM (batch 16)
and AlexNet-ACmix (batch 64) steps were unchanged within the noise. The cost: the process
keeps up to 1 GiB it no longer uses, and its peak RSS is not given back until it exits.
Results are unchanged (only where memory comes from).

Rules, as ``cpu_blas``: the tools call ``keep_freed_memory()`` first thing;
``PADDLE_REPRO_KEEP_MEMORY=0`` switches it off; without glibc it does nothing.
"""
import ctypes
import os

OPT_OUT = "PADDLE_REPRO_KEEP_MEMORY"
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc's <malloc.h> parameter numbers
TRIM_BYTES = 1 << 30

_state = "stock glibc malloc (not applied)"


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
        What was decided, for logs (also what ``status()`` reports afterwards).
    """
    global _state
    env = os.environ if environ is None else environ
    if env.get(OPT_OUT, "1").strip().lower() in ("0", "false", "no", "off"):
        _state = f"stock glibc malloc ({OPT_OUT}={env[OPT_OUT]})"
        return _state
    libc = _glibc() if libc is None else libc
    if libc is None:
        _state = "not applied (not glibc)"
        return _state
    ok = (libc.mallopt(M_MMAP_MAX, 0) == 1
          and libc.mallopt(M_TRIM_THRESHOLD, TRIM_BYTES) == 1)
    _state = ("keeps freed memory (M_MMAP_MAX=0, M_TRIM_THRESHOLD=1GiB)" if ok
              else "not applied (mallopt refused)")
    return _state


def status():
    """One line for run logs and benchmark headers."""
    return _state

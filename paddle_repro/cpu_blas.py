"""Make Paddle's bundled MKL use its AVX2 kernels on AMD CPUs.

Paddle's x86 Linux wheels (2.6 and 3.x) ship MKL 2019.0 Update 5 (``libmklml_intel.so``).
That MKL picks its kernels by CPU *vendor*: on an AMD CPU it runs a generic SSE path even
when the CPU has AVX2 and FMA. The undocumented but long-standing switch
``MKL_DEBUG_CPU_TYPE=5`` makes it dispatch the AVX2 kernels instead (newer MKLs ignore it;
Intel CPUs never need it). Measured on this project's 2-core AMD EPYC, one thread, same
process type (docs/performance.md): float32 matmuls ran about 2.5x faster and training steps
of AlexNet and ResNet50 about 2x faster. Results differ from
the stock path only by float rounding (a different summation order inside sgemm).

MKL reads the variable at its first call, so it must be set before the first matmul or
convolution of the process (after ``import paddle`` is fine). The tools call
``use_avx2_mkl_on_amd()`` first thing. Rules:

- a ``MKL_DEBUG_CPU_TYPE`` already in the environment is the user's and is left alone;
- ``PADDLE_REPRO_MKL_AVX2=0`` switches this off (Paddle's stock dispatch);
- it is only set on an AMD CPU whose flags include ``avx2`` and ``fma``.
"""
import os

OPT_OUT = "PADDLE_REPRO_MKL_AVX2"
MKL_VAR = "MKL_DEBUG_CPU_TYPE"


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
    if env.get(OPT_OUT, "1").strip().lower() in ("0", "false", "no", "off"):
        return f"off ({OPT_OUT}={env[OPT_OUT]})"
    if not amd_with_avx2(_cpuinfo() if cpuinfo is None else cpuinfo):
        return "not needed (not an AMD CPU with AVX2)"
    env[MKL_VAR] = "5"
    return "set (AMD CPU with AVX2)"


def status(environ=None):
    """One line for run logs and benchmark headers: the dispatch MKL will use."""
    env = os.environ if environ is None else environ
    value = env.get(MKL_VAR)
    return f"{MKL_VAR}={value}" if value is not None else f"{MKL_VAR} unset (MKL's own dispatch)"

"""paddle_repro.process: the MKL dispatch switch and glibc's freed memory, when each applies
and what a run records."""
import os
import subprocess
import sys

import pytest

from paddle_repro import process, runtime

AMD_AVX2 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu sse sse2 fma avx avx2

processor\t: 1
vendor_id\t: AuthenticAMD
flags\t\t: fpu sse sse2 fma avx avx2
"""
AMD_OLD = AMD_AVX2.replace(" fma avx avx2", " avx")
INTEL = AMD_AVX2.replace("AuthenticAMD", "GenuineIntel")


@pytest.mark.parametrize("text, expected", [(AMD_AVX2, True), (AMD_OLD, False), (INTEL, False),
                                            ("", False)])
def test_detects_amd_with_avx2(text, expected):
    assert process.amd_with_avx2(text) is expected


def test_sets_the_switch_on_amd_with_avx2():
    env = {}
    assert process.use_avx2_mkl_on_amd(env, AMD_AVX2).startswith("set")
    assert env == {"MKL_DEBUG_CPU_TYPE": "5"}
    assert process.mkl_status(env) == "MKL_DEBUG_CPU_TYPE=5"


@pytest.mark.parametrize("text", [INTEL, AMD_OLD])
def test_leaves_other_cpus_alone(text):
    env = {}
    assert process.use_avx2_mkl_on_amd(env, text).startswith("not needed")
    assert env == {}
    assert "unset" in process.mkl_status(env)


def test_the_users_value_wins():
    env = {"MKL_DEBUG_CPU_TYPE": "2"}
    assert "user's value" in process.use_avx2_mkl_on_amd(env, AMD_AVX2)
    assert env == {"MKL_DEBUG_CPU_TYPE": "2"}


@pytest.mark.parametrize("value", ["0", "false", "OFF"])
def test_opt_out(value):
    env = {"PADDLE_REPRO_MKL_AVX2": value}
    assert process.use_avx2_mkl_on_amd(env, AMD_AVX2).startswith("off")
    assert "MKL_DEBUG_CPU_TYPE" not in env


def test_run_summaries_record_the_dispatch():
    assert runtime.versions()["mkl_dispatch"].startswith("MKL_DEBUG_CPU_TYPE")



class FakeLibc:
    """Records mallopt calls; answers like glibc (1 = accepted)."""

    def __init__(self, answer=1):
        self.calls, self.answer = [], answer

    def mallopt(self, param, value):
        self.calls.append((param, value))
        return self.answer


def test_keeps_freed_memory_by_default():
    libc = FakeLibc()
    said = process.keep_freed_memory({}, libc)
    assert said.startswith("keeps freed memory")
    assert libc.calls == [(process.M_MMAP_MAX, 0),
                          (process.M_TRIM_THRESHOLD, process.TRIM_BYTES)]
    assert process.malloc_status() == said


def test_opt_out_and_refusal_leave_malloc_alone():
    libc = FakeLibc()
    said = process.keep_freed_memory({process.MALLOC_OPT_OUT: "0"}, libc)
    assert said.startswith("stock glibc malloc") and libc.calls == []
    assert process.keep_freed_memory({}, FakeLibc(answer=0)).startswith("not applied")


def test_real_call_and_the_run_record():
    said = process.keep_freed_memory()  # this process: glibc here, or not applied
    assert said.startswith(("keeps freed memory", "not applied"))
    assert runtime.versions()["malloc"] == said


def test_prepare_process_does_all_three_in_a_fresh_process():
    """cv2 is imported before paddle, and both decisions are made (and recorded)."""
    code = ("from paddle_repro.process import prepare_process; import sys; "
            "said = prepare_process(); from paddle_repro import runtime; v = runtime.versions(); "
            "assert 'cv2' in sys.modules; assert v['malloc'] == said['malloc'], v; "
            "assert v['mkl_dispatch'].startswith('MKL_DEBUG_CPU_TYPE'); print(','.join(sorted(said)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "malloc,mkl"

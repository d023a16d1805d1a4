"""The MKL dispatch switch (paddle_repro/cpu_blas.py): when it is set, and when it is not."""
import pytest

from paddle_repro import cpu_blas

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
    assert cpu_blas.amd_with_avx2(text) is expected


def test_sets_the_switch_on_amd_with_avx2():
    env = {}
    assert cpu_blas.use_avx2_mkl_on_amd(env, AMD_AVX2).startswith("set")
    assert env == {"MKL_DEBUG_CPU_TYPE": "5"}
    assert cpu_blas.status(env) == "MKL_DEBUG_CPU_TYPE=5"


@pytest.mark.parametrize("text", [INTEL, AMD_OLD])
def test_leaves_other_cpus_alone(text):
    env = {}
    assert cpu_blas.use_avx2_mkl_on_amd(env, text).startswith("not needed")
    assert env == {}
    assert "unset" in cpu_blas.status(env)


def test_the_users_value_wins():
    env = {"MKL_DEBUG_CPU_TYPE": "2"}
    assert "user's value" in cpu_blas.use_avx2_mkl_on_amd(env, AMD_AVX2)
    assert env == {"MKL_DEBUG_CPU_TYPE": "2"}


@pytest.mark.parametrize("value", ["0", "false", "OFF"])
def test_opt_out(value):
    env = {"PADDLE_REPRO_MKL_AVX2": value}
    assert cpu_blas.use_avx2_mkl_on_amd(env, AMD_AVX2).startswith("off")
    assert "MKL_DEBUG_CPU_TYPE" not in env


def test_run_summaries_record_the_dispatch():
    from paddle_repro import runtime
    assert runtime.versions()["mkl_dispatch"].startswith("MKL_DEBUG_CPU_TYPE")

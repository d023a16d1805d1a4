"""paddle_repro.cpu_memory: when glibc is told to keep freed memory, and what is recorded."""
from paddle_repro import cpu_memory


class FakeLibc:
    """Records mallopt calls; answers like glibc (1 = accepted)."""

    def __init__(self, answer=1):
        self.calls, self.answer = [], answer

    def mallopt(self, param, value):
        self.calls.append((param, value))
        return self.answer


def test_keeps_freed_memory_by_default():
    libc = FakeLibc()
    said = cpu_memory.keep_freed_memory({}, libc)
    assert said.startswith("keeps freed memory")
    assert libc.calls == [(cpu_memory.M_MMAP_MAX, 0),
                          (cpu_memory.M_TRIM_THRESHOLD, cpu_memory.TRIM_BYTES)]
    assert cpu_memory.status() == said


def test_opt_out_and_refusal_leave_malloc_alone():
    libc = FakeLibc()
    said = cpu_memory.keep_freed_memory({cpu_memory.OPT_OUT: "0"}, libc)
    assert said.startswith("stock glibc malloc") and libc.calls == []
    assert cpu_memory.keep_freed_memory({}, FakeLibc(answer=0)).startswith("not applied")


def test_real_call_and_the_run_record():
    from paddle_repro import runtime
    said = cpu_memory.keep_freed_memory()  # this process: glibc here, or not applied
    assert said.startswith(("keeps freed memory", "not applied"))
    assert runtime.versions()["malloc"] == said

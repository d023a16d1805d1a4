"""tools/compare.py: the header says what the runs recorded (issue 19), and --group's message."""
import importlib.util
import json
import os

import pytest

from paddle_repro.report.machine import measured_on
from test_report import fake_run

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
VERSIONS = {"python": "3.10.12", "paddle": "3.3.1", "numpy": "1.26.4",
            "mkl_dispatch": "MKL_DEBUG_CPU_TYPE=5",
            "malloc": "keeps freed memory (M_MMAP_MAX=0, M_TRIM_THRESHOLD=1GiB)"}


def compare_tool():
    spec = importlib.util.spec_from_file_location("compare_tool", os.path.join(ROOT, "tools", "compare.py"))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def run_with(path, seed, **versions):
    """A fake run folder whose summary.json records ``VERSIONS`` updated by ``versions``."""
    fake_run(path, seed, 0.7, 0.8, 0.8)
    summary_path = os.path.join(path, "summary.json")
    summary = json.load(open(summary_path))
    summary["versions"] = {**VERSIONS, **versions}
    json.dump(summary, open(summary_path, "w"))
    return str(path)


def test_header_reads_the_runs_not_this_process(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MKL_DEBUG_CPU_TYPE", raising=False)  # compare's own process: MKL unset
    a = run_with(tmp_path / "a" / "seed42", 42)
    b = run_with(tmp_path / "b" / "seed42", 42)
    assert compare_tool().main([a, b, "--no-figures", "--out", str(tmp_path / "cmp")]) == 0
    md = open(tmp_path / "cmp" / "table.md").read()
    line = next(ln for ln in md.splitlines() if ln.startswith("Measured on:"))
    assert "MKL_DEBUG_CPU_TYPE=5" in line and "keeps freed memory" in line
    assert "Paddle 3.3.1, Python 3.10.12" in line and "device cpu" in line
    assert "runs do not record theirs" in line  # the CPU shown is this machine's, and it says so
    assert "not measured alike" not in md


def test_header_says_when_the_runs_differ(tmp_path):
    a = run_with(tmp_path / "a" / "seed42", 42)
    b = run_with(tmp_path / "b" / "seed42", 42,
                 mkl_dispatch="MKL_DEBUG_CPU_TYPE unset (MKL's own dispatch)", paddle="2.6.2")
    assert compare_tool().main([a, b, "--no-figures", "--out", str(tmp_path / "cmp")]) == 0
    md = open(tmp_path / "cmp" / "table.md").read()
    line = next(ln for ln in md.splitlines() if ln.startswith("Measured on:"))
    assert "Paddle differs between runs" in line and "MKL_DEBUG_CPU_TYPE=5" not in line
    differ = next(ln for ln in md.splitlines() if "not measured alike" in ln)
    assert f"`MKL_DEBUG_CPU_TYPE=5` ({a})" in differ
    assert f"`MKL_DEBUG_CPU_TYPE unset (MKL's own dispatch)` ({b})" in differ
    assert f"Paddle: `3.3.1` ({a}), `2.6.2` ({b})" in differ
    assert "malloc" not in differ and "Python" not in differ  # only what differs is listed


def test_runs_without_versions_say_not_recorded():
    lines = measured_on([{"device": "cpu"}, {"device": "cpu"}], ["a", "b"])
    assert len(lines) == 1 and "Paddle not recorded" in lines[0]


@pytest.mark.parametrize("group", [True, False])
def test_parent_folders_instead_of_seed_folders(tmp_path, capsys, group):
    for run in ("x", "y"):
        for seed in (42, 43):
            run_with(tmp_path / run / f"seed{seed}", seed)
    argv = [str(tmp_path / "x"), str(tmp_path / "y"), "--out", str(tmp_path / "cmp")]
    with pytest.raises(SystemExit) as exc:
        compare_tool().main(argv + (["--group"] if group else []))
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'x'} is not a run folder: it holds the seed folders seed42, seed43" in err
    assert str(tmp_path / "x" / "seed42") in err and str(tmp_path / "x" / "seed*") in err
    assert ("--group takes the seed folders themselves" in err) == group
    assert "config.yaml" not in err
    assert not (tmp_path / "cmp").exists()  # refused before writing anything


def test_runs_that_record_their_machine_are_shown_as_recorded(monkeypatch):
    """summary.json's ``machine`` (CPU, logical CPUs, OMP_NUM_THREADS): the header shows the
    runs' own, not the table writer's, and lists runs trained with other thread counts."""
    monkeypatch.setenv("OMP_NUM_THREADS", "7")  # this process: must not show up
    run = {"device": "cpu", "versions": VERSIONS,
           "machine": {"cpu": "Test CPU 9000", "logical_cpus": 64, "omp_num_threads": "2"}}
    line, = measured_on([run, run], ["a", "b"], cpu_of_runs=False)
    assert line.startswith("Measured on: Test CPU 9000 (64 logical CPUs, OMP_NUM_THREADS=2,")
    assert "writing this table" not in line
    other = {**run, "machine": {**run["machine"], "omp_num_threads": "1"}}
    line, differ = measured_on([run, other], ["a", "b"], cpu_of_runs=False)
    assert "OMP_NUM_THREADS=differs between runs" in line
    assert "OMP_NUM_THREADS: `2` (a), `1` (b)" in differ


def test_a_run_records_its_machine(tmp_path):
    from tests.test_trainer import tiny_cfg
    from paddle_repro.engine.trainer import train
    summary = train(tiny_cfg(tmp_path, "run", ["Global.throughput=false"], train_size=16, test_size=8))
    assert set(summary["machine"]) == {"cpu", "logical_cpus", "omp_num_threads"}
    assert summary["machine"]["logical_cpus"] == os.cpu_count()


def test_training_time_counts_every_session_of_a_resumed_run():
    """A resumed run's ``wall_time_s`` is its last session's; the header sums ``train_time_s``
    (its epochs, every session) and says which it used when old summaries lack it."""
    from paddle_repro.report.machine import training_time
    resumed = {"wall_time_s": 2131.9, "train_time_s": 10962.2}
    text = training_time([resumed, {"wall_time_s": 2144.0, "train_time_s": 10956.0}])
    assert text == "training time summed over runs, every epoch of every session: 21918 s"
    old = training_time([resumed, {"wall_time_s": 2144.0}])
    assert "4276 s, of each run's last session only" in old

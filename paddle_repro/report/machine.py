"""The header of a table: scale, what the runs were measured on, wall time.

Everything in the "Measured on" line is read from the runs' own ``summary.json``: device and
``versions`` (Paddle, Python, MKL dispatch, malloc; ``runtime.versions()``) and ``machine``
(CPU model, logical CPUs, ``OMP_NUM_THREADS``; ``host.host_facts()``), never from the process
writing the table: the runs it reads may have trained with other settings or on another
machine (``tools/compare.py`` compares any run folders). When runs
recorded different values, the header says so and lists which run had which. Runs older
than the ``machine`` record show this machine's CPU and threads, and the line says so.
"""
from ..host import host_facts
from ..run_layout import DEVICE, MACHINE, TRAIN_TIME_S, VERSIONS, WALL_TIME_S


def _version(key):
    return lambda s: (s.get(VERSIONS) or {}).get(key)


def _machine(key):
    return lambda s: (s.get(MACHINE) or {}).get(key)


# (label in the header, how to read it from a summary); missing values read "not recorded"
RECORDED = (("device", lambda s: s.get(DEVICE)),
            ("Paddle", _version("paddle")),
            ("Python", _version("python")),
            ("MKL dispatch", _version("mkl_dispatch")),
            ("malloc", _version("malloc")),
            ("CPU", _machine("cpu")),
            ("logical CPUs", _machine("logical_cpus")),
            ("OMP_NUM_THREADS", _machine("omp_num_threads")))
HOST_FIELDS = {"CPU": "cpu", "logical CPUs": "logical_cpus", "OMP_NUM_THREADS": "omp_num_threads"}
DIFFERS = "differs between runs (see below)"
NOT_RECORDED = "not recorded"


def recorded(summaries, names):
    """Per header field, the runs having each recorded value.

    Args:
        summaries: the runs' ``summary.json`` dicts.
        names: one name per summary (e.g. ``with_x/seed42``), used to list differing runs.

    Returns:
        dict label -> dict value -> [run names], in first-seen order.
    """
    out = {}
    for label, read in RECORDED:
        by_value = out.setdefault(label, {})
        for summary, name in zip(summaries, names):
            value = read(summary)
            by_value.setdefault(NOT_RECORDED if value is None else str(value), []).append(name)
    return out


def measured_on(summaries, names, cpu_of_runs=True):
    """The "Measured on" line, plus one "The runs differ" line when their records disagree.

    Args:
        summaries: the runs' ``summary.json`` dicts.
        names: one name per summary.
        cpu_of_runs: False when this machine need not be the one that trained (compare): for
            runs that did not record their CPU and threads, the line then says the ones shown
            are this machine's.

    Returns:
        list of 1 or 2 Markdown lines.
    """
    values = recorded(summaries, names)
    host, borrowed = host_facts(), False

    def one(label):
        nonlocal borrowed
        by_value = values[label]
        if len(by_value) > 1:
            return DIFFERS
        value = next(iter(by_value), "?")
        if value == NOT_RECORDED and label in HOST_FIELDS:  # runs older than the record
            borrowed = True
            return str(host[HOST_FIELDS[label]])
        return value

    line = (f"Measured on: {one('CPU')} ({one('logical CPUs')} logical CPUs, OMP_NUM_THREADS="
            f"{one('OMP_NUM_THREADS')}, {one('MKL dispatch')}, malloc: {one('malloc')}), device "
            f"{one('device')}; Paddle {one('Paddle')}, Python {one('Python')}.")
    if borrowed and not cpu_of_runs:
        line += (" (CPU and OMP_NUM_THREADS are those of the machine writing this table: these "
                 "runs do not record theirs.)")
    lines = [line]
    differing = [(label, by_value) for label, by_value in values.items() if len(by_value) > 1]
    if differing:
        lines.append("**The runs were not measured alike**: " + "; ".join(
            f"{label}: " + ", ".join(f"`{value}` ({', '.join(runs)})"
                                     for value, runs in by_value.items())
            for label, by_value in differing) + ".")
    return lines


def machine_lines(quick, spec, wall_s, summaries, names):
    """The header of a reproduced table: the quick-run warning, ``measured_on``, wall time."""
    lines = []
    if quick:  # a user's own table has no notebook to fall short of
        has_notebook = any(run.get("notebook") for run in spec["runs"]) or spec.get("notebook_hardware")
        short_of = "the notebook's scale" if has_notebook else "the configs' full runs"
        lines.append(f"**QUICK RUN -- not {short_of}**: overrides "
                     + ", ".join(f"`{o}`" for o in spec["quick"]) + ".")
    lines += measured_on(summaries, names)
    lines.append(f"Wall time of this command: {wall_s:.0f} s ({training_time(summaries)}).")
    return lines


def training_time(summaries):
    """The runs' training time, summed, and what it covers.

    ``train_time_s`` (the run's epochs, every session of a resumed run) where every summary
    has it; summaries written before it existed have only ``wall_time_s``, which is the last
    session's share of a resumed run, and the text says so.
    """
    if all(TRAIN_TIME_S in s for s in summaries):
        total = sum(s[TRAIN_TIME_S] or 0.0 for s in summaries)
        return f"training time summed over runs, every epoch of every session: {total:.0f} s"
    total = sum(s.get(WALL_TIME_S) or 0.0 for s in summaries)
    return (f"training wall time summed over runs: {total:.0f} s, of each run's last session "
            "only (runs written before summary.json recorded train_time_s)")

"""The header of a table: scale, what the runs were measured on, wall time.

Device, Paddle, Python, MKL dispatch and malloc setting are read from the runs' own
``summary.json`` (``device`` and ``versions``, written by ``engine/summary.py`` from
``runtime.versions()``), never from the process writing the table: ``tools/compare.py`` runs
with stock MKL and malloc, while the runs it compares recorded e.g. ``MKL_DEBUG_CPU_TYPE=5``.
When runs recorded different values, the header says so and lists which run had which.

The CPU model, logical CPU count and ``OMP_NUM_THREADS`` are not in ``summary.json``; they
are this machine's (the one writing the table), which is the training machine for
``tools/reproduce.py`` with the local launcher. ``tools/compare.py`` says so in the line.
"""
import os
import platform

# (label in the header, how to read it from a summary); missing values read "not recorded"
RECORDED = (("device", lambda s: s.get("device")),
            ("Paddle", lambda s: (s.get("versions") or {}).get("paddle")),
            ("Python", lambda s: (s.get("versions") or {}).get("python")),
            ("MKL dispatch", lambda s: (s.get("versions") or {}).get("mkl_dispatch")),
            ("malloc", lambda s: (s.get("versions") or {}).get("malloc")))
DIFFERS = "differs between runs (see below)"


def cpu_model():
    """This machine's CPU model name (``/proc/cpuinfo``), else ``platform``'s guess."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        return cpu


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
            by_value.setdefault("not recorded" if value is None else str(value), []).append(name)
    return out


def measured_on(summaries, names, cpu_of_runs=True):
    """The "Measured on" line, plus one "The runs differ" line when their records disagree.

    Args:
        summaries: the runs' ``summary.json`` dicts.
        names: one name per summary.
        cpu_of_runs: False when this machine need not be the one that trained (compare):
            the line then says the CPU and threads shown are this machine's.

    Returns:
        list of 1 or 2 Markdown lines.
    """
    values = recorded(summaries, names)

    def one(label):
        by_value = values[label]
        if len(by_value) > 1:
            return DIFFERS
        return next(iter(by_value), "?")

    where = "" if cpu_of_runs else (" (CPU and OMP_NUM_THREADS are those of the machine "
                                    "writing this table: runs do not record theirs.)")
    lines = [f"Measured on: {cpu_model()} ({os.cpu_count()} logical CPUs, OMP_NUM_THREADS="
             f"{os.environ.get('OMP_NUM_THREADS', 'unset')}, {one('MKL dispatch')}, "
             f"malloc: {one('malloc')}), device {one('device')}; Paddle {one('Paddle')}, Python "
             f"{one('Python')}.{where}"]
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
    if quick:
        lines.append("**QUICK RUN -- not the notebook's scale**: overrides "
                     + ", ".join(f"`{o}`" for o in spec["quick"]) + ".")
    lines += measured_on(summaries, names)
    train_s = sum(s.get("wall_time_s") or 0.0 for s in summaries)
    lines.append(f"Wall time of this command: {wall_s:.0f} s (training wall time summed over "
                 f"runs, including earlier sessions: {train_s:.0f} s).")
    return lines

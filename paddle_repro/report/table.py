"""The with-vs-without table: our numbers (mean +- std over seeds) beside the notebook's.

``build_table`` turns loaded runs into rows (pure data, tested on fabricated runs);
``render_markdown`` / ``write_csv`` write ``table.md`` / ``table.csv``. Deltas are
``with - without`` for every ``without`` run, per column, with the spread rule of
:mod:`paddle_repro.report.stats` (|delta| < max of the two seed stds) marked in the table.
"""
import csv
import os

from paddle_repro.report import stats
from paddle_repro.report.flops import NOTE
from paddle_repro.report.runs import read_json, run_metrics
from paddle_repro.report.spec import COLUMNS
from paddle_repro.run_layout import (BEST_MODEL, CHECKPOINT, CLASS_NAMES, FLOPS_NOT_COUNTED,
                                     PER_CLASS_ACC, PER_CLASS_ACC_FILE, SEED)

_ACC = {"train_top1", "best_val_top1", "best_val_top1_nb", "final_val_top1",
        "final_val_top1_nb", "final_val_top5"}


def build_table(spec, results):
    """Collects each run's per-seed values, means, stds and the deltas.

    Args:
        spec: a validated table spec (``spec.load_spec``).
        results: dict run name -> list of loaded runs (``runs.load_run``), one per seed.

    Returns:
        dict(columns, rows, deltas, notebook_deltas, seeds): each row has name, label, role,
        n, values {col: [per seed]}, mean {col}, std {col}, notebook {col}; each delta has
        label (``with - <label>``) and per column the dict of :func:`stats.compare`.
    """
    columns = spec["columns"]
    rows = []
    for run in spec["runs"]:
        loaded = results.get(run["name"], [])
        per_seed = [run_metrics(r) for r in loaded]
        values = {c: [m[c] for m in per_seed] for c in columns}
        summ = {c: stats.mean_std(values[c]) for c in columns}
        rows.append({
            "name": run["name"], "label": run["label"], "role": run["role"], "n": len(loaded),
            "seeds": [r["summary"].get(SEED) for r in loaded],
            "values": values, "mean": {c: summ[c][0] for c in columns},
            "std": {c: summ[c][1] for c in columns}, "notebook": run.get("notebook") or {},
            "flops_not_counted": sorted({t for r in loaded
                                         for t in (r.get("extra") or {}).get(FLOPS_NOT_COUNTED, [])}),
        })
    with_row = next(r for r in rows if r["role"] == "with")
    deltas, notebook_deltas = [], []
    for row in rows:
        if row["role"] != "without":
            continue
        deltas.append({"label": f"Δ {with_row['label']} − {row['label']}",
                       "cols": {c: stats.compare(with_row["values"][c], row["values"][c])
                                for c in columns}})
        nb_w, nb_o = with_row["notebook"], row["notebook"]
        nb = {c: nb_w[c] - nb_o[c] for c in columns if c in nb_w and c in nb_o}
        if nb:
            notebook_deltas.append({"label": f"notebook Δ {with_row['label']} − {row['label']}",
                                    "cols": nb, "decimals": {c: max(printed_decimals(nb_w[c]),
                                                                    printed_decimals(nb_o[c]))
                                                             for c in nb}})
    seeds = sorted({s for r in rows for s in r["seeds"] if s is not None})
    return {"columns": columns, "rows": rows, "deltas": deltas,
            "notebook_deltas": notebook_deltas, "seeds": seeds}


def fmt(col, value, signed=False):
    """Formats one number for its column (accuracies 4 d.p., counts with separators)."""
    if value is None:
        return "–"
    sign = "+" if signed else ""
    if col in _ACC:
        return f"{value:{sign}.4f}"
    if col == "flops":
        return f"{value / 1e9:{sign}.3f} G" if abs(value) >= 1e9 else f"{value / 1e6:{sign}.2f} M"
    if col in ("params", "trainable_params"):
        return f"{value:{sign},.0f}"
    return f"{value:{sign},.1f}"


def printed_decimals(value):
    """Decimals a notebook number was printed with (0.81804 -> 5, 0.8314 -> 4; at least 4)."""
    text = repr(float(value))
    return max(4, len(text.split(".")[1])) if "." in text and "e" not in text else 4


def fmt_notebook(col, value, decimals=None, signed=False):
    """A notebook's number at its own printed precision (0.81804 stays 0.81804, not 0.8180)."""
    if value is None or col not in _ACC:
        return fmt(col, value, signed)
    decimals = decimals or printed_decimals(value)
    return f"{value:{'+' if signed else ''}.{decimals}f}"


def _cell(row, col):
    mean, std = row["mean"][col], row["std"][col]
    text = fmt(col, mean)
    return text if std is None else f"{text} ± {fmt(col, std)}"


def render_markdown(spec, table, header_lines=()):
    """The table page as Markdown: header, our rows with the notebook's beneath, deltas, notes."""
    cols = table["columns"]
    out = [f"# {spec['title']}", ""]
    if spec.get("paper"):
        out += [f"Paper: {spec['paper']}", ""]
    out += [f"{line}  " for line in header_lines] + [""]
    out.append("| run | role | seeds | " + " | ".join(COLUMNS[c] for c in cols) + " |")
    out.append("|" + "---|" * (3 + len(cols)))
    for row in table["rows"]:
        out.append(f"| {row['label']} | {row['role']} | {row['n']} | "
                   + " | ".join(_cell(row, c) for c in cols) + " |")
        if any(c in row["notebook"] for c in cols):
            out.append(f"| ↳ notebook: {row['label']} | | | "
                       + " | ".join(fmt_notebook(c, row["notebook"].get(c)) for c in cols) + " |")
    flagged = False
    for d in table["deltas"]:
        cells = []
        for c in cols:
            entry = d["cols"][c]
            mark = " †" if entry["within_spread"] else ""
            flagged |= bool(entry["within_spread"])
            cells.append(fmt(c, entry["delta"], signed=True) + mark)
        out.append(f"| **{d['label']}** | | | " + " | ".join(cells) + " |")
    for d in table["notebook_deltas"]:
        out.append(f"| ↳ {d['label']} | | | "
                   + " | ".join(fmt_notebook(c, d["cols"].get(c), d["decimals"].get(c), signed=True)
                                for c in cols) + " |")
    out += ["", "Columns: train top-1 = last epoch's train accuracy accumulated in train mode "
            "(as the notebooks); params include BN running statistics; eval img/s = whole eval "
            "loader in eval mode, data loading included (the notebooks' throughput)."]
    if any(c.endswith("_nb") for c in cols):
        out.append("(notebook def.) = val accuracy computed the notebook's way (Metric.notebook_val, "
                   "builders/notebook_metrics.py), the like-for-like column for the notebook's "
                   "number; the column without it is the true top-1 (hits / images). best = the "
                   "epoch saved as best_model, chosen by Metric.best_by.")
    out.append("")
    multi = any(r["n"] > 1 for r in table["rows"])
    if multi:
        out.append("Mean ± sample std (ddof=1) over seeds " + ", ".join(map(str, table["seeds"]))
                   + "." + (" † = |Δ| is smaller than the seed-to-seed spread, max(std with, "
                            "std without): the difference is not distinguishable from seed noise."
                            if table["deltas"] else ""))
        if table["deltas"] and not flagged:
            out.append("No delta is within the seed-to-seed spread.")
        if table["deltas"]:  # a table of one run (no with/without pair) has no delta to test
            out += ["", "Welch's t-test of each delta (two-sided):", ""]
        for d in table["deltas"]:
            tests = [f"{c}: t={w['t']:.2f}, df={w['df']:.1f}, p={w['p']:.3g}"
                     for c in cols for w in [d["cols"][c]["welch"]] if w]
            out.append(f"- {d['label']}: " + ("; ".join(tests) or "not enough seeds"))
    else:
        out.append("One seed per run: no seed-to-seed spread is measured, so no delta here can "
                   "be told apart from seed noise. Use `--seeds 42,43,44`.")
    if "flops" in cols:
        out += ["", NOTE]
        partial = [f"{r['label']}: {', '.join(r['flops_not_counted'])}" for r in table["rows"]
                   if r.get("flops_not_counted")]
        if partial:
            out.append("NOT COUNTED in FLOPs/image, the own operations of layers from a user's "
                       "module without a FLOPs rule (their sublayers are counted; "
                       "paddle_repro.register_flops adds a rule): " + "; ".join(partial) + ".")
    if spec.get("notebook_notes") or spec.get("notebook_hardware"):
        out += ["", "Notebook numbers are the notebook's own (copied from its printed output), "
                "never ours" + (f"; its hardware: {spec['notebook_hardware']}."
                                if spec.get("notebook_hardware") else ".")]
        out += [f"- {n}" for n in spec.get("notebook_notes", [])]
    return "\n".join(out) + "\n"


def write_csv(table, path):
    """One CSV row per run, delta and notebook row: mean, std and n per column."""
    cols = table["columns"]
    head = ["kind", "label", "role", "n"]
    for c in cols:
        head += [f"{c}_mean", f"{c}_std", f"{c}_within_spread"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(head)
        for row in table["rows"]:
            w.writerow(["ours", row["label"], row["role"], row["n"]]
                       + [v for c in cols for v in (row["mean"][c], row["std"][c], "")])
            if row["notebook"]:
                w.writerow(["notebook", row["label"], row["role"], ""]
                           + [v for c in cols for v in (row["notebook"].get(c), "", "")])
        for d in table["deltas"]:
            w.writerow(["delta", d["label"], "", ""]
                       + [v for c in cols for v in (d["cols"][c]["delta"], d["cols"][c]["spread"],
                                                    d["cols"][c]["within_spread"])])
        for d in table["notebook_deltas"]:
            w.writerow(["notebook_delta", d["label"], "", ""]
                       + [v for c in cols for v in (d["cols"].get(c), "", "")])


def render_per_class(spec, results):
    """Per-class accuracy beside the notebook's, for runs whose notebook printed it.

    Ours is read from each seed folder's ``per_class_acc.json`` (``confusion.write_confusion``)
    and averaged over seeds. Returns Markdown ('' when no run has notebook per-class numbers).
    """
    out = []
    for run in spec["runs"]:
        theirs = (run.get("notebook") or {}).get("per_class_acc")
        if not theirs:
            continue
        ours, weights = {}, set()
        for loaded in results.get(run["name"], []):
            path = os.path.join(loaded["dir"], PER_CLASS_ACC_FILE)
            if os.path.isfile(path):
                data = read_json(path)
                weights.add(str(data.get(CHECKPOINT) or BEST_MODEL))
                for name, acc in zip(data[CLASS_NAMES], data[PER_CLASS_ACC]):
                    ours.setdefault(name, []).append(acc)
        source = f" (ours from {', '.join(sorted(weights))})" if weights else ""
        out += ["", f"## Per-class accuracy: {run['label']}{source}", "",
                "| class | ours | notebook |", "|---|---|---|"]
        for name in sorted(set(theirs) | set(ours), key=lambda n: list(theirs).index(n)
                           if n in theirs else len(theirs)):
            mean, std, _ = stats.mean_std(ours.get(name, []))
            cell = fmt("final_val_top1", mean) + ("" if std is None else f" ± {std:.4f}")
            out.append(f"| {name} | {cell} | {fmt('final_val_top1', theirs.get(name))} |")
    return "\n".join(out) + ("\n" if out else "")

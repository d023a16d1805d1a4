"""One table of bad inputs per tool (issue 27 item 6): what a user might pass, the exit code,
a fragment of the one-line message, and that no file in the run / export folder changed.

Each tool's ``main`` runs in this process (as tests/test_reproduce.py does), so an escaped
exception fails the test the way it would print a traceback. Real conditions where they can
be made: an immutable folder is ``chattr +i`` (root ignores permission bits; the rows skip
where chattr does not work), a file-size limit is ``RLIMIT_FSIZE`` (``ulimit -f``); a full
disk is the same code path as that limit (EFBIG and ENOSPC are one table in
``paddle_repro/writable.py``), and a folder turning read-only mid-run is ``chattr +i`` applied
from inside the first checkpoint save. New failure modes get a row.
"""
import contextlib
import hashlib
import importlib.util
import os
import pickle
import re
import resource
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import pytest
import yaml

from paddle_repro.config import dump_config, load_config
from paddle_repro.deploy.export import export_model
from paddle_repro.engine import checkpoint
from paddle_repro.engine.trainer import train
from paddle_repro.reproduce.plan import plan_runs
from paddle_repro.report.spec import load_spec
from paddle_repro.safe_load import load_paddle
from tests.test_trainer import tiny_cfg

ROOT = Path(__file__).resolve().parents[1]


def _tool(name):
    spec = importlib.util.spec_from_file_location(f"tool_{name}", ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _snapshot(folder):
    """{relative path: sha256} of every file under ``folder`` (None when it does not exist)."""
    folder = Path(folder)
    if not folder.exists() and not folder.is_symlink():
        return None
    if not folder.is_dir():
        return {".": hashlib.sha256(folder.read_bytes()).hexdigest()}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


class _Evil:
    """Unpickling it would create ``path`` (a folder): the stand-in for code in a file."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.mkdir, (self.path,)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A finished tiny run, its export and an image; rows work on copies of them."""
    base = tmp_path_factory.mktemp("bad_inputs")
    train(tiny_cfg(base, "run", ["Global.throughput=false"]))
    run = base / "run"
    export_model(load_config(run / "config.yaml", [f"Global.checkpoint={run / 'best_model.pdparams'}",
                                                   f"Global.save_inference_dir={base / 'inference'}"]))
    image = base / "x.png"
    cv2.imwrite(str(image), np.random.RandomState(0).randint(0, 255, (32, 32, 3)).astype("uint8"))
    return base


class Ctx:
    """What a row's ``make`` may use: fresh copies, an immutable folder, a file-size limit."""

    def __init__(self, world, tmp, monkeypatch, stack):
        self.world, self.tmp, self.monkeypatch, self._stack = world, tmp, monkeypatch, stack
        self.marker = tmp / "pwned"  # what a crafted pickle would create

    def run(self):
        """A copy of the finished run (its own folder, safe to refuse things in)."""
        dst = self.tmp / "run"
        if not dst.exists():
            shutil.copytree(self.world / "run", dst)
        return dst

    def cfg(self):
        return str(self.world / "run" / "config.yaml")

    def export(self):
        dst = self.tmp / "inference"
        if not dst.exists():
            shutil.copytree(self.world / "inference", dst)
        return dst

    def image(self):
        return str(self.world / "x.png")

    def evil(self, name="evil.pdparams"):
        path = self.tmp / name
        state = {"conv1.weight": np.zeros((2, 2), "float32"), "x": _Evil(self.marker)}
        path.write_bytes(pickle.dumps(state, protocol=4))
        return str(path)

    def immutable(self, path):
        """``chattr +i path`` until the row ends; skips where chattr cannot do it."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
        if done.returncode != 0 or os.access(path, os.W_OK) and _writable(path):
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)
            pytest.skip("chattr +i does not make a folder read-only here (needs root on ext4/xfs)")
        self._stack.callback(subprocess.run, ["chattr", "-i", str(path)], capture_output=True)
        return path

    def file_size_limit(self, limit):
        """``ulimit -f`` for this process until the row ends (Python ignores SIGXFSZ)."""
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
        self._stack.callback(resource.setrlimit, resource.RLIMIT_FSIZE, (soft, hard))


def _writable(folder):
    try:
        probe = Path(folder) / ".w"
        probe.write_text("")
        probe.unlink()
        return True
    except OSError:
        return False


@dataclass
class Row:
    """One bad input: ``make(ctx) -> (argv, folders watched)``, the exit code, a fragment of
    the last stderr line, and what must not change: ``all`` (every file of each watched
    folder, and no new one) or ``checkpoints`` (a failure mid-run: the checkpoints written
    before are intact, no temporary file is left)."""
    id: str
    make: Callable
    code: int
    fragment: str
    keep: str = "all"


def _check(tool, row, world, tmp_path, monkeypatch, capsys):
    with contextlib.ExitStack() as stack:
        ctx = Ctx(world, tmp_path, monkeypatch, stack)
        argv, watched = row.make(ctx)
        before = {str(f): _snapshot(f) for f in watched}
        capsys.readouterr()
        try:
            code = _tool(tool).main([str(a) for a in argv]) or 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        err = capsys.readouterr().err
    assert code == row.code, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert row.fragment in _message(err), err[-3000:]
    assert not ctx.marker.exists()  # nothing from a crafted pickle ran
    for folder, old in before.items():
        new = _snapshot(folder)
        if row.keep == "all":
            assert new == old, f"{folder} changed"
        else:  # mid-run: what was there is intact, nothing half-written is left
            assert all(new.get(k) == v for k, v in (old or {}).items() if ".pd" in k), folder
            assert not [k for k in (new or {}) if ".tmp" in k], new


def _message(err):
    """The tool's message: the last stderr line that starts ``<Type>Error:`` / ``error:``, with
    the lines after it (a WeightsError lists keys in one indented paragraph)."""
    lines = err.strip().splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if re.match(r"^(\w+Error|[\w.]+: error|error): ", lines[i]):
            return "\n".join(lines[i:])
    return ""


# ---------------------------------------------------------------------------------- train

def _train_args(ctx, out, *overrides):
    return ["-c", ctx.cfg(), "-o", f"Global.output_dir={out}", *overrides]


def _immutable_out(ctx):
    out = ctx.immutable(ctx.tmp / "ro")
    return _train_args(ctx, out), [out]


def _immutable_finished_run(ctx):
    run = ctx.run()
    ctx.immutable(run)
    return _train_args(ctx, run, "Global.resume=auto"), [run]


def _dangling(ctx):
    link = ctx.tmp / "out"
    link.symlink_to(ctx.tmp / "nowhere")
    return _train_args(ctx, link), [ctx.tmp / "nowhere"]


def _file_out(ctx):
    path = ctx.tmp / "out"
    path.write_text("a file")
    return _train_args(ctx, path), [path]


def _fresh(ctx, *overrides):
    out = ctx.tmp / "new"
    return _train_args(ctx, out, *overrides), [out]


def _crafted_resume_state(ctx):
    run = ctx.run()
    (run / "latest.pdstates").write_bytes(pickle.dumps({"epoch": 0, "x": _Evil(ctx.marker)}, protocol=4))
    return _train_args(ctx, run, "Global.resume=auto", "Global.epochs=2"), [run]


def _file_size_limit_mid_run(ctx):
    ctx.file_size_limit(200_000)  # below one ShuffleNetV2 0.5x checkpoint (~1.5 MB)
    return _fresh(ctx)


def _read_only_mid_run(ctx):
    run = ctx.run()
    real_save = checkpoint.save

    def save_into_a_folder_turned_immutable(prefix, *args):
        ctx.immutable(run)
        return real_save(prefix, *args)

    ctx.monkeypatch.setattr(checkpoint, "save", save_into_a_folder_turned_immutable)
    return _train_args(ctx, run, "Global.resume=auto", "Global.epochs=2"), [run]


TRAIN = [
    Row("immutable output_dir", _immutable_out, 2, "Cannot write to the output folder"),
    Row("finished run resumed in an immutable folder", _immutable_finished_run, 2,
        "Cannot write to the output folder"),
    Row("dangling symlink output_dir", _dangling, 2, "which does not exist"),
    Row("output_dir is a file", _file_out, 2, "is a file, not a folder"),
    Row("num_workers 100000", lambda c: _fresh(c, "DataLoader.Train.num_workers=100000"), 2,
        "CPUs available"),
    Row("cosine eta_min above the lr", lambda c: _fresh(
        c, "Optimizer.lr.name=cosine", "Optimizer.lr.eta_min=1.0"), 2, "would raise the lr"),
    Row("update_freq above the batches of an epoch", lambda c: _fresh(c, "Global.update_freq=50"),
        2, "an epoch has 3"),
    Row("image_shape the transforms do not produce", lambda c: _fresh(
        c, "Global.image_shape=[3,64,64]"), 2, "Set -o Global.image_shape=[3,32,32]"),
    Row("crafted Global.checkpoint", lambda c: _fresh(c, f"Global.checkpoint={c.evil()}"), 2,
        "asks to call posix.mkdir"),
    Row("resume from a crafted .pdstates", _crafted_resume_state, 2, "asks to call posix.mkdir"),
    Row("file-size limit mid-run", _file_size_limit_mid_run, 2, "file-size limit (ulimit -f)",
        "checkpoints"),
    Row("folder turned immutable mid-run", _read_only_mid_run, 2, "immutable (chattr +i)",
        "checkpoints"),
]


@pytest.mark.parametrize("row", TRAIN, ids=[r.id for r in TRAIN])
def test_train(row, world, tmp_path, monkeypatch, capsys):
    _check("train", row, world, tmp_path, monkeypatch, capsys)


# ----------------------------------------------------------------------------------- eval

def _eval(ctx, *overrides):
    out = ctx.tmp / "eval_out"
    return (["-c", ctx.cfg(), "-o", f"Global.output_dir={out}", *overrides],
            [out, ctx.world / "run"])


def _truncated_weights(ctx):
    path = ctx.tmp / "cut.pdparams"
    path.write_bytes((ctx.world / "run" / "best_model.pdparams").read_bytes()[:1000])
    return str(path)


EVAL = [
    Row("no Global.checkpoint", lambda c: _eval(c), 2, "needs weights"),
    Row("weights file missing", lambda c: _eval(c, f"Global.checkpoint={c.tmp / 'no.pdparams'}"), 2,
        "Weights file not found"),
    Row("optimizer file as weights", lambda c: _eval(
        c, f"Global.checkpoint={c.world / 'run' / 'latest.pdopt'}"), 2, "optimizer"),
    Row("truncated weights", lambda c: _eval(c, f"Global.checkpoint={_truncated_weights(c)}"), 2,
        "Cannot read weights file"),
    Row("crafted weights", lambda c: _eval(c, f"Global.checkpoint={c.evil()}"), 2,
        "asks to call posix.mkdir"),
    Row("weights of another model", lambda c: _eval(
        c, f"Global.checkpoint={c.world / 'run' / 'best_model.pdparams'}",
        "Arch.name=shufflenetv2_x1_0"), 2, "do not fit"),
]


@pytest.mark.parametrize("row", EVAL, ids=[r.id for r in EVAL])
def test_eval(row, world, tmp_path, monkeypatch, capsys):
    _check("eval", row, world, tmp_path, monkeypatch, capsys)


# -------------------------------------------------------------------------------- predict

def _predict(ctx, *images, checkpoint="best"):
    ck = [] if checkpoint is None else ["-o", f"Global.checkpoint={checkpoint if checkpoint != 'best' else ctx.world / 'run' / 'best_model.pdparams'}"]
    return ["-c", ctx.cfg(), *ck, *images], [ctx.world / "run"]


def _not_an_image(ctx):
    path = ctx.tmp / "notes.png"
    path.write_text("not pixels")
    return _predict(ctx, path)


def _empty_folder(ctx):
    (ctx.tmp / "empty").mkdir()
    return _predict(ctx, ctx.tmp / "empty")


PREDICT = [
    Row("no image", lambda c: _predict(c), 2, "give at least one image"),
    Row("missing image", lambda c: _predict(c, c.tmp / "no.png"), 2, "does not exist"),
    Row("folder without images", _empty_folder, 2, "folder with no image"),
    Row("text file named .png", _not_an_image, 2, "is not an image OpenCV can read"),
    Row("crafted weights", lambda c: _predict(c, c.image(), checkpoint=c.evil()), 2,
        "asks to call posix.mkdir"),
    Row("no Global.checkpoint", lambda c: _predict(c, c.image(), checkpoint=None), 2, "No checkpoint"),
]


@pytest.mark.parametrize("row", PREDICT, ids=[r.id for r in PREDICT])
def test_predict(row, world, tmp_path, monkeypatch, capsys):
    _check("predict", row, world, tmp_path, monkeypatch, capsys)


def test_predict_takes_a_folder(world, capsys):
    images = world / "images"
    images.mkdir(exist_ok=True)
    for name in ("a.png", "b.png"):
        shutil.copy(world / "x.png", images / name)
    code = _tool("predict").main(["-c", str(world / "run" / "config.yaml"), "-o",
                                  f"Global.checkpoint={world / 'run' / 'best_model.pdparams'}",
                                  str(images), "--topk", "1"])
    out = capsys.readouterr().out
    assert code == 0 and str(images / "a.png") in out and str(images / "b.png") in out


def test_a_finished_run_that_lost_final_model_gets_it_back(world, tmp_path):
    """Issue 27 item 4: "finished" promises final_model; a resume writes it again from the
    last epoch's weights (latest is always saved at the last epoch), changing nothing else."""
    run = tmp_path / "run"
    shutil.copytree(world / "run", run)
    for path in run.glob("final_model.*"):
        path.unlink()
    before = _snapshot(run)
    assert train(load_config(run / "config.yaml", [f"Global.output_dir={run}",
                                                   "Global.resume=auto"]))["finished"]
    after = _snapshot(run)
    same = {k: v for k, v in after.items() if not k.startswith(("final_model", "train.log"))}
    assert same == {k: v for k, v in before.items() if k != "train.log"}
    final, latest = load_paddle(run / "final_model.pdparams"), load_paddle(run / "latest.pdparams")
    assert final.keys() == latest.keys() and all(np.array_equal(final[k], latest[k]) for k in final)


# --------------------------------------------------------------------------------- export

def _export(ctx, target, *overrides, checkpoint="best"):
    ck = [] if checkpoint is None else [f"Global.checkpoint={checkpoint if checkpoint != 'best' else ctx.world / 'run' / 'best_model.pdparams'}"]
    return (["-c", ctx.cfg(), "-o", f"Global.save_inference_dir={target}", *ck, *overrides],
            [target, ctx.world / "run"])


def _other_model_there(ctx):
    folder = ctx.export()
    meta = yaml.safe_load((folder / "inference.yml").read_text())
    meta["Model"]["name"] = "alexnet_bn"
    (folder / "inference.yml").write_text(yaml.safe_dump(meta))
    return _export(ctx, folder)


def _export_file_size_limit(ctx):
    ctx.file_size_limit(200_000)
    return _export(ctx, ctx.tmp / "inference")


def _file_target(ctx):
    (ctx.tmp / "target").write_text("a file")
    return _export(ctx, ctx.tmp / "target")


EXPORT = [
    Row("target is a file", _file_target, 2, "is a file, not a folder"),
    Row("target under an immutable folder", lambda c: _export(c, c.immutable(c.tmp / "ro") / "inf"), 2,
        "Cannot write to"),
    Row("target holds another model", _other_model_there, 2, "already holds an exported 'alexnet_bn'"),
    Row("file-size limit", _export_file_size_limit, 2, "file-size limit (ulimit -f)"),
    Row("image_shape the transforms do not produce", lambda c: _export(
        c, c.tmp / "inference", "Global.image_shape=[3,64,64]"), 2, "Global.image_shape=[3,32,32]"),
    Row("crafted weights", lambda c: _export(c, c.tmp / "inference", checkpoint=c.evil()), 2,
        "asks to call posix.mkdir"),
    Row("no Global.checkpoint", lambda c: _export(c, c.tmp / "inference", checkpoint=None), 2,
        "needs weights"),
]


@pytest.mark.parametrize("row", EXPORT, ids=[r.id for r in EXPORT])
def test_export(row, world, tmp_path, monkeypatch, capsys):
    _check("export_model", row, world, tmp_path, monkeypatch, capsys)


# ---------------------------------------------------------------------------------- infer

def _infer(ctx, model_dir, image=None, output=None):
    output = output or ctx.tmp / "preds.json"
    return (["--model_dir", model_dir, "--input", image or ctx.image(), "--output", output],
            [model_dir, output])


def _damaged(ctx, how):
    folder = ctx.export()
    params = folder / "inference.pdiparams"
    if how == "missing":
        params.unlink()
    elif how == "empty":
        params.write_bytes(b"")
    else:
        params.write_bytes(params.read_bytes()[:-3000])
    return _infer(ctx, folder)


def _malformed_yml(ctx):
    folder = ctx.export()
    with open(folder / "inference.yml", "a") as f:
        f.write("Model: [unclosed\n")
    return _infer(ctx, folder)


def _other_size_image(ctx):
    path = ctx.tmp / "big.png"
    cv2.imwrite(str(path), np.zeros((40, 50, 3), np.uint8))
    return _infer(ctx, ctx.export(), image=path)


INFER = [
    Row("model_dir missing", lambda c: _infer(c, c.tmp / "nowhere"), 2, "does not exist"),
    Row("model_dir is a file", lambda c: _infer(c, c.world / "x.png"), 2, "is a file, not a folder"),
    Row("folder without inference.yml", lambda c: _infer(c, c.world / "run"), 2, "has no inference.yml"),
    Row("malformed inference.yml", _malformed_yml, 2, "is not valid YAML"),
    Row("inference.pdiparams missing", lambda c: _damaged(c, "missing"), 2, "is missing"),
    Row("inference.pdiparams empty", lambda c: _damaged(c, "empty"), 2, "is empty"),
    Row("inference.pdiparams truncated", lambda c: _damaged(c, "truncated"), 2, "truncated or replaced"),
    Row("--output is a folder", lambda c: _infer(c, c.export(), output=c.tmp), 2, "is a folder"),
    Row("--output under an immutable folder", lambda c: _infer(
        c, c.export(), output=c.immutable(c.tmp / "ro") / "p.json"), 2, "Cannot write --output"),
    Row("--input missing", lambda c: _infer(c, c.export(), image=c.tmp / "no.png"), 2,
        "--input"),
    Row("image of another size", _other_size_image, 2, "exported for inputs [N, 3, 32, 32]"),
]


@pytest.mark.parametrize("row", INFER, ids=[r.id for r in INFER])
def test_infer(row, world, tmp_path, monkeypatch, capsys):
    _check("infer", row, world, tmp_path, monkeypatch, capsys)


# ------------------------------------------------------------------------------ reproduce

def _spec(ctx):
    spec = {"title": "t", "columns": ["best_val_top1"], "quick": ["Global.epochs=1"],
            "runs": [{"name": "a", "label": "a", "config": ctx.cfg(), "role": "with"}]}
    path = ctx.tmp / "table.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _finished_without_final_model(ctx):
    spec, out = _spec(ctx), ctx.tmp / "out"
    job, = plan_runs(load_spec(str(spec)), str(out), quick=True)
    run = Path(job["run_dir"])
    shutil.copytree(ctx.world / "run", run)
    dump_config(job["cfg"], str(run / "config.yaml"))
    for path in list(run.glob("final_model.*")) + list(run.glob("latest.*")):
        path.unlink()
    return [spec, "--output", out, "--quick", "--no-figures"], [out]


def _other_config_there(ctx):
    spec, out = _spec(ctx), ctx.tmp / "out"
    shutil.copytree(ctx.world / "run", out / "a" / "seed3")  # trained with epochs 1, lr 0.05
    return [spec, "--output", out, "--quick", "--no-figures", "-o",
            "Optimizer.lr.learning_rate=0.5"], [out]


def _output_is_a_file(ctx):
    (ctx.tmp / "out").write_text("a file")
    return [_spec(ctx), "--output", ctx.tmp / "out", "--no-figures"], [ctx.tmp / "out"]


REPRODUCE = [
    Row("spec missing", lambda c: ([c.tmp / "no.yaml"], []), 2, "does not exist"),
    Row("seeds not integers", lambda c: ([_spec(c), "--seeds", "a,b"], []), 2, "--seeds wants integers"),
    Row("finished run without final_model or latest", _finished_without_final_model, 2,
        "says it finished"),
    Row("a run of another config in the folder", _other_config_there, 2, "differs in"),
    Row("output is a file", _output_is_a_file, 2, "is a file, not a folder"),
]


@pytest.mark.parametrize("row", REPRODUCE, ids=[r.id for r in REPRODUCE])
def test_reproduce(row, world, tmp_path, monkeypatch, capsys):
    _check("reproduce", row, world, tmp_path, monkeypatch, capsys)


# -------------------------------------------------------------------------------- compare

def _compare(ctx, *args, out=None):
    out = out or ctx.tmp / "cmp"
    return [*args, "--no-figures", "--out", out], [out, ctx.world / "run"]


def _compare_out_file(ctx):
    (ctx.tmp / "cmp").write_text("a file")
    return _compare(ctx, ctx.world / "run", ctx.world / "run")


COMPARE = [
    Row("run folder missing", lambda c: _compare(c, c.tmp / "nowhere", c.world / "run"), 2,
        "does not exist"),
    Row("not a run folder", lambda c: _compare(c, c.world / "inference", c.world / "run"), 2,
        "summary.json does not exist"),
    Row("one label for two runs", lambda c: _compare(c, c.world / "run", c.world / "run",
                                                     "--labels", "a"), 2, "1 labels for 2 runs"),
    Row("--out is a file", _compare_out_file, 2, "is a file, not a folder"),
    Row("--out under an immutable folder", lambda c: _compare(
        c, c.world / "run", c.world / "run", out=c.immutable(c.tmp / "ro") / "cmp"), 2,
        "Cannot write --out"),
]


@pytest.mark.parametrize("row", COMPARE, ids=[r.id for r in COMPARE])
def test_compare(row, world, tmp_path, monkeypatch, capsys):
    _check("compare", row, world, tmp_path, monkeypatch, capsys)


# -------------------------------------------------------------------------------- summary

def _bad_yaml(ctx):
    path = ctx.tmp / "bad.yaml"
    path.write_text("Arch: [\n")
    return [path], []


SUMMARY = [
    Row("unknown model", lambda c: (["nosuch"], []), 2, "Unknown model 'nosuch'"),
    Row("config missing", lambda c: ([c.tmp / "no.yaml"], []), 2, "does not exist"),
    Row("malformed config", _bad_yaml, 2, "YAML syntax"),
    Row("zero input size", lambda c: (["shufflenetv2_x0_5", "--input-size", "0", "32", "32"], []), 2,
        "three positive sizes"),
    Row("zero classes", lambda c: (["shufflenetv2_x0_5", "--num-classes", "0"], []), 2,
        "--num-classes must be >= 1"),
    Row("a size the model cannot take", lambda c: (["alexnet_bn", "--input-size", "3", "32", "32"], []),
        2, "cannot take inputs of shape [3, 32, 32]"),
]


@pytest.mark.parametrize("row", SUMMARY, ids=[r.id for r in SUMMARY])
def test_summary(row, world, tmp_path, monkeypatch, capsys):
    _check("summary", row, world, tmp_path, monkeypatch, capsys)


def test_every_tool_has_a_table():
    tools = {p.stem for p in (ROOT / "tools").glob("*.py")} - {"benchmark"}
    tables = {"train", "eval", "predict", "export_model", "infer", "reproduce", "compare", "summary"}
    assert tools == tables, tools ^ tables


def test_an_empty_eval_shard_is_counted_per_rank(monkeypatch):
    """Issue 27 item 3: under data parallel the split holds more than a batch, each rank's
    shard does not; the message said the whole split was smaller than one batch."""
    from paddle_repro import runtime
    from paddle_repro.engine.run import _no_batch_message
    cfg = {"DataLoader": {"Eval": {"batch_size": 8}}}
    monkeypatch.setattr(runtime, "world_size", lambda: 2)
    text = _no_batch_message(cfg, "Eval", 10)
    assert "10 images, 5 per rank over 2 ranks, fewer than one batch of 8 per rank" in text
    monkeypatch.setattr(runtime, "world_size", lambda: 1)
    assert "has 6 images, fewer than one batch of 8 with drop_last" in _no_batch_message(cfg, "Eval", 6)

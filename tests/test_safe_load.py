"""Checkpoints and data from elsewhere cannot run code (issue 27 item 5).

A crafted pickle whose ``__reduce__`` would create a folder is handed to every entry point
that reads one: weights (``Global.checkpoint`` of train/eval/predict/export, notebook weights),
a resume (the state file and the weights of a checkpoint) and a CIFAR archive. The folder
must not appear and the error must name the file and the refused global. The allow-list is
derived again from files the installed Paddle writes.
"""
import collections
import io
import os
import pickle
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import cv2
import numpy as np
import paddle
import pytest

from paddle_repro.data.cifar_files import read_cifar
from paddle_repro.deploy.export import export_model
from paddle_repro.engine import checkpoint, state_file
from paddle_repro.engine.eval_run import run_eval
from paddle_repro.engine.trainer import train
from paddle_repro.inference.images import predict_files
from paddle_repro.models import build_model, load_weights
from paddle_repro.safe_load import ALLOWED, TRUST_ENV, UnsafePickleError, load_paddle, load_pickle, python3_name
from tests.test_trainer import tiny_cfg

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["Global.throughput=false"]


class _MakesFolder:
    """Unpickling it calls ``os.mkdir(path)``: the stand-in for any code a file could run."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.mkdir, (self.path,)


class _EvalsCode:
    """Abuses the global Paddle's pickler uses for tensors (``builtins.eval``)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return eval, (f"__import__('os').mkdir({self.path!r})",)


PAYLOADS = {"os.mkdir": _MakesFolder, "eval": _EvalsCode}


def _evil_weights(path, marker, payload="os.mkdir"):
    """A .pdparams-looking file: a state dict with one array, then the payload."""
    state = {"conv1.weight": np.zeros((2, 2), "float32"), "fc.weight": PAYLOADS[payload](marker)}
    Path(path).write_bytes(pickle.dumps(state, protocol=4))
    return str(path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished tiny run (ShuffleNetV2 0.5x, synthetic data): its folder and config."""
    tmp = tmp_path_factory.mktemp("safe")
    train(tiny_cfg(tmp, "run", QUICK))
    return tmp


def _cfg(trained, tmp_path, overrides):
    shutil.copytree(trained / "data", tmp_path / "data")
    return tiny_cfg(tmp_path, "run", QUICK + overrides)


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_notebook_weights_with_a_payload_are_refused_and_nothing_runs(tmp_path, payload):
    marker = tmp_path / "pwned"
    path = _evil_weights(tmp_path / "w.pdparams", marker, payload)
    with pytest.raises(UnsafePickleError, match=r"w\.pdparams asks to call (posix\.mkdir|builtins\.eval)"):
        load_weights(build_model("shufflenetv2_x0_5"), path)
    assert not marker.exists()


@pytest.mark.parametrize("tool", ["train", "eval", "predict", "export"])
def test_every_tool_refuses_a_crafted_checkpoint(trained, tmp_path, tool):
    marker = tmp_path / "pwned"
    path = _evil_weights(tmp_path / "evil.pdparams", marker)
    cfg = _cfg(trained, tmp_path, [f"Global.checkpoint={path}", "Global.image_shape=[3,32,32]"])
    image = tmp_path / "x.png"
    cv2.imwrite(str(image), np.zeros((32, 32, 3), np.uint8))
    entry = {"train": lambda: train(cfg), "eval": lambda: run_eval(cfg),
             "predict": lambda: predict_files(cfg, [str(image)]),
             "export": lambda: export_model(cfg)}[tool]
    with pytest.raises(UnsafePickleError, match=r"evil\.pdparams asks to call posix\.mkdir"):
        entry()
    assert not marker.exists()


@pytest.mark.parametrize("which", [".pdstates", ".pdparams", ".pdopt"])
def test_a_resume_from_a_crafted_checkpoint_runs_nothing(trained, tmp_path, which):
    """The state file (an old pickled one), or a weights / optimizer file whose hash the
    attacker also wrote into the state file."""
    run = tmp_path / "run"
    shutil.copytree(trained / "run", run)
    marker = tmp_path / "pwned"
    latest = run / "latest"
    if which == ".pdstates":
        state = {"epoch": 0, "global_step": 0, "x": _MakesFolder(marker)}
        Path(f"{latest}.pdstates").write_bytes(pickle.dumps(state, protocol=4))
    else:
        _evil_weights(f"{latest}{which}", marker)
        state = state_file.read(f"{latest}.pdstates")
        state["_sha256"][which] = checkpoint._sha256(f"{latest}{which}")
        state_file.write(state, f"{latest}.pdstates")
    for path in run.glob("*.prev.*"):
        path.unlink()
    cfg = _cfg(trained, tmp_path, ["Global.resume=auto", "Global.epochs=2"])
    with pytest.raises(UnsafePickleError, match=rf"latest\{which} asks to call posix\.mkdir"):
        train(cfg)
    assert not marker.exists()


def test_a_cifar_archive_with_a_payload_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    members = {"cifar-10-batches-py/data_batch_1": pickle.dumps(_MakesFolder(marker), protocol=2),
               "cifar-10-batches-py/batches.meta": pickle.dumps({b"label_names": [b"a"]}, protocol=2)}
    path = tmp_path / "c.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(UnsafePickleError, match=r"c\.tar\.gz:cifar-10-batches-py/data_batch_1 asks to call posix\.mkdir"):
        read_cifar("cifar10", str(path), "train")
    assert not marker.exists()


def test_the_tool_says_it_in_one_line_with_exit_code_2(trained, tmp_path):
    marker = tmp_path / "pwned"
    path = _evil_weights(tmp_path / "evil.pdparams", marker)
    shutil.copytree(trained / "data", tmp_path / "data")
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "eval.py"), "-c",
                          str(trained / "run" / "config.yaml"), "-o", f"Global.checkpoint={path}",
                          f"DataLoader.dataset.root={tmp_path / 'data'}",
                          f"Global.output_dir={tmp_path / 'out'}"],
                         capture_output=True, text=True, timeout=300,
                         env={k: v for k, v in os.environ.items() if k != TRUST_ENV})
    assert out.returncode == 2, out.stderr[-2000:]
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith(f"UnsafePickleError: {path} asks to call posix.mkdir") and TRUST_ENV in last
    assert "Traceback" not in out.stderr and not marker.exists()


def test_the_opt_out_loads_a_trusted_file(tmp_path, monkeypatch):
    data = pickle.dumps({"ratio": collections.Counter(a=1)}, protocol=4)
    with pytest.raises(UnsafePickleError, match="collections.Counter"):
        load_pickle(io.BytesIO(data), "f.pkl")
    monkeypatch.setenv(TRUST_ENV, "1")
    assert load_pickle(io.BytesIO(data), "f.pkl") == {"ratio": collections.Counter(a=1)}


def test_the_allow_list_is_what_paddle_writes_and_loads_as_paddle_does(tmp_path):
    """Every global of the files the installed Paddle saves is allowed, and ``load_paddle``
    returns what ``paddle.load`` does (the allow-list's derivation, repeated)."""
    paddle.seed(0)
    net = paddle.nn.Sequential(paddle.nn.Conv2D(3, 4, 3), paddle.nn.BatchNorm2D(4),
                               paddle.nn.Flatten(), paddle.nn.Linear(4 * 6 * 6, 3))
    sched = paddle.optimizer.lr.LinearWarmup(
        paddle.optimizer.lr.CosineAnnealingDecay(0.1, 10, eta_min=0.01), 2, 0.0, 0.1)
    opt = paddle.optimizer.Adam(sched, parameters=net.parameters())
    net(paddle.randn([2, 3, 8, 8])).mean().backward()
    opt.step()
    sched.step()
    seen = set()

    class Recorder(pickle.Unpickler):
        def find_class(self, module, name):
            seen.add((module, name))
            return super().find_class(module, name)

    objects = {"w": net.state_dict(), "o": opt.state_dict(),
               "nested": {"a": {"b": paddle.to_tensor([1.0, 2.0])}, "n": 3}}
    for name, obj in objects.items():
        for protocol in (2, 4):
            path = str(tmp_path / f"{name}{protocol}.pd")
            paddle.save(obj, path, protocol=protocol)
            with open(path, "rb") as f:
                Recorder(f, encoding="latin1").load()
            for numpy in (True, False):
                ref = paddle.load(path, return_numpy=numpy)
                ref.pop("StructuredToParameterName@@", None)
                _assert_same(ref, load_paddle(path, return_numpy=numpy))
    python3_names = {python3_name(*g) for g in seen}
    assert seen and python3_names <= set(ALLOWED), sorted(python3_names - set(ALLOWED))


def _assert_same(a, b):
    assert type(a) is type(b) or {type(a), type(b)} <= {dict, collections.OrderedDict}, (a, b)
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, (np.ndarray, paddle.Tensor)):
        assert np.array_equal(np.asarray(a), np.asarray(b)) and np.asarray(a).dtype == np.asarray(b).dtype
    elif type(a).__name__ == "GeneratorState":
        assert a.__getstate__() == b.__getstate__()
    else:
        assert a == b or (a != a and b != b), (a, b)


def test_pdstates_round_trips_without_pickle_and_old_ones_still_read(tmp_path):
    state = {"epoch": 3, "best": float("nan"), "inf": float("inf"), "t": (1, (2, 3), [4]),
             "ints": {1: "a", "__tuple__": "b"}, "arr": np.arange(6, dtype="uint32").reshape(2, 3),
             "scalar": np.float32(0.5), "none": None, "rng": {"numpy": np.random.get_state(),
                                                             "paddle": paddle.get_rng_state()},
             "ema": {"shadow": {"w": paddle.to_tensor([1.0, 2.0]).numpy()}}}
    state_file.write(state, tmp_path / "new.pdstates")
    assert (tmp_path / "new.pdstates").read_bytes()[:2] == b"PK"  # a zip: JSON + .npy, no pickle
    back = state_file.read(tmp_path / "new.pdstates")
    _assert_same(state, back)
    assert type(back["scalar"]) is np.float32 and type(back["rng"]["numpy"]) is tuple
    paddle.set_rng_state(back["rng"]["paddle"])  # usable as Paddle's own
    (tmp_path / "old.pdstates").write_bytes(pickle.dumps(state, protocol=4))  # the former format
    _assert_same(state, state_file.read(tmp_path / "old.pdstates"))

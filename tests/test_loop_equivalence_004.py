"""Notebook 004 (ShuffleNetV2, PyTorch) loop for loop: the suite's faithful config, trained by
the suite's own trainer, against the notebook's own code (``tests/reference/
notebook_shufflenet_torch.py``: its model and the ``train()`` of its ``utils.py``) in PyTorch.

Needs torch (``pip install -e .[crosscheck]``); skipped with a message where it is absent.

Same inputs on both sides:

* Weights: the notebook's network is built in PyTorch (``torch.manual_seed``, PyTorch's own
  init) and the suite loads that state dict through ``Global.checkpoint`` (the package's
  PyTorch-name conversion), so both start from the notebook's own weights.
* Batches: the suite trains with its faithful config and ``num_workers=0`` (loader workers
  would make the order of random draws nondeterministic). A test-only hook on
  ``CifarDataset.__getitem__`` records, in order, every item its loaders fetched and the image
  it produced. The PyTorch side replays exactly those indices epoch by epoch (the shuffled
  train order, and the shuffled ``drop_last`` test order of the executed notebook) and
  rebuilds each image from the raw uint8 pixels with the notebook's data cell in torch ops
  (``notebook_transform``). For the blog variant, the RandomCrop offset and flip the suite
  drew are read back from its image (the one offset/flip that reproduces it exactly) and
  applied by the PyTorch side: drawn once, applied on both sides. The rebuilt batches must
  equal the suite's to 1e-6, which checks the suite's data pipeline too.

Two ways of running the notebook's ``train`` beside the suite:

* **Lockstep** (the loop tests): before every training step and every test pass, the PyTorch
  side is handed the suite's state at that point (weights, BN running statistics, optimizer
  moments; test-only hooks in ``engine/run.py`` record it after each optimizer step). Each
  step then starts from identical numbers, so everything the loop decides can be compared
  tightly over any number of steps: the step's loss and lr, the update the optimizer makes
  from the same gradient and state, the epoch means the notebook prints, the lr schedule,
  and the epoch kept as best. The notebook's ``train`` runs unchanged; only its loaders
  (and its loss, to note each step's value) are the test's.
* **Free running** (``test_free_running_horizon_004``): no re-sync. Training at Adam lr 0.1
  amplifies the float rounding differences of two frameworks within a few steps; that test
  states how many steps still match and why (see its docstring).
"""
import json
import os

import numpy as np
import paddle
import pytest

from paddle_repro.config import load_config
from paddle_repro.data.cifar import CifarDataset
from paddle_repro.engine import run as run_module
from paddle_repro.engine.trainer import train as suite_train
from paddle_repro.models.weights import read_state_dict

torch = pytest.importorskip("torch", reason="torch is not installed: the notebook-004 cross-"
                            "framework loop tests need `pip install -e .[crosscheck]`")
from tests.reference import notebook_shufflenet_torch as nb  # noqa: E402  (needs torch)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXECUTED = os.path.join(ROOT, "configs", "shufflenetv2", "x0_5.yaml")
BLOG = os.path.join(ROOT, "configs", "shufflenetv2", "x0_5_blog.yaml")
SEED = 0
TRAIN_BATCH = 16
EVAL_SAMPLES, EVAL_BATCH = 150, 32          # drop_last: 4 batches (128 images), 22 dropped


# ---- the same batches --------------------------------------------------------------------
class FetchRecorder:
    """Records every ``CifarDataset`` item the suite's loaders fetch: (dataset, index, image)."""

    def __init__(self, monkeypatch, dtype):
        self.items = {"train": [], "test": []}
        original = CifarDataset.__getitem__

        def recording_getitem(dataset, i):
            image, label = original(dataset, i)
            self.items[dataset.mode].append((dataset, int(i), image))
            return image.astype(dtype), label

        monkeypatch.setattr(CifarDataset, "__getitem__", recording_getitem)

    def epochs(self, mode, epochs, per_epoch, skip=0):
        """The recorded items split into ``epochs`` lists of ``per_epoch`` (after ``skip``)."""
        items = self.items[mode][skip:]
        assert len(items) == epochs * per_epoch, (mode, len(items))
        return [items[e * per_epoch:(e + 1) * per_epoch] for e in range(epochs)]


def crop_flip_decisions(raw, recorded):
    """The (top, left, flip) of RandomCrop(32, padding=4) + RandomHorizontalFlip that turns the
    uint8 HWC ``raw`` image into the suite's normalised CHW ``recorded`` one."""
    padded = np.pad(raw, ((4, 4), (4, 4), (0, 0))).transpose(2, 0, 1)
    norm = (padded.astype(np.float32) / 255 - 0.5) / 0.5
    windows = np.lib.stride_tricks.sliding_window_view(norm, (32, 32), axis=(1, 2))
    for flip in (False, True):
        target = recorded[:, :, ::-1] if flip else recorded
        err = np.abs(windows - target[:, None, None]).max(axis=(0, 3, 4))
        top, left = np.unravel_index(np.argmin(err), err.shape)
        if err[top, left] < 1e-6:
            return int(top), int(left), flip
    raise AssertionError("the suite's image is no RandomCrop(32, 4) + flip of its raw image")


class ReplayLoader:
    """What the notebook's ``DataLoader`` yields, epoch after epoch: the suite's batches,
    rebuilt from raw pixels by the notebook's transform. ``before_batch(epoch, i)`` runs before
    batch ``i`` of ``epoch`` is handed out (the lockstep sync)."""

    def __init__(self, epoch_items, batch_size, augmented, dtype, before_batch=None):
        self.epochs = [self._batches(items, batch_size, augmented, dtype) for items in epoch_items]
        self.before_batch = before_batch
        self.next_epoch = 0

    @staticmethod
    def _batches(items, batch_size, augmented, dtype):
        batches = []
        for start in range(0, len(items), batch_size):
            chunk = items[start:start + batch_size]
            dataset, idx = chunk[0][0], [i for _, i, _ in chunk]
            raw = dataset.raw_images(idx)
            suite = np.stack([image for _, _, image in chunk])
            crops = flips = None
            if augmented:
                decisions = [crop_flip_decisions(r, s) for r, s in zip(raw, suite)]
                crops = torch.tensor([d[:2] for d in decisions])
                flips = torch.tensor([d[2] for d in decisions])
            images = nb.notebook_transform(torch.from_numpy(raw), crops, flips)
            np.testing.assert_allclose(images.numpy(), suite, rtol=0, atol=1e-6)
            labels = torch.from_numpy(dataset.labels[idx].astype(np.int64))
            batches.append((images.to(dtype), labels))
        return batches

    def __len__(self):
        return len(self.epochs[0])

    def __iter__(self):
        epoch = self.next_epoch
        self.next_epoch += 1
        for i, batch in enumerate(self.epochs[epoch]):
            if self.before_batch is not None:
                self.before_batch(epoch, i)
            yield batch


# ---- the suite's state after every step ------------------------------------------------
class SuiteProbe:
    """Test-only hooks in ``engine/run.py``: keeps the model the trainer builds and records, at
    each optimizer step, the gradient it was given and the state after it (state dict and
    optimizer moments), keyed by structured parameter name."""

    SLOTS = ("moment1", "moment2", "velocity")

    def __init__(self, monkeypatch):
        self.model, self.states = None, []
        build_model, build_optimizer = run_module.build_model_from_config, run_module.build_optimizer

        def keep_model(cfg, num_classes=None, weights=None):
            self.model = build_model(cfg, num_classes, weights=weights)
            return self.model

        def probed_optimizer(opt_cfg, params, scheduler):
            optimizer = build_optimizer(opt_cfg, params, scheduler)
            real_step = optimizer.step

            def step():
                grads = {k: p.grad.numpy().copy() for k, p in self.model.named_parameters()
                         if p.grad is not None}
                real_step()
                self.states.append({"grad": grads, **self._capture(optimizer)})

            optimizer.step = step
            return optimizer

        monkeypatch.setattr(run_module, "build_model_from_config", keep_model)
        monkeypatch.setattr(run_module, "build_optimizer", probed_optimizer)

    def _capture(self, optimizer):
        names = {p.name: k for k, p in self.model.named_parameters()}
        state = {"model": {k: v.numpy().copy() for k, v in self.model.state_dict().items()}}
        for slot, per_param in optimizer._accumulators.items():
            if slot in self.SLOTS:
                state[slot] = {names[n]: t.numpy().copy() for n, t in per_param.items()}
        return state


def as_torch_layout(paddle_state):
    """A suite state dict (numpy) in PyTorch names and layout (Linear weight transposed)."""
    out = {}
    for k, v in paddle_state.items():
        name = k.replace("._mean", ".running_mean").replace("._variance", ".running_var")
        out[name] = v.T if name == "linear.weight" else v
    return out


def bn_sample_counts(net, batch):
    """{BN layer: n = batch * H * W}, the count its batch variance is taken over."""
    counts, handles = {}, []
    for name, module in net.named_modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            handles.append(module.register_forward_hook(
                lambda m, inp, out, name=name: counts.__setitem__(name, inp[0].numel() // inp[0].shape[1])))
    was_training = net.training
    net.eval()
    with torch.no_grad():
        net(torch.zeros(batch, 3, 32, 32, dtype=next(net.parameters()).dtype))
    net.train(was_training)
    for handle in handles:
        handle.remove()
    return counts


class _GradSwap:
    """Post-accumulate-grad hook of one parameter (see ``Lockstep``). The notebook pickles the
    whole network (``torch.save(net, path)``); a pickled copy gets a hook that does nothing."""

    def __init__(self, lockstep, name):
        self.lockstep, self.name = lockstep, name

    def __call__(self, param):
        self.lockstep.take_suite_grad(self.name, param)

    def __reduce__(self):
        return _NoHook, ()


class _NoHook:
    def __call__(self, param):
        pass


class Lockstep:
    """Runs the notebook's ``train`` in lockstep with the suite's recorded steps.

    Before each step ``k`` (and each test pass) the notebook's ``net`` and ``optimizer`` get
    the suite's state after step ``k - 1``. During the step's backward, each parameter's
    gradient is compared with the suite's and then replaced by it (a post-accumulate-grad
    hook), so the optimizer updates from identical numbers. At the next sync, the notebook's
    updated state is compared with the suite's after step ``k``: weights and moments (the
    update rule), BN running mean, and BN running variance once PyTorch's unbiased factor
    n/(n-1) (n = batch * H * W of the layer) is applied to the suite's batch variance.
    """

    TORCH_SLOTS = {"moment1": "exp_avg", "moment2": "exp_avg_sq", "velocity": "momentum_buffer"}

    def __init__(self, net, optimizer, states, steps_per_epoch):
        self.net, self.optimizer = net, optimizer
        self.suite = [{kind: as_torch_layout(part) for kind, part in s.items()} for s in states]
        self.steps_per_epoch = steps_per_epoch
        self.synced = 0          # the suite step whose state the net holds (0: the init)
        self.records = []        # per step: how far the notebook's step was from the suite's
        self._grad_sq = self._grad_diff_sq = 0.0
        self.bn_n = bn_sample_counts(net, TRAIN_BATCH)
        for name, param in net.named_parameters():
            param.register_post_accumulate_grad_hook(_GradSwap(self, name))

    def before_train_batch(self, epoch, i):
        self.sync(epoch * self.steps_per_epoch + i)

    def before_test_batch(self, epoch, i):
        if i == 0:
            self.sync((epoch + 1) * self.steps_per_epoch)

    def take_suite_grad(self, name, param):
        theirs = self.suite[self.synced]["grad"][name]
        self._grad_sq += float((theirs.astype(np.float64) ** 2).sum())
        self._grad_diff_sq += float(((param.grad.numpy() - theirs).astype(np.float64) ** 2).sum())
        param.grad.copy_(torch.from_numpy(np.ascontiguousarray(theirs)))

    def sync(self, k):
        if k == self.synced:
            return
        assert k == self.synced + 1, (k, self.synced)
        self.records.append(self._compare(self.suite[k - 2]["model"] if k > 1 else None,
                                          self.suite[k - 1]))
        self._load(self.suite[k - 1], k)
        self.synced = k

    def _compare(self, before, after):
        ours = {k: v.detach().numpy() for k, v in self.net.state_dict().items()}
        theirs = after["model"]
        rec = {"grad_rel_l2": (self._grad_diff_sq / max(self._grad_sq, 1e-300)) ** 0.5,
               "weights": max(float(np.abs(ours[n] - theirs[n]).max())
                              for n, _ in self.net.named_parameters())}
        self._grad_sq = self._grad_diff_sq = 0.0
        params = dict(self.net.named_parameters())
        for slot, torch_slot in self.TORCH_SLOTS.items():
            for name, value in after.get(slot, {}).items():
                mine = self.optimizer.state[params[name]][torch_slot].numpy()
                scale = max(float(np.abs(value).max()), 1e-30)
                rec[slot] = max(rec.get(slot, 0.0), float(np.abs(mine - value).max()) / scale)
        rec.update(running_mean=0.0, running_var=0.0, unbiased_factor=0.0)
        for layer, n in self.bn_n.items():
            mean, var = f"{layer}.running_mean", f"{layer}.running_var"
            rec["running_mean"] = max(rec["running_mean"], float(  # in units of the channel's std
                (np.abs(ours[mean] - theirs[mean]) / np.sqrt(theirs[var])).max()))
            var0 = before[var] if before else np.ones_like(theirs[var])  # the state both started from
            unbiased = 0.9 * var0 + n / (n - 1) * (theirs[var] - 0.9 * var0)
            rec["running_var"] = max(rec["running_var"],
                                     float((np.abs(ours[var] - unbiased) / theirs[var]).max()))
            rec["unbiased_factor"] = max(rec["unbiased_factor"], float((ours[var] / theirs[var] - 1).max()))
        return rec

    def _load(self, suite, k):
        params = dict(self.net.named_parameters())
        self.net.load_state_dict({n: torch.from_numpy(np.ascontiguousarray(v))
                                  for n, v in suite["model"].items()}, strict=False)
        for slot, torch_slot in self.TORCH_SLOTS.items():
            for name, value in suite.get(slot, {}).items():
                st = self.optimizer.state[params[name]]
                st[torch_slot] = torch.from_numpy(np.ascontiguousarray(value)).clone()
                if torch_slot.startswith("exp_avg"):
                    st["step"] = torch.tensor(float(k))


class RecordingCrossEntropy(torch.nn.CrossEntropyLoss):
    """``nn.CrossEntropyLoss()`` that also notes each training step's loss, lr and batch
    accuracy (the notebook's ``train`` prints only epoch means)."""

    def __init__(self):
        super().__init__()
        self.optimizer, self.steps = None, []

    def forward(self, outputs, label):
        loss = super().forward(outputs, label)
        if torch.is_grad_enabled():  # the train loop (the test loop runs under no_grad)
            self.steps.append({"loss": loss.item(), "lr": self.optimizer.param_groups[0]["lr"],
                               "top1": nb.get_acc(outputs, label).item()})
        return loss


# ---- both sides --------------------------------------------------------------------------
def run_both(tmp_path, monkeypatch, shared_data, config, overrides, epochs, steps_per_epoch,
             torch_optimizer, torch_scheduler, augmented=False, lockstep=True, dtype="float32"):
    """Trains the suite (``config`` + sizes + ``overrides``) and the notebook's ``train`` on the
    same weights and batches; returns both sides' records."""
    data = shared_data / "cifar-10-python-exact-mini.tar.gz"
    if not data.is_file():
        pytest.skip(f"{data} not present")
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    net = nb.ShuffleNetV2(net_size=0.5, num_classes=10).to(getattr(torch, dtype))
    init = tmp_path / "notebook_init.pdparams"
    # PyTorch names and layout; load_weights converts them (models/weights.py)
    paddle.save({k: v.numpy() for k, v in net.state_dict().items()}, str(init))

    recorder, probe = FetchRecorder(monkeypatch, dtype), SuiteProbe(monkeypatch)
    out = tmp_path / "suite"
    cfg = load_config(config, [
        f"Global.output_dir={out}", "Global.device=cpu", f"Global.epochs={epochs}",
        "Global.log_interval=1", "Global.progress_bar=false", "Global.throughput=false",
        f"Global.checkpoint={init}",
        f"DataLoader.dataset.data_file={data}", "DataLoader.dataset.allow_unofficial=true",
        f"DataLoader.Train.num_samples={TRAIN_BATCH * steps_per_epoch}",
        f"DataLoader.Train.batch_size={TRAIN_BATCH}", "DataLoader.Train.num_workers=0",
        f"DataLoader.Eval.num_samples={EVAL_SAMPLES}", f"DataLoader.Eval.batch_size={EVAL_BATCH}",
        "DataLoader.Eval.num_workers=0", *overrides])
    paddle.set_default_dtype(dtype)
    try:
        summary = suite_train(cfg)
    finally:
        paddle.set_default_dtype("float32")

    order = {mode: [[i for _, i, _ in items] for items in recorder.epochs(mode, epochs, n, skip)]
             for mode, n, skip in (("train", TRAIN_BATCH * steps_per_epoch, 0),
                                   ("test", EVAL_SAMPLES // EVAL_BATCH * EVAL_BATCH, 1))}
    optimizer = torch_optimizer(net)
    sync = Lockstep(net, optimizer, probe.states, steps_per_epoch) if lockstep else None
    torch_dtype = getattr(torch, dtype)
    trainloader = ReplayLoader(recorder.epochs("train", epochs, TRAIN_BATCH * steps_per_epoch),
                               TRAIN_BATCH, augmented, torch_dtype,
                               sync.before_train_batch if sync else None)
    testloader = ReplayLoader(recorder.epochs("test", epochs, EVAL_SAMPLES // EVAL_BATCH * EVAL_BATCH,
                                              skip=1),  # skip: the trainer's preflight probe
                              EVAL_BATCH, False, torch_dtype, sync.before_test_batch if sync else None)
    criterion = RecordingCrossEntropy()
    criterion.optimizer = optimizer
    path = str(tmp_path / "notebook_best.pth")
    acc, loss, lr = nb.train(net, trainloader, testloader, epochs, optimizer, criterion,
                             torch_scheduler(optimizer), path, None, verbose=True)
    out_dir = out
    return {
        "suite": {"steps": [json.loads(x) for x in open(out_dir / "train_steps.jsonl")],
                  "metrics": [json.loads(x) for x in open(out_dir / "metrics.jsonl")],
                  "summary": summary, "states": probe.states, "order": order,
                  "final": read_state_dict(str(out_dir / "final_model.pdparams")),
                  "best": read_state_dict(str(out_dir / "best_model.pdparams"))},
        "notebook": {"steps": criterion.steps, "acc": acc, "loss": loss, "lr": lr,
                     "lockstep": sync.records if sync else None,
                     "final": {k: v.detach().numpy() for k, v in net.state_dict().items()},
                     "best": {k: v.detach().numpy() for k, v in
                              torch.load(path, weights_only=False).state_dict().items()}},
    }


# ---- the notebook's optimizer and scheduler cells ----------------------------------------
def notebook_adam(net):
    return torch.optim.Adam(net.parameters(), lr=1e-1)           # executed notebook, cell 49


def blog_sgd(net):
    return torch.optim.SGD(net.parameters(), lr=1e-1, momentum=0.9, weight_decay=5e-4)  # blog


def notebook_plateau(patience=1, threshold=1e-4):
    def build(optimizer):  # patience/threshold: the notebook's 1 / PyTorch's default 1e-4
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, 'min', factor=0.94, patience=patience, threshold=threshold, min_lr=0.000001)
    return build


# The main test runs the faithful config as it is, Global.to_static included; the others run
# its dygraph twin (the same numbers, tests/test_shufflenet_fast.py) to skip a ~10 s compile.
DYGRAPH = ["Global.to_static=false"]


# ---- what is compared, at what tolerance -------------------------------------------------
# Lockstep: each step starts from identical weights, BN statistics and optimizer state.
TOL = {
    # float32 forward on the same weights and batch: rounding only (measured <= 6e-6 rel.)
    "loss_rel": 5e-5,
    # the whole gradient, relative L2: a ReLU input within float32 rounding of 0 takes the
    # other branch in one framework, and each such element moves the gradient of everything
    # below it by ~1/sqrt(elements) (measured 3e-3 .. 3e-2): this bounds gross errors only.
    # The gradient is then the suite's on both sides, so the next lines are tight.
    "grad_rel_l2": 0.1,
    # the update from the same gradient and state: float32 rounding of the update rule
    "weights_abs": 1e-5, "moments_rel": 1e-4,
    # BN: mean (in units of the channel's running std) as is; variance once PyTorch's unbiased
    # n/(n-1) is applied to the suite's
    "running_mean_rel": 1e-4, "running_var_rel": 2e-4,
    # epoch means over batches of float32 losses / exact accuracies
    "epoch_rel": 1e-5,
}


def notebook_best_epoch(test_acc):
    """utils.train: ``if test_acc > best_acc`` with ``best_acc = 0`` (1-based epoch or None)."""
    best_acc, best = 0, None
    for epoch, acc in enumerate(test_acc, start=1):
        if acc > best_acc:
            best_acc, best = acc, epoch
    return best


def assert_loaders_like_notebooks(order, test_shuffle):
    """The suite's loaders draw as the notebook's do: DataLoader(shuffle=True, drop_last=True)
    for training (a new order every epoch), and for testing shuffle=True (executed notebook:
    a new random 9,984-of-10,000 each epoch, here 128 of 150) or shuffle=False (blog variant:
    the first images in file order)."""
    for mode, shuffled in (("train", True), ("test", test_shuffle)):
        epochs = order[mode]
        for indices in epochs:
            assert len(set(indices)) == len(indices), mode
            assert (indices != sorted(indices)) == shuffled, (mode, indices[:10])
        if not shuffled:
            assert all(indices == list(range(len(indices))) for indices in epochs), mode
        elif len(epochs) > 1:
            assert all(a != b for a, b in zip(epochs, epochs[1:])), mode


def assert_loop_equivalent(res, epochs, steps_per_epoch, test_shuffle=True):
    suite, notebook = res["suite"], res["notebook"]
    assert_loaders_like_notebooks(suite["order"], test_shuffle)
    steps = epochs * steps_per_epoch
    assert len(suite["steps"]) == len(notebook["steps"]) == steps
    for s, n in zip(suite["steps"], notebook["steps"]):
        assert s["loss"] == pytest.approx(n["loss"], rel=TOL["loss_rel"]), (s, n)
        assert s["lr"] == pytest.approx(n["lr"], rel=1e-12), (s, n)
        assert s["top1"] == n["top1"], (s, n)
    records = notebook["lockstep"]
    assert len(records) == steps
    print("lockstep maxima:", {k: max(r.get(k, 0.0) for r in records) for k in records[0]},
          "loss rel:", max(abs(s["loss"] - n["loss"]) / abs(n["loss"])
                           for s, n in zip(suite["steps"], notebook["steps"])))
    for k, rec in enumerate(records, start=1):
        assert rec["grad_rel_l2"] <= TOL["grad_rel_l2"], (k, rec)
        assert rec["weights"] <= TOL["weights_abs"], (k, rec)
        for slot in ("moment1", "moment2", "velocity"):
            assert rec.get(slot, 0.0) <= TOL["moments_rel"], (k, slot, rec)
        assert rec["running_mean"] <= TOL["running_mean_rel"], (k, rec)
        assert rec["running_var"] <= TOL["running_var_rel"], (k, rec)
    # Per epoch, what utils.train prints: train loss/acc, test loss/acc (means over batches), lr
    metrics = suite["metrics"]
    assert [m["epoch"] for m in metrics] == list(range(1, epochs + 1))
    for e, m in enumerate(metrics):
        assert m["train_loss"] == pytest.approx(notebook["loss"]["train_loss"][e], rel=TOL["epoch_rel"])
        assert m["train_top1"] * 100 == pytest.approx(notebook["acc"]["train_acc"][e], rel=1e-9)
        assert m["val_loss_nb"] == pytest.approx(notebook["loss"]["test_loss"][e], rel=TOL["epoch_rel"])
        assert m["val_top1_nb"] * 100 == pytest.approx(notebook["acc"]["test_acc"][e], rel=1e-9)
        assert m["lr"] == pytest.approx(notebook["lr"][e], rel=1e-12)
    # best on the test accuracy, strictly greater wins; its weights; the final weights
    best = notebook_best_epoch(notebook["acc"]["test_acc"])
    assert suite["summary"]["best_epoch"] == best
    for kept in ("best", "final"):
        ours = as_torch_layout(suite[kept])
        for name, value in ours.items():
            np.testing.assert_array_equal(value, notebook[kept][name], err_msg=f"{kept}: {name}")


def test_shufflenet_loop_equivalence(tmp_path, monkeypatch, shared_data):
    """The executed notebook's recipe (configs/shufflenetv2/x0_5.yaml: Adam lr 0.1, no
    augmentation, shuffled drop_last test loader), 2 epochs of 20 steps at batch 16."""
    epochs, steps = 2, 20
    res = run_both(tmp_path, monkeypatch, shared_data, EXECUTED, [], epochs, steps,
                   notebook_adam, notebook_plateau())
    assert_loop_equivalent(res, epochs, steps)
    # PyTorch's running variance is the larger by its unbiased factor n/(n-1) on every update
    # (n = 16 * 4 * 4 = 256 at the smallest maps here, 2,048 at the notebook's batch 128)
    factor = max(r["unbiased_factor"] for r in res["notebook"]["lockstep"])
    assert 0 < factor <= 1 / (TRAIN_BATCH * 4 * 4 - 1) * 1.01


def test_shufflenet_blog_loop_equivalence(tmp_path, monkeypatch, shared_data):
    """The blog's code (x0_5_blog.yaml): SGD momentum 0.9 with weight decay 5e-4 -- Paddle's
    Momentum adds ``coeff * param`` to the gradient before the velocity, as PyTorch's SGD --
    RandomCrop(32, 4) + flip (the suite's draws, read back and applied by PyTorch), unshuffled
    drop_last test loader."""
    epochs, steps = 2, 20
    res = run_both(tmp_path, monkeypatch, shared_data, BLOG, DYGRAPH, epochs, steps,
                   blog_sgd, notebook_plateau(), augmented=True)
    assert_loop_equivalent(res, epochs, steps, test_shuffle=False)


def test_shufflenet_plateau_loop_equivalence(tmp_path, monkeypatch, shared_data):
    """ReduceLROnPlateau actually lowering the lr: patience 0 and a relative threshold of 0.99
    (an epoch counts as better only if its train loss falls below 1 % of the best) make epoch
    2 a plateau, so epoch 3 trains at 0.1 * 0.94, decided on each side by its own scheduler."""
    epochs, steps = 3, 6
    res = run_both(tmp_path, monkeypatch, shared_data, EXECUTED,
                   DYGRAPH + ["Optimizer.lr.patience=0", "Optimizer.lr.threshold=0.99"], epochs, steps,
                   notebook_adam, notebook_plateau(patience=0, threshold=0.99))
    assert_loop_equivalent(res, epochs, steps)
    lrs = [s["lr"] for s in res["suite"]["steps"]]
    assert lrs[:2 * steps] == [0.1] * (2 * steps)
    assert lrs[2 * steps:] == pytest.approx([0.1 * 0.94] * steps, rel=1e-12)


@pytest.mark.parametrize("dtype, matching_steps, tol", [("float32", 1, 1e-5), ("float64", 4, 1e-6)])
def test_free_running_horizon_004(tmp_path, monkeypatch, shared_data, dtype, matching_steps, tol):
    """Without lockstep, how many steps of the executed recipe match, and why no more.

    Adam's first update is ``lr * m / (sqrt(v) + eps)`` = ``+-lr`` for every weight whose
    gradient is well above eps, whatever its size: at lr 0.1 every weight moves by 0.1 and the
    loss jumps to ~40. A gradient element near zero -- a ReLU input within rounding of 0,
    and the gradients of the BN biases that a 1x1 conv and another BN follow, which are 0 in
    exact arithmetic -- then gets a full +-0.1 step whose sign is decided by rounding, and
    it differs between the two frameworks. Measured here (loss difference, relative, steps
    1-6): float32, the real runs' dtype, 3e-7, 2e-2, 1e-1, 5e-1, ...: step 1 matches to
    rounding, then the runs separate. float64 (rounding 1e-16; Paddle also keeps BN's epsilon
    as a float32 attribute, 1e-5 -> 9.99999974738e-06): 1e-12, 3e-10, 2e-8, 5e-8, 9e-6, ...:
    four steps within 1e-7, growing by ~x100 per step through the first explosive steps.
    Hence the lockstep tests above.
    """
    steps = 6
    res = run_both(tmp_path, monkeypatch, shared_data, EXECUTED, DYGRAPH, 1, steps, notebook_adam,
                   notebook_plateau(), lockstep=False, dtype=dtype)
    rel = [abs(s["loss"] - n["loss"]) / abs(n["loss"])
           for s, n in zip(res["suite"]["steps"], res["notebook"]["steps"])]
    print(f"{dtype} free-running loss difference per step:", ", ".join(f"{r:.1e}" for r in rel))
    assert len(rel) == steps
    assert max(rel[:matching_steps]) <= tol, rel

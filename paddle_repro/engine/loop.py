"""One training epoch: forward, loss (+ model regularisation), NaN guard, step, bookkeeping.

As in the notebooks, the epoch's train loss and top-1 are accumulated over the epoch in
train mode (no separate pass): loss as the sample-weighted mean of batch losses, top-1
as hits / images. With mixup, a hit is counted against the dominant label (lam >= 0.5
-> y_a) since the mixed image has no single true class.

Beyond the notebooks (all off by default): ``Global.update_freq = k`` accumulates k
batches' gradients (each loss scaled by 1/k, so k batches of b equal one batch of k*b for a
BN-free model) before one optimizer step, one schedule step and one EMA update; the last
group of an epoch may be shorter and steps at the epoch's end; a stop signal is honoured
at a group boundary so no half-accumulated gradient is lost. ``Optimizer.grad_clip``
counts the steps whose global gradient norm exceeded it (``grad_clipped_steps``).
"""
import logging
import os
import time
from dataclasses import dataclass, field

import numpy as np
import paddle
import paddle.distributed as dist
from tqdm import tqdm

from ..builders.losses import mixup_loss
from ..builders.lr_schedules import schedule_values
from ..data.errors import raise_if_bad
from ..run_layout import LATEST, WEIGHTS_SUFFIX
from .interrupt import TrainingDiverged
from .rates import TrainRate

log = logging.getLogger("paddle_repro")


@dataclass
class EpochStats:
    """Running sums of one epoch; saved in a mid-epoch checkpoint to resume it exactly."""
    loss_sum: float = 0.0
    hits: int = 0
    n: int = 0
    batches: int = 0
    extra: dict = field(default_factory=dict)

    def means(self):
        return self.loss_sum / max(self.n, 1), self.hits / max(self.n, 1)


def _mix(images, labels, alpha, rng):
    """Batch mixup (arXiv:1710.09412): x = lam*x + (1-lam)*x[perm], lam ~ Beta(a, a)."""
    lam = float(rng.beta(alpha, alpha))
    perm = paddle.to_tensor(rng.permutation(images.shape[0]).astype("int64"))
    mixed = lam * images + (1.0 - lam) * paddle.gather(images, perm)
    return mixed, labels, paddle.gather(labels, perm), lam


def _batch_topk(logits, target, k):
    """Top-1 and top-k fraction of one train batch (the NAM notebook logged both per step)."""
    k = min(k, int(logits.shape[-1]))
    top = paddle.topk(logits.detach().astype("float32"), k=k, axis=1)[1].numpy()
    y = target.numpy().reshape(-1, 1)
    return float((top[:, :1] == y).mean()), float((top == y).any(axis=1).mean())


def _global_grad_norm(parameters):
    """sqrt(sum of squared gradients), what ClipGradByGlobalNorm compares with its bound."""
    total = 0.0
    for p in parameters:
        if p.grad is not None:
            total += float((p.grad.astype("float32") ** 2).sum())
    return total ** 0.5


def _divergence_advice(out):
    """What to do after a NaN, with the real path when a checkpoint exists to start from."""
    latest = os.path.join(out, LATEST + WEIGHTS_SUFFIX)
    if not os.path.isfile(latest):
        return ("No checkpoint was written before it: start again with a smaller "
                "Optimizer.lr.learning_rate (or set Optimizer.grad_clip).")
    return ("The checkpoints written before it are intact. A resume would restore the same "
            "schedule and so the same lr (and a changed lr is refused on resume); instead start "
            f"a new run from those weights with a smaller lr: -o Global.checkpoint={latest} "
            "-o Optimizer.lr.learning_rate=<smaller> -o Global.output_dir=<new folder> "
            "(or set Optimizer.grad_clip).")


def _check_finite(value, epoch, step, run):
    bad = not np.isfinite(value)
    if run.distributed:  # every rank must stop at the same step, or the others hang in all_reduce
        flag = paddle.to_tensor([1.0 if bad else 0.0])
        dist.all_reduce(flag)
        bad = float(flag.numpy()[0]) > 0
    if bad:
        raise TrainingDiverged(
            f"Loss became {value} at epoch {epoch}, step {step}, with lr {run.lr.get_lr():.6g} "
            f"(schedule Optimizer.lr {schedule_values(run.cfg['Optimizer']['lr'])}); the run is stopped. "
            f"{_divergence_advice(run.out)}")


def _stop_requested(stop, distributed):
    asked = stop.signum is not None
    if distributed:  # all ranks stop after the same step
        flag = paddle.to_tensor([1.0 if asked else 0.0])
        dist.all_reduce(flag)
        asked = float(flag.numpy()[0]) > 0
    return asked


@dataclass
class EpochOutcome:
    """What one call of ``train_one_epoch`` did (its sums are in the ``EpochStats`` passed in)."""
    completed: bool     # False: a stop signal cut the epoch short (at a group boundary)
    global_step: int    # batches trained over the run after this epoch's last one
    last_lr: float      # the lr of the epoch's last batch (the epoch record reports it)


def train_one_epoch(run, logger, stop, epoch, epoch_seed, stats, global_step, projection=None):
    """Trains one epoch (1-based ``epoch``), continuing after ``stats.batches`` batches.

    Args:
        run: the run's built objects (``engine.run.Run``).
        logger: the run's ``RunLogger`` (sampled per-step records).
        stop: the ``StopFlag``; a signal ends the epoch at the next optimizer step.
        epoch: 1-based epoch number.
        epoch_seed: this epoch's seed (``runtime.epoch_seed``), for mixup's own stream.
        stats: ``EpochStats`` to add to (restored ones when resuming mid-epoch); the
            batches they count are drawn from the loader (same order and augmentation RNG)
            but not trained on.
        global_step: batches trained over the run before this call.
        projection: a ``Projection`` (the first epoch this process trains) or None.

    Returns:
        ``EpochOutcome``; ``stats`` holds the epoch's sums.
    """
    run.net.train()
    rng = np.random.RandomState(epoch_seed)  # mixup's own stream, see trainer docstring
    total, skip_batches = len(run.train_loader), stats.batches
    it = enumerate(run.train_loader)
    if run.progress_bar:
        it = tqdm(it, total=total, desc=f"epoch {epoch}/{run.epochs}", initial=0, leave=False)
    rate, seen, last_lr = TrainRate(skip_batches), 0, run.lr.get_lr()
    for i, (images, labels) in it:
        if i < skip_batches:
            if run.mixup_alpha > 0:  # keep the mixup stream where it would have been
                rng.beta(run.mixup_alpha, run.mixup_alpha)
                rng.permutation(images.shape[0])
            continue
        labels = labels.reshape([-1])
        raise_if_bad(labels, run.train_loader.dataset)  # a corrupt image: stop now, name it
        mixed = None
        if run.mixup_alpha > 0:
            images, y_a, y_b, lam = _mix(images, labels, run.mixup_alpha, rng)
            mixed = (y_a, y_b, lam)
        with run.autocast():
            logits = run.net(images)
            if mixed:
                loss = mixup_loss(run.loss_fn, logits, *mixed)
            else:
                loss = run.loss_fn(logits, labels)
        reg = run.model.regularization_loss() if hasattr(run.model, "regularization_loss") else None
        if reg is not None:
            loss = loss + reg
        value = float(loss)
        step = global_step + 1
        _check_finite(value, epoch, step, run)
        last_lr = run.lr.get_lr()
        k = run.update_freq
        boundary = k == 1 or (i + 1) % k == 0 or i + 1 == total
        part = loss / k if k > 1 else loss
        if run.scaler is not None:
            scaled = run.scaler.scale(part)
            scaled.backward()
            if boundary:
                run.scaler.minimize(run.optimizer, scaled)  # unscales, skips inf/nan steps
        else:
            part.backward()
            if boundary:
                if run.clip_norm and _global_grad_norm(run.model.parameters()) > run.clip_norm:
                    stats.extra["clipped"] = stats.extra.get("clipped", 0) + 1
                run.optimizer.step()
        if boundary:
            run.optimizer.clear_grad()
            run.lr.after_step()
            if run.ema is not None:
                run.ema.update(run.model)
        global_step = step

        bs = int(labels.shape[0])
        target = labels if not mixed else (mixed[0] if mixed[2] >= 0.5 else mixed[1])
        stats.hits += int((paddle.argmax(logits, axis=1) == target).astype("int64").sum())
        stats.loss_sum += value * bs
        stats.n += bs
        stats.batches = i + 1
        seen += bs
        message = projection.update(i) if projection is not None else None
        if message:
            log.info(message)
        if i % run.log_interval == 0:  # the notebooks sampled batch_id % 10 == 0
            logger.step(step, epoch, value, last_lr, *_batch_topk(logits, target, run.topk))
            if not run.progress_bar:
                ips, eta = rate.update(i, seen, total)  # since the last log line (rates.py)
                loss_m, acc_m = stats.means()
                log.info(f"[Train][Epoch {epoch}/{run.epochs}][Iter: {i}/{total}] lr: {last_lr:.6g}, "
                         f"loss: {value:.5f}, avg_loss: {loss_m:.5f}, top1: {acc_m:.5f}, "
                         f"train_ips: {ips:.1f} images/sec, eta: {time.strftime('%H:%M:%S', time.gmtime(eta))}")
        if run.progress_bar:
            it.set_postfix(loss=f"{value:.4f}", lr=f"{last_lr:.3g}")
        if boundary and _stop_requested(stop, run.distributed):
            return EpochOutcome(stats.batches >= total, global_step, last_lr)
    return EpochOutcome(True, global_step, last_lr)

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
import time
from dataclasses import dataclass, field

import numpy as np
import paddle
import paddle.distributed as dist

from ..data.errors import raise_if_bad
from .interrupt import TrainingDiverged
from .losses import mixup_loss
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


def _check_finite(value, epoch, step, distributed):
    bad = not np.isfinite(value)
    if distributed:  # every rank must stop at the same step, or the others hang in all_reduce
        flag = paddle.to_tensor([1.0 if bad else 0.0])
        dist.all_reduce(flag)
        bad = float(flag.numpy()[0]) > 0
    if bad:
        raise TrainingDiverged(
            f"Loss became {value} at epoch {epoch}, step {step}; the run is stopped and the "
            "checkpoints written before it are intact. A resume restores the schedule and so the "
            "same lr; instead start a new run from the saved weights with a smaller lr: "
            "-o Global.checkpoint=<output_dir>/latest.pdparams -o Optimizer.lr.learning_rate=<smaller> "
            "-o Global.output_dir=<new folder> (or set Optimizer.grad_clip).")


def _stop_requested(stop, distributed):
    asked = stop.signum is not None
    if distributed:  # all ranks stop after the same step
        flag = paddle.to_tensor([1.0 if asked else 0.0])
        dist.all_reduce(flag)
        asked = float(flag.numpy()[0]) > 0
    return asked


def train_one_epoch(ctx, epoch, stats, skip_batches=0):
    """Trains one epoch (1-based ``epoch``), continuing after ``skip_batches`` batches.

    Args:
        ctx: the trainer's run context (model, net, loader, optimizer, lr, ...).
        epoch: 1-based epoch number.
        stats: ``EpochStats`` to add to (restored ones when resuming mid-epoch).
        skip_batches: batches of this epoch already trained before an interruption; they
            are drawn from the loader (same order and augmentation RNG) but not trained on.

    Returns:
        True when the epoch completed, False when a stop signal cut it short.
    """
    ctx.net.train()
    rng = np.random.RandomState(ctx.epoch_seed)  # mixup's own stream, see trainer docstring
    total = len(ctx.train_loader)
    it = enumerate(ctx.train_loader)
    if ctx.progress_bar:
        from tqdm import tqdm
        it = tqdm(it, total=total, desc=f"epoch {epoch}/{ctx.epochs}", initial=0, leave=False)
    rate, seen = TrainRate(skip_batches), 0
    for i, (images, labels) in it:
        if i < skip_batches:
            if ctx.mixup_alpha > 0:  # keep the mixup stream where it would have been
                rng.beta(ctx.mixup_alpha, ctx.mixup_alpha)
                rng.permutation(images.shape[0])
            continue
        labels = labels.reshape([-1])
        raise_if_bad(labels, ctx.train_loader.dataset)  # a corrupt image: stop now, name it
        mixed = None
        if ctx.mixup_alpha > 0:
            images, y_a, y_b, lam = _mix(images, labels, ctx.mixup_alpha, rng)
            mixed = (y_a, y_b, lam)
        with ctx.autocast():
            logits = ctx.net(images)
            if mixed:
                loss = mixup_loss(ctx.loss_fn, logits, *mixed)
            else:
                loss = ctx.loss_fn(logits, labels)
        reg = ctx.model.regularization_loss() if hasattr(ctx.model, "regularization_loss") else None
        if reg is not None:
            loss = loss + reg
        value = float(loss)
        step = ctx.global_step + 1
        _check_finite(value, epoch, step, ctx.distributed)
        lr_now = ctx.lr.get_lr()
        ctx.last_lr = lr_now  # the epoch record reports the lr its last batch used
        k = ctx.update_freq
        boundary = k == 1 or (i + 1) % k == 0 or i + 1 == total
        part = loss / k if k > 1 else loss
        if ctx.scaler is not None:
            scaled = ctx.scaler.scale(part)
            scaled.backward()
            if boundary:
                ctx.scaler.minimize(ctx.optimizer, scaled)  # unscales, skips inf/nan steps
        else:
            part.backward()
            if boundary:
                if ctx.clip_norm and _global_grad_norm(ctx.model.parameters()) > ctx.clip_norm:
                    stats.extra["clipped"] = stats.extra.get("clipped", 0) + 1
                ctx.optimizer.step()
        if boundary:
            ctx.optimizer.clear_grad()
            ctx.lr.after_step()
            if ctx.ema is not None:
                ctx.ema.update(ctx.model)
        ctx.global_step = step

        bs = int(labels.shape[0])
        target = labels if not mixed else (mixed[0] if mixed[2] >= 0.5 else mixed[1])
        stats.hits += int((paddle.argmax(logits, axis=1) == target).astype("int64").sum())
        stats.loss_sum += value * bs
        stats.n += bs
        stats.batches = i + 1
        seen += bs
        if i % ctx.log_interval == 0:  # the notebooks sampled batch_id % 10 == 0
            ctx.logger.step(step, epoch, value, lr_now, *_batch_topk(logits, target, ctx.topk))
            if not ctx.progress_bar:
                ips, eta = rate.update(i, seen, total)  # since the last log line (rates.py)
                loss_m, acc_m = stats.means()
                log.info(f"[Train][Epoch {epoch}/{ctx.epochs}][Iter: {i}/{total}] lr: {lr_now:.6g}, "
                         f"loss: {value:.5f}, avg_loss: {loss_m:.5f}, top1: {acc_m:.5f}, "
                         f"train_ips: {ips:.1f} images/sec, eta: {time.strftime('%H:%M:%S', time.gmtime(eta))}")
        if ctx.progress_bar:
            it.set_postfix(loss=f"{value:.4f}", lr=f"{lr_now:.3g}")
        if boundary and _stop_requested(ctx.stop, ctx.distributed):
            return stats.batches >= total
    return True

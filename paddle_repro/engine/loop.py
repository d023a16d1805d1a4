"""One training epoch: forward, loss (+ model regularisation), NaN guard, step, bookkeeping.

As in the notebooks, the epoch's train loss and top-1 are accumulated over the epoch in
train mode (no separate pass): loss as the sample-weighted mean of batch losses, top-1
as hits / images. With mixup, a hit is counted against the dominant label (lam >= 0.5
-> y_a) since the mixed image has no single true class.
"""
import logging
import time
from dataclasses import dataclass, field

import numpy as np
import paddle
import paddle.distributed as dist

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


def _check_finite(value, epoch, step, distributed):
    bad = not np.isfinite(value)
    if distributed:  # every rank must stop at the same step, or the others hang in all_reduce
        flag = paddle.to_tensor([1.0 if bad else 0.0])
        dist.all_reduce(flag)
        bad = float(flag.numpy()[0]) > 0
    if bad:
        raise TrainingDiverged(
            f"Loss became {value} at epoch {epoch}, step {step}; the run is stopped and the "
            "checkpoints written before it are intact. Lower Optimizer.lr.learning_rate, set "
            "Optimizer.grad_clip, or resume from best_model/latest with a smaller lr.")


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
        if ctx.scaler is not None:
            scaled = ctx.scaler.scale(loss)
            scaled.backward()
            ctx.scaler.minimize(ctx.optimizer, scaled)  # unscales, skips inf/nan steps
        else:
            loss.backward()
            ctx.optimizer.step()
        ctx.optimizer.clear_grad()
        ctx.lr.after_step()
        ctx.global_step = step

        bs = int(labels.shape[0])
        target = labels if not mixed else (mixed[0] if mixed[2] >= 0.5 else mixed[1])
        stats.hits += int((paddle.argmax(logits, axis=1) == target).astype("int64").sum())
        stats.loss_sum += value * bs
        stats.n += bs
        stats.batches = i + 1
        seen += bs
        if i % ctx.log_interval == 0:  # the notebooks sampled batch_id % 10 == 0
            ctx.logger.step(step, epoch, value, lr_now)
            if not ctx.progress_bar:
                ips, eta = rate.update(i, seen, total)  # since the last log line (rates.py)
                loss_m, acc_m = stats.means()
                log.info(f"[Train][Epoch {epoch}/{ctx.epochs}][Iter: {i}/{total}] lr: {lr_now:.6g}, "
                         f"loss: {value:.5f}, avg_loss: {loss_m:.5f}, top1: {acc_m:.5f}, "
                         f"train_ips: {ips:.1f} images/sec, eta: {time.strftime('%H:%M:%S', time.gmtime(eta))}")
        if ctx.progress_bar:
            it.set_postfix(loss=f"{value:.4f}", lr=f"{lr_now:.3g}")
        if _stop_requested(ctx.stop, ctx.distributed):
            return stats.batches >= total
    return True

"""Evaluation (loss, top-k, per-class accuracy) and throughput, single- or multi-process.

Loss is the sample-weighted mean of per-sample losses and top-1/top-k are hits / images:
the true metrics. The notebooks' own definitions (000/002 averaged *batch* accuracies and
batch-mean losses, 003 logged the last batch's loss) are computed from the per-batch sums
returned here by :mod:`.notebook_metrics`, so both can be recorded side by side.

Under data parallel every rank evaluates its shard and the *counts* (loss sum, correct
top-1/top-k, images, per-class hits and totals) are summed with ``all_reduce``.
``DistributedBatchSampler`` pads the index list so every rank gets the same number of
samples; those padded repeats are found from the samplers' index lists and masked out. The
batched pipeline's eval loader (``mode="test"``) shards without padding, so it needs no mask.
Either way each test image is counted exactly once; shards may differ in size (a rank may
even have none), which is fine because only counts are reduced.

Throughput "the notebooks' way" (000/002): wall time of one pass over the whole eval loader
in eval mode under ``no_grad``, data loading included; images / seconds. The notebooks
printed ``int(n // seconds)`` and did not synchronise the GPU after the last batch; we report
the float and synchronise, so the number is not flattered by the last batch's async work.
"""
import time

import numpy as np
import paddle
import paddle.distributed as dist

from ..data.errors import raise_if_bad


def _sync():
    if paddle.device.is_compiled_with_cuda() and "gpu" in paddle.device.get_device():
        paddle.device.cuda.synchronize()


def _padding_mask(loader):
    """Per-batch 0/1 masks that drop DistributedBatchSampler's padded repeats, or None."""
    sampler = getattr(loader, "batch_sampler", None)
    if not isinstance(sampler, paddle.io.DistributedBatchSampler) or dist.get_world_size() < 2:
        return None
    saved_epoch = getattr(sampler, "epoch", 0)
    batches = [list(b) for b in sampler]
    sampler.epoch = saved_epoch  # iterating a shuffling sampler advances its epoch
    every = []
    dist.all_gather_object(every, [i for b in batches for i in b])
    seen, keep = set(), None
    for r, indices in enumerate(every):  # first occurrence, in rank order, is the real one
        flags = []
        for i in indices:
            flags.append(i not in seen)
            seen.add(i)
        if r == dist.get_rank():
            keep = flags
    masks, start = [], 0
    for b in batches:
        masks.append(np.array(keep[start:start + len(b)], dtype=bool))
        start += len(b)
    return masks


def _check_batched_shards(loader):
    """A batched loader sharded WITH padding would count repeats; refuse it clearly."""
    if getattr(loader, "num_replicas", 1) > 1 and getattr(loader, "pad_shards", False):
        raise ValueError("distributed evaluation got a batched loader with padded shards "
                         "(pad_shards=True repeats samples); build the eval loader with "
                         "mode='test' (build_loader) or BatchedLoader(..., pad_shards=False)")


def evaluate(model, loader, loss_fn, num_classes, topk=5, distributed=False):
    """Evaluates ``model`` over ``loader`` in eval mode.

    Args:
        model: ``nn.Layer`` mapping images [N, C, H, W] to logits [N, K].
        loader: yields ``(images [N, C, H, W] float32, labels [N] int64)``.
        loss_fn: a loss from ``build_loss`` (called with ``reduction="none"`` when it
            accepts it, else its batch mean is weighted by the batch size).
        num_classes: K, for per-class accuracy.
        topk: the k of the second accuracy (5 in the notebooks; capped at K).
        distributed: sum the counts over ranks (each rank passes its own shard's loader).

    Returns:
        ``dict(loss, top1, top5, per_class_acc, n)``; ``per_class_acc[c]`` is None for a
        class with no evaluated image. Also the per-batch sums the notebooks' definitions
        need (``notebook_metrics``): ``batches``, ``batch_top1_sum`` (sum of each batch's
        top-1 fraction), ``batch_loss_sum`` (sum of batch-mean losses), ``max_batch`` (the
        loader's batch size) and ``last_batch_loss``; under data parallel the sums are over
        every rank's batches and ``last_batch_loss`` is this rank's.
    """
    was_training = model.training
    model.eval()
    masks = None
    if distributed:
        _check_batched_shards(loader)
        masks = _padding_mask(loader)
    k = min(topk, num_classes)
    loss_sum, hit1, hitk, n = 0.0, 0, 0, 0
    batches, batch_top1_sum, batch_loss_sum, max_batch, last_batch_loss = 0, 0.0, 0.0, 0, None
    cls_hit = np.zeros(num_classes, np.int64)
    cls_tot = np.zeros(num_classes, np.int64)
    with paddle.no_grad():
        for b, (images, labels) in enumerate(loader):
            labels = labels.reshape([-1])
            raise_if_bad(labels, getattr(loader, "dataset", None))
            logits = model(images)
            try:
                per_loss = loss_fn(logits, labels, reduction="none").numpy().astype(np.float64)
            except TypeError:  # a loss without per-sample support
                per_loss = np.full([labels.shape[0]], float(loss_fn(logits, labels)))
            top = paddle.topk(logits, k=k, axis=1)[1].numpy()
            y = labels.numpy().astype(np.int64)
            keep = masks[b] if masks is not None else np.ones(len(y), bool)
            correct1 = (top[:, 0] == y) & keep
            loss_sum += float(per_loss[keep].sum())
            hit1 += int(correct1.sum())
            hitk += int(((top == y[:, None]).any(axis=1) & keep).sum())
            n += int(keep.sum())
            if keep.any():
                batch_loss = float(per_loss[keep].mean())
                batches += 1
                batch_top1_sum += float(correct1.sum()) / float(keep.sum())
                batch_loss_sum += batch_loss
                max_batch = max(max_batch, int(keep.sum()))
                last_batch_loss = batch_loss
            cls_hit += np.bincount(y[correct1], minlength=num_classes)[:num_classes]
            cls_tot += np.bincount(y[keep], minlength=num_classes)[:num_classes]
    if distributed and dist.get_world_size() > 1:  # every rank joins, even with no batches
        counts = paddle.to_tensor(np.concatenate([[loss_sum, hit1, hitk, n, batches, batch_top1_sum,
                                                    batch_loss_sum], cls_hit, cls_tot])
                                  .astype(np.float64))
        dist.all_reduce(counts)
        c = counts.numpy()
        loss_sum, hit1, hitk, n = float(c[0]), int(round(c[1])), int(round(c[2])), int(round(c[3]))
        batches, batch_top1_sum, batch_loss_sum = int(round(c[4])), float(c[5]), float(c[6])
        cls_hit = np.rint(c[7:7 + num_classes]).astype(np.int64)
        cls_tot = np.rint(c[7 + num_classes:]).astype(np.int64)
        biggest = paddle.to_tensor([max_batch], dtype="int64")
        dist.all_reduce(biggest, op=dist.ReduceOp.MAX)
        max_batch = int(biggest.numpy()[0])
    if was_training:
        model.train()
    if n == 0:
        raise RuntimeError("The eval loader yielded no images (an empty test split, or "
                           "drop_last with fewer images than one batch).")
    per_class = [float(h / t) if t else None for h, t in zip(cls_hit, cls_tot)]
    return {"loss": loss_sum / n, "top1": hit1 / n, "top5": hitk / n,
            "per_class_acc": per_class, "n": n, "batches": batches,
            "batch_top1_sum": batch_top1_sum, "batch_loss_sum": batch_loss_sum,
            "max_batch": max_batch, "last_batch_loss": last_batch_loss}


def loader_throughput(model, loader):
    """Images/s over one pass of ``loader`` in eval mode, data loading included (notebooks)."""
    model.eval()
    n = 0
    _sync()
    start = time.perf_counter()
    with paddle.no_grad():
        for images, _ in loader:
            model(images)
            n += images.shape[0]
    _sync()
    return n / max(time.perf_counter() - start, 1e-9)


def model_throughput(model, loader, max_batches=10, repeats=1):
    """Images/s of the model alone on up to ``max_batches`` batches already in memory."""
    model.eval()
    batches = []
    for images, _ in loader:
        batches.append(images)
        if len(batches) >= max_batches:
            break
    with paddle.no_grad():
        model(batches[0])  # warm-up: first-call allocations and kernel selection
        _sync()
        start = time.perf_counter()
        for _ in range(repeats):
            for images in batches:
                model(images)
        _sync()
    seconds = max(time.perf_counter() - start, 1e-9)
    return repeats * sum(int(b.shape[0]) for b in batches) / seconds

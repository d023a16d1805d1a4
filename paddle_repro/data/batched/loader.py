"""The batched loader: a dataset's uint8 images -> ``(images, labels)`` Paddle batches.

Part of ``paddle_repro.data.batched``. Sharding over ranks (``sharding.py``) pads the
training order so every rank runs the same number of steps, and does NOT pad evaluation
(``build_batched_loader`` with ``mode="test"``), so a distributed evaluation that sums counts
over ranks sees every test image exactly once.
"""
import numpy as np
import paddle

from .base import BatchedPipelineError
from .buffers import BufferPool
from .compiler import BatchTransform
from .sharding import shard_indices, shard_size
from .threads import _threaded


def _to_paddle(array):
    """float32 ndarray -> paddle Tensor on the current device.

    On CPU the tensor shares the array's memory (the constructor's zero_copy flag, which
    holds a reference to the array; works on Paddle 2.6 and 3.x), which saves a copy of
    the whole batch. Elsewhere ``paddle.to_tensor`` copies to the device.
    """
    if paddle.get_device().startswith("cpu"):
        try:
            return paddle.Tensor(array, paddle.CPUPlace(), False, True)
        except Exception:  # a Paddle without the zero-copy constructor: copy instead
            pass
    return paddle.to_tensor(array)


class BatchedLoader:
    """Iterable of ``(images [N,C,H,W] float32 Tensor, labels [N] int64 Tensor)``.

    Args:
        images: uint8 HWC images, an array [M, H, W, C] or a list of M arrays.
        labels: int array [M].
        transforms: config transform list (see ``BatchTransform``).
        batch_size, shuffle, drop_last: as ``paddle.io.DataLoader``.
        seed: base seed; epoch e shuffles with ``(seed, e)`` and augments batch b on rank r
            with ``(seed, e, r, b)``, so results do not depend on ``num_workers``.
        num_workers: background threads building batches (0: build in the caller).
        num_replicas, rank: sharding; each rank iterates a disjoint 1/num_replicas of every
            epoch.
        pad_shards: pad the order by repetition to a multiple of num_replicas so every rank
            gets the same number of batches (training: the gradient all_reduce needs it).
            False for evaluation: no sample is repeated, shard sizes differ by at most one.
        prefetch: batches built ahead per worker thread.

    Each ``iter()`` uses the current epoch (starting at 0) and advances it, as the
    ``pipeline: paddle`` loader does; ``set_epoch(e)`` sets it explicitly (resumed runs).
    """

    def __init__(self, images, labels, transforms, batch_size=128, shuffle=False,
                 drop_last=False, seed=0, num_workers=0, num_replicas=1, rank=0, prefetch=2,
                 pad_shards=True):
        if len(images) != len(labels):
            raise BatchedPipelineError(f"{len(images)} images but {len(labels)} labels")
        if batch_size < 1 or num_workers < 0 or not 0 <= rank < num_replicas:
            raise BatchedPipelineError(f"bad loader settings: batch_size={batch_size}, "
                                       f"num_workers={num_workers}, rank={rank}/{num_replicas}")
        self.images, self.labels = images, np.asarray(labels, dtype=np.int64).reshape(-1)
        self.transform = transforms if isinstance(transforms, BatchTransform) else BatchTransform(transforms)
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.seed, self.num_workers, self.prefetch = seed, num_workers, prefetch
        self.num_replicas, self.rank, self.epoch = num_replicas, rank, 0
        self.pad_shards = bool(pad_shards)
        # Batches in flight: one per worker plus its prefetch, the one the caller holds, the
        # one autograd may still hold, and the last (smaller) batch of an epoch.
        self._buffers = BufferPool(num_workers * (prefetch + 1) + 4)

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def _num_local(self):
        return shard_size(len(self.labels), self.num_replicas, self.rank, self.pad_shards)

    def __len__(self):
        n = self._num_local()
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def indices(self, epoch):
        """This rank's sample order for ``epoch`` (int64 array)."""
        return shard_indices(len(self.labels), self.num_replicas, self.rank, self.pad_shards,
                             self.shuffle, self.seed, epoch)

    def batch_numpy(self, idx, epoch, b, alloc=None):
        """Batch ``b`` of ``epoch`` as numpy: (float32 [N,C,H,W], int64 [N]); ``alloc`` as
        ``BatchTransform.__call__`` (default: a new array the caller owns)."""
        rng = np.random.default_rng([self.seed, epoch, self.rank, b])
        if isinstance(self.images, np.ndarray):  # one gather instead of n views to stack
            return self.transform(self.images[idx], rng, alloc), self.labels[idx]
        return self.transform([self.images[i] for i in idx], rng, alloc), self.labels[idx]

    def _make(self, idx, epoch, b):
        # Into a kept buffer (buffers.py): the tensor holds the view it was lent, so the
        # buffer is written again only after every tensor over it is gone.
        x, y = self.batch_numpy(idx, epoch, b, self._buffers.get)
        return _to_paddle(x), paddle.to_tensor(y)

    def __iter__(self):
        epoch = self.epoch
        order = self.indices(epoch)
        chunks = [order[s:s + self.batch_size] for s in range(0, len(order), self.batch_size)]
        chunks = chunks[:len(self)]
        self.epoch = epoch + 1
        if self.num_workers == 0:
            for b, idx in enumerate(chunks):
                yield self._make(idx, epoch, b)
            return
        yield from _threaded(self._make, [(idx, epoch, b) for b, idx in enumerate(chunks)],
                             self.num_workers, self.num_workers * self.prefetch)


def _dataset_arrays(dataset):
    """(uint8 images, int64 labels) of a dataset built by ``build_dataset``."""
    n = len(dataset)
    images = dataset.raw_images(np.arange(n))
    labels = getattr(dataset, "labels", None)
    if labels is None:  # contract fallback: read the label of each item
        labels = [np.asarray(dataset[i][1]).reshape(-1)[0] for i in range(n)]
    images = [np.asarray(im) for im in images] if isinstance(images, list) else np.asarray(images)
    if len(images) and np.asarray(images[0]).dtype != np.uint8:
        raise BatchedPipelineError("dataset.raw_images returned non-uint8 images; the batched "
                                   "pipeline needs the raw uint8 HWC images")
    return images, np.asarray(labels, dtype=np.int64).reshape(-1)


def batch_transform(split_cfg, where="transforms"):
    """The split's compiled ``BatchTransform`` (no data needed, so a bad list fails first).

    Raises:
        BatchedPipelineError: ``mixup_alpha > 0``, or a transform list this pipeline cannot run.
    """
    if split_cfg.get("mixup_alpha", 0):
        raise BatchedPipelineError("mixup_alpha > 0 is not supported by pipeline: batched; "
                                   "use pipeline: paddle or set mixup_alpha: 0")
    return BatchTransform(split_cfg.get("transforms") or [], where)


def build_batched_loader(dataset, split_cfg, mode, seed, distributed=False, transform=None):
    """The ``pipeline: batched`` loader over a built dataset (``paddle_repro.data.build_loader``
    builds it once and calls this).

    Args:
        dataset: built by ``build_dataset``; its ``raw_images`` (uint8 HWC) and ``labels``
            are read once, its per-image transform is not used here.
        split_cfg: ``DataLoader.Train|Eval``; mode: "train" or "test"; seed: ``Global.seed``;
        distributed: shard over ``paddle.distributed`` ranks (padded shards for "train",
            exact ones for "test").
        transform: the split's ``batch_transform`` if already compiled (default: compile it).
    Returns:
        ``BatchedLoader`` (with ``.dataset``, the given dataset).
    """
    transform = transform if transform is not None else batch_transform(split_cfg)
    images, labels = _dataset_arrays(dataset)
    replicas, rank = 1, 0
    if distributed:
        replicas, rank = paddle.distributed.get_world_size(), paddle.distributed.get_rank()
    loader = BatchedLoader(images, labels, transform, batch_size=split_cfg.get("batch_size", 128),
                           shuffle=split_cfg.get("shuffle", False),
                           drop_last=split_cfg.get("drop_last", False), seed=seed,
                           num_workers=split_cfg.get("num_workers", 0),
                           num_replicas=replicas, rank=rank, pad_shards=(mode == "train"))
    loader.dataset = dataset
    return loader

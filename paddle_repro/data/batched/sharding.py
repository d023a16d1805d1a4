"""Which samples each rank sees in an epoch of the batched loader.

Part of ``paddle_repro.data.batched``. Rank ``r`` of ``R`` takes every ``R``-th index of
the epoch's order starting at ``r`` (not DistributedBatchSampler's batch interleave).

* ``pad=True`` (training): the order is first padded by repetition to a multiple of ``R``,
  so every rank gets ``ceil(M / R)`` samples and runs the same number of steps, which the
  gradient all_reduce of data parallel needs. Up to ``R - 1`` samples appear twice.
* ``pad=False`` (evaluation): no repeats; shard sizes differ by at most one. Evaluation sums
  counts over ranks with ``all_reduce``, so every sample is then counted exactly once.
"""
import numpy as np


def shard_size(num_samples, num_replicas, rank, pad):
    """Number of samples rank ``rank`` gets per epoch."""
    if pad:
        return -(-num_samples // num_replicas)  # ceil
    return len(range(rank, num_samples, num_replicas))


def shard_indices(num_samples, num_replicas, rank, pad, shuffle, seed, epoch):
    """This rank's sample order for ``epoch``.

    Args:
        num_samples: M, the dataset size.
        num_replicas, rank: R and r.
        pad: pad the order to a multiple of R by repetition (see the module docstring).
        shuffle: permute with a generator seeded by ``(seed, epoch)`` (the same on every
            rank, so the shards are disjoint); else the natural order.
        seed, epoch: ints.
    Returns:
        int64 array of ``shard_size(...)`` indices into the dataset.
    """
    order = (np.random.default_rng([seed, epoch]).permutation(num_samples) if shuffle
             else np.arange(num_samples))
    if pad:
        total = shard_size(num_samples, num_replicas, rank, True) * num_replicas
        order = np.resize(order, total)  # repeats the order from its start, cyclically
    return order[rank::num_replicas]

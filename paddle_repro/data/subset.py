"""``num_samples``: a deterministic, class-balanced subset of a split.

Not a paper module. Short runs and tests train on a subset; a with/without comparison is
only fair if both runs see the *same* images, so the subset depends on the labels alone:
never on ``Global.seed``, the model, or the transforms.
"""
import logging

import numpy as np

log = logging.getLogger("paddle_repro")
SUBSET_SEED = 0  # fixed on purpose, see the module docstring


def balanced_subset(labels, num_samples, split="this split"):
    """Indices of ``num_samples`` images, spread over the classes as evenly as possible.

    Each class's indices are shuffled with ``RandomState(SUBSET_SEED)``; then classes are
    visited round-robin in class-id order, taking one image per class per round, until
    ``num_samples`` are taken (a class that runs out is skipped). So every class gets
    ``num_samples // K`` or one more (lower class ids get the extras) unless it is too
    small.

    Args:
        labels: int array [N].
        num_samples: subset size; ``None`` or ``>= N`` keeps everything (above N with a
            warning: the run is not the size asked for).
        split: what the labels are of (``"DataLoader.Train"``), for that warning.

    Returns:
        int64 array of indices, sorted (the loader shuffles, not the subset).
    """
    labels = np.asarray(labels)
    n = len(labels)
    if num_samples is not None and num_samples > n:
        log.warning(f"{split}.num_samples={num_samples} is more than the {n} images there: "
                    f"using all {n}.")
    if num_samples is None or num_samples >= n:
        return np.arange(n, dtype=np.int64)
    if num_samples < 1:
        raise ValueError("num_samples must be >= 1 or null, got %d" % num_samples)
    rng = np.random.RandomState(SUBSET_SEED)
    pools = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        pools.append(idx[rng.permutation(len(idx))])
    taken, depth = [], 0
    while len(taken) < num_samples:
        for pool in pools:
            if depth < len(pool):
                taken.append(pool[depth])
                if len(taken) == num_samples:
                    break
        depth += 1
    return np.sort(np.asarray(taken, dtype=np.int64))

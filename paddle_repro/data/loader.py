"""``build_loader``: a seeded ``paddle.io.DataLoader`` over ``build_dataset``.

Not a paper module. The notebooks used ``paddle.io.DataLoader`` with unseeded workers, so
augmentations differed run to run; here every worker seeds Python's ``random`` (which
paddle.vision transforms use) and numpy from ``(seed, epoch, worker id)``, so a run is
repeatable and workers never share a random stream. ``pipeline: batched`` (a faster
numpy/cv2 batch path) lives in the package ``paddle_repro/data/batched/``; ``build_loader``
builds the split's dataset once for either pipeline and hands it to the batched loader.
"""
import random

import numpy as np
import paddle

from ..host import available_cpus

from .batched.compiler import BatchTransform
from .batched.loader import batch_transform, build_batched_loader
from .datasets import build_dataset
from .transform_table import PIPELINES
from .transforms import build_transforms

# Loader workers beyond this many per CPU only cost memory and start-up (each paddle worker
# is a process holding its own Python + Paddle); at least MIN_WORKER_LIMIT so that the
# notebooks' num_workers: 4 runs on a 2-CPU machine. docs/data.md#loaders says why.
WORKERS_PER_CPU, MIN_WORKER_LIMIT = 4, 8


def worker_limit():
    """The most loader workers a split may ask for here: max(8, 4 x available CPUs)."""
    return max(MIN_WORKER_LIMIT, WORKERS_PER_CPU * available_cpus())


class WorkerSeeder:
    """``worker_init_fn`` seeding ``random`` and numpy from ``(seed, epoch, worker_id)``.

    The loader sets ``epoch`` before it forks the workers of an epoch; each worker gets a
    copy, so seeds differ across epochs and workers but repeat across runs.
    """

    def __init__(self, seed):
        self.seed, self.epoch = int(seed), 0

    def worker_seed(self, worker_id):
        ss = np.random.SeedSequence([self.seed & 0xFFFFFFFF, self.epoch, int(worker_id)])
        return int(ss.generate_state(1)[0])

    def __call__(self, worker_id):
        s = self.worker_seed(worker_id)
        random.seed(s)
        np.random.seed(s)


class SeededDataLoader(paddle.io.DataLoader):
    """``paddle.io.DataLoader`` that advances the worker seeds (and the distributed
    sampler's epoch) every time it is iterated; ``set_epoch(e)`` sets it explicitly
    (for resumed runs: call it with the 0-based epoch before iterating)."""

    def __init__(self, *args, seeder=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.seeder = seeder
        self._next_epoch = 0

    def set_epoch(self, epoch):
        self._next_epoch = int(epoch)

    def __iter__(self):
        epoch, self._next_epoch = self._next_epoch, self._next_epoch + 1
        if self.seeder is not None:
            self.seeder.epoch = epoch
        if isinstance(self.batch_sampler, paddle.io.DistributedBatchSampler):
            self.batch_sampler.set_epoch(epoch)
        return super().__iter__()


def validate_transforms(entries, pipeline="paddle", where="transforms"):
    """Check a split's transform list for its ``pipeline`` (the config loader calls this).

    Both pipelines build the standard per-image transforms (the dataset's items); ``batched``
    also compiles its own, so a name without a batched implementation, a list of the wrong
    shape or a value only the batched ops reject fails here, before any data is read.

    Raises:
        TransformConfigError: the standard list cannot be built, or ``BatchedPipelineError``
            (a subclass) the batched one cannot.
    """
    if pipeline not in PIPELINES:
        raise ValueError("unknown pipeline `%s`; valid: %s" % (pipeline, ", ".join(PIPELINES)))
    build_transforms(entries, where)
    if pipeline == "batched":
        BatchTransform(entries or [], where)


def build_loader(dataset_cfg, split_cfg, mode, seed, distributed=False):
    """Dataset + loader for one split.

    Args:
        dataset_cfg: ``DataLoader.dataset`` section.
        split_cfg: ``DataLoader.Train`` or ``DataLoader.Eval`` section (batch_size, shuffle,
            drop_last, num_workers, transforms, num_samples, pipeline, sampler).
        mode: ``"train"`` or ``"test"``.
        seed: ``Global.seed``; seeds loader workers.
        distributed: use ``paddle.io.DistributedBatchSampler`` (one shard per process);
            ``sampler: distributed`` uses it in one process too (epoch e's shuffle order is
            ``np.random.RandomState(e)``, as in ``paddle.Model.fit``).

    Returns:
        A loader yielding ``[images [N,C,H,W] float32, labels [N] int64]``; its ``.dataset``
        has ``num_classes`` / ``class_names`` / ``raw_images``.
    """
    pipeline = split_cfg.get("pipeline", "paddle")
    if pipeline not in PIPELINES:
        raise ValueError("unknown pipeline `%s`; valid: %s" % (pipeline, ", ".join(PIPELINES)))
    if pipeline == "batched":
        where = "DataLoader.%s.transforms" % ("Train" if mode == "train" else "Eval")
        transform = batch_transform(split_cfg, where)  # a bad list fails before data is read
    dataset = build_dataset(dataset_cfg, split_cfg, mode)
    if pipeline == "batched":
        # Batches come from the dataset's raw uint8 images; its items keep the split's
        # per-image transforms, so ``loader.dataset[i]`` (the trainer's preflight probe) is
        # the same image on both pipelines.
        return build_batched_loader(dataset, split_cfg, mode, seed, distributed, transform)
    batch_size = split_cfg.get("batch_size", 128)
    shuffle, drop_last = split_cfg.get("shuffle", False), split_cfg.get("drop_last", False)
    seeder = WorkerSeeder(seed)
    common = dict(num_workers=split_cfg.get("num_workers", 0), worker_init_fn=seeder,
                  return_list=True, seeder=seeder)
    # paddle.Model.fit (notebook 003) used DistributedBatchSampler in one process too
    if distributed or split_cfg.get("sampler", "random") == "distributed":
        sampler = paddle.io.DistributedBatchSampler(dataset, batch_size=batch_size,
                                                    shuffle=shuffle, drop_last=drop_last)
        return SeededDataLoader(dataset, batch_sampler=sampler, **common)
    return SeededDataLoader(dataset, batch_size=batch_size, shuffle=shuffle,
                            drop_last=drop_last, **common)
